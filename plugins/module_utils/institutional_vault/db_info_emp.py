# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Encryptor Master Password (EMP) guard and the source/target EMP comparison.

Each policy node's EMP encrypts that node's key share: if it changes, the
share is lost for good. So the module never writes a secret whose name
matches the EMP pattern, and a cross-environment restore first proves that
the target holds exactly the source's EMPs.

The vendor does not publish the EMP secret names, only that they sit in the
same secret store as the db-info secrets. The default pattern therefore
matches any name that says "encryptor", "master password" (with or without
a separator) or "emp" as a word, in either the dotted or the Key Vault form.

The comparison reads both values, compares their SHA-256 digests in constant
time and drops the values. It reports match, differs or missing per node
and nothing else: not even the digests, because a digest of a guessable
password is as good as the password.
"""

import hashlib
import hmac
import re

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.db_info_store import SecretNotFound
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

DEFAULT_EMP_PATTERN = r"(?i)encryptor|master[-_.]?pass(word)?|(^|[-._/:])emp([-._/]|$)"

MATCH, DIFFERS, MISSING = "match", "differs", "missing"


def compile_pattern(pattern):
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise RecoveryError("emp_pattern %r is not a valid regular expression (%s)." % (pattern, exc),
                            fix="give a Python regular expression, or leave emp_pattern unset for the default.")


def refuse_emp_names(names, pattern, action):
    """Raise, before anything is written, when a secret about to be written looks like an EMP."""
    guarded = sorted(name for name in names if pattern.search(name))
    if guarded:
        raise RecoveryError(
            "Refusing to %s %s: the name matches the Encryptor Master Password pattern %r, and an EMP must never"
            " be changed (the key shares it encrypts would be lost); no secret was changed."
            % (action, ", ".join(guarded), pattern.pattern),
            fix="check name_template (and key_vault_name_template): only db-info secrets may be written. If a"
                " db-info name matches by accident, narrow emp_pattern.", secrets=guarded)


def _digest(store, name):
    try:
        value = store.get(name).value
    except SecretNotFound:
        return None
    if value is None:
        value = ""
    return hashlib.sha256(value.encode("utf-8") if isinstance(value, str) else bytes(value)).digest()


def compare(nodes, source_store, source_names, target_store, target_names):
    """Per node: {node, status, source_secret, target_secret, missing_in}; the values never leave here."""
    report = []
    for node in nodes:
        source, target = _digest(source_store, source_names[node]), _digest(target_store, target_names[node])
        missing_in = [side for side, digest in (("source", source), ("target", target)) if digest is None]
        if missing_in:
            status = MISSING
        else:
            status = MATCH if hmac.compare_digest(source, target) else DIFFERS
        report.append({"node": node, "status": status, "source_secret": source_names[node],
                       "target_secret": target_names[node], "missing_in": missing_in})
    return report


def failure(report):
    """A RecoveryError summarising the nodes whose EMP is not carried over, or None when all match."""
    bad = [entry for entry in report if entry["status"] != MATCH]
    if not bad:
        return None
    parts = []
    for entry in bad:
        if entry["status"] == MISSING:
            parts.append("%s missing in %s" % (entry["node"], " and ".join(entry["missing_in"])))
        else:
            parts.append("%s differs" % entry["node"])
    return RecoveryError(
        "The Encryptor Master Password secrets of the target do not equal the source's: %s. Data encrypted with"
        " the source's EMPs cannot be decrypted in the target." % "; ".join(parts),
        fix="copy each source EMP secret to the target unchanged (never regenerate it) before restoring there,"
            " then run this check again.", emp=report)

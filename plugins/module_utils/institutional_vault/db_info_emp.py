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

The source/target comparison reads both values, compares their SHA-256
digests in constant time and drops the values; it reports match, differs or
missing per node. A recovery set records the digests (never the values) of
the environment it was taken in (state=emp_digests), so a later restore can
check the target against them (expected_emp_digests). An EMP is a generated
random secret, so its SHA-256 digest does not reveal it; the digests of the
source/target comparison are still not returned, as before.
"""

import hashlib
import hmac
import re

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.db_info_store import SecretNotFound
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

DEFAULT_EMP_PATTERN = r"(?i)encryptor|master[-_.]?pass(word)?|(^|[-._/:])emp([-._/]|$)"

MATCH, DIFFERS, MISSING = "match", "differs", "missing"
PRESENT = "present"
# The seed's rule, quoted in every EMP failure.
SEED_RULE = ("the Encryptor Master Password secrets must be carried over unchanged from the original environment"
             " - they cannot be regenerated or substituted")
MASK = "********"
_HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")


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


def value_bytes(value):
    """The bytes an EMP value stands for: its UTF-8 encoding (an empty secret is b"")."""
    if value is None:
        return b""
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def hex_digest(value):
    return hashlib.sha256(value_bytes(value)).hexdigest()


def _digest(store, name):
    try:
        value = store.get(name).value
    except SecretNotFound:
        return None
    return hashlib.sha256(value_bytes(value)).digest()


def read_values(store, names, seen=None):
    """{node: value or None (missing)}; every value read is added to `seen` (for masking) before anything else."""
    values = {}
    for node, name in names.items():
        try:
            value = store.get(name).value
        except SecretNotFound:
            values[node] = None
            continue
        value = "" if value is None else value
        if seen is not None:
            seen.append(value)
        values[node] = value
    return values


def digests_of(values):
    """{node: hex SHA-256 or None} of read_values()' answer."""
    return dict((node, None if value is None else hex_digest(value)) for node, value in values.items())


def digests_report(nodes, names, digests, where):
    """state=emp_digests: per node present/missing; every missing node named in one error."""
    report = [{"node": node, "secret_name": names[node], "status": MISSING if digests[node] is None else PRESENT}
              for node in nodes]
    missing = [entry for entry in report if entry["status"] == MISSING]
    if missing:
        raise RecoveryError(
            "The Encryptor Master Password secret of %s does not exist in %s, so its digest cannot be recorded."
            % ("; ".join("%s (%s)" % (entry["node"], entry["secret_name"]) for entry in missing), where),
            fix="check environment, namespace, emp_nodes and emp_name_template (emp_key_vault_name_template on"
                " Azure) against the store; an EMP that is really gone cannot be recreated, %s." % SEED_RULE,
            emp=report, missing=[entry["node"] for entry in missing])
    return report


def normalise_expected(expected, nodes):
    """expected_emp_digests checked against emp_nodes: {node: lower-case hex}, or one error naming each problem."""
    problems = []
    if not isinstance(expected, dict) or not expected:
        raise RecoveryError("expected_emp_digests must be a non-empty mapping of node to SHA-256 hex digest.",
                            fix="pass the emp_digests a state=emp_digests run (the recovery set) recorded.")
    unknown = sorted(str(node) for node in expected if node not in nodes)
    absent = [node for node in nodes if node not in expected]
    if unknown:
        problems.append("it names %s, not in emp_nodes" % ", ".join(unknown))
    if absent:
        problems.append("it has no digest for %s" % ", ".join(absent))
    result = {}
    for node in nodes:
        if node not in expected:
            continue
        digest = str(expected[node] or "").strip().lower()
        if not _HEX_DIGEST.match(digest):
            problems.append("the digest of %s is not 64 hexadecimal characters" % node)
        result[node] = digest
    if problems:
        raise RecoveryError("expected_emp_digests does not fit emp_nodes (%s): %s. Nothing was read or written."
                            % (", ".join(nodes), "; ".join(problems)),
                            fix="pass emp_nodes as the recovery set recorded them, with the digests it recorded.")
    return result


def check_expected(nodes, expected, digests, names):
    """Per node {node, status, target_secret, missing_in}: the target's digests against the recorded ones."""
    report = []
    for node in nodes:
        actual = digests[node]
        if actual is None:
            status = MISSING
        else:
            status = MATCH if hmac.compare_digest(actual, expected[node]) else DIFFERS
        report.append({"node": node, "status": status, "target_secret": names[node],
                       "missing_in": ["target"] if actual is None else []})
    return report


def expected_failure(report, where):
    """A RecoveryError when the target's EMPs are not the recorded ones, or None when all match."""
    bad = [entry for entry in report if entry["status"] != MATCH]
    if not bad:
        return None
    parts = ["%s %s (%s)" % (entry["node"], "missing" if entry["status"] == MISSING else "differs",
                             entry["target_secret"]) for entry in bad]
    return RecoveryError(
        "The Encryptor Master Password secrets in %s are not the ones the recovery set recorded: %s. The seed's"
        " rule: %s; the key shares in the restored database can only be decrypted with the original EMPs."
        % (where, "; ".join(parts), SEED_RULE),
        fix="carry the EMPs over from the environment the recovery set came from with state=emp_carry_over"
            " (source_environment, source_provider), or restore into the environment the set came from; never"
            " create new EMPs.", emp=report)


def scrub(text, values):
    """text with every non-empty value replaced by a mask (longest first, so no part of one is left)."""
    if not isinstance(text, str):
        return text
    for value in sorted(set(v for v in values if v), key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


def scrub_error(exc, values):
    """A RecoveryError like exc (message, fix, facts) in which no value appears."""
    values = list(values)
    facts = dict((key, scrub(value, values)) for key, value in exc.facts.items())
    clean = RecoveryError(scrub(exc.message, values), fix=scrub(exc.fix, values), **facts)
    return clean


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
        " the source's EMPs cannot be decrypted in the target. The seed's rule: %s." % ("; ".join(parts), SEED_RULE),
        fix="copy each source EMP secret to the target unchanged with state=emp_carry_over (never regenerate it)"
            " before restoring there, then run this check again.", emp=report)

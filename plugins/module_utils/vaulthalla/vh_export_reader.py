# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a GPG-encrypted ``vh vault keys export`` / ``vh secret export`` on the controller, in memory only.

gpg decrypts to its stdout, which is a pipe into this process: the plaintext
never touches a disk. The passphrase (if any) goes to gpg on stdin
(``--pinentry-mode loopback --passphrase-fd 0``), never into argv. Failures
are told apart from gpg's machine-readable status lines (doc/DETAILS), so an
operator learns whether the key is missing, the passphrase wrong, or the file
damaged. What leaves here about a vault key is its SHA-256 only.
"""

import base64
import binascii
import hashlib
import json
import os
import re

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import run

LABELS = {"vault_keys": "vault keys", "secrets": "secret"}
_STATUS = re.compile(r"^\[GNUPG:\] (\S+) ?(.*)$", re.MULTILINE)
_GPG_ERR_BAD_PASSPHRASE = 11
_IMPORT_FIX = ("import the recovery key's SECRET key into gnupg_home (gpg --homedir <gnupg_home> --import"
               " recovery-secret-key.asc) or point gnupg_home at the keyring that holds it.")


def gpg_status(stderr):
    """[(keyword, argument text)] from ``--status-fd 2`` lines mixed into stderr."""
    return [(match.group(1), match.group(2)) for match in _STATUS.finditer(stderr)]


def _gpg_complaint(stderr):
    lines = [line.strip() for line in stderr.splitlines() if line.startswith("gpg:")]
    return "; ".join(lines[-2:])[-400:] or "no message"


def _looks_like_json(path):
    with open(path, "rb") as handle:
        head = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] in (b"[", b"{")


def _error_code(status, location):
    """The GnuPG error code (low 16 bits) of an ``ERROR <location> <code>`` status line, or None."""
    for keyword, arg in status:
        words = arg.split()
        if keyword == "ERROR" and len(words) >= 2 and words[0] == location and words[1].isdigit():
            return int(words[1]) & 0xFFFF
    return None


def failure(status, stderr, path, gnupg_home, passphrase_given, plaintext_json):
    """The RecoveryError for a failed or unproven decryption, from gpg's status lines; None when it is proven."""
    keywords = set(item[0] for item in status)
    if plaintext_json:
        return RecoveryError(
            "%s is PLAINTEXT JSON, not a GPG-encrypted export; a recovery set never holds one." % path,
            fix="use the encrypted export (vh ... export --recipient <fpr> --output <file>); treat this file's"
                " content as exposed.", problem="plaintext")
    if "BAD_PASSPHRASE" in keywords or _error_code(status, "pkdecrypt_failed") == _GPG_ERR_BAD_PASSPHRASE:
        return RecoveryError(
            "the passphrase for the secret key in %s is wrong; %s was not decrypted." % (gnupg_home, path),
            fix="pass the recovery key's passphrase in passphrase (from a vault, never in plain text).",
            problem="bad_passphrase")
    if "NO_SECKEY" in keywords and "DECRYPTION_KEY" not in keywords and "NEED_PASSPHRASE" not in keywords:
        key_ids = sorted(set(arg.split()[0] for keyword, arg in status if keyword == "NO_SECKEY" and arg))
        return RecoveryError(
            "%s is encrypted to key ID(s) %s, and gnupg_home %s holds none of their secret keys."
            % (path, ", ".join(key_ids), gnupg_home), fix=_IMPORT_FIX, problem="no_secret_key", key_ids=key_ids)
    if "NEED_PASSPHRASE" in keywords and "BEGIN_DECRYPTION" not in keywords:
        if passphrase_given:
            return RecoveryError("gpg did not accept the passphrase for %s: %s" % (path, _gpg_complaint(stderr)),
                                 fix="check passphrase and gnupg_home.", problem="bad_passphrase")
        return RecoveryError(
            "the secret key for %s in %s is protected by a passphrase, and none was given." % (path, gnupg_home),
            fix="pass it in passphrase (no_log; from a vault).", problem="passphrase_required")
    if "BEGIN_DECRYPTION" in keywords and "DECRYPTION_OKAY" not in keywords:
        return RecoveryError(
            "%s is damaged: gpg has the key, but the encrypted data does not decrypt intact (gpg: %s)."
            % (path, _gpg_complaint(stderr)),
            fix="use another copy of the export (the recovery set in the backup bucket, or an older set).",
            problem="corrupt")
    if "DECRYPTION_OKAY" in keywords:
        return None
    if "PLAINTEXT" in keywords:
        return RecoveryError(
            "%s is an OpenPGP message that is not encrypted (its data is readable without a key)." % path,
            fix="use the encrypted export written by vh with --recipient.", problem="not_encrypted")
    return RecoveryError(
        "%s is not a readable OpenPGP message (gpg: %s)." % (path, _gpg_complaint(stderr)),
        fix="point path at the .gpg/.asc file vh wrote with --recipient; this one may be truncated or damaged.",
        problem="not_openpgp")


def decrypt(gpg, gnupg_home, path, passphrase=None):
    """(plaintext text, facts) of an encrypted file; facts: encrypted_to (key IDs), decryption_key (primary fpr)."""
    if not os.path.isfile(path):
        raise RecoveryError("%s does not exist or is not a file." % path,
                            fix="point path (and compare_with) at a vh export file of the recovery set.",
                            problem="missing")
    if not os.path.isdir(gnupg_home):
        raise RecoveryError("gnupg_home %s does not exist." % gnupg_home,
                            fix="point gnupg_home at the GnuPG home that holds the recovery key's secret key.",
                            problem="no_gnupg_home")
    argv = [gpg, "--homedir", gnupg_home, "--batch", "--no-tty", "--status-fd", "2", "--pinentry-mode", "loopback",
            "--no-auto-key-retrieve"]
    if passphrase is not None:
        argv += ["--passphrase-fd", "0"]
    argv += ["--decrypt", "--", path]
    try:
        rc, out, err = run(argv, env=dict(os.environ, LC_ALL="C", LANGUAGE="C"),
                           stdin_bytes=passphrase.encode("utf-8") if passphrase is not None else b"")
    except OSError as exc:
        raise RecoveryError("cannot run %s: %s" % (gpg, exc), fix="install gnupg on the controller.")
    status = gpg_status(err)
    # On any failure, whatever gpg wrote to stdout (possibly a partial plaintext) is dropped with `out`.
    problem = failure(status, err, path, gnupg_home, passphrase is not None, plaintext_json=_looks_like_json(path))
    if problem is not None:
        raise problem
    if rc != 0:
        raise RecoveryError("gpg decrypted %s but exited %d (gpg: %s); the result is not trusted."
                            % (path, rc, _gpg_complaint(err)),
                            fix="check the file with gpg --decrypt by hand; use another copy if gpg reports damage.",
                            problem="gpg_failed")
    facts = {"encrypted_to": sorted(set(arg.split()[0] for keyword, arg in status if keyword == "ENC_TO" and arg)),
             "decryption_key": None}
    for keyword, arg in status:
        if keyword == "DECRYPTION_KEY" and len(arg.split()) >= 2:
            facts["decryption_key"] = arg.split()[1].upper()
    return out, facts


def parse_export(text, path, kind="auto"):
    """(kind, entries) of a decrypted export; values are never put into a message."""
    try:
        document = json.loads(text)
    except ValueError:
        raise RecoveryError("%s decrypts, but not to JSON: it is not a vh export." % path,
                            fix="point path at a file written by vh vault keys export or vh secret export.",
                            problem="not_json")
    entries = document if isinstance(document, list) else [document]
    if not entries or not all(isinstance(entry, dict) for entry in entries):
        raise RecoveryError("%s decrypts to JSON that is not a list of export entries." % path,
                            fix="point path at a file written by vh vault keys export or vh secret export.",
                            problem="not_an_export")
    fields = set().union(*[set(entry) for entry in entries])
    found = None
    if all("vault_id" in entry and "key" in entry for entry in entries):
        found = "vault_keys"
    elif all("name" in entry and "secret" in entry for entry in entries):
        found = "secrets"
    if found is None:
        raise RecoveryError("%s is not a vh vault keys or secret export (its entries have fields %s)."
                            % (path, ", ".join(sorted(fields))),
                            fix="point path at a file written by vh vault keys export or vh secret export.",
                            problem="not_an_export")
    if kind not in ("auto", found):
        raise RecoveryError("%s is a %s export, but a %s export is needed here." % (path, LABELS[found], LABELS[kind]),
                            fix="use the %s export of the set in its place (or kind=auto)." % LABELS[kind],
                            problem="wrong_kind")
    return found, entries


def sensitive_values(kind, entries):
    """Every key or secret value in the export (for the module's no_log_values)."""
    field = "key" if kind == "vault_keys" else "secret"
    return [str(entry[field]) for entry in entries if entry.get(field) not in (None, "")]


def key_digests(entries, path):
    """[{vault_id, vault_name, key_sha256, key_version}] sorted by vault name; the key itself never leaves."""
    keys = []
    for entry in entries:
        name = entry.get("vault_name") or str(entry["vault_id"])
        try:
            raw = base64.b64decode(str(entry["key"]), validate=True)
        except (binascii.Error, ValueError):
            raise RecoveryError("%s: the key of vault %s is not base64." % (path, name),
                                fix="the export is damaged or not from vh; use another copy.", problem="bad_key")
        info = entry.get("key_info") if isinstance(entry.get("key_info"), dict) else {}
        keys.append({"vault_id": entry["vault_id"], "vault_name": name,
                     "key_sha256": hashlib.sha256(raw).hexdigest(), "key_version": info.get("key_version")})
    names = [key["vault_name"] for key in keys]
    duplicates = sorted(set(name for name in names if names.count(name) > 1))
    if duplicates:
        raise RecoveryError("%s lists vault(s) %s more than once." % (path, ", ".join(duplicates)),
                            fix="the export is not from one vh run; use the file vh wrote.", problem="duplicate")
    return sorted(keys, key=lambda key: key["vault_name"])


def compare_keys(expected, actual):
    """{match, comparison: [{vault_name, vault_id, state, detail}], detail} of two key digest lists, by vault name.

    state: equal, differs (key or vault id), missing (in expected only), extra (in actual only).
    """
    by_name = dict((key["vault_name"], key) for key in actual)
    vaults = []
    for key in expected:
        other = by_name.pop(key["vault_name"], None)
        if other is None:
            state, detail = "missing", "not in the compared export"
        else:
            different = [label for label, field in (("key", "key_sha256"), ("vault id", "vault_id"))
                         if key[field] != other[field]]
            state = "differs" if different else "equal"
            detail = ("%s differ%s" % (" and ".join(different), "" if len(different) > 1 else "s")
                      if different else "same key")
            if other["key_version"] != key["key_version"]:
                detail += " (key version %s, compared %s)" % (key["key_version"], other["key_version"])
        vaults.append({"vault_name": key["vault_name"], "vault_id": key["vault_id"], "state": state,
                       "detail": detail})
    for name in sorted(by_name):
        vaults.append({"vault_name": name, "vault_id": by_name[name]["vault_id"], "state": "extra",
                       "detail": "only in the compared export"})
    bad = [vault for vault in vaults if vault["state"] != "equal"]
    if bad:
        summary = "; ".join("%s %s (%s)" % (vault["vault_name"], vault["state"], vault["detail"]) for vault in bad)
    else:
        summary = "%d vault key%s equal" % (len(vaults), "" if len(vaults) == 1 else "s")
    return {"match": not bad and bool(vaults), "comparison": vaults, "detail": summary}


def secret_names(entries):
    return [str(entry["name"]) for entry in entries]


def reveal(entries, name, path):
    for entry in entries:
        if entry["name"] == name:
            return str(entry["secret"])
    raise RecoveryError("%s has no secret named %s (it has %s)." % (path, name, ", ".join(secret_names(entries))),
                        fix="set reveal to one of those names.", problem="no_such_secret")

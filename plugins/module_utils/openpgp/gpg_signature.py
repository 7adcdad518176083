# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Detached OpenPGP signatures over a file, with the signer pinned by fingerprint."""

import os
import re

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import run


def _gpg(gpg, gnupg_home, args):
    argv = [gpg, "--batch", "--no-tty", "--status-fd", "1"]
    if gnupg_home:
        argv += ["--homedir", gnupg_home]
    return run(argv + args, env=dict(os.environ, LC_ALL="C"))


def sign_detached(gpg, gnupg_home, signer, path):
    """Write path.asc, an armored detached signature by signer (a fingerprint)."""
    signature = path + ".asc"
    if os.path.exists(signature):
        raise RecoveryError("%s already exists; it was left untouched." % signature, fix="sign a new set.")
    args = ["--local-user", signer, "--armor", "--detach-sign", "--output", signature, path]
    rc, out, err = _gpg(gpg, gnupg_home, args)
    if rc != 0:
        raise RecoveryError("could not sign %s with key %s: %s" % (path, signer, err.strip()),
                            fix="make the signing key (with its secret part, no passphrase prompt) available in"
                                " gnupg_home, or drop sign_with.")
    os.chmod(signature, 0o600)
    return signature


def verify_detached(gpg, gnupg_home, signer, path):
    """Prove path.asc is a good signature over path by signer (primary or subkey fingerprint)."""
    signature = path + ".asc"
    if not os.path.exists(signature):
        raise RecoveryError("%s is not signed (no %s)." % (path, signature),
                            fix="use the signed copy of the set, or verify without a signer.")
    rc, out, err = _gpg(gpg, gnupg_home, ["--verify", signature, path])
    valid = re.findall(r"^\[GNUPG:\] VALIDSIG (\S+) .* (\S+)$", out, re.MULTILINE)
    fingerprints = set()
    for subkey, primary in valid:
        fingerprints.update([subkey.upper(), primary.upper()])
    if rc != 0 or signer.upper() not in fingerprints:
        raise RecoveryError("the signature on %s is not a good signature by %s: %s" % (
            path, signer, (err.strip().splitlines() or ["no valid signature"])[-1]),
            fix="the set may have been altered: do not restore it; check the signer's public key in gnupg_home.")
    return sorted(fingerprints)


VERIFY, UNSIGNED, UNCHECKED = "verify", "unsigned", "unchecked"


def signature_policy(signed_by, require_signature, signature_present, where):
    """What to do about a set's manifest.json.asc: VERIFY it, accept the set UNSIGNED, or leave it UNCHECKED.

    require_signature None means "required whenever a signer is configured": once sets are signed, a set whose
    signature was removed must not pass as an unsigned one (the manifest cannot vouch for itself, since whoever
    edits it can edit a "signed" flag too). Raises when the policy refuses the set.
    """
    required = bool(signed_by) if require_signature is None else require_signature
    if required and not signed_by:
        raise RecoveryError("require_signature is true but signed_by is empty, so the signature of %s cannot be"
                            " proven against anyone." % where,
                            fix="set signed_by to the fingerprint that signs your sets (the backup's sign_with).")
    if signature_present:
        return VERIFY if signed_by else UNCHECKED
    if required:
        raise RecoveryError(
            "recovery set %s was expected to be signed by %s, but its signature manifest.json.asc is missing: the"
            " set may have been tampered with (removing the signature makes a changed set look unsigned). Nothing"
            " was changed." % (where, signed_by),
            fix="use the signed copy of the set. Only for a set taken before signing was configured, accept it"
                " unsigned on purpose with require_signature: false (a signature present is still checked).")
    return UNSIGNED

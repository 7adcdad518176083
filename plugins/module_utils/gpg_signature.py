# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Detached OpenPGP signatures over a file, with the signer pinned by fingerprint."""

import os
import re

from ansible_collections.vaultops.recovery.plugins.module_utils.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.process import run


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

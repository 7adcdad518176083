"""Throwaway OpenPGP signing keys for tests, made with the real gpg in a GnuPG home the test owns."""

import subprocess


def make_key(homedir, uid):
    """Generate an unprotected ed25519 signing key for uid (valid one day) in homedir; return its fingerprint."""
    subprocess.run(["gpg", "--batch", "--homedir", str(homedir), "--passphrase", "", "--quick-gen-key", uid,
                    "ed25519", "sign", "1d"], check=True, capture_output=True)
    out = subprocess.run(["gpg", "--batch", "--homedir", str(homedir), "--with-colons", "--list-keys", uid],
                         check=True, capture_output=True, text=True).stdout
    return [line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:")][0]

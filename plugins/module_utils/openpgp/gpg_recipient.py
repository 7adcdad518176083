# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Can a keyring encrypt to this fingerprint? Answered from ``gpg --with-colons`` before anything is exported.

The listing is read the way GnuPG documents it (doc/DETAILS): a ``pub`` record
and its ``sub`` records, each followed by an ``fpr`` record; field 2 is the
validity (``e`` expired, ``r`` revoked, ``i`` invalid), field 7 the expiry
(seconds since the epoch), field 12 the capabilities (lower case: this key
itself; ``D``: disabled). Each refusal says which of these it was and how to
fix it, because "gpg could not encrypt" after the fact tells an operator
nothing.
"""

import datetime
import os
import re

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import run

_FPR = re.compile(r"^[0-9A-F]{40}$")
_UNUSABLE = {"e": "expired", "r": "revoked", "i": "invalid"}


def normalise_fingerprints(values):
    """Upper-case 40-hex fingerprints without spaces or 0x, duplicates dropped, order kept."""
    result = []
    for value in values or []:
        text = re.sub(r"\s+", "", str(value)).upper()
        if text.startswith("0X"):
            text = text[2:]
        if not _FPR.match(text):
            raise RecoveryError(
                "recipient %r is not a full 40-hex-digit OpenPGP fingerprint; short key IDs and user IDs can match"
                " the wrong key." % value,
                fix="take the fingerprint from the fpr: line of gpg --with-colons --fingerprint <key>.")
        if text not in result:
            result.append(text)
    if not result:
        raise RecoveryError("no recipients given.", fix="set recipients to the recovery key's fingerprint.")
    return result


class KeyPart(object):
    """A primary key or a subkey, as one pub/sub record (plus its fpr record)."""

    def __init__(self, fields, primary):
        self.primary = primary
        self.validity = _field(fields, 1)
        self.keyid = _field(fields, 4).upper()
        self.created = _epoch(_field(fields, 5))
        self.expires = _epoch(_field(fields, 6))
        self.capabilities = _field(fields, 11)
        self.fingerprint = None

    @property
    def can_encrypt(self):
        return "e" in self.capabilities

    def problem(self, now):
        """None when usable at now, else expired / revoked / invalid / disabled."""
        if self.validity in _UNUSABLE:
            return _UNUSABLE[self.validity]
        if self.expires is not None and self.expires <= now:
            return "expired"
        return None


class PublicKey(object):
    def __init__(self, primary):
        self.primary = primary
        self.subkeys = []
        self.uids = []

    @property
    def fingerprint(self):
        return self.primary.fingerprint

    @property
    def parts(self):
        return [self.primary] + self.subkeys

    @property
    def disabled(self):
        return "D" in self.primary.capabilities

    def encryption_key_ids(self):
        """Key IDs of every encryption-capable part, usable or not: any of them would mean 'to this key'."""
        return sorted(part.keyid for part in self.parts if part.can_encrypt)

    def usable_encryption_key_ids(self, now):
        return sorted(part.keyid for part in self.parts if part.can_encrypt and part.problem(now) is None)


def _field(fields, index):
    return fields[index] if len(fields) > index else ""


def _epoch(text):
    if not text:
        return None
    if text.isdigit():
        return int(text)
    try:  # --fixed-list-mode with an ISO 8601 date option
        moment = datetime.datetime.strptime(text, "%Y%m%dT%H%M%S")
    except ValueError:
        return None
    return int((moment - datetime.datetime(1970, 1, 1)).total_seconds())


def _unescape(text):
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda match: chr(int(match.group(1), 16)), text)


def parse_colons(text):
    """[PublicKey] from ``gpg --with-colons --fixed-list-mode --list-keys`` output."""
    keys = []
    current = None
    last_part = None
    for line in text.splitlines():
        fields = line.split(":")
        record = fields[0]
        if record == "pub":
            current = PublicKey(KeyPart(fields, primary=True))
            keys.append(current)
            last_part = current.primary
        elif record == "sub" and current is not None:
            last_part = KeyPart(fields, primary=False)
            current.subkeys.append(last_part)
        elif record == "fpr" and last_part is not None and last_part.fingerprint is None:
            last_part.fingerprint = _field(fields, 9).upper()
        elif record == "uid" and current is not None:
            current.uids.append(_unescape(_field(fields, 9)))
        elif record in ("sec", "ssb", "crt", "crs"):
            current = last_part = None  # not a public key listing; ignore what follows
    return keys


def _date(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%d")


def _name(key):
    return "%s (%s)" % (key.fingerprint, key.uids[0]) if key.uids else key.fingerprint


def assess(fingerprint, keys, now, keyring, user):
    """The key for fingerprint in the parsed listing, or RecoveryError naming what is wrong with it."""
    import_fix = ("import the recipient's public key into that keyring, for example: sudo -u %s gpg --homedir %s"
                  " --import recovery-key.asc (then compare the fingerprint)." % (user, keyring))
    key = next((candidate for candidate in keys if candidate.fingerprint == fingerprint), None)
    if key is None:
        owner = next((candidate for candidate in keys
                      if any(part.fingerprint == fingerprint for part in candidate.subkeys)), None)
        if owner is not None:
            raise RecoveryError(
                "recipient %s is a subkey of %s, not a primary key fingerprint." % (fingerprint, _name(owner)),
                fix="pass the primary key's fingerprint %s; gpg picks its encryption subkey." % owner.fingerprint,
                problem="subkey_fingerprint", recipient=fingerprint)
        raise RecoveryError(
            "recipient %s is not in the GnuPG keyring of user %s (%s). The export runs inside the Vaulthalla daemon"
            " as that user and encrypts with that keyring only; nothing was exported." % (fingerprint, user, keyring),
            fix=import_fix, problem="missing", recipient=fingerprint)
    primary = key.primary
    state = primary.problem(now)
    if state == "revoked":
        raise RecoveryError(
            "recipient %s is revoked in the keyring of user %s; an export to it would go to a key its owner"
            " withdrew. Nothing was exported." % (_name(key), user),
            fix="use the current recovery key's fingerprint (and import it there if needed).",
            problem="revoked", recipient=fingerprint)
    if state == "expired":
        when = (" on %s" % _date(primary.expires)) if primary.expires else ""
        raise RecoveryError(
            "recipient %s expired%s; gpg will not encrypt to it. Nothing was exported." % (_name(key), when),
            fix="extend it with its secret key (gpg --quick-set-expire %s 2y) and import the updated public key"
                " for user %s (gpg --homedir %s --import), or use another recipient." % (fingerprint, user, keyring),
            problem="expired", recipient=fingerprint)
    if state == "invalid":
        raise RecoveryError(
            "recipient %s is invalid in the keyring of user %s (no valid self-signature). Nothing was exported."
            % (_name(key), user), fix=import_fix, problem="invalid", recipient=fingerprint)
    if key.disabled:
        raise RecoveryError(
            "recipient %s is disabled in the keyring of user %s. Nothing was exported." % (_name(key), user),
            fix="enable it (sudo -u %s gpg --homedir %s --edit-key %s enable) or use another recipient." % (
                user, keyring, fingerprint),
            problem="disabled", recipient=fingerprint)
    encrypting = [part for part in key.parts if part.can_encrypt]
    if not encrypting:
        raise RecoveryError(
            "recipient %s cannot encrypt: neither the key nor a subkey has the encrypt capability (capabilities %s;"
            " a sign-only key). Nothing was exported." % (_name(key), primary.capabilities or "none"),
            fix="add an encryption subkey (gpg --quick-add-key %s cv25519 encr) and import the updated public key"
                " for user %s, or use another recipient." % (fingerprint, user),
            problem="not_encryption_capable", recipient=fingerprint)
    if not key.usable_encryption_key_ids(now):
        states = ", ".join("%s %s" % (part.keyid, part.problem(now)) for part in encrypting)
        raise RecoveryError(
            "recipient %s has no usable encryption subkey (%s). Nothing was exported." % (_name(key), states),
            fix="add or extend an encryption subkey with the secret key and import the updated public key for"
                " user %s, or use another recipient." % user,
            problem="encryption_subkeys_unusable", recipient=fingerprint)
    return key


def _keyring_error(stderr):
    """A gpg complaint about the keyring itself (not just 'no such key'), or None."""
    for line in stderr.splitlines():
        if "keyblock resource" in line or "Fatal" in line or "can't open" in line or "Permission denied" in line:
            return line.strip()
    return None


def load_recipients(fingerprints, gpg, gnupg_home, run_as, now):
    """[PublicKey] for fingerprints, listed by run_as (the keyring owner, so trustdb and locks stay theirs)."""
    user = run_as.name if run_as else "the task user"
    if not os.path.isdir(gnupg_home):
        raise RecoveryError(
            "the GnuPG home %s of user %s does not exist, so no recipient key is there. The export encrypts with"
            " that keyring only; nothing was exported." % (gnupg_home, user),
            fix="import the recipient's public key as that user: sudo -u %s gpg --homedir %s --import"
                " recovery-key.asc (or set gnupg_home)." % (user, gnupg_home),
            problem="missing", recipient=fingerprints[0])
    argv = [gpg, "--homedir", gnupg_home, "--batch", "--no-tty", "--no-autostart", "--with-colons",
            "--fixed-list-mode", "--list-keys", "--"] + list(fingerprints)
    env = dict(os.environ, LC_ALL="C", LANGUAGE="C")
    if run_as:
        env["HOME"] = run_as.home
    try:
        rc, out, err = run(argv, env=env, run_as=run_as, cwd="/")
    except OSError as exc:
        raise RecoveryError("cannot run %s as user %s: %s" % (gpg, user, exc), fix="install gnupg on the host.")
    complaint = _keyring_error(err)
    if complaint:
        raise RecoveryError("gpg cannot read the keyring %s as user %s: %s" % (gnupg_home, user, complaint),
                            fix="make %s and its files owned by %s (chown -R %s %s; a key imported there as root"
                                " leaves root-owned files), or set gnupg_home/vh_user." % (
                                    gnupg_home, user, user, gnupg_home),
                            problem="keyring_unreadable")
    keys = parse_colons(out)
    if rc != 0 and not keys and "No public key" not in err:
        raise RecoveryError("gpg --list-keys failed for user %s (exit %d): %s" % (user, rc, err.strip()[-800:]),
                            fix="check gnupg_home and that gpg works for that user.")
    return [assess(fingerprint, keys, now, gnupg_home, user) for fingerprint in fingerprints]

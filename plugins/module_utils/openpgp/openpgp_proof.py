# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prove a file is one OpenPGP message encrypted to exactly the intended keys, without decrypting it.

``gpg --list-packets --list-only`` runs with a fresh, empty home directory: it
holds no secret key, so nothing can be decrypted and no agent is started; the
listing shows the public-key encrypted session key packets (one key ID each)
and the encrypted data packet. A literal data packet in that listing is data
outside the encryption; a symmetric session key packet is a passphrase that
opens the message too (another recipient). The file is also sniffed first, so
a plaintext export is named as such, and its content is never echoed.
"""

import json
import os
import re
import shutil
import tempfile

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import run

ARMOR_BEGIN = b"-----BEGIN PGP MESSAGE-----"
ARMOR_END = b"-----END PGP MESSAGE-----"
SNIFF_BYTES = 64 * 1024
JSON_PARSE_LIMIT = 64 * 1024 * 1024
ANONYMOUS_KEYID = "0" * 16

_PACKET = re.compile(r"^:([a-z_ ]+ packet):(.*)$")
_KEYID = re.compile(r"\bkeyid ([0-9A-Fa-f]{16})\b")
_ENCRYPTED = ("encrypted data packet", "aead encrypted packet")


def _plaintext_error(what, path, detail):
    return RecoveryError(
        "the %s export %s is PLAINTEXT (%s), not an OpenPGP message: vh wrote it unencrypted, which is never"
        " acceptable for a recovery set. It was not published and was deleted." % (what, path, detail),
        fix="make sure vh receives --recipient (and honours it); check the Vaulthalla version.",
        problem="plaintext")


def sniff_head(head, what, shown, read_all):
    """'armored' or 'binary' from the first bytes; RecoveryError for plaintext, nothing, or not OpenPGP.

    read_all(limit) returns the whole file (up to limit bytes); it is only called to tell plaintext JSON from
    other non-OpenPGP data, so a plaintext export is named as such.
    """
    if head[:1] and head[0] & 0x80 and not head.startswith(b"\xef\xbb\xbf"):
        return "binary"  # an OpenPGP packet header always has bit 7 set
    text = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    text = text.lstrip(b" \t\r\n")
    if not text:
        raise RecoveryError("the %s export %s is empty. It was not published." % (what, shown),
                            fix="check vh's log; run the export again.", problem="empty")
    if text[:1] in (b"[", b"{"):
        raise _plaintext_error(what, shown, "it starts like JSON")
    if text.startswith(b"-----BEGIN PGP"):
        if not text.startswith(ARMOR_BEGIN):
            raise _plaintext_error(what, shown, "it is armored OpenPGP but not an encrypted message: %s"
                                   % text.split(b"\n", 1)[0].decode("ascii", "replace").strip())
        return "armored"
    data = read_all(JSON_PARSE_LIMIT + 1)
    if len(data) <= JSON_PARSE_LIMIT:
        try:
            json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            pass
        else:
            raise _plaintext_error(what, shown, "it parses as JSON")
    raise RecoveryError("the %s export %s is not an OpenPGP message (neither armored nor binary packets). It was"
                        " not published." % (what, shown),
                        fix="check what vh wrote; an export with --recipient must be GPG-encrypted.",
                        problem="not_openpgp")


def sniff(path, what, shown=None):
    """sniff_head on a file, and for an armored file also: exactly one message, nothing after it."""
    shown = shown or path

    def read_all(limit):
        with open(path, "rb") as handle:
            return handle.read(limit)

    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    fmt = sniff_head(head, what, shown, read_all)
    if fmt == "armored":
        _check_single_armor_block(path, what, shown)
    return fmt


def _check_single_armor_block(path, what, shown):
    """Nothing but whitespace may follow the one armored message: no appended plaintext, no second message."""
    with open(path, "rb") as handle:
        data = handle.read()
    end = data.find(ARMOR_END)
    if end < 0:
        raise RecoveryError("the %s export %s is a truncated armored message (no END line). It was not published."
                            % (what, shown), fix="run the export again.", problem="truncated")
    if data[end + len(ARMOR_END):].strip() or data.count(ARMOR_BEGIN) != 1:
        raise RecoveryError(
            "the %s export %s holds more than the one encrypted message (data after its END line). It was not"
            " published." % (what, shown),
            fix="check what wrote the file; an export must be exactly one encrypted message.",
            problem="trailing_data")


def parse_packets(listing):
    """Top-level facts of a ``gpg --list-packets`` listing."""
    facts = {"recipient_key_ids": [], "encrypted": 0, "literal": 0, "symmetric": 0, "packets": []}
    for line in listing.splitlines():
        match = _PACKET.match(line)
        if not match:
            continue
        kind, rest = match.group(1), match.group(2)
        facts["packets"].append(kind)
        if kind == "pubkey enc packet":
            keyid = _KEYID.search(rest)
            facts["recipient_key_ids"].append(keyid.group(1).upper() if keyid else ANONYMOUS_KEYID)
        elif kind in _ENCRYPTED:
            facts["encrypted"] += 1
        elif kind == "literal data packet":
            facts["literal"] += 1
        elif kind == "symkey enc packet":
            facts["symmetric"] += 1
    return facts


def judge(facts, recipients, what, path):
    """{fingerprint: [key IDs used]} when the message goes to exactly recipients (PublicKey objects)."""
    def refuse(message, fix, problem, **more):
        raise RecoveryError("the %s export %s %s It was not published." % (what, path, message), fix=fix,
                            problem=problem, **more)

    if facts["literal"]:
        refuse("contains a literal data packet outside any encryption: its content is readable without a key.",
               "make sure vh encrypts with --recipient; never keep such a file.", "plaintext")
    if facts["encrypted"] != 1:
        refuse("has %d encrypted data packets; an export is exactly one encrypted message." % facts["encrypted"],
               "check what wrote the file.", "not_one_message")
    if facts["symmetric"]:
        refuse("can also be opened with a passphrase (symmetric session key packet), i.e. by someone other than"
               " the recipients.", "export again with --recipient only.", "extra_recipient")
    owner_of = {}
    for key in recipients:
        for keyid in key.encryption_key_ids():
            owner_of[keyid] = key.fingerprint
    used = dict((key.fingerprint, []) for key in recipients)
    extra = []
    for keyid in facts["recipient_key_ids"]:
        if keyid == ANONYMOUS_KEYID:
            refuse("is encrypted to a hidden recipient (key ID 0, gpg --throw-keyids); the recipients cannot be"
                   " proven.", "export without hidden recipients.", "hidden_recipient")
        if keyid in owner_of:
            if keyid not in used[owner_of[keyid]]:
                used[owner_of[keyid]].append(keyid)
        elif keyid not in extra:
            extra.append(keyid)
    missing = [fingerprint for fingerprint, keyids in used.items() if not keyids]
    if extra:
        refuse("is also encrypted to key ID(s) %s, which belong to none of the requested recipients: someone else"
               " could read it." % ", ".join(extra),
               "check vh's --recipient handling and the keyring of the daemon user (a default or hidden recipient"
               " in its gpg.conf, such as encrypt-to or default-recipient, adds recipients).",
               "extra_recipient", extra_key_ids=extra)
    if missing:
        refuse("is not encrypted to %s (encrypted to key ID(s) %s): that recipient cannot read it." % (
            ", ".join(missing), ", ".join(facts["recipient_key_ids"]) or "none"),
            "check that this vh passes every --recipient to gpg; the documented vh takes one --recipient, so give"
            " one fingerprint.", "missing_recipient", missing_recipients=missing)
    return used


def prove(path, recipients, gpg, what, shown=None):
    """Sniff and list path (named shown in errors); returns {"format", "key_ids": {fingerprint: [key IDs]}}."""
    shown = shown or path
    fmt = sniff(path, what, shown)
    home = tempfile.mkdtemp(prefix="vh-export-gpg-")  # empty: no secret keys, nothing can be decrypted
    try:
        argv = [gpg, "--homedir", home, "--batch", "--no-tty", "--no-autostart", "--list-only", "--list-packets",
                "--", path]
        try:
            rc, out, err = run(argv, env=dict(os.environ, LC_ALL="C", LANGUAGE="C"))
        except OSError as exc:
            raise RecoveryError("cannot run %s: %s" % (gpg, exc), fix="install gnupg on the host.")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if rc != 0:
        complaint = [line.strip() for line in err.splitlines() if line.startswith("gpg:")][-3:]
        raise RecoveryError("gpg cannot parse the %s export %s as one OpenPGP message (exit %d: %s). It was not"
                            " published." % (what, shown, rc, "; ".join(complaint)[-600:] or "no message"),
                            fix="check what vh wrote; run the export again.", problem="not_openpgp")
    return {"format": fmt, "key_ids": judge(parse_packets(out), recipients, what, shown)}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse GNU tar's long listing into member entries, and let tar_safety check them.

The same listing comes from ``tar -cvv --index-file=F`` while an archive is
written, from ``tar -cvv -f /dev/null`` (a dry run that reads no file data)
and from ``tar -tv`` of a finished archive. tar_argv.LISTING_OPTIONS makes it
unambiguous: numeric owners, full UTC times, and every name C-quoted
(``--quoting-style=c``), so names with spaces, quotes, newlines, `` -> `` or
non-UTF-8 bytes round-trip exactly.

An entry is a dict: path (as stored, without a directory's trailing '/'),
type (file, dir, symlink, hardlink, device, fifo or other), mode (octal
string of the permission bits, set-ID and sticky bits included), uid, gid,
size (bytes of a regular file, else 0), mtime (tar's text, UTC, fractions
of a second as stored), target for links, xattrs (true) when tar shows
extended attributes.
"""

import calendar
import re
import stat
import time

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

_TYPES = {"-": "file", "d": "dir", "l": "symlink", "h": "hardlink", "c": "device", "b": "device", "p": "fifo"}
_LINE = re.compile(
    r"^(?P<type>\S)(?P<perm>[-rwxsStT]{9})(?P<flag>[*+. ]?)\s+(?P<uid>\d+)/(?P<gid>\d+)\s+"
    r"(?P<size>\d+|\d+,\s*\d+)\s+(?P<mtime>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)\s+(?P<rest>\".*)$")
_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34, "?": 63, "'": 39}
_SYMLINK_SEP = " -> "
_HARDLINK_SEP = " link to "


def unquote_at(text, start):
    """(decoded string, index after the closing quote) of the C-quoted string opening at text[start]."""
    if text[start:start + 1] != '"':
        raise ValueError("expected a quoted name at %r" % text[start:start + 20])
    out = bytearray()
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == '"':
            return out.decode("utf-8", "surrogateescape"), i + 1
        if char == "\\":
            nxt = text[i + 1:i + 2]
            octal = re.match(r"[0-7]{1,3}", text[i + 1:i + 4])
            if octal:
                out.append(int(octal.group(0), 8) & 0xFF)
                i += 1 + len(octal.group(0))
                continue
            if nxt not in _ESCAPES:
                raise ValueError("unknown escape \\%s" % nxt)
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        out.extend(char.encode("utf-8", "surrogateescape"))
        i += 1
    raise ValueError("unterminated quoted name")


def quote(name):
    """The C-style quoting GNU tar uses (for tests and messages)."""
    raw = name.encode("utf-8", "surrogateescape")
    reverse = dict((code, "\\" + letter) for letter, code in _ESCAPES.items() if letter not in ("?", "'"))
    parts = []
    for byte in raw:
        if byte in reverse:
            parts.append(reverse[byte])
        elif 32 <= byte < 127:
            parts.append(chr(byte))
        else:
            parts.append("\\%03o" % byte)
    return '"%s"' % "".join(parts)


def _mode_bits(perm):
    bits = 0
    for index, (char, plain) in enumerate(zip(perm, "rwxrwxrwx")):
        if char in (plain, "s", "t"):
            bits |= 1 << (8 - index)
    special = ((2, stat.S_ISUID, "sS"), (5, stat.S_ISGID, "sS"), (8, stat.S_ISVTX, "tT"))
    for index, bit, chars in special:
        if perm[index] in chars:
            bits |= bit
    return "%04o" % bits


def parse_line(line):
    """One listing line -> entry dict; raises ValueError when the line is not a member line."""
    match = _LINE.match(line)
    if not match:
        raise ValueError("not a tar listing line: %r" % line[:120])
    name, end = unquote_at(match.group("rest"), 0)
    rest = match.group("rest")[end:]
    kind = _TYPES.get(match.group("type"), "other")
    entry = dict(path=name[:-1] if kind == "dir" and name.endswith("/") and name != "/" else name, type=kind,
                 mode=_mode_bits(match.group("perm")), uid=int(match.group("uid")), gid=int(match.group("gid")),
                 size=int(match.group("size")) if kind == "file" else 0, mtime=match.group("mtime"))
    if kind == "other":
        entry["tar_type"] = match.group("type")
    if match.group("flag") == "*":
        entry["xattrs"] = True
    for separator, link_kind in ((_SYMLINK_SEP, "symlink"), (_HARDLINK_SEP, "hardlink")):
        if rest.startswith(separator):
            if kind != link_kind:
                raise ValueError("unexpected link target in %r" % line[:120])
            entry["target"] = unquote_at(rest, len(separator))[0]
            rest = ""
    if rest.strip() or (kind in ("symlink", "hardlink") and "target" not in entry):
        raise ValueError("cannot parse the end of %r" % line[:120])
    return entry


def parse_listing(text, source):
    """Every member line of a listing, in archive order. Indented detail lines (xattr names) are skipped."""
    entries = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip() or line.startswith(" "):
            continue
        try:
            entries.append(parse_line(line))
        except ValueError as exc:
            raise RecoveryError("the tar listing of %s cannot be read at line %d (%s)." % (source, number, exc),
                                fix="use GNU tar (Debian: apt-get install tar); if it is GNU tar already,"
                                    " the archive is damaged: use an intact copy.")
    return entries


class ListedMember(object):
    """The TarInfo subset tar_safety reads, for one listing entry (name relative to a tree root)."""

    def __init__(self, entry, name):
        self.entry = entry
        self.name = name
        self.linkname = entry.get("target", "")
        self.mode = int(entry["mode"], 8)
        self.type = entry.get("tar_type", entry["type"])

    def isreg(self):
        return self.entry["type"] == "file"

    def isdir(self):
        return self.entry["type"] == "dir"

    def issym(self):
        return self.entry["type"] == "symlink"

    def islnk(self):
        return self.entry["type"] == "hardlink"

    def ischr(self):
        return self.entry["type"] == "device"

    def isblk(self):
        return False

    def isfifo(self):
        return self.entry["type"] == "fifo"


def mtime_ns(text):
    """tar's UTC time text ('2026-11-21 10:15:00.5') -> nanoseconds since the epoch."""
    whole, _dot, fraction = text.partition(".")
    seconds = calendar.timegm(time.strptime(whole, "%Y-%m-%d %H:%M:%S"))
    return seconds * 1000000000 + int((fraction + "000000000")[:9])


def summary(entries):
    """(member count, regular files, bytes in them)."""
    files = [entry for entry in entries if entry["type"] == "file"]
    return len(entries), len(files), sum(entry["size"] for entry in files)

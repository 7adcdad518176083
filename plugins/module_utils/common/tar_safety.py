# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Refuse tar members that could write outside the directory they are unpacked into.

Checked before anything is extracted: absolute names, ``..`` components,
duplicate names, hard links, device nodes and FIFOs, symbolic links whose
target leaves the tree, members reached through a symbolic link, and
set-user/group-ID files. Only regular files, directories and contained
symbolic links pass.
"""

import stat

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

ROOT = "."
_SHOWN = 5


def normalize_name(name):
    """The member's path relative to the tree root ('.' for the root), or None when it is unsafe."""
    if not name or "\x00" in name or name.startswith("/"):
        return None
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        return None
    return "/".join(parts) or ROOT


def link_stays_inside(name, target):
    """Whether a symbolic link at name (relative to the root) pointing at target resolves inside the tree."""
    if not target or "\x00" in target or target.startswith("/"):
        return False
    depth = 0
    base = [] if name == ROOT else name.split("/")[:-1]
    for part in base + target.split("/"):
        if part in ("", "."):
            continue
        depth += -1 if part == ".." else 1
        if depth < 0:
            return False
    return True


def member_kind(member):
    if member.isreg():
        return "file"
    if member.isdir():
        return "dir"
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hard link"
    if member.ischr() or member.isblk():
        return "device"
    if member.isfifo():
        return "fifo"
    return "special member (type %r)" % member.type


def _problem(member, name, kind):
    if name is None:
        return "%r: absolute path or '..' component" % member.name
    if kind not in ("file", "dir", "symlink"):
        return "%r: %s" % (member.name, kind)
    if kind == "symlink" and not link_stays_inside(name, member.linkname):
        return "%r: symbolic link to %r leaves the directory" % (member.name, member.linkname)
    if kind == "file" and member.mode & (stat.S_ISUID | stat.S_ISGID):
        return "%r: set-user/group-ID file" % member.name
    if name == ROOT and kind != "dir":
        return "%r: the root of the tree must be a directory" % member.name
    return None


def check_members(members, source):
    """Return [(normalized name, member)] in archive order, or raise one RecoveryError naming every problem."""
    problems = []
    checked = []
    seen = set()
    symlinks = set()
    for member in members:
        name = normalize_name(member.name)
        kind = member_kind(member)
        problem = _problem(member, name, kind)
        if problem is None and name in seen:
            problem = "%r: appears twice" % member.name
        if problem is None and name != ROOT:
            parts = name.split("/")
            through = [prefix for prefix in ("/".join(parts[:i]) for i in range(1, len(parts))) if prefix in symlinks]
            if through:
                problem = "%r: reached through the symbolic link %r" % (member.name, through[0])
        if problem:
            problems.append(problem)
            continue
        seen.add(name)
        if kind == "symlink":
            symlinks.add(name)
        checked.append((name, member))
    if problems:
        shown = "; ".join(problems[:_SHOWN])
        if len(problems) > _SHOWN:
            shown += "; and %d more" % (len(problems) - _SHOWN)
        raise RecoveryError(
            "%s contains %d unsafe member(s) that could write outside the state directory or create devices: %s."
            " Nothing was extracted." % (source, len(problems), shown),
            fix="use an archive written by vaultops.recovery.swtpm_archive; this one was crafted or damaged.")
    return checked

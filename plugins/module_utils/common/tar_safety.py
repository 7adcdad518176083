# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Refuse tar members that could write outside the directory they are unpacked into.

Checked before anything is extracted: absolute names, ``..`` components,
duplicate names, hard links, device nodes and FIFOs, symbolic links whose
target leaves the tree, members reached through a symbolic link, and
set-user/group-ID files. Only regular files, directories and contained
symbolic links pass.

find_problems is the one walk that applies these rules; check_members (swtpm
archives, tarfile members) and path_archive's path_safety (tar listing
entries, several trees per archive) both use it.
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


def whole_tree(name):
    """The default tree for find_problems: the whole archive is one tree, unpacked into one directory."""
    return name, "the directory"


def _problem(shown, member, name, inner, where, root_rule):
    if name is None:
        return "%r: absolute path or '..' component" % shown
    if inner is None:
        return "%r: outside %s" % (shown, where)
    kind = member_kind(member)
    if kind not in ("file", "dir", "symlink"):
        return "%r: %s" % (shown, kind)
    if kind == "symlink" and not link_stays_inside(inner, member.linkname):
        return "%r: symbolic link to %r leaves %s" % (shown, member.linkname, where)
    if kind == "file" and member.mode & (stat.S_ISUID | stat.S_ISGID):
        return "%r: set-user/group-ID file" % shown
    if inner == ROOT and kind != "dir":
        return "%r: %s" % (shown, root_rule)
    return None


def find_problems(items, locate=whole_tree, root_rule="the root of the tree must be a directory",
                  name_of=lambda item: item.name, member_of=lambda item, inner: item):
    """The one safety walk over an archive's members, in archive order; raises nothing.

    items: the members as the caller holds them (tarfile.TarInfo, or listing entries).
    name_of(item): the name the archive stores, quoted in messages.
    locate(name): for a normalized name, (its name inside the tree it is unpacked into, the words that name
    that tree in messages), or (None, the words that name every tree) when it belongs to none.
    member_of(item, inner): the TarInfo subset member_kind reads (linkname, mode, isreg() ...), asked only for
    members inside a tree.
    root_rule: the message for a tree root that is not a directory.

    Rules: no absolute name or '..' component, nothing outside the trees, only regular files, directories
    and symbolic links (no hard links, devices, FIFOs), no symbolic link leaving its tree, no
    set-user/group-ID file, a tree root is a directory, no name twice, nothing reached through a symbolic
    link. Returns (passed, problems): [(normalized name, item)] of the members that passed, and one message
    per member that did not.
    """
    passed = []
    problems = []
    seen = set()
    symlinks = set()
    for item in items:
        shown = name_of(item)
        name = normalize_name(shown)
        inner, where = locate(name) if name is not None else (None, None)
        member = member_of(item, inner) if inner is not None else None
        problem = _problem(shown, member, name, inner, where, root_rule)
        if problem is None and name in seen:
            problem = "%r: appears twice" % shown
        if problem is None:
            parts = name.split("/")
            through = [prefix for prefix in ("/".join(parts[:i]) for i in range(1, len(parts))) if prefix in symlinks]
            if through:
                problem = "%r: reached through the symbolic link %r" % (shown, through[0])
        if problem:
            problems.append(problem)
            continue
        seen.add(name)
        if member.issym():
            symlinks.add(name)
        passed.append((name, item))
    return passed, problems


def shown_problems(problems):
    """The first problems joined for one message, with a count of the rest."""
    shown = "; ".join(problems[:_SHOWN])
    if len(problems) > _SHOWN:
        shown += "; and %d more" % (len(problems) - _SHOWN)
    return shown


def check_members(members, source):
    """Return [(normalized name, member)] in archive order, or raise one RecoveryError naming every problem."""
    checked, problems = find_problems(members)
    if problems:
        raise RecoveryError(
            "%s contains %d unsafe member(s) that could write outside the state directory or create devices: %s."
            " Nothing was extracted." % (source, len(problems), shown_problems(problems)),
            fix="use an archive written by vaultops.recovery.swtpm_archive; this one was crafted or damaged.")
    return checked

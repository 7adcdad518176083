# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which paths an archive may hold, and which members may be restored into them.

Paths are stored relative to root, like ``tar -C / etc/vaulthalla``. Every
member must belong to exactly one of them; within its path the rules of
tar_safety apply: no absolute names, no ``..``, no duplicates, no hard links,
devices or FIFOs, no set-user/group-ID files, no symbolic link leaving the
path, nothing reached through a symbolic link. The archive side checks the
same rules, so a tree that could not be restored is refused when it is
archived, not on the day it is needed.
"""

import os

from ansible_collections.vaultops.recovery.plugins.module_utils.common import tar_safety
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.path_archive.path_listing import ListedMember

ROOT = tar_safety.ROOT


def relative_paths(root, paths):
    """Absolute paths -> their names relative to root, checked: below root, no overlap, no duplicates."""
    if not paths:
        raise RecoveryError("paths is empty; there is nothing to archive.",
                            fix="list the directories to archive, for example [/etc/vaulthalla, /var/lib/vaulthalla].")
    if not os.path.isabs(root):
        raise RecoveryError("root %s is not an absolute path." % root, fix="set root to an absolute path such as /.")
    root = os.path.normpath(root)
    rels = []
    for path in paths:
        if not os.path.isabs(path):
            raise RecoveryError("path %s is not absolute." % path,
                                fix="give absolute paths, for example /var/lib/vaulthalla.")
        norm = os.path.normpath(path)
        rel = os.path.relpath(norm, root)
        if rel == "." or rel.startswith("../") or rel == "..":
            raise RecoveryError("path %s is not below root %s." % (path, root),
                                fix="give paths inside root (members are stored relative to it, like tar -C %s)."
                                    % root)
        rels.append(rel)
    check_relative_paths(rels, "paths")
    return rels


def check_relative_paths(rels, what):
    """Relative, free of '..', and no path inside another (its members would be stored twice)."""
    seen = []
    for rel in rels:
        if tar_safety.normalize_name(rel) != rel or rel == ROOT:
            raise RecoveryError("%s holds %r, which is not a plain relative path." % (what, rel),
                                fix="use an archive written by vaultops.recovery.path_archive.")
        for other in seen:
            if rel == other or rel.startswith(other + "/") or other.startswith(rel + "/"):
                raise RecoveryError("%s lists %s and %s; one contains the other, so its files would be archived"
                                    " twice." % (what, "/" + other, "/" + rel),
                                    fix="list only the outer directory.")
        seen.append(rel)


def target_of(name, rels):
    """(rel path, name relative to it) of the path a normalized member name belongs to, or (None, None)."""
    for rel in rels:
        if name == rel:
            return rel, ROOT
        if name.startswith(rel + "/"):
            return rel, name[len(rel) + 1:]
    return None, None


def _locate(rels):
    def locate(name):
        rel, inner = target_of(name, rels)
        return (inner, "/" + rel) if rel is not None else (None, "the archived paths")
    return locate


def member_problems(entries, rels):
    """Every problem found, in archive order (an empty list when all members are safe); see tar_safety.find_problems."""
    _passed, problems = tar_safety.find_problems(
        entries, locate=_locate(rels), root_rule="an archived path must be a directory",
        name_of=lambda entry: entry["path"], member_of=ListedMember)
    return problems


_shown = tar_safety.shown_problems


def require_archivable(entries, rels, root):
    """Refuse, before publishing, a tree whose archive a restore would refuse."""
    problems = member_problems(entries, rels)
    if problems:
        raise RecoveryError(
            "%d entr%s under the paths cannot be restored safely, so no archive was published: %s." % (
                len(problems), "y" if len(problems) == 1 else "ies", _shown(problems)),
            fix="remove them, replace links that leave their directory by what they point to, or leave them out"
                " with exclude: (tar patterns relative to %s), then run again." % root)


def require_restorable(entries, rels, source):
    """Refuse, before anything is extracted, an archive with members that could escape or create devices."""
    problems = member_problems(entries, rels)
    if problems:
        raise RecoveryError(
            "%s contains %d unsafe member(s) that could write outside the archived paths or create devices: %s."
            " Nothing was changed." % (source, len(problems), _shown(problems)),
            fix="use an archive written by vaultops.recovery.path_archive; this one was crafted or damaged.")


def members_of(entries, rel):
    """{name relative to rel: entry} for the members below (and of) one archived path."""
    found = {}
    for entry in entries:
        name = tar_safety.normalize_name(entry["path"])
        if name is None:
            continue
        owner, inner = target_of(name, [rel])
        if owner is not None:
            found[inner] = entry
    return found

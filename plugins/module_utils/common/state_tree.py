# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Describe a directory tree (types, modes, owners, sizes, SHA-256) and compare two descriptions.

An entry is a dict: path (relative, '.' for the root), type (file, dir or
symlink), mode (octal string), uid, gid, user and group (names, None when the
ID has no name here), mtime, and size + sha256 for files or target for links.
Contents are only ever hashed, never returned.
"""

import grp
import os
import pwd
import stat

from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import sha256_file
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

ROOT = "."
_COMPARED = ("type", "mode", "size", "sha256", "target")


def _name_of(lookup, ident):
    try:
        return lookup(ident)[0]
    except KeyError:
        return None


def user_name(uid):
    return _name_of(pwd.getpwuid, uid)


def group_name(gid):
    return _name_of(grp.getgrgid, gid)


def kind_of(st):
    if stat.S_ISREG(st.st_mode):
        return "file"
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    if stat.S_ISLNK(st.st_mode):
        return "symlink"
    return None


def describe(rel, st, sha256=None, target=None):
    entry = dict(path=rel, type=kind_of(st), mode="%04o" % stat.S_IMODE(st.st_mode), uid=st.st_uid, gid=st.st_gid,
                 user=user_name(st.st_uid), group=group_name(st.st_gid), mtime=int(st.st_mtime))
    if entry["type"] == "file":
        entry["size"] = st.st_size
        entry["sha256"] = sha256
    elif entry["type"] == "symlink":
        entry["target"] = target
    return entry


def walk(root):
    """Yield (relative path, lstat, absolute path) for the root and everything below it, sorted, without
    following symbolic links. Sockets, FIFOs and devices are yielded too; callers decide (kind_of is None)."""
    yield ROOT, os.stat(root), root
    pending = [(ROOT, root)]
    while pending:
        rel_dir, abs_dir = pending.pop()
        with os.scandir(abs_dir) as listing:
            names = sorted(item.name for item in listing)
        subdirs = []
        for name in names:
            abs_path = os.path.join(abs_dir, name)
            rel = name if rel_dir == ROOT else rel_dir + "/" + name
            st = os.lstat(abs_path)
            yield rel, st, abs_path
            if stat.S_ISDIR(st.st_mode):
                subdirs.append((rel, abs_path))
        pending.extend(reversed(subdirs))


def inventory(root):
    """(entries, skipped): every file, directory and link below root, files hashed; other types skipped."""
    entries, skipped = [], []
    for rel, st, abs_path in walk(root):
        kind = kind_of(st)
        if kind is None:
            skipped.append(rel)
        elif kind == "file":
            entries.append(describe(rel, st, sha256=sha256_file(abs_path)[0]))
        elif kind == "symlink":
            entries.append(describe(rel, st, target=os.readlink(abs_path)))
        else:
            entries.append(describe(rel, st))
    return entries, skipped


def resolve_owner(entry, by_name=True):
    """(uid, gid) this host should give the entry: by user/group name when the name exists here, else numeric."""
    uid, gid = entry["uid"], entry["gid"]
    if by_name and entry.get("user"):
        try:
            uid = pwd.getpwnam(entry["user"]).pw_uid
        except KeyError:
            pass
    if by_name and entry.get("group"):
        try:
            gid = grp.getgrnam(entry["group"]).gr_gid
        except KeyError:
            pass
    return uid, gid


def differences(actual, expected, by_name=True, with_owner=True):
    """Human-readable differences between two entry lists (paths only, never contents)."""
    have = dict((entry["path"], entry) for entry in actual)
    want = dict((entry["path"], entry) for entry in expected)
    found = ["missing %s" % path for path in sorted(set(want) - set(have))]
    found += ["unexpected %s" % path for path in sorted(set(have) - set(want))]
    for path in sorted(set(have) & set(want)):
        a, e = have[path], want[path]
        fields = [key for key in _COMPARED if a.get(key) != e.get(key)]
        if with_owner and (a["uid"], a["gid"]) != resolve_owner(e, by_name):
            fields.append("owner")
        if fields:
            found.append("%s differs (%s)" % (path, ", ".join(fields)))
    return found


def require_state_dir(state_dir):
    """Fail clearly unless state_dir is a directory with at least one regular file somewhere inside."""
    hint = ("is swtpm in use on this host (it is only used without a hardware TPM)? If its state lives elsewhere,"
            " set state_dir to that directory (the --tpmstate dir= of the swtpm service).")
    if not os.path.exists(state_dir):
        raise RecoveryError("state_dir %s does not exist, so there is no swtpm state to archive." % state_dir, fix=hint)
    if not os.path.isdir(state_dir):
        raise RecoveryError("state_dir %s is not a directory." % state_dir, fix=hint)
    for _rel, st, _abs in walk(state_dir):
        if stat.S_ISREG(st.st_mode) and st.st_size > 0:
            return
    raise RecoveryError("state_dir %s holds no TPM state (no non-empty file)." % state_dir, fix=hint)

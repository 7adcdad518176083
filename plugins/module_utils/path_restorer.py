# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restore a path archive so that a failure leaves the host as it was.

1. verify everything (path_verifier) and check every target;
2. for each archived path, extract its members with GNU tar (numeric owners,
   modes, times) into a private directory beside the target, give that
   directory the archived path's own owner, mode and time, and compare the
   staged tree with the manifest (types, modes, owners, sizes, link targets,
   times);
3. check that the archive did not change while it was read;
4. swap each staged directory in (dir_swap: two renames, the current
   directory becomes the safety copy ``<path>.pre-restore-<UTC time>``); if
   a swap fails, the swaps already done are rolled back.

Nothing outside the staging directories changes before step 4.
"""

import datetime
import grp
import os
import pwd
import stat
import time

from ansible_collections.vaultops.recovery.plugins.module_utils import (
    dir_swap, path_listing, path_safety, path_tar, path_verifier, state_tree)
from ansible_collections.vaultops.recovery.plugins.module_utils.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.process import StageFailure, run_pipeline

ROOT = path_safety.ROOT
_SHOWN = 5


def utc_stamp():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


class Target(object):
    """One archived path and where it goes on this host."""

    def __init__(self, rel, path, members):
        self.rel = rel
        self.path = path
        self.members = members
        self.exists = os.path.lexists(path)
        self.staging = None
        self.safety = None
        _count, self.files, self.bytes = path_listing.summary(list(members.values()))

    def facts(self):
        return dict(path=self.path, existed=self.exists, members=len(self.members), files=self.files,
                    bytes=self.bytes, safety_copy=self.safety)


def _targets(manifest, entries, root):
    if not os.path.isabs(root):
        raise RecoveryError("root %s is not an absolute path." % root, fix="set root to an absolute path such as /.")
    if not os.path.isdir(root):
        raise RecoveryError("root %s is not an existing directory. Nothing was changed." % root,
                            fix="create it or set root to where the paths should be restored.")
    targets = []
    for rel in manifest["paths"]:
        path = os.path.join(root, rel)
        members = path_safety.members_of(entries, rel)
        if members.get(ROOT, {}).get("type") != "dir":
            raise RecoveryError("the archive holds no directory entry for %s itself. Nothing was changed." % rel,
                                fix="use an archive written by vaultops.recovery.path_archive.")
        if os.path.islink(path):
            raise RecoveryError("%s is a symbolic link; the restore replaces the directory itself. Nothing was"
                                " changed." % path, fix="restore with root: set so the paths are real directories,"
                                                        " or replace the link by a directory.")
        if os.path.lexists(path) and not os.path.isdir(path):
            raise RecoveryError("%s exists and is not a directory. Nothing was changed." % path,
                                fix="move it away, then run again.")
        dir_swap.parent_of(path)
        targets.append(Target(rel, path, members))
    return targets


def owner_mapping(manifest, by_name):
    """({archived uid: local uid}, {archived gid: local gid}) for the IDs whose owner name maps elsewhere here."""
    uids, gids = {}, {}
    if not by_name:
        return uids, gids
    owners = manifest.get("owners") or {}
    for table, names, lookup in ((uids, owners.get("users") or {}, pwd.getpwnam),
                                 (gids, owners.get("groups") or {}, grp.getgrnam)):
        for ident, name in names.items():
            try:
                local = lookup(name)[2]
            except KeyError:
                continue
            if local != int(ident):
                table[int(ident)] = local
    return uids, gids


def _stage_failure(exc, target):
    detail = path_tar.stderr_lines(exc.stderr) or str(exc)
    if "Cannot change ownership" in (exc.stderr or "") or "Operation not permitted" in (exc.stderr or ""):
        fix = "run the task as root (become: true); owners and modes must be restored exactly."
    elif "No space left on device" in (exc.stderr or ""):
        fix = "free space on the file system of %s and run again." % os.path.dirname(target.path)
    else:
        fix = "fix what %s reports and run again." % os.path.basename(exc.argv[0])
    return RecoveryError("extracting %s from the archive failed (%s). Nothing was changed." % (target.rel, detail),
                         fix=fix)


def _apply_root_entry(staging, entry, uids, gids):
    os.chown(staging, uids.get(entry["uid"], entry["uid"]), gids.get(entry["gid"], entry["gid"]))
    os.chmod(staging, int(entry["mode"], 8))
    ns = path_listing.mtime_ns(entry["mtime"])
    os.utime(staging, ns=(ns, ns))


def _remap_owners(staging, members, uids, gids):
    """lchown every staged entry whose archived owner maps to other IDs here; returns how many."""
    changed = 0
    if not uids and not gids:
        return changed
    for inner, entry in members.items():
        if inner == ROOT or (entry["uid"] not in uids and entry["gid"] not in gids):
            continue
        path = os.path.join(staging, inner)
        os.lchown(path, uids.get(entry["uid"], entry["uid"]), gids.get(entry["gid"], entry["gid"]))
        if entry["type"] != "symlink":
            os.chmod(path, int(entry["mode"], 8))  # chown may clear set-ID bits
            ns = path_listing.mtime_ns(entry["mtime"])
            os.utime(path, ns=(ns, ns))
        changed += 1
    return changed


def staged_differences(staging, members, uids, gids):
    """How the staged tree differs from the archived members (names and fields only)."""
    found = []
    seen = set()
    for inner, st, _abs in state_tree.walk(staging):
        seen.add(inner)
        entry = members.get(inner)
        if entry is None:
            found.append("unexpected %r" % inner)
            continue
        kind = state_tree.kind_of(st) or "other"
        fields = []
        if kind != entry["type"]:
            fields.append("type")
        else:
            if kind != "symlink" and "%04o" % stat.S_IMODE(st.st_mode) != entry["mode"]:
                fields.append("mode")
            if (st.st_uid, st.st_gid) != (uids.get(entry["uid"], entry["uid"]), gids.get(entry["gid"], entry["gid"])):
                fields.append("owner")
            if kind == "file" and st.st_size != entry["size"]:
                fields.append("size")
            if kind == "symlink" and os.readlink(_abs) != entry.get("target"):
                fields.append("link target")
            if kind != "symlink" and st.st_mtime_ns // 1000000000 != path_listing.mtime_ns(entry["mtime"]) // 1000000000:
                fields.append("mtime")
        if fields:
            found.append("%r differs (%s)" % (inner, ", ".join(fields)))
    found += ["missing %r" % inner for inner in sorted(set(members) - seen)]
    return found


def _stage(tools, manifest, archive_path, target, uids, gids):
    """Extract one target's members into a new staging directory beside it and prove the result."""
    target.staging = dir_swap.make_staging(target.path)
    xattrs = manifest.get("xattrs", False)
    argv = path_tar.extract_argv(tools.path("tar"), target.staging, target.rel, xattrs)
    stages = path_tar.reader_stages(tools, manifest["compressor"], archive_path, argv,
                                    tail=path_tar.extract_members(target.rel))
    try:
        run_pipeline(stages, env=path_tar.tar_env())
    except StageFailure as exc:
        raise _stage_failure(exc, target)
    _apply_root_entry(target.staging, target.members[ROOT], uids, gids)
    remapped = _remap_owners(target.staging, target.members, uids, gids)
    problems = staged_differences(target.staging, target.members, uids, gids)
    if problems:
        more = len(problems) - _SHOWN
        shown = "; ".join(problems[:_SHOWN]) + ("; and %d more" % more if more > 0 else "")
        raise RecoveryError("the extracted copy of %s does not match the archive: %s. Nothing was changed." % (
            target.rel, shown), fix="run as root (become: true) and check the file system under %s (space,"
                                    " mount options such as nosuid or noexec)." % os.path.dirname(target.path))
    return remapped


def _fingerprint(path):
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _swap_all(targets, stamp):
    """Swap every staged directory in; on a failure put back the ones already swapped."""
    swapped = []
    try:
        for target in targets:
            base = dir_swap.free_name("%s.pre-restore-%s" % (target.path, stamp))
            target.safety = dir_swap.swap_in(target.staging, target.path, base)
            target.staging = None
            swapped.append(target)
    except (RecoveryError, OSError) as exc:
        failed = targets[len(swapped)]
        undo_errors = []
        for done in reversed(swapped):
            discard = dir_swap.free_name("%s.failed-restore-%s" % (done.path, stamp))
            try:
                dir_swap.roll_back(done.path, done.safety, discard)
                done.safety = None
            except OSError as undo:
                undo_errors.append("%s (safety copy %s): %s" % (done.path, done.safety, undo.strerror))
        message = getattr(exc, "message", None) or str(exc)
        if undo_errors:
            raise RecoveryError(
                "restoring %s failed (%s), and putting back the paths already restored failed too: %s. The host is"
                " in a mixed state." % (failed.path, message, "; ".join(undo_errors)),
                fix="move each safety copy named above back to its path by hand (mv), then investigate.")
        raise RecoveryError(
            "restoring %s failed (%s); %s. The host is as it was." % (
                failed.path, message, "the %d path(s) already restored were put back" % len(swapped)
                if swapped else "nothing had been swapped yet"),
            fix="make sure every path is a plain directory on the same file system as its parent, not a mount"
                " point and not immutable (findmnt, lsattr -d), then run again.")
    return swapped


def _plan(targets, archive_path, stamp):
    parts = []
    for target in targets:
        text = "%s: %d member(s), %d file(s), %d bytes" % (
            target.path, len(target.members), target.files, target.bytes)
        if target.exists:
            text += ", current directory kept as %s" % dir_swap.free_name("%s.pre-restore-%s" % (target.path, stamp))
        else:
            text += " (does not exist yet)"
        parts.append(text)
    return "would verify %s (done) and restore %s" % (archive_path, "; ".join(parts))


def restore(tools, p, check_mode):
    clock = time.time()
    archive_path = p["path"]
    verified = path_verifier.verify(tools, archive_path, p.get("manifest"))
    manifest = verified["manifest"]
    root = os.path.normpath(p.get("root") or manifest["root"])
    targets = _targets(manifest, verified["entries"], root)
    uids, gids = owner_mapping(manifest, p.get("owners") == "by_name")
    stamp = utc_stamp()
    result = dict(path=archive_path, root=root)
    result.update(path_verifier.facts(verified))
    if check_mode:
        for target in targets:
            if target.exists:
                target.safety = dir_swap.free_name("%s.pre-restore-%s" % (target.path, stamp))
        result.update(changed=True, targets=[target.facts() for target in targets],
                      safety_copies=[target.safety for target in targets if target.safety],
                      plan=_plan(targets, archive_path, stamp))
        return result
    before = _fingerprint(archive_path)
    remapped = 0
    try:
        for target in targets:
            remapped += _stage(tools, manifest, archive_path, target, uids, gids)
        if _fingerprint(archive_path) != before:
            raise RecoveryError("%s changed while it was restored. Nothing was changed." % archive_path,
                                fix="make sure nothing rewrites the archive during the restore and run again.")
        _swap_all(targets, stamp)
    finally:
        for target in targets:
            if target.staging:
                dir_swap.remove_tree(target.staging)
                target.staging = None
    if not p.get("keep_safety_copy", True):
        for target in targets:
            dir_swap.remove_tree(target.safety)
            target.safety = None
    result.update(changed=True, targets=[target.facts() for target in targets],
                  safety_copies=[target.safety for target in targets if target.safety],
                  owners_remapped=dict(users=dict((str(k), v) for k, v in uids.items()),
                                       groups=dict((str(k), v) for k, v in gids.items()), entries=remapped),
                  duration=round(time.time() - clock, 3))
    return result

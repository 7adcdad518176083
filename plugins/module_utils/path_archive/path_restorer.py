# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restore a path archive so that a failure leaves the host as it was, reading the archive once.

1. check what needs no read (path_verifier.precheck: manifest, size, the
   members it lists are safe) and every target;
2. one read of the archive: Python hashes every chunk while feeding it to
   ``zstd -d | tar -x -vv``; that one tar extracts each archived path (numeric
   owners, modes, times) into a private directory beside its target
   (``--directory`` per path; members of no archived path are skipped), and
   its listing is the ``tar -tv`` listing of the same bytes;
3. only then judge the read: the SHA-256 (corruption) first, then the
   decompressor's and tar's exit status, then the listing (safe, exactly
   the manifest's members), then each staged tree against the manifest
   (types, modes, owners, sizes, link targets, times), after giving its top
   directory the archived owner, mode and time; and that the archive did
   not change while it was read;
4. swap each staged directory in (dir_swap: two renames, the current
   directory becomes the safety copy ``<path>.pre-restore-<UTC time>``); if
   a swap fails, the swaps already done are rolled back.

Nothing outside the private staging directories changes before step 4, and
any failure removes them. Until the SHA-256 is checked the bytes are
untrusted: tar (no --absolute-names) writes below the staging directories
only, strips leading '/', skips names with '..' and creates dangerous
symbolic links last as placeholders, so even a crafted archive beside an
honest manifest cannot write elsewhere before it is rejected.
"""

import datetime
import grp
import os
import pwd
import stat
import time

from ansible_collections.vaultops.recovery.plugins.module_utils.common import artifact_manifest, dir_swap, fs_errors, state_tree
from ansible_collections.vaultops.recovery.plugins.module_utils.path_archive import (
    path_listing, path_manifest, path_safety, path_tar, path_verifier)
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import DigestingReader
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import StageFailure, run_pipeline

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
        self.scratch = None  # private directory beside path; tar extracts rel below it
        self.staging = None  # the staged tree, <scratch>/<rel>, until it is swapped in
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


def _stage_failure(exc, targets, archive_path):
    detail = path_tar.stderr_lines(exc.stderr) or str(exc)
    stderr = exc.stderr or ""
    if "Not found in archive" in stderr:
        return RecoveryError("%s does not match its manifest (%s). Nothing was changed." % (archive_path, detail),
                             fix="use an archive and manifest from the same backup copy.")
    full = fs_errors.from_stderr(
        stderr, ", ".join(sorted(set(os.path.dirname(target.path) for target in targets))),
        "extracting %s from the archive failed" % ", ".join(target.rel for target in targets),
        "The partly extracted copies were removed. Nothing was changed.")
    if full is not None:
        return full
    if "Cannot change ownership" in stderr or "Operation not permitted" in stderr:
        fix = "run the task as root (become: true); owners and modes must be restored exactly."
    else:
        fix = "fix what %s reports and run again." % os.path.basename(exc.argv[0])
    return RecoveryError("extracting %s from the archive failed (%s). Nothing was changed." % (
        ", ".join(target.rel for target in targets), detail), fix=fix)


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


def _extract_all(tools, checked, archive_path, targets):
    """One read: hash the archive while one tar extracts every target into its scratch directory.

    Returns the verified facts (path_verifier.facts input). The digest is
    judged before tar's exit status: a corrupt archive explains any failure.
    """
    manifest = checked["manifest"]
    for target in targets:
        target.scratch = dir_swap.make_staging(target.path)
        target.staging = os.path.join(target.scratch, target.rel)
        # Made here, so tar's -vv output holds member lines only (no "Creating directory:").
        os.makedirs(os.path.dirname(target.staging), mode=0o700, exist_ok=True)
    reader = DigestingReader(archive_path)
    stages = path_tar.reader_stages(
        tools, manifest["compressor"], None, path_tar.extract_argv(tools.path("tar"), manifest.get("xattrs", False)),
        tail=path_tar.extract_members([(target.scratch, target.rel) for target in targets]))
    failure = None
    try:
        output = run_pipeline(stages, env=path_tar.tar_env(), feed=reader)
    except StageFailure as exc:
        failure = exc
    artifact_manifest.check_digest(archive_path, reader.hexdigest(), manifest)
    if failure is not None:
        if len(stages) > 1 and failure.argv is stages[0]:
            raise path_verifier.unreadable(archive_path, failure)
        raise _stage_failure(failure, targets, archive_path)
    entries = path_verifier.parse(archive_path, output)
    return dict(path_verifier.accept_listing(checked, archive_path, entries), sha256=reader.hexdigest())


def _prove_staged(target, uids, gids):
    """Give the staged tree its archived top directory and owners, then compare it with the manifest."""
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
    if check_mode:
        checked = path_verifier.verify(tools, archive_path, p.get("manifest"))
    else:
        checked = path_verifier.precheck(tools, archive_path, p.get("manifest"))
    manifest = checked["manifest"]
    root = os.path.normpath(p.get("root") or manifest["root"])
    targets = _targets(manifest, path_manifest.manifest_entries(manifest), root)
    uids, gids = owner_mapping(manifest, p.get("owners") == "by_name")
    stamp = utc_stamp()
    result = dict(path=archive_path, root=root)
    if check_mode:
        result.update(path_verifier.facts(checked))
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
        verified = _extract_all(tools, checked, archive_path, targets)
        for target in targets:
            remapped += _prove_staged(target, uids, gids)
        if _fingerprint(archive_path) != before:
            raise RecoveryError("%s changed while it was restored. Nothing was changed." % archive_path,
                                fix="make sure nothing rewrites the archive during the restore and run again.")
        _swap_all(targets, stamp)
    finally:
        for target in targets:
            dir_swap.remove_tree(target.scratch)  # after a swap only the empty parents of the staged tree are left
            target.scratch = target.staging = None
    if not p.get("keep_safety_copy", True):
        for target in targets:
            dir_swap.remove_tree(target.safety)
            target.safety = None
    result.update(path_verifier.facts(verified))
    result.update(changed=True, targets=[target.facts() for target in targets],
                  safety_copies=[target.safety for target in targets if target.safety],
                  owners_remapped=dict(users=dict((str(k), v) for k, v in uids.items()),
                                       groups=dict((str(k), v) for k, v in gids.items()), entries=remapped),
                  duration=round(time.time() - clock, 3))
    return result

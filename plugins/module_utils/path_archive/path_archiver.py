# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Archive a set of directories: GNU tar | zstd streamed into an atomic, checksummed 0600 file.

Every check that can fail runs before a byte is written. The archive bytes
go from the compressor's stdout straight into AtomicFile, which hashes them
on the way (no second read). tar writes its own long listing of what it
archived to a private temporary file (--index-file), which becomes the
manifest's member list. tar's exit status 1 means a file changed while it
was read: the archive would not be one point in time, so it is discarded.
Check mode runs the same tar command against /dev/null, which GNU tar
recognises and reads no file data for, so it lists exactly what would be
captured at the cost of a directory walk.
"""

import os
import socket
import tempfile
import time

from ansible_collections.vaultops.recovery.plugins.module_utils.common import fs_errors, state_tree
from ansible_collections.vaultops.recovery.plugins.module_utils.path_archive import path_listing, path_manifest, path_safety, path_tar
from ansible_collections.vaultops.recovery.plugins.module_utils.common.artifact_manifest import manifest_path_for
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import (
    AtomicFile, check_writable_directory, stale_partials, sweep_stale_partials, write_json_atomic)
from ansible_collections.vaultops.recovery.plugins.module_utils.common.artifact_name import is_inside, render_name, utc_now
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import StageFailure, run_pipeline

DEFAULT_PATTERN = "{prefix}-config-state-%Y%m%d-%H%M%S"
STOP_SERVICES = ("stop the services that write these paths first (for Vaulthalla: systemctl stop vaulthalla.service"
                 " vaulthalla-web.service vaulthalla-cli.socket) or run the backup in a maintenance window, then"
                 " run again.")
_VAULTHALLA_STATE_SUFFIX = "lib/vaulthalla"


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def short_hostname():
    return socket.gethostname().split(".")[0] or "localhost"


def archive_name(pattern, prefix, compressor, moment):
    """Render name_pattern: {prefix} (and {hostname}) literally, then strftime codes in UTC."""
    return render_name(pattern or DEFAULT_PATTERN + path_tar.EXTENSIONS[compressor],
                       {"prefix": prefix, "hostname": prefix}, moment)


def check_sources(root, rels):
    """Each archived path must exist now and be a real directory; nothing has been written yet."""
    if not os.path.isdir(root):
        raise RecoveryError("root %s is not an existing directory. Nothing was written." % root,
                            fix="set root to the directory the paths are stored relative to (usually /).")
    for rel in rels:
        path = os.path.join(root, rel)
        if not os.path.lexists(path):
            raise RecoveryError("path %s does not exist. Nothing was written." % path,
                                fix="check paths (is the service installed on this host, with its state in the"
                                    " default place?) or remove the path from paths.")
        if os.path.islink(path):
            raise RecoveryError("path %s is a symbolic link; tar would store the link, not the directory."
                                " Nothing was written." % path,
                                fix="list the directory it points to (%s) in paths." % os.path.realpath(path))
        if not os.path.isdir(path):
            raise RecoveryError("path %s is not a directory. Nothing was written." % path,
                                fix="list the directory that holds it; path_archive archives whole directories.")


def build_request(p, hostname=None):
    """Validate the options that shape an archive; returns a plain dict used by archive() and the manifest."""
    compressor = p["compressor"]
    root = os.path.normpath(p.get("root") or "/")
    rels = path_safety.relative_paths(root, p.get("paths") or [])
    threads = p.get("threads") or 0
    if threads < 0:
        raise RecoveryError("threads must be 0 (all cores) or a positive number, not %d." % threads,
                            fix="set threads: 0.")
    exclude = list(p.get("exclude") or [])
    if any(not pattern for pattern in exclude):
        raise RecoveryError("exclude holds an empty pattern.", fix="remove the empty entry from exclude.")
    started = utc_now()
    prefix = p.get("prefix") or hostname or short_hostname()
    name = archive_name(p.get("name_pattern"), prefix, compressor, started)
    dest_dir = p["dest_dir"]
    path = os.path.join(dest_dir, name)
    level = path_tar.level_for(compressor, p.get("compress_level"))
    return dict(root=root, rel_paths=rels, compressor=compressor, level=level,
                threads=threads, exclude=exclude, one_file_system=bool(p.get("one_file_system")),
                xattrs=bool(p.get("xattrs")), dest_dir=dest_dir, name=name, path=path,
                manifest=manifest_path_for(path), started=started, hostname=hostname or short_hostname())


def precheck(request):
    """Everything that can be refused without writing: sources, destination, names."""
    check_sources(request["root"], request["rel_paths"])
    check_writable_directory(request["dest_dir"])
    for rel in request["rel_paths"]:
        source = os.path.join(request["root"], rel)
        if is_inside(request["dest_dir"], source):
            raise RecoveryError("dest_dir %s is inside %s; the archive would contain itself. Nothing was written." % (
                request["dest_dir"], source), fix="write the archive to a directory outside the archived paths.")
    for existing in (request["path"], request["manifest"]):
        if os.path.lexists(existing):
            raise RecoveryError("%s already exists; it was left untouched." % existing,
                                fix="choose another name (name_pattern) or move the existing file away.")


def _tar_argv(tools, request, archive, index_file):
    return path_tar.create_argv(tools.path("tar"), request["root"], request["rel_paths"], index_file, archive=archive,
                                exclude=request["exclude"], one_file_system=request["one_file_system"],
                                xattrs=request["xattrs"])


def _failure(exc, request, written):
    name = os.path.basename(exc.argv[0])
    detail = path_tar.stderr_lines(exc.stderr)
    if exc.killed_by == "SIGPIPE" and name == "tar":
        return RecoveryError("the compressor stopped reading after %d bytes (tar got SIGPIPE); nothing was"
                             " published." % written,
                             fix="check that %s works (for example: echo x | %s) and run again." % (
                                 request["compressor"], request["compressor"]))
    if exc.killed_by:
        return RecoveryError("%s was killed by %s after %d bytes; nothing was published." % (
            name, exc.killed_by, written), fix="find out what stopped it (OOM killer, timeout, operator), then run again.")
    if name == "tar" and path_tar.changed_while_read(exc.stderr):
        return RecoveryError("files changed while they were archived (%s), so the archive would not be one"
                             " consistent point in time; nothing was published." % detail, fix=STOP_SERVICES)
    full = fs_errors.from_stderr(exc.stderr, request["dest_dir"], "%s failed while archiving" % name,
                                 "Nothing was published.")
    if full is not None:
        return full
    if name == "tar" and "Permission denied" in (exc.stderr or ""):
        return RecoveryError("tar could not read everything (%s); nothing was published." % detail,
                             fix="run the task as root (become: true).")
    if name == "tar" and "No such file or directory" in (exc.stderr or ""):
        return RecoveryError("a file or directory vanished while it was archived (%s); nothing was published."
                             % detail, fix=STOP_SERVICES)
    return RecoveryError("%s failed with exit status %s (%s); nothing was published." % (name, exc.returncode, detail),
                         fix="fix what %s reports and run again." % name)


def _listing(tools, request, archive, sink):
    """Run tar (into sink, or to /dev/null) and return the parsed listing of what it archived."""
    fd, index_file = tempfile.mkstemp(prefix=".path_archive-", suffix=".listing")
    os.close(fd)
    try:
        stages = [_tar_argv(tools, request, archive, index_file)]
        if sink is not None:
            compress = path_tar.compress_argv(tools, request["compressor"], request["level"], request["threads"])
            if compress:
                stages.append(compress)
        try:
            run_pipeline(stages, env=path_tar.tar_env(), sink=sink)
        except StageFailure as exc:
            raise _failure(exc, request, getattr(sink, "size", 0))
        with open(index_file, "rb") as handle:
            text = handle.read().decode("utf-8", "surrogateescape")
    finally:
        os.unlink(index_file)
    return path_listing.parse_listing(text, "the archive being written")


def _warnings(request, blobs):
    if not blobs and any(rel.endswith(_VAULTHALLA_STATE_SUFFIX) for rel in request["rel_paths"]):
        return ["no .sealed_*.blob directory was found under %s: Vaulthalla's TPM-sealed keys (psql, master,"
                " vault_master) are not in this archive. A database restored without them starts with new keys and"
                " cannot decrypt any vault." % ", ".join("/" + rel for rel in request["rel_paths"])]
    return []


def _owner_names(entries):
    return path_manifest.owner_names(entries, state_tree.user_name, state_tree.group_name)


def archive(tools, p, check_mode):
    clock = time.time()
    request = build_request(p)
    precheck(request)
    tools.path("tar")
    if request["compressor"] != "none":
        tools.path(request["compressor"])
    result = dict(path=request["path"], manifest=request["manifest"], root=request["root"],
                  paths=[os.path.join(request["root"], rel) for rel in request["rel_paths"]],
                  compressor=request["compressor"])
    if check_mode:
        entries = _listing(tools, request, os.devnull, None)
        path_safety.require_archivable(entries, request["rel_paths"], request["root"])
        count, files, total = path_listing.summary(entries)
        blobs = path_manifest.sealed_blobs(entries)
        result.update(changed=True, member_count=count, file_count=files, total_bytes=total, sealed_blobs=blobs,
                      warnings=_warnings(request, blobs), removed_stale_partials=stale_partials(request["dest_dir"]),
                      plan="would archive %d member(s) (%d file(s), %d bytes) from %s into %s (mode 0600) with its"
                           " manifest" % (count, files, total, ", ".join(result["paths"]), request["path"]))
        return result
    # Killed runs' partial archives hold the sealed keys too: they go before this run writes its own.
    result.update(removed_stale_partials=sweep_stale_partials(request["dest_dir"]))
    with AtomicFile(request["path"], mode=0o600) as out:
        entries = _listing(tools, request, "-", out)
        path_safety.require_archivable(entries, request["rel_paths"], request["root"])
        duration = round(time.time() - clock, 3)
        manifest = path_manifest.build(request["name"], request, entries, out.size, out.sha256, request["hostname"],
                                       _owner_names(entries), iso(request["started"]), iso(utc_now()), duration)
        out.commit()
    try:
        write_json_atomic(request["manifest"], manifest, mode=0o600)
    except BaseException:
        os.unlink(request["path"])  # an archive without its manifest is incomplete: do not leave one behind
        raise
    result.update(changed=True, sha256=manifest["sha256"], size=manifest["size"],
                  member_count=manifest["member_count"], file_count=manifest["file_count"],
                  total_bytes=manifest["total_bytes"], sealed_blobs=manifest["sealed_blobs"],
                  warnings=_warnings(request, manifest["sealed_blobs"]), duration=round(time.time() - clock, 3))
    return result

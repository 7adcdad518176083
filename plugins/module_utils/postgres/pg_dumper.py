# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_dump into an atomically published, checksummed archive plus manifest.

Custom format is streamed from pg_dump's stdout (optionally through zstd)
into an AtomicFile, so SHA-256 is computed on the way and no second read is
needed. Directory format lets pg_dump write the files itself (it needs a
directory path for --jobs) and hashes them afterwards from the page cache.
"""

import os
import time

from ansible_collections.vaultops.recovery.plugins.module_utils.common.artifact_manifest import manifest_path_for
from ansible_collections.vaultops.recovery.plugins.module_utils.common.artifact_name import render_name, utc_now
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import (
    AtomicFile, PartialDir, check_writable_directory, fsync_directory, sha256_tree, sweep_stale_partials,
    write_json_atomic)
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.fs_errors import from_stderr
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.pg_archive import (
    MANIFEST_VERSION, list_toc, tree_digest)
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.pg_connection import check_access
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import StageFailure, run_pipeline

DEFAULT_PATTERNS = {
    "custom": "{prefix}-backup-%Y%m%d-%H%M%S.dump",
    "directory": "{prefix}-backup-%Y%m%d-%H%M%S.dir",
}


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def archive_name(pattern, prefix, fmt, compressor, moment):
    """Render name_pattern: {prefix} is replaced literally, then strftime codes."""
    name = render_name(pattern or DEFAULT_PATTERNS[fmt], {"prefix": prefix}, moment)
    if compressor == "zstd" and not name.endswith(".zst"):
        name += ".zst"
    return name


def default_prefix(database):
    return database.replace("/", "_") or "database"


class DumpRequest(object):
    def __init__(self, database, dest_dir, name_pattern=None, prefix=None, fmt="custom", compressor="gzip",
                 compress_level=None, jobs=1, zstd_threads=0):
        if compressor == "zstd" and fmt != "custom":
            raise RecoveryError("compressor zstd works with format custom only.",
                                fix="use format: custom with compressor: zstd, or compressor: gzip for directory format.")
        if jobs > 1 and fmt != "directory":
            raise RecoveryError("pg_dump runs parallel jobs only for the directory format.",
                                fix="set format: directory, or jobs: 1 (jobs still apply to restore).")
        self.database = database
        self.dest_dir = dest_dir
        self.fmt = fmt
        self.compressor = compressor
        self.compress_level = compress_level
        self.jobs = jobs
        self.zstd_threads = zstd_threads
        self.started = utc_now()
        self.name = archive_name(name_pattern, prefix or default_prefix(database), fmt, compressor, self.started)
        self.path = os.path.join(dest_dir, self.name)

    def pg_dump_compression(self):
        if self.compressor == "gzip":
            return 6 if self.compress_level is None else self.compress_level
        return 0  # zstd compresses outside pg_dump; none means none

    def zstd_argv(self, tools):
        level = 3 if self.compress_level is None else self.compress_level
        return [tools.path("zstd"), "-q", "-c", "-T%d" % self.zstd_threads, "-%d" % level]


def _fail_from_stage(exc, conn, request, written):
    if exc.killed_by:
        return RecoveryError(
            "%s was killed by %s after %d bytes; the partial archive was removed and nothing was published." % (
                os.path.basename(exc.argv[0]), exc.killed_by, written),
            fix="find out what stopped it (OOM killer, timeout, operator), then run the dump again.")
    return (from_stderr(exc.stderr, request.dest_dir, "%s failed while dumping" % os.path.basename(exc.argv[0]),
                        "Nothing was published and the partial archive was removed.")
            or conn.classify(exc.stderr, request.database, action="dump"))


def precheck(conn, request):
    """Everything a dump can check without writing: used by check mode too."""
    check_writable_directory(request.dest_dir)
    # Both names: a lone manifest would otherwise end up describing a new archive it was not written for.
    for path in (request.path, manifest_path_for(request.path)):
        if os.path.lexists(path):
            raise RecoveryError("%s already exists; it was left untouched and nothing was written." % path,
                                fix="choose another name (name_pattern) or move the existing file away.")
    return conn.probe(request.database)


def dump(conn, tools, request):
    """Dump, publish archive and manifest; returns (manifest, manifest path, stale partials removed)."""
    server = precheck(conn, request)
    removed = sweep_stale_partials(request.dest_dir)
    started_clock = time.time()
    base_argv = [tools.path("pg_dump"), "--no-password", "--format=%s" % request.fmt,
                 "--compress=%d" % request.pg_dump_compression()]
    env = conn.env(request.database)
    if request.fmt == "custom":
        stages = [base_argv]
        if request.compressor == "zstd":
            stages.append(request.zstd_argv(tools))
        with AtomicFile(request.path) as out:
            try:
                run_pipeline(stages, env=env, run_as=conn.run_as, sink=out, pass_fds=conn.pass_fds)
            except StageFailure as exc:
                raise _fail_from_stage(exc, conn, request, out.size)
            manifest = _manifest(conn, tools, request, server, started_clock, out.size, out.sha256,
                                 list_toc(out.temp_path, {"compressor": request.compressor}, tools))
            out.commit()
    else:
        # pg_dump writes the directory format itself, so with os_user that user must reach dest_dir.
        check_access(conn, request.dest_dir, "-x", "write a directory-format dump into dest_dir")
        with PartialDir(request.dest_dir, request.name) as workdir:
            target = os.path.join(workdir.path, "archive")
            if conn.run_as:
                os.chown(workdir.path, conn.run_as.uid, conn.run_as.gid)
            argv = base_argv + ["--jobs=%d" % request.jobs, "--file=%s" % target]
            try:
                run_pipeline([argv], env=env, run_as=conn.run_as, pass_fds=conn.pass_fds)
            except StageFailure as exc:
                raise _fail_from_stage(exc, conn, request, 0)
            if conn.run_as:
                for dirpath, _dirs, filenames in os.walk(target):
                    os.chown(dirpath, os.getuid(), os.getgid())
                    for filename in filenames:
                        os.chown(os.path.join(dirpath, filename), os.getuid(), os.getgid())
            files = sha256_tree(target)
            manifest = _manifest(conn, tools, request, server, started_clock,
                                 sum(item["size"] for item in files.values()), tree_digest(files),
                                 list_toc(target, {"compressor": "none"}, tools), files=files)
            os.chmod(target, 0o700)
            if os.path.lexists(request.path):
                raise RecoveryError("%s appeared while dumping; it was left untouched." % request.path,
                                    fix="choose another name (name_pattern).")
            os.rename(target, request.path)
            fsync_directory(request.dest_dir)
    manifest_path = manifest_path_for(request.path)
    write_json_atomic(manifest_path, manifest)
    return manifest, manifest_path, removed


def _manifest(conn, tools, request, server, started_clock, size, sha256, toc, files=None):
    finished = utc_now()
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "tool": "vaultops.recovery.pg_backup",
        "archive": request.name,
        "format": request.fmt,
        "compressor": request.compressor,
        "compress_level": request.compress_level,
        "database": request.database,
        "source": {"host": conn.host_label, "port": conn.params["port"]},
        "server_version": server["server_version"],
        "server_version_num": server["server_version_num"],
        "database_size": server["database_size"],
        "pg_dump_version": tools.version_text("pg_dump"),
        "size": size,
        "sha256": sha256,
        "object_count": len(toc),
        "started_at": iso(request.started),
        "finished_at": iso(finished),
        "duration_seconds": round(time.time() - started_clock, 3),
    }
    if files is not None:
        manifest["files"] = files
    return manifest

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_restore of a verified archive, in place or redirected.

Verification (checksum, manifest, table of contents, tool version) happens
before the target is contacted for anything but read-only probes.
"""

import os
import re
import shutil
import tempfile
import time

from ansible_collections.vaultops.recovery.plugins.module_utils.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.pg_archive import archive_reader_stages, verify_archive
from ansible_collections.vaultops.recovery.plugins.module_utils.pg_connection import check_access, conninfo_dbname
from ansible_collections.vaultops.recovery.plugins.module_utils.process import StageFailure, run_pipeline

_SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


def pgoptions(settings):
    """Session settings for pg_restore's connections, as PGOPTIONS (-c name=value)."""
    parts = []
    for name in sorted(settings or {}):
        if not _SETTING_NAME.match(name):
            raise RecoveryError("restore_session_settings has an invalid setting name %r." % name,
                                fix="use PostgreSQL setting names such as maintenance_work_mem.")
        value = str(settings[name]).replace("\\", "\\\\").replace(" ", "\\ ")
        parts.append("-c %s=%s" % (name, value))
    return " ".join(parts)


class RestoreRequest(object):
    def __init__(self, path, database=None, manifest_path=None, jobs=1, clean=True, create_database=False,
                 single_transaction=False, no_owner=False, exit_on_error=True, session_settings=None,
                 maintenance_db="postgres", owner=None, verify_checksum=True):
        if single_transaction and jobs > 1:
            raise RecoveryError("single_transaction cannot be combined with jobs > 1 (pg_restore refuses it).",
                                fix="choose one: jobs: 1 with single_transaction: true, or parallel jobs.")
        self.path = path.rstrip("/") if len(path) > 1 else path
        self.database = database
        self.manifest_path = manifest_path
        self.jobs = jobs
        self.clean = clean
        self.create_database = create_database
        self.single_transaction = single_transaction
        self.no_owner = no_owner
        self.exit_on_error = exit_on_error
        self.session_settings = session_settings or {}
        self.maintenance_db = maintenance_db
        self.owner = owner
        self.verify_checksum = verify_checksum


def plan(conn, tools, request):
    """Verify the archive and probe the target; returns what restore would do."""
    verified = verify_archive(request.path, tools, request.manifest_path, checksum=request.verify_checksum)
    database = request.database or verified["manifest"]["database"]
    exists = True
    try:
        conn.probe(database)
    except RecoveryError as exc:
        if "does not exist" not in str(exc) or not request.create_database:
            raise
        exists = False
        conn.probe(request.maintenance_db)  # can we create it?
    return verified, database, exists


def restore(conn, tools, request):
    verified, database, exists = plan(conn, tools, request)
    # The dump's ALTER ... OWNER TO statements need the owner role, whether or not the database exists.
    created_role = bool(request.owner) and not conn.role_exists(request.owner, request.maintenance_db)
    if created_role:
        conn.create_role(request.owner, request.maintenance_db)
    if not exists:
        conn.create_database(database, request.maintenance_db, request.owner)
    started = time.time()
    argv = [tools.path("pg_restore"), "--no-password", "--dbname=%s" % conninfo_dbname(database),
            "--jobs=%d" % request.jobs]
    if request.clean:
        argv += ["--clean", "--if-exists"]
    if request.single_transaction:
        argv.append("--single-transaction")
    if request.no_owner:
        argv.append("--no-owner")
    if request.exit_on_error:
        argv.append("--exit-on-error")
    env = conn.env(database, {"PGOPTIONS": pgoptions(request.session_settings)})
    manifest = verified["manifest"]
    pre = archive_reader_stages(request.path, manifest, tools)
    scratch = None
    stdin_path = None
    try:
        if pre and request.jobs > 1:
            # Parallel workers reopen the archive by name, so a compressed stream is unpacked first.
            scratch_parent = os.path.dirname(os.path.abspath(request.path))
            check_access(conn, scratch_parent, "-x", "unpack the zstd archive beside it for a parallel restore")
            scratch = tempfile.mkdtemp(prefix="vaultops-restore-", dir=scratch_parent)
            plain = os.path.join(scratch, "archive.dump")
            with open(plain, "wb") as handle:
                run_pipeline(pre, sink=handle)
            if conn.run_as:
                os.chown(scratch, conn.run_as.uid, conn.run_as.gid)
                os.chown(plain, conn.run_as.uid, conn.run_as.gid)
            stages = [argv + [plain]]
        elif pre or (conn.run_as and manifest["format"] == "custom" and request.jobs == 1):
            # We open the archive and hand it over on stdin (through zstd when compressed),
            # so with os_user the OS user needs no access to the backup directory.
            stdin_path = request.path
            stages = [[tools.path("zstd"), "-q", "-d", "-c"], argv] if pre else [argv]
        else:
            check_access(conn, request.path, "-r", "read the archive")
            stages = [argv + [request.path]]
        try:
            run_pipeline(stages, env=env, run_as=conn.run_as, stdin_path=stdin_path)
        except StageFailure as exc:
            if os.path.basename(exc.argv[0]) != "pg_restore":
                raise RecoveryError("%s failed while feeding the restore: %s" % (
                    os.path.basename(exc.argv[0]), exc.stderr.strip()), fix="check the archive with state=verify.")
            raise conn.classify(exc.stderr, database, action="restore")
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return {"database": database, "created_database": not exists, "created_owner_role": created_role,
            "verified": verified,
            "duration_seconds": round(time.time() - started, 3)}

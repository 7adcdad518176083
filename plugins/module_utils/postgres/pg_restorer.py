# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_restore of a verified archive, in place or redirected, all or nothing.

Verification (checksum, manifest, table of contents, tool version, the roles
the archive needs, restore_session_settings) happens before anything is
created or changed. A failure drops what the run created, and the target is
restored in one transaction or into a scratch database that replaces it only
when complete (see pg_restore_rules.choose_mechanism and docs/pg_backup.md).
"""

import json
import os
import re
import shutil
import tempfile
import time

from ansible_collections.vaultops.recovery.plugins.module_utils.postgres import pg_db_swap
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres import pg_restore_rules as rules
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.pg_archive import archive_reader_stages, verify_archive
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.pg_connection import check_access, conninfo_dbname
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import StageFailure, run, run_pipeline

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
                 single_transaction=None, no_owner=False, exit_on_error=True, session_settings=None,
                 maintenance_db="postgres", owner=None, verify_checksum=True, replace="objects"):
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
        self.replace = replace


def classify_failure(conn, stderr, database):
    """What pg_restore reported, named as such; connection problems go to the connection rules."""
    known = rules.classify_restore_failure(stderr)
    if known:
        return RecoveryError("Could not restore into %s: %s" % (conn.where(database), known[0]), fix=known[1],
                             stderr=stderr.strip())
    return conn.classify(stderr, database, action="restore")


def check_session_settings(conn, settings, database):
    """Let the server judge restore_session_settings on a throwaway session, before anything is created."""
    if not settings:
        return
    argv = [conn.find_binary("psql"), "-X", "-A", "-t", "-q", "--no-password", "-c", "SELECT 1"]
    rc, _out, err = run(argv, env=conn.env(database, {"PGOPTIONS": pgoptions(settings)}), run_as=conn.run_as,
                        pass_fds=conn.pass_fds)
    if rc != 0:
        raise classify_failure(conn, err, database)


def archive_roles(request, manifest, tools):
    """Roles the restore's SQL names (owners unless no_owner, grantees), from the archive's schema section.

    The custom and directory formats keep every statement in the table of contents at the start,
    so this reads the TOC, not the data.
    """
    pre = archive_reader_stages(request.path, manifest, tools)
    argv = [tools.path("pg_restore"), "--schema-only", "--file=-"] + (["--no-owner"] if request.no_owner else [])
    if not pre:
        argv.append(request.path)
    try:
        out = run_pipeline(pre + [argv], env=dict(os.environ, LC_MESSAGES="C"), upstream_may_see_closed_pipe=True)
    except StageFailure as exc:
        raise RecoveryError("the schema of %s cannot be read: %s" % (request.path, exc.stderr.strip()),
                            fix="use an intact copy of the backup; this one must not be restored.")
    return rules.roles_in_sql(out.decode("utf-8", "replace"))


def existing_roles(conn, maintenance_db):
    rows = conn.psql("SELECT json_agg(rolname) FROM pg_roles;\n", maintenance_db, action="connect")
    return set(json.loads(rows[0]))


def plan(conn, tools, request):
    """Verify the archive and everything the target needs; changes nothing. Returns what restore would do."""
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
    mechanism = rules.choose_mechanism(database, exists, request.replace, request.jobs, request.single_transaction)
    if mechanism == "swap" and database == request.maintenance_db:
        raise RecoveryError("replace: database cannot replace %s while it is also maintenance_db, the database the"
                            " swap connects to." % database, fix="set maintenance_db to another database (postgres).")
    check_session_settings(conn, request.session_settings, database if exists else request.maintenance_db)
    roles = existing_roles(conn, request.maintenance_db)
    new_role = bool(request.owner) and request.owner not in roles
    missing = rules.missing_roles(archive_roles(request, verified["manifest"], tools), roles, request.owner)
    if missing:
        raise rules.missing_roles_error(missing, conn.where())
    if mechanism == "swap":
        count, applications = pg_db_swap.other_sessions(conn, database, request.maintenance_db)
        if count:
            raise rules.sessions_error(database, count, applications)
    return {"verified": verified, "database": database, "exists": exists, "mechanism": mechanism,
            "new_role": new_role, "reader": archive_reader(conn, request, verified["manifest"], tools)}


def archive_reader(conn, request, manifest, tools):
    """How pg_restore gets the archive, with os_user's access to it proven before anything changes."""
    compressed = bool(archive_reader_stages(request.path, manifest, tools))
    if compressed and request.jobs > 1:
        # Parallel workers reopen the archive by name, so a compressed stream is unpacked beside it first.
        check_access(conn, os.path.dirname(os.path.abspath(request.path)), "-x",
                     "unpack the zstd archive beside it for a parallel restore")
        return "unpack"
    if compressed or (conn.run_as and manifest["format"] == "custom" and request.jobs == 1):
        # We open the archive and hand it over on stdin (through zstd when compressed),
        # so with os_user the OS user needs no access to the backup directory.
        return "stdin"
    check_access(conn, request.path, "-r", "read the archive")
    return "path"


class _Created(object):
    """What this run created, dropped again (newest first) when the restore fails."""

    def __init__(self, conn, maintenance_db):
        self.conn = conn
        self.maintenance_db = maintenance_db
        self.items = []

    def add(self, kind, name):
        self.items.append((kind, name))

    def forget(self, kind, name):
        self.items.remove((kind, name))

    def undo(self):
        dropped, left = [], []
        for kind, name in reversed(self.items):
            try:
                (pg_db_swap.drop if kind == "database" else pg_db_swap.drop_role)(self.conn, name, self.maintenance_db)
                dropped.append((kind, name))
            except RecoveryError:
                left.append((kind, name))
        return dropped, left


def restore(conn, tools, request):
    planned = plan(conn, tools, request)
    database, mechanism = planned["database"], planned["mechanism"]
    created = _Created(conn, request.maintenance_db)
    started = time.time()
    warnings = []
    try:
        # The dump's ALTER ... OWNER TO statements need the owner role, whether or not the database exists.
        if planned["new_role"]:
            conn.create_role(request.owner, request.maintenance_db)
            created.add("role", request.owner)
        if mechanism == "create":
            conn.create_database(database, request.maintenance_db, request.owner)
            created.add("database", database)
            run_pg_restore(conn, tools, request, planned, database, clean=request.clean,
                           single_transaction=bool(request.single_transaction))
        elif mechanism == "transaction":
            run_pg_restore(conn, tools, request, planned, database, clean=request.clean, single_transaction=True)
        else:
            warnings = replace_database(conn, tools, request, planned, database, created)
    except Exception as exc:  # whatever stopped it, what this run created goes
        error = exc if isinstance(exc, RecoveryError) else RecoveryError("%s: %s" % (type(exc).__name__, exc))
        dropped, left = created.undo()
        state, changed = rules.failure_state(mechanism, database, dropped, left)
        facts = dict(error.facts, changed=changed, target_state=state)
        raise RecoveryError("%s Target: %s." % (error.message, state), fix=error.fix, **facts)
    return {"database": database, "created_database": not planned["exists"], "created_owner_role": planned["new_role"],
            "verified": planned["verified"], "mechanism": mechanism, "warnings": warnings,
            "duration_seconds": round(time.time() - started, 3)}


def replace_database(conn, tools, request, planned, database, created):
    """Restore into a scratch database and swap it in; returns warnings (a previous copy left behind)."""
    pid = os.getpid()
    scratch = rules.scratch_name(database, pid)
    pg_db_swap.create_like(conn, database, scratch, request.maintenance_db)
    created.add("database", scratch)
    run_pg_restore(conn, tools, request, planned, scratch, clean=False,
                   single_transaction=bool(request.single_transaction))
    differences = pg_db_swap.carry_over(conn, database, scratch, request.maintenance_db)
    if differences:
        raise RecoveryError("the restored copy of %s could not be given the same %s as the database it replaces."
                            % (database, differences),
                            fix="compare the two in pg_database and report it; until then restore with replace:"
                                " objects and jobs: 1.")
    previous = rules.scratch_name(database, pid, "previous")
    try:
        pg_db_swap.swap(conn, database, scratch, previous, request.maintenance_db)
    except RecoveryError as exc:
        raise classify_failure(conn, exc.facts.get("stderr", str(exc)), database)
    created.forget("database", scratch)  # it is the target now
    try:
        pg_db_swap.drop(conn, previous, request.maintenance_db)
    except RecoveryError as exc:
        return ["the restore is complete, but the previous database, renamed %s, could not be dropped (%s); drop it"
                " when you no longer need it." % (previous, exc)]
    return []


def run_pg_restore(conn, tools, request, planned, database, clean, single_transaction):
    argv = rules.restore_argv(tools.path("pg_restore"), conninfo_dbname(database), request.jobs, clean,
                              single_transaction, request.no_owner, request.exit_on_error)
    env = conn.env(database, {"PGOPTIONS": pgoptions(request.session_settings)})
    pre = archive_reader_stages(request.path, planned["verified"]["manifest"], tools)
    scratch = None
    stdin_path = None
    try:
        if planned["reader"] == "unpack":
            scratch = tempfile.mkdtemp(prefix="vaultops-restore-", dir=os.path.dirname(os.path.abspath(request.path)))
            plain = os.path.join(scratch, "archive.dump")
            with open(plain, "wb") as handle:
                run_pipeline(pre, sink=handle)
            if conn.run_as:
                os.chown(scratch, conn.run_as.uid, conn.run_as.gid)
                os.chown(plain, conn.run_as.uid, conn.run_as.gid)
            stages = [argv + [plain]]
        elif planned["reader"] == "stdin":
            stdin_path = request.path
            stages = [[tools.path("zstd"), "-q", "-d", "-c"], argv] if pre else [argv]
        else:
            stages = [argv + [request.path]]
        run_pipeline(stages, env=env, run_as=conn.run_as, stdin_path=stdin_path, pass_fds=conn.pass_fds)
    except StageFailure as exc:  # zstd's complaint about a damaged stream counts as much as pg_restore's
        raise classify_failure(conn, exc.stderr, database)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the client tools reach PostgreSQL: argument spec, environment, errors.

The password never travels in argv or in the environment, and never gets a
name in any file system: it lives in an anonymous 0600 memory file (memfd)
that the client programs inherit and read as PGPASSFILE=/dev/fd/N. It is
gone when the last process holding it ends, so a run killed with SIGKILL
cannot leave it behind. Database names go through PGDATABASE or a quoted
conninfo string, so names with spaces, quotes, '=' or unicode are safe.
"""

import os
import re
import tempfile

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import RunAs, run

SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


def postgres_connection_argument_spec():
    """Options shared by every module that talks to PostgreSQL (see doc fragment postgres)."""
    return dict(
        login_host=dict(type="str", aliases=["host"]),
        port=dict(type="int", default=5432, aliases=["login_port"]),
        login_user=dict(type="str", aliases=["user"]),
        login_password=dict(type="str", no_log=True, aliases=["password"]),
        login_unix_socket=dict(type="path"),
        ssl_mode=dict(type="str", default="prefer", choices=SSL_MODES),
        ca_cert=dict(type="path", aliases=["ssl_rootcert"]),
        ssl_cert=dict(type="path"),
        ssl_key=dict(type="path", no_log=False),
        connect_timeout=dict(type="int", default=10),
        os_user=dict(type="str"),
    )


def conninfo_dbname(name):
    """A conninfo fragment naming a database, quoted per libpq rules."""
    return "dbname='%s'" % name.replace("\\", "\\\\").replace("'", "\\'")


def pgpass_escape(value):
    return value.replace("\\", "\\\\").replace(":", "\\:")


def check_password(password):
    """A password libpq's password file can carry: one line, so no line break."""
    if password is not None and ("\n" in password or "\r" in password):
        raise RecoveryError(
            "login_password contains a line break; libpq's password file (PGPASSFILE, the only way this collection"
            " hands a password to psql, pg_dump and pg_restore without argv or the environment) holds one"
            " password per line and cannot carry a newline. Nothing was contacted.",
            fix="check the variable that feeds login_password for a trailing newline (for example a file read"
                " without trimming: use | trim), or give the role a password without line breaks.")


def password_file(password, owner=None):
    """An anonymous 0600 file holding the password file's one line; returns its descriptor.

    A memfd where the kernel has one (RAM only, no name), else an unlinked
    temporary file: either way nothing a killed run could leave behind. libpq
    accepts it only as a regular file without group/other bits (so not a pipe).
    """
    try:
        fd = os.memfd_create("vaultops-pgpass")
    except (AttributeError, OSError):
        handle = tempfile.TemporaryFile()
        fd = os.dup(handle.fileno())
        handle.close()
    try:
        os.fchmod(fd, 0o600)  # a memfd starts 0777, and libpq ignores a password file with group/other bits
        if owner is not None:
            os.fchown(fd, owner.uid, owner.gid)  # the client reopens /dev/fd/N as os_user
        if password is not None:
            os.write(fd, ("*:*:*:*:%s\n" % pgpass_escape(password)).encode("utf-8"))
    except BaseException:
        os.close(fd)
        raise
    return fd


def _referenced_by_a_process(path):
    """True when a live process has PGPASSFILE=path in its environment (a run still using it)."""
    needle = ("PGPASSFILE=%s" % path).encode("utf-8")
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % pid, "rb") as handle:
                if needle in handle.read().split(b"\0"):
                    return True
        except OSError:
            continue  # gone, or not ours to read
    return False


def remove_legacy_password_files(tmpdir=None):
    """Remove password files that versions before the memfd left behind when killed.

    Those versions wrote <tmp>/vaultops-pg-XXXX/pgpass (0600, inside a 0700
    directory). Only a directory of this user that holds exactly that one
    regular file, and whose file no live process names as its PGPASSFILE, is
    removed. Returns the removed directories.
    """
    tmpdir = tmpdir or tempfile.gettempdir()
    removed = []
    try:
        names = os.listdir(tmpdir)
    except OSError:
        return removed
    for name in sorted(names):
        directory = os.path.join(tmpdir, name)
        passfile = os.path.join(directory, "pgpass")
        if not name.startswith("vaultops-pg-"):
            continue
        try:
            info = os.lstat(directory)
            if not os.path.isdir(directory) or os.path.islink(directory) or info.st_uid != os.getuid():
                continue
            if os.listdir(directory) != ["pgpass"] or not os.path.isfile(passfile) or os.path.islink(passfile):
                continue
            if _referenced_by_a_process(passfile):
                continue
            os.unlink(passfile)
            os.rmdir(directory)
        except OSError:
            continue  # another run removed it first, or it changed under us: leave it
        removed.append(directory)
    return removed


# stderr pattern -> (what happened, the fix). First match wins.
_ERROR_RULES = [
    (r"password authentication failed for user", "password authentication failed for user {user} at {where}.",
     "check login_password (or the vault variable that feeds it) for that user."),
    (r"no password supplied|fe_sendauth", "the server at {where} asked for a password and none was given.",
     "set login_password, or use os_user: postgres for local peer authentication."),
    (r"Peer authentication failed", "peer authentication failed for user {user} at {where}.",
     "run as the matching OS user (os_user: postgres) or connect over TCP with login_host and a password."),
    (r"database \".*\" does not exist", "database {database} does not exist at {where}.",
     "check the database name; for a redirected restore set create_database: true."),
    (r"role \".*\" does not exist", "role {user} does not exist at {where}.",
     "check login_user."),
    (r"could not translate host name", "host name {host} does not resolve.",
     "check login_host (a typo, or DNS on the managed host)."),
    (r"Connection refused|could not connect to server|connection to server .* failed|No such file or directory|timeout expired",
     "cannot reach PostgreSQL at {where}.",
     "check login_host and port, that the server is running, and that it accepts connections from this host."),
    (r"SSL|certificate", "the TLS handshake with {where} failed.",
     "check ssl_mode, ca_cert, ssl_cert and ssl_key."),
    (r"(could not (open|create)|can't stat).*Permission denied",
     "a client program running as {user} could not open a file or directory: " + "{stderr}",
     "make the backup directory reachable by os_user, or leave os_user unset and connect over TCP."),
    (r"permission denied for (table|schema|database|relation|sequence|function|large object)",
     "permission denied for user {user} at {where}.",
     "grant the needed privileges or connect as a role that owns the objects (often postgres)."),
]


class PgConnection(object):
    """Client-side connection settings for psql, pg_dump and pg_restore."""

    def __init__(self, params, find_binary):
        self.params = params
        self.find_binary = find_binary
        self.run_as = RunAs(params["os_user"]) if params.get("os_user") else None
        self._passfd = None
        self._env = None
        self.removed_legacy_password_files = []

    # -- lifecycle: the PGPASSFILE exists only inside "with connection:" --
    def __enter__(self):
        check_password(self.params.get("login_password"))
        # Earlier versions left a named password file when killed; this one leaves none.
        self.removed_legacy_password_files = remove_legacy_password_files()
        env = dict(os.environ)
        for name in list(env):
            if name.startswith("PG"):
                del env[name]  # a stray PGPASSWORD/PGHOST in the controller's env must not win
        p = self.params
        host = p.get("login_unix_socket") or p.get("login_host")
        if host:
            env["PGHOST"] = host
        env["PGPORT"] = str(p["port"])
        if p.get("login_user"):
            env["PGUSER"] = p["login_user"]
        env["PGSSLMODE"] = p["ssl_mode"]
        for option, variable in (("ca_cert", "PGSSLROOTCERT"), ("ssl_cert", "PGSSLCERT"), ("ssl_key", "PGSSLKEY")):
            if p.get(option):
                env[variable] = p[option]
        env["PGCONNECT_TIMEOUT"] = str(p["connect_timeout"])
        env["PGAPPNAME"] = "vaultops.recovery"
        env["LC_MESSAGES"] = "C"  # error classification reads English messages
        # Empty without login_password, so a ~/.pgpass on the host never answers instead.
        self._passfd = password_file(p.get("login_password"), self.run_as)
        env["PGPASSFILE"] = "/dev/fd/%d" % self._passfd
        if self.run_as:
            env["HOME"] = self.run_as.home
            env["USER"] = env["LOGNAME"] = self.run_as.name
        self._env = env
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._passfd is not None:
            os.close(self._passfd)
        self._passfd = None
        self._env = None
        return False

    @property
    def pass_fds(self):
        """Descriptors every client program must inherit (the PGPASSFILE of env())."""
        if self._passfd is None:
            raise RuntimeError("PgConnection used outside its 'with' block")
        return (self._passfd,)

    def env(self, database=None, extra=None):
        if self._env is None:
            raise RuntimeError("PgConnection used outside its 'with' block")
        env = dict(self._env)
        if database is not None:
            env["PGDATABASE"] = database
        if extra:
            env.update(extra)
        return env

    # -- descriptions for messages (never the password) --
    @property
    def host_label(self):
        p = self.params
        return p.get("login_unix_socket") or p.get("login_host") or "local socket"

    def where(self, database=None):
        label = "%s:%s" % (self.host_label, self.params["port"])
        if database:
            label += " database %s" % database
        return label

    @property
    def user_label(self):
        return self.params.get("login_user") or (self.run_as.name if self.run_as else "(default user)")

    def classify(self, stderr, database=None, action="connect"):
        """Turn a libpq/psql/pg_dump stderr into one RecoveryError with a fix."""
        for pattern, message, fix in _ERROR_RULES:
            if re.search(pattern, stderr, re.IGNORECASE):
                return RecoveryError(
                    ("Could not %s: " % action) + message.format(
                        user=self.user_label, where=self.where(database), database=database,
                        host=self.host_label, stderr=stderr.strip()),
                    fix=fix, stderr=stderr.strip())
        return RecoveryError("Could not %s at %s: %s" % (action, self.where(database), stderr.strip() or "no message"))

    # -- queries through psql (read-only probes and CREATE DATABASE) --
    def psql(self, sql, database, variables=None, action="query"):
        argv = [self.find_binary("psql"), "-X", "-A", "-t", "-q", "--no-password", "-v", "ON_ERROR_STOP=1"]
        for name, value in sorted((variables or {}).items()):
            argv += ["-v", "%s=%s" % (name, value)]
        rc, out, err = run(argv, env=self.env(database), run_as=self.run_as, stdin_bytes=sql.encode("utf-8"),
                           pass_fds=self.pass_fds)
        if rc != 0:
            raise self.classify(err, database, action=action)
        return [line for line in out.splitlines() if line]

    def probe(self, database):
        """Connect to database and report server facts; raises a classified error."""
        rows = self.psql(
            "SELECT current_setting('server_version'), current_setting('server_version_num'),"
            " pg_database_size(current_database());\n", database, action="connect")
        version, version_num, size = rows[0].split("|")
        return {"server_version": version, "server_version_num": int(version_num), "database_size": int(size)}

    def database_exists(self, database, maintenance_db="postgres"):
        rows = self.psql("SELECT count(*) FROM pg_database WHERE datname = :'name';\n", maintenance_db,
                         variables={"name": database}, action="connect")
        return rows == ["1"]

    def role_exists(self, role, maintenance_db="postgres"):
        rows = self.psql("SELECT count(*) FROM pg_roles WHERE rolname = :'name';\n", maintenance_db,
                         variables={"name": role}, action="connect")
        return rows == ["1"]

    def create_role(self, role, maintenance_db="postgres"):
        """A LOGIN role without a password (peer or a later ALTER ROLE gives it one)."""
        self.psql('CREATE ROLE :"name" LOGIN;\n', maintenance_db, variables={"name": role},
                  action="create role %s" % role)

    def create_database(self, database, maintenance_db="postgres", owner=None):
        sql = 'CREATE DATABASE :"name" OWNER :"owner";\n' if owner else 'CREATE DATABASE :"name";\n'
        self.psql(sql, maintenance_db, variables=dict(name=database, **({"owner": owner} if owner else {})),
                  action="create database %s" % database)


def check_access(conn, path, test_flag, purpose):
    """With os_user, prove up front that the OS user can reach path (test -r/-w/-x)."""
    if not conn.run_as:
        return
    rc, _out, _err = run(["test", test_flag, path], run_as=conn.run_as)
    if rc != 0:
        raise RecoveryError(
            "OS user %s cannot %s: %s is not accessible to it (test %s failed)." % (
                conn.run_as.name, purpose, path, test_flag),
            fix="make %s accessible to %s (for example a 0750 directory with group %s), or connect over TCP"
                " without os_user." % (path, conn.run_as.name, conn.run_as.name))

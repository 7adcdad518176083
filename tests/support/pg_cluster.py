"""A real, throwaway PostgreSQL cluster for tests and benchmarks.

initdb + pg_ctl from the Debian postgresql package, run as the postgres OS
user (initdb refuses root), listening on 127.0.0.1 and a private socket
directory. Password auth (scram) over TCP, peer auth for postgres locally.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile


def find_bindir():
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries not found: apt-get install postgresql-15")
    return os.path.dirname(candidates[-1])


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TempCluster(object):
    superuser_password = "Sup3r-S3cret-PLANTED-pw"

    def __init__(self, base_dir=None, settings=None):
        self.bindir = find_bindir()
        self.base = tempfile.mkdtemp(prefix="vaultops-pg-", dir=base_dir)
        os.chmod(self.base, 0o755)
        self.datadir = os.path.join(self.base, "data")
        self.sockdir = os.path.join(self.base, "sock")
        self.port = free_port()
        self.settings = settings or {}
        self.os_user = "postgres" if os.geteuid() == 0 else None

    def _as_owner(self, argv, **kwargs):
        if self.os_user:
            entry = pwd.getpwnam(self.os_user)

            def demote():
                os.initgroups(self.os_user, entry.pw_gid)
                os.setgid(entry.pw_gid)
                os.setuid(entry.pw_uid)
            kwargs["preexec_fn"] = demote
        return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs)

    def start(self):
        if self.os_user:
            entry = pwd.getpwnam(self.os_user)
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
        os.makedirs(self.sockdir, exist_ok=True)
        if self.os_user:
            os.chown(self.sockdir, entry.pw_uid, entry.pw_gid)
        pwfile = os.path.join(self.base, "pw")
        with open(pwfile, "w") as handle:
            handle.write(self.superuser_password + "\n")
        if self.os_user:
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        self._as_owner([os.path.join(self.bindir, "initdb"), "-D", self.datadir, "-U", "postgres",
                        "--pwfile", pwfile, "--auth-local=peer", "--auth-host=scram-sha-256",
                        "-E", "UTF8", "--locale=C.UTF-8"])
        os.unlink(pwfile)
        conf = {"listen_addresses": "'127.0.0.1'", "port": str(self.port),
                "unix_socket_directories": "'%s'" % self.sockdir, "fsync": "on"}
        conf.update(self.settings)
        with open(os.path.join(self.datadir, "postgresql.auto.conf"), "a") as handle:
            for key, value in conf.items():
                handle.write("%s = %s\n" % (key, value))
        with open(os.path.join(self.datadir, "pg_hba.conf"), "w") as handle:
            handle.write("local all postgres peer\nlocal all all scram-sha-256\n"
                         "host all all 127.0.0.1/32 scram-sha-256\n")
        self._as_owner([os.path.join(self.bindir, "pg_ctl"), "-D", self.datadir, "-w", "-t", "60",
                        "-l", os.path.join(self.base, "server.log"), "start"])
        return self

    def stop(self):
        try:
            self._as_owner([os.path.join(self.bindir, "pg_ctl"), "-D", self.datadir, "-m", "fast", "-w", "stop"])
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.base, ignore_errors=True)

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(PGHOST=self.sockdir, PGPORT=str(self.port), PGUSER="postgres")
        return env

    def psql(self, sql, database="postgres", check=True, variables=None):
        """Run SQL as the superuser over the private socket (peer auth as postgres).

        variables become psql variables, for quoting names: CREATE DATABASE :"name".
        """
        argv = ["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", database]
        for key, value in sorted((variables or {}).items()):
            argv += ["-v", "%s=%s" % (key, value)]
        if self.os_user:
            argv = ["runuser", "-u", self.os_user, "--"] + argv
        proc = subprocess.run(argv, input=sql, capture_output=True, text=True, env=self.env(), check=False)
        if check and proc.returncode != 0:
            raise RuntimeError("psql failed: %s" % proc.stderr)
        return proc.stdout.strip()

    def tcp_params(self, **extra):
        params = dict(login_host="127.0.0.1", port=self.port, login_user="postgres",
                      login_password=self.superuser_password)
        params.update(extra)
        return params

    def log(self):
        with open(os.path.join(self.base, "server.log")) as handle:
            return handle.read()

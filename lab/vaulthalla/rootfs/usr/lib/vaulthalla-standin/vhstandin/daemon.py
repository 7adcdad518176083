# LAB STAND-IN for the Vaulthalla daemon (vaulthalla.service, C++ in the real
# product; it cannot be installed here). Reproduces these facts from
# shared/notes/product-facts.md:
# - runs as user vaulthalla; reads /run/vaulthalla/db_password once, deletes it
#   and seals the password in the TPM as `psql`;
# - unseals psql, master and vault_master from
#   /var/lib/vaulthalla/.sealed_<name>.blob/<name>.priv + .pub; THE HAZARD: a
#   missing blob silently makes, seals and uses a NEW random key, and the daemon
#   starts normally ("healthy") although nothing encrypted before decrypts;
# - creates its schema itself from /usr/share/vaulthalla/psql/*.sql;
# - serves `vh` over /run/vaulthalla/cli.sock (socket from vaulthalla-cli.socket);
# - `vh status` / `vh version` / `vh vault keys export` / `vh secret export` /
#   `vh vault sync info` with the output formats of the facts note; exports run
#   in the daemon as user vaulthalla: gpg uses that user's keyring and the output
#   path must be writable by that user; only a super-admin may export;
# - vault keys are AES-256-GCM ciphertext under vault_master (table vault_keys),
#   internal secrets and S3 secrets under master; local vault bodies under
#   /var/lib/vaulthalla and upstream-encrypted S3 objects are AES-256-GCM
#   ciphertext whose nonce lives in the database (table files).
# Stand-in extensions (not in the real CLI; documented in lab/vaulthalla/README.md):
# `vh vault cat|put|ls|list|create` and `vh api-key add`.
"""The Vaulthalla lab stand-in daemon."""

import argparse
import base64
import contextlib
import datetime
import io
import json
import logging
import mimetypes
import os
import posixpath
import secrets
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid

from vhstandin.common import (CONFIG_PATH, DB_PASSWORD_HANDOFF, GNUPGHOME, RUN_DIR, SOCKET_PATH, SQL_DIR, STATE_DIR,
                              VAULTS_DIR, VERSION_TEXT, DecryptionError, Tpm, TpmError, VhError, gcm_decrypt,
                              gcm_encrypt, load_config, resolve_tcti, sd_notify)

log = logging.getLogger("vaulthalla")


class Fatal(Exception):
    pass


def utc_iso(value=None):
    value = value or datetime.datetime.now(datetime.timezone.utc)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalize_vault_path(path):
    if not path or "\0" in path:
        raise VhError("invalid path %r" % path, 2)
    norm = posixpath.normpath("/" + path.lstrip("/"))
    if norm.startswith("//"):
        norm = norm[1:]
    if any(part == ".." for part in norm.split("/")):
        raise VhError("invalid path %r" % path, 2)
    return norm


class Daemon(object):
    def __init__(self, config):
        self.config = config
        self.db_conf = config.get("database") or {}
        tcti, source = resolve_tcti()
        self.tpm = Tpm(tcti)
        self.tcti_source = source
        self.keys = {}
        self.started = time.time()
        self.pool = threading.BoundedSemaphore(max(1, int(self.db_conf.get("pool_size", 10))))
        self.schema_ready = False
        self.db_error = None
        self.schema_lock = threading.Lock()
        self.owns_socket = False
        self.key_origin = {}

    # ---- start-up -------------------------------------------------------------------------
    def boot(self):
        log.info("%s (lab stand-in) starting; TPM %s (from %s)", VERSION_TEXT, self.tpm.tcti, self.tcti_source)
        try:
            self.tpm.ping()
        except TpmError as exc:
            raise Fatal("TPM %s is not reachable: %s" % (self.tpm.tcti, exc))
        os.makedirs(VAULTS_DIR, mode=0o700, exist_ok=True)
        self.keys["psql"] = self._load_db_password()
        for name in ("master", "vault_master"):
            self.keys[name] = self._load_or_create(name, lambda: os.urandom(32))
        self.ensure_db()

    def _load_db_password(self):
        if os.path.exists(DB_PASSWORD_HANDOFF):
            with open(DB_PASSWORD_HANDOFF, "rb") as handle:
                password = handle.read().strip()
            if not password:
                raise Fatal("%s is empty" % DB_PASSWORD_HANDOFF)
            self.tpm.seal("psql", password)
            os.unlink(DB_PASSWORD_HANDOFF)
            self.key_origin["psql"] = "hand-off file"
            log.info("database password taken from %s and sealed in the TPM", DB_PASSWORD_HANDOFF)
            return password
        return self._load_or_create("psql", lambda: secrets.token_urlsafe(32).encode())

    def _load_or_create(self, name, generate):
        if self.tpm.has_blob(name):
            try:
                value = self.tpm.unseal(name)
            except TpmError as exc:
                raise Fatal("cannot unseal '%s' from %s with the TPM at %s: %s"
                            % (name, self.tpm.blob_dir(name), self.tpm.tcti, exc))
            self.key_origin[name] = "unsealed"
            return value
        # The real product's hazard: no blob -> a new random key, sealed and used, said quietly.
        value = generate()
        self.tpm.seal(name, value)
        self.key_origin[name] = "generated"
        log.info("initialized %s key", name)
        return value

    # ---- database ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def db(self):
        import psycopg2

        with self.pool:
            conn = psycopg2.connect(
                host=str(self.db_conf.get("host", "localhost")), port=int(self.db_conf.get("port", 5432)),
                dbname=str(self.db_conf.get("name", "vaulthalla")), user=str(self.db_conf.get("user", "vaulthalla")),
                password=self.keys["psql"].decode("utf-8", "replace"), connect_timeout=5,
                application_name="vaulthalla")
            try:
                with conn:
                    yield conn
            finally:
                conn.close()

    def ensure_db(self):
        """Apply the schema (once per process) and make sure the JWT secret exists."""
        with self.schema_lock:
            if self.schema_ready:
                return True
            try:
                with self.db() as conn, conn.cursor() as cur:
                    for name in sorted(os.listdir(SQL_DIR)):
                        if name.endswith(".sql"):
                            with open(os.path.join(SQL_DIR, name)) as handle:
                                cur.execute(handle.read())
                    cur.execute("SELECT 1 FROM internal_secrets WHERE key = 'jwt_secret'")
                    if cur.fetchone() is None:
                        iv, blob = gcm_encrypt(self.keys["master"], secrets.token_hex(32).encode())
                        cur.execute("INSERT INTO internal_secrets (key, value, iv) VALUES ('jwt_secret', %s, %s) "
                                    "ON CONFLICT (key) DO NOTHING", (blob, iv))
                        log.info("initialized jwt_secret")
            except Exception as exc:  # any database error leaves the daemon up but degraded
                self.db_error = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
                log.error("database unavailable: %s", self.db_error)
                return False
            self.schema_ready = True
            self.db_error = None
            log.info("database schema ready")
            return True

    # ---- socket server -----------------------------------------------------------------------
    def listener(self):
        if os.environ.get("LISTEN_PID") == str(os.getpid()) and int(os.environ.get("LISTEN_FDS", "0")) >= 1:
            sock = socket.socket(fileno=3)
        else:
            os.makedirs(RUN_DIR, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(SOCKET_PATH)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(SOCKET_PATH)
            os.chmod(SOCKET_PATH, 0o660)
            sock.listen(64)
            self.owns_socket = True
        for var in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
            os.environ.pop(var, None)
        return sock

    def serve(self, sock):
        sd_notify("READY=1\nSTATUS=serving %s" % SOCKET_PATH)
        log.info("listening on %s", SOCKET_PATH)
        try:
            while True:
                conn, _address = sock.accept()
                threading.Thread(target=self.handle, args=(conn,), daemon=True).start()
        finally:
            sd_notify("STOPPING=1")
            if self.owns_socket:
                with contextlib.suppress(OSError):
                    os.unlink(SOCKET_PATH)

    def handle(self, conn):
        try:
            creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            _pid, uid, _gid = struct.unpack("3i", creds)
            rfile = conn.makefile("rb")
            line = rfile.readline(1 << 20)
            if not line:
                return
            request = json.loads(line)
            ctx = Context(self, uid, request, rfile)
            try:
                code = Commands(ctx).run(list(request.get("argv") or []))
            except VhError as exc:
                code = exc.code
                ctx.stderr.append("vh: %s\n" % exc)
            except Exception as exc:
                log.exception("command %r failed", request.get("argv"))
                code = 1
                ctx.stderr.append("vh: internal error: %s\n" % exc)
            payload = ctx.stdout.getvalue()
            header = json.dumps({"exit": code, "stderr": "".join(ctx.stderr), "stdout_len": len(payload)})
            conn.sendall(header.encode() + b"\n" + payload)
        except (OSError, ValueError) as exc:
            log.warning("client connection failed: %s", exc)
        finally:
            conn.close()


class Context(object):
    def __init__(self, daemon, uid, request, rfile):
        self.daemon = daemon
        self.uid = uid
        self.cwd = request.get("cwd") or "/"
        self.uploads = request.get("uploads") or []
        self.rfile = rfile
        self.stdout = io.BytesIO()
        self.stderr = []

    def out(self, data):
        self.stdout.write(data.encode() if isinstance(data, str) else data)


class HelpRequested(Exception):
    def __init__(self, text):
        Exception.__init__(self, text)
        self.text = text


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise VhError("%s\n%s" % (message, self.format_usage().rstrip()), 2)

    def exit(self, status=0, message=None):
        raise VhError((message or "").strip() or "exit %d" % status, status or 0)

    def print_help(self, file=None):
        raise HelpRequested(self.format_help())


def build_parser():
    parser = Parser(prog="vh", description="Vaulthalla command line (lab stand-in).")
    top = parser.add_subparsers(dest="command", metavar="<command>")
    top.required = True
    top.add_parser("status", help="daemon, database and TPM health")
    top.add_parser("version", help="print the Vaulthalla version")
    top.add_parser("help", help="this help")

    vault = top.add_parser("vault", help="vault commands").add_subparsers(dest="vault_command", metavar="<vault command>")
    vault.required = True
    keys = vault.add_parser("keys", help="vault keys").add_subparsers(dest="keys_command", metavar="export")
    keys.required = True
    export = keys.add_parser("export", help="export vault keys (GPG-encrypted with --recipient)")
    export.add_argument("target", metavar="<id|name|all>")
    export.add_argument("--recipient", metavar="<gpg-fingerprint>", action="append")
    export.add_argument("--output", metavar="<file>")
    sync = vault.add_parser("sync", help="S3/R2 sync").add_subparsers(dest="sync_command", metavar="info")
    sync.required = True
    info = sync.add_parser("info", help="sync state of an S3/R2 vault")
    info.add_argument("vault", metavar="<vault>")
    listing = vault.add_parser("list", help="list vaults (stand-in extension)")
    listing.add_argument("--json", action="store_true")
    create = vault.add_parser("create", help="create a vault (stand-in extension)")
    create.add_argument("name")
    kind = create.add_mutually_exclusive_group(required=True)
    kind.add_argument("--local", action="store_true")
    kind.add_argument("--s3", action="store_true")
    create.add_argument("--api-key", metavar="<name>")
    create.add_argument("--bucket")
    create.add_argument("--encrypt-upstream", dest="encrypt_upstream", action="store_true", default=True)
    create.add_argument("--no-encrypt-upstream", dest="encrypt_upstream", action="store_false")
    create.add_argument("--owner", metavar="<user>")
    create.add_argument("--description")
    ls = vault.add_parser("ls", help="list a vault's files (stand-in extension)")
    ls.add_argument("vault", metavar="<vault>")
    ls.add_argument("--json", action="store_true")
    cat = vault.add_parser("cat", help="read a file through the key chain to stdout (stand-in extension)")
    cat.add_argument("vault", metavar="<vault>")
    cat.add_argument("path", metavar="<path>")
    put = vault.add_parser("put", help="store a file or a directory tree (stand-in extension)")
    put.add_argument("vault", metavar="<vault>")
    put.add_argument("path", metavar="<path>")
    put.add_argument("--from", dest="source", required=True, metavar="<file|dir|->")

    secret = top.add_parser("secret", help="internal secrets").add_subparsers(dest="secret_command", metavar="export")
    secret.required = True
    sexport = secret.add_parser("export", help="export internal secrets (GPG-encrypted with --recipient)")
    sexport.add_argument("target", metavar="<db-password|jwt-secret|all>")
    sexport.add_argument("--recipient", metavar="<gpg-fingerprint>", action="append")
    sexport.add_argument("--output", metavar="<file>")

    apikey = top.add_parser("api-key", help="S3 API keys (stand-in extension)").add_subparsers(
        dest="apikey_command", metavar="add")
    apikey.required = True
    add = apikey.add_parser("add", help="store an S3 API key (secret encrypted under the master key)")
    add.add_argument("name")
    add.add_argument("--access-key", required=True)
    add.add_argument("--secret-key", required=True)
    add.add_argument("--region", default="us-east-1")
    add.add_argument("--endpoint")
    add.add_argument("--provider", default="s3")
    return parser


class Commands(object):
    def __init__(self, ctx):
        self.ctx = ctx
        self.daemon = ctx.daemon

    def run(self, argv):
        parser = build_parser()
        if not argv or argv[0] in ("-h", "--help"):
            argv = ["help"]
        try:
            args = parser.parse_args(argv)
        except HelpRequested as exc:
            self.ctx.out(exc.text)
            return 0
        if args.command == "help":
            self.ctx.out(parser.format_help())
            return 0
        name = "_".join(filter(None, [args.command.replace("-", "_"), getattr(args, "vault_command", None),
                                      getattr(args, "keys_command", None), getattr(args, "sync_command", None),
                                      getattr(args, "secret_command", None), getattr(args, "apikey_command", None)]))
        return getattr(self, "cmd_" + name)(args) or 0

    # ---- helpers ---------------------------------------------------------------------------
    def db(self):
        if not self.daemon.ensure_db():
            raise VhError("database unavailable: %s" % self.daemon.db_error)
        return self.daemon.db()

    def caller(self, cur):
        """(user id or None, role) of the Linux account on the other end of the socket."""
        if self.ctx.uid in (0, os.getuid()):
            cur.execute("SELECT id FROM users WHERE role = 'super_admin' ORDER BY id LIMIT 1")
            row = cur.fetchone()
            return (row[0] if row else None), "super_admin"
        cur.execute("SELECT id, role FROM users WHERE linux_uid = %s AND is_active", (self.ctx.uid,))
        row = cur.fetchone()
        if row is None:
            raise VhError("permission denied: Linux uid %d is not linked to a Vaulthalla user" % self.ctx.uid)
        return row[0], row[1]

    def require(self, cur, roles, action):
        user_id, role = self.caller(cur)
        if role not in roles:
            raise VhError("permission denied: %s requires %s" % (action, " or ".join(r.replace("_", "-") for r in roles)))
        return user_id

    def find_vault(self, cur, ref):
        columns = "v.id, v.name, v.type, v.mount_point, s.bucket, s.encrypt_upstream, s.api_key_id"
        base = "SELECT %s FROM vault v LEFT JOIN s3 s ON s.vault_id = v.id " % columns
        if ref.isdigit():
            cur.execute(base + "WHERE v.id = %s", (int(ref),))
        else:
            cur.execute(base + "WHERE v.name = %s", (ref,))
        row = cur.fetchone()
        if row is None:
            raise VhError("vault '%s' not found" % ref)
        keys = ("id", "name", "type", "mount_point", "bucket", "encrypt_upstream", "api_key_id")
        vault = dict(zip(keys, row))
        vault["mount_point"] = vault["mount_point"].strip()
        return vault

    def vault_key(self, cur, vault):
        cur.execute("SELECT encrypted_key, iv, version, created_at FROM vault_keys WHERE vault_id = %s", (vault["id"],))
        row = cur.fetchone()
        if row is None:
            raise VhError("vault '%s' (id %d) has no key" % (vault["name"], vault["id"]))
        what = ("the key of vault '%s' (id %d, key version %d) does not decrypt with the TPM-sealed vault_master key"
                % (vault["name"], vault["id"], row[2]))
        return gcm_decrypt(self.daemon.keys["vault_master"], row[1], row[0], what), row[2], row[3]

    def s3_client(self, cur, api_key_id):
        import boto3
        from botocore.config import Config

        cur.execute("SELECT name, access_key, encrypted_secret_access_key, iv, region, endpoint FROM api_keys "
                    "WHERE id = %s", (api_key_id,))
        row = cur.fetchone()
        if row is None:
            raise VhError("API key %s not found" % api_key_id)
        name, access, blob, iv, region, endpoint = row
        secret = gcm_decrypt(self.daemon.keys["master"], iv, blob,
                             "the secret of API key '%s' does not decrypt with the TPM-sealed master key" % name)
        # A session per request: CLI requests are served on threads, and boto3's shared default session is not
        # thread-safe (clients created side by side fail with KeyError 'endpoint_resolver').
        client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint or None, region_name=region, aws_access_key_id=access,
            aws_secret_access_key=secret.decode(),
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}, connect_timeout=5,
                          read_timeout=60))
        return client, {"name": name, "endpoint": endpoint or "(AWS default)", "region": region}

    def audit(self, cur, user_id, action, target, detail):
        cur.execute("INSERT INTO audit_log (user_id, linux_uid, action, target, detail) VALUES (%s, %s, %s, %s, %s)",
                    (user_id, self.ctx.uid, action, target, json.dumps(detail)))

    def write_export(self, text, args, what):
        self.check_export_args(args)
        if not args.output:
            self.ctx.out(text)
            return None
        path = args.output if os.path.isabs(args.output) else os.path.join(self.ctx.cwd, args.output)
        path = os.path.normpath(path)
        tmp = os.path.join(os.path.dirname(path), ".%s.vh-export-%s" % (os.path.basename(path), secrets.token_hex(4)))
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise VhError("cannot write %s: %s" % (path, exc.strerror))
        try:
            if args.recipient:
                os.close(fd)
                env = dict(os.environ, HOME=STATE_DIR, GNUPGHOME=GNUPGHOME)
                proc = subprocess.run(
                    ["gpg", "--batch", "--yes", "--no-tty", "--quiet", "--trust-model", "always", "--armor",
                     "--encrypt", "--recipient", args.recipient, "--output", tmp],
                    input=text.encode(), capture_output=True, env=env, check=False)
                if proc.returncode != 0:
                    lines = [line for line in proc.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
                    raise VhError("gpg could not encrypt for %s: %s" % (args.recipient, "; ".join(lines[-2:])))
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(text)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        if args.recipient:
            self.ctx.out("Exported %s to %s (encrypted for %s)\n" % (what, path, args.recipient))
        else:
            self.ctx.out("Exported %s to %s (PLAINTEXT, not encrypted)\n" % (what, path))
        return path

    # ---- commands ----------------------------------------------------------------------------
    def cmd_version(self, args):
        self.ctx.out(VERSION_TEXT + "\n")

    def cmd_status(self, args):
        d = self.daemon
        try:
            d.tpm.ping()
            tpm = "ok (%s)" % d.tpm.tcti
        except TpmError as exc:
            tpm = "unreachable (%s): %s" % (d.tpm.tcti, exc)
        db_ok = d.ensure_db()
        vaults = ""
        if db_ok:
            try:
                with d.db() as conn, conn.cursor() as cur:
                    cur.execute("SELECT type, count(*) FROM vault GROUP BY type ORDER BY type")
                    counts = dict(cur.fetchall())
                vaults = "%d (%s)" % (sum(counts.values()),
                                      ", ".join("%s %d" % item for item in sorted(counts.items())) or "none")
            except Exception as exc:
                db_ok, d.db_error = False, str(exc).strip().splitlines()[0]
        conf = d.db_conf
        where = "%s@%s:%s/%s" % (conf.get("user", "vaulthalla"), conf.get("host", "localhost"), conf.get("port", 5432),
                                 conf.get("name", "vaulthalla"))
        healthy = db_ok and tpm.startswith("ok")
        lines = [
            "vh status: %s" % ("healthy" if healthy else "degraded"),
            "version: %s" % VERSION_TEXT,
            "daemon: running (pid %d, up %ds)" % (os.getpid(), time.time() - d.started),
            "database: %s" % (("connected (%s)" % where) if db_ok else ("unavailable (%s): %s" % (where, d.db_error))),
            "tpm: %s" % tpm,
            "sealed keys: %s" % ", ".join(sorted(d.keys)),
            "vaults: %s" % (vaults or "unknown"),
            "cli socket: %s" % SOCKET_PATH,
        ]
        self.ctx.out("\n".join(lines) + "\n")

    @staticmethod
    def check_export_args(args):
        # The facts document one --recipient; a repeated one is refused rather than
        # silently keeping the last (nothing here may pass that a real host would not).
        if isinstance(args.recipient, list):
            if len(args.recipient) > 1:
                raise VhError("--recipient may be given only once", 2)
            args.recipient = args.recipient[0] if args.recipient else None
        if args.recipient is not None and not args.recipient.strip():
            raise VhError("--recipient needs a GPG fingerprint", 2)
        if args.recipient and not args.output:
            raise VhError("--recipient requires --output", 2)

    def cmd_vault_keys_export(self, args):
        self.check_export_args(args)
        with self.db() as conn, conn.cursor() as cur:
            user_id = self.require(cur, ("super_admin",), "exporting vault keys")
            if args.target == "all":
                cur.execute("SELECT id FROM vault ORDER BY id")
                vaults = [self.find_vault(cur, str(row[0])) for row in cur.fetchall()]
            else:
                vaults = [self.find_vault(cur, args.target)]
            exported_at = utc_iso()
            docs = []
            for vault in vaults:
                key, version, created = self.vault_key(cur, vault)
                docs.append({
                    "vault_id": vault["id"],
                    "vault_name": vault["name"],
                    "key": base64.b64encode(key).decode(),
                    "key_info": {"type": "AES-256-GCM", "key_version": version, "created_at": utc_iso(created),
                                 "exported_at": exported_at, "vault_type": vault["type"]},
                })
            doc = docs if args.target == "all" else docs[0]
            what = "%d vault key%s" % (len(docs), "" if len(docs) == 1 else "s")
            path = self.write_export(json.dumps(doc, indent=2) + "\n", args, what)
            self.audit(cur, user_id, "vault.keys.export", args.target,
                       {"recipient": args.recipient, "output": path, "vaults": [v["id"] for v in vaults]})

    def cmd_secret_export(self, args):
        names = {"db-password", "jwt-secret"}
        if args.target != "all" and args.target not in names:
            raise VhError("unknown secret '%s' (expected db-password, jwt-secret or all)" % args.target, 2)
        self.check_export_args(args)
        with self.db() as conn, conn.cursor() as cur:
            user_id = self.require(cur, ("super_admin",), "exporting internal secrets")
            out = []
            if args.target in ("all", "db-password"):
                out.append({"name": "db-password", "secret": self.daemon.keys["psql"].decode()})
            if args.target in ("all", "jwt-secret"):
                cur.execute("SELECT value, iv FROM internal_secrets WHERE key = 'jwt_secret'")
                row = cur.fetchone()
                if row is None:
                    raise VhError("internal secret jwt_secret is missing")
                value = gcm_decrypt(self.daemon.keys["master"], row[1], row[0],
                                    "internal secret jwt_secret does not decrypt with the TPM-sealed master key")
                out.append({"name": "jwt-secret", "secret": value.decode()})
            what = "%d secret%s" % (len(out), "" if len(out) == 1 else "s")
            path = self.write_export(json.dumps(out, indent=2) + "\n", args, what)
            self.audit(cur, user_id, "secret.export", args.target, {"recipient": args.recipient, "output": path})

    def cmd_vault_sync_info(self, args):
        with self.db() as conn, conn.cursor() as cur:
            vault = self.find_vault(cur, args.vault)
            if vault["type"] != "s3":
                raise VhError("vault '%s' (id %d) is a local vault: sync info applies to S3/R2 vaults"
                              % (vault["name"], vault["id"]))
            cur.execute("SELECT strategy, conflict_policy, interval_seconds, enabled, last_sync_at, last_success_at, "
                        "last_result FROM sync WHERE vault_id = %s", (vault["id"],))
            sync = cur.fetchone() or ("cache", "keep_both", 300, True, None, None, None)
            cur.execute("SELECT path FROM files WHERE vault_id = %s", (vault["id"],))
            indexed = {row[0] for row in cur.fetchall()}
            client, key = self.s3_client(cur, vault["api_key_id"])
        try:
            versioning = client.get_bucket_versioning(Bucket=vault["bucket"]).get("Status", "Disabled")
            remote, size = set(), 0
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=vault["bucket"]):
                for obj in page.get("Contents", []):
                    remote.add("/" + obj["Key"])
                    size += obj["Size"]
        except Exception as exc:
            raise VhError("sync info: bucket '%s' at %s is not reachable: %s" % (vault["bucket"], key["endpoint"], exc))
        missing = sorted(indexed - remote)
        state = "in sync" if not missing else "out of sync (%d indexed file%s missing upstream)" % (
            len(missing), "" if len(missing) == 1 else "s")
        rows = [
            ("Vault", "%s (id %d)" % (vault["name"], vault["id"])),
            ("Type", "s3"),
            ("Endpoint", "%s (region %s, API key '%s')" % (key["endpoint"], key["region"], key["name"])),
            ("Bucket", vault["bucket"]),
            ("Upstream encryption", "enabled" if vault["encrypt_upstream"] else "disabled"),
            ("Sync strategy", "%s, every %ds, conflicts: %s" % (sync[0], sync[2], sync[1])),
            ("Sync enabled", "yes" if sync[3] else "no"),
            ("Last sync", "%s (%s)" % (utc_iso(sync[4]), sync[6] or "unknown") if sync[4] else "never"),
            ("Bucket versioning", versioning),
            ("Remote objects", "%d (%d bytes)" % (len(remote), size)),
            ("Indexed files", str(len(indexed))),
            ("Missing upstream", str(len(missing))),
            ("State", state),
        ]
        self.ctx.out("".join("%-21s%s\n" % (label + ":", value) for label, value in rows))

    def cmd_vault_list(self, args):
        with self.db() as conn, conn.cursor() as cur:
            cur.execute("SELECT v.id, v.name, v.type, s.bucket, s.encrypt_upstream, v.mount_point, "
                        "(SELECT count(*) FROM files f WHERE f.vault_id = v.id) "
                        "FROM vault v LEFT JOIN s3 s ON s.vault_id = v.id ORDER BY v.id")
            rows = cur.fetchall()
        if args.json:
            self.ctx.out(json.dumps([{"id": r[0], "name": r[1], "type": r[2], "bucket": r[3], "encrypt_upstream": r[4],
                                      "mount_point": r[5].strip(), "files": r[6]} for r in rows], indent=2) + "\n")
            return
        self.ctx.out("%-4s %-6s %-20s %-24s %-10s %s\n" % ("ID", "TYPE", "NAME", "BUCKET", "UPSTREAM", "FILES"))
        for r in rows:
            upstream = "-" if r[2] != "s3" else ("encrypted" if r[4] else "plain")
            self.ctx.out("%-4d %-6s %-20s %-24s %-10s %d\n" % (r[0], r[2], r[1], r[3] or "-", upstream, r[6]))

    def cmd_api_key_add(self, args):
        with self.db() as conn, conn.cursor() as cur:
            user_id = self.require(cur, ("super_admin", "admin"), "adding an API key")
            cur.execute("SELECT 1 FROM api_keys WHERE name = %s", (args.name,))
            if cur.fetchone():
                raise VhError("API key '%s' already exists" % args.name)
            iv, blob = gcm_encrypt(self.daemon.keys["master"], args.secret_key.encode())
            cur.execute("INSERT INTO api_keys (user_id, name, provider, access_key, encrypted_secret_access_key, iv, "
                        "region, endpoint) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                        (user_id, args.name, args.provider, args.access_key, blob, iv, args.region, args.endpoint))
            self.ctx.out("Added API key '%s' (id %d)\n" % (args.name, cur.fetchone()[0]))

    def cmd_vault_create(self, args):
        with self.db() as conn, conn.cursor() as cur:
            user_id = self.require(cur, ("super_admin", "admin"), "creating a vault")
            cur.execute("SELECT 1 FROM vault WHERE name = %s", (args.name,))
            if cur.fetchone():
                raise VhError("vault '%s' already exists" % args.name)
            owner = user_id
            if args.owner:
                cur.execute("SELECT id FROM users WHERE name = %s", (args.owner,))
                row = cur.fetchone()
                if row is None:
                    raise VhError("user '%s' not found" % args.owner)
                owner = row[0]
            api_key_id = None
            if args.s3:
                if not (args.api_key and args.bucket):
                    raise VhError("--s3 needs --api-key and --bucket", 2)
                cur.execute("SELECT id FROM api_keys WHERE name = %s", (args.api_key,))
                row = cur.fetchone()
                if row is None:
                    raise VhError("API key '%s' not found" % args.api_key)
                api_key_id = row[0]
                client, key = self.s3_client(cur, api_key_id)
                try:
                    client.head_bucket(Bucket=args.bucket)
                except Exception as exc:
                    raise VhError("bucket '%s' at %s is not reachable: %s" % (args.bucket, key["endpoint"], exc))
            mount_point = uuid.uuid4().hex
            cur.execute("INSERT INTO vault (type, name, description, owner_id, mount_point) VALUES (%s, %s, %s, %s, %s) "
                        "RETURNING id", ("s3" if args.s3 else "local", args.name, args.description, owner, mount_point))
            vault_id = cur.fetchone()[0]
            iv, blob = gcm_encrypt(self.daemon.keys["vault_master"], os.urandom(32))
            cur.execute("INSERT INTO vault_keys (vault_id, encrypted_key, iv, version) VALUES (%s, %s, %s, 1)",
                        (vault_id, blob, iv))
            if args.s3:
                cur.execute("INSERT INTO s3 (vault_id, api_key_id, bucket, encrypt_upstream) VALUES (%s, %s, %s, %s)",
                            (vault_id, api_key_id, args.bucket, args.encrypt_upstream))
                cur.execute("INSERT INTO sync (vault_id) VALUES (%s)", (vault_id,))
            else:
                os.makedirs(os.path.join(VAULTS_DIR, mount_point), mode=0o700, exist_ok=True)
        self.ctx.out("Created vault '%s' (id %d, type %s)\n" % (args.name, vault_id, "s3" if args.s3 else "local"))

    def cmd_vault_ls(self, args):
        with self.db() as conn, conn.cursor() as cur:
            vault = self.find_vault(cur, args.vault)
            cur.execute("SELECT path, size_bytes, updated_at, encryption_iv IS NOT NULL, s3_version_id FROM files "
                        "WHERE vault_id = %s ORDER BY path", (vault["id"],))
            rows = cur.fetchall()
        if args.json:
            self.ctx.out(json.dumps([{"path": r[0], "size": r[1], "updated_at": utc_iso(r[2]), "encrypted": r[3],
                                      "s3_version_id": r[4]} for r in rows], indent=2) + "\n")
            return
        for r in rows:
            self.ctx.out("%12d  %s  %s\n" % (r[1], utc_iso(r[2]), r[0]))

    def cmd_vault_cat(self, args):
        path = normalize_vault_path(args.path)
        with self.db() as conn, conn.cursor() as cur:
            vault = self.find_vault(cur, args.vault)
            key, version, _created = self.vault_key(cur, vault)
            cur.execute("SELECT size_bytes, encryption_iv, encrypted_with_key_version FROM files "
                        "WHERE vault_id = %s AND path = %s", (vault["id"], path))
            row = cur.fetchone()
            if row is None:
                raise VhError("%s: no such file in vault '%s'" % (path, vault["name"]))
            size, iv, file_version = row
            client = None
            if vault["type"] == "s3":
                client, endpoint = self.s3_client(cur, vault["api_key_id"])
        what = "the body of %s in vault '%s' does not decrypt with the vault key" % (path, vault["name"])
        if file_version is not None and file_version != version:
            raise VhError("%s in vault '%s' was written with key version %d, the vault key is version %d"
                          % (path, vault["name"], file_version, version))
        if vault["type"] == "local":
            body_path = os.path.join(VAULTS_DIR, vault["mount_point"], path.lstrip("/"))
            try:
                with open(body_path, "rb") as handle:
                    body = handle.read()
            except OSError as exc:
                raise VhError("%s: body missing from local vault storage (%s: %s)" % (path, body_path, exc.strerror))
            plain = gcm_decrypt(key, iv, body, what)
        else:
            try:
                body = client.get_object(Bucket=vault["bucket"], Key=path.lstrip("/"))["Body"].read()
            except Exception as exc:
                raise VhError("%s: cannot read s3://%s/%s at %s: %s"
                              % (path, vault["bucket"], path.lstrip("/"), endpoint["endpoint"], exc))
            plain = gcm_decrypt(key, iv, body, what) if iv is not None else body
        if len(plain) != size:
            raise VhError("%s: size mismatch (index says %d bytes, read %d)" % (path, size, len(plain)))
        self.ctx.out(plain)

    def cmd_vault_put(self, args):
        dest = normalize_vault_path(args.path)
        uploads = self.ctx.uploads
        if not uploads:
            raise VhError("nothing to store (the client sent no file)", 2)
        total = 0
        with self.db() as conn, conn.cursor() as cur:
            user_id = self.require(cur, ("super_admin", "admin"), "storing files")
            vault = self.find_vault(cur, args.vault)
            key, version, _created = self.vault_key(cur, vault)
            client = self.s3_client(cur, vault["api_key_id"])[0] if vault["type"] == "s3" else None
            for upload in uploads:
                rel = upload.get("path") or ""
                path = normalize_vault_path(posixpath.join(dest, rel) if rel else dest)
                size = int(upload["size"])
                body = self.ctx.rfile.read(size)
                if len(body) != size:
                    raise VhError("short upload for %s" % path)
                iv, version_id = None, None
                if vault["type"] == "local":
                    iv, blob = gcm_encrypt(key, body)
                    target = os.path.join(VAULTS_DIR, vault["mount_point"], path.lstrip("/"))
                    os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
                    tmp = target + ".vh-tmp"
                    with open(tmp, "wb") as handle:
                        handle.write(blob)
                    os.replace(tmp, target)
                else:
                    if vault["encrypt_upstream"]:
                        iv, blob = gcm_encrypt(key, body)
                    else:
                        blob = body
                    answer = client.put_object(Bucket=vault["bucket"], Key=path.lstrip("/"), Body=blob)
                    version_id = answer.get("VersionId")
                cur.execute(
                    "INSERT INTO files (vault_id, path, size_bytes, mime_type, encryption_iv, encrypted_with_key_version,"
                    " s3_version_id, created_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (vault_id, path) DO UPDATE SET size_bytes = EXCLUDED.size_bytes, "
                    "mime_type = EXCLUDED.mime_type, encryption_iv = EXCLUDED.encryption_iv, "
                    "encrypted_with_key_version = EXCLUDED.encrypted_with_key_version, "
                    "s3_version_id = EXCLUDED.s3_version_id, updated_at = now()",
                    (vault["id"], path, size, mimetypes.guess_type(path)[0], iv,
                     version if iv is not None else None, version_id, user_id))
                total += size
            if vault["type"] == "s3":
                cur.execute("UPDATE sync SET last_sync_at = now(), last_success_at = now(), last_result = 'ok' "
                            "WHERE vault_id = %s", (vault["id"],))
        self.ctx.out("Stored %d file%s (%d bytes) in vault '%s'\n"
                     % (len(uploads), "" if len(uploads) == 1 else "s", total, vault["name"]))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="vaulthalla", description="Vaulthalla daemon (lab stand-in)")
    parser.add_argument("--config", default=CONFIG_PATH)
    opts = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        daemon = Daemon(load_config(opts.config))
        daemon.boot()
    except (Fatal, TpmError, OSError, ValueError) as exc:
        log.error("start-up failed: %s", exc)
        return 1
    except DecryptionError as exc:
        log.error("start-up failed: %s", exc)
        return 1
    daemon.serve(daemon.listener())
    return 0

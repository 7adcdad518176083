"""Stand-ins for the Institutional Vault services in the Kubernetes lab: ``iv_service.py <service>``.

Stands in for: the vendor's closed service images - wallet, orchestrator,
policy-node0..2 and nats - as far as the backup/restore runbook can see them:
each reads its ``<environment>.<namespace>.<service>.db-info`` secret (and a
policy node its ``...encryptor-master-password``) from AWS Secrets Manager or
Azure Key Vault AT START, talks to the real PostgreSQL named there, and
answers readiness/health probes. The simulated kubelet
(tests/support/kube_apiserver.py) runs one process per pod.

Services:

- wallet: HTTPS. ``GET /health`` -> 200 ``{"status": "ok", "database": "up"}`` when ``SELECT 1`` on its
  database succeeds, else 503 ``{"status": "error", "database": "down", "reason": "..."}`` (no secrets);
  ``GET /api/v2/accounts[?limit=L&offset=O]`` -> 200 ``{"accounts": [{"id": int, "name": str, "asset": str,
  "created_at": ISO 8601 str}, ...] (ordered by id), "total": <count(*) of accounts>}`` (the vendor's shape is
  unknown: this is ours); 503 like /health when the database does not answer; ``GET /ready`` -> 200
  ``{"ready": true}`` when its db-info was read and the database answers, else 503 with the reason.
- orchestrator: like wallet without /api/v2/accounts.
- policy-nodeN: also reads its EMP secret, reads row ``node = 'policy-nodeN'`` of ``key_shares`` and decrypts
  it (tests/support/iv_database.py: scrypt + AES-256-GCM, AAD = node name). A wrong or changed EMP fails
  the GCM tag: the node logs ``policy-nodeN: cannot decrypt key share with the Encryptor Master Password
  from <secret name>: authentication tag mismatch (wrong or changed EMP)`` and exits with status 3 without
  ever being ready; the kubelet restarts it (CrashLoopBackOff) and each start reads the EMP again, so the pod
  becomes Ready once the secret is put back, and never before.
  ``/ready`` is 200 once the share is decrypted and the database answers; ``/health`` as on wallet.
- nats: plain TCP on PORT; each connection gets a NATS ``INFO {...}`` line and is closed. Ready = port open.

Start-up: reading the secrets (and, for a policy node, fetching its key-share row) is retried every
second until it works, logging each new reason once, so a secret fixed while the pod runs is picked up
without a restart while the service is still starting; once the configuration is loaded it is never
re-read (a changed db-info needs a restart, as in the runbook).

Environment: PORT (required), POD_NAME, POD_NAMESPACE, IV_ENVIRONMENT, IV_NAMESPACE (the environment and
namespace in secret names), IV_SECRET_PROVIDER=aws|azure (default aws);
aws: IV_AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION;
azure: IV_KEY_VAULT_URL, AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, IV_AZURE_AUTHORITY_HOST,
IV_CA_BUNDLE (PEM to trust for Key Vault and the token endpoint); on Key Vault a name has every character
other than a letter, digit or dash replaced by a dash;
IV_TLS_CERT / IV_TLS_KEY (PEM files of the HTTPS server certificate; without them a self-signed one is made);
LAB_SHUTDOWN_SECONDS (default 0): on SIGTERM/SIGINT the service stops being ready at once (HTTPS: /ready and
/health 503; nats: the port is closed), waits that long (a graceful shutdown that takes time) and exits 0.

Logging: one line per event on stdout, flushed: ``<UTC time> <service>: <event>``. Secret values (DB
password, EMP, cloud credentials) are never printed; every line is also scrubbed of the values read.
"""

import datetime
import json
import os
import re
import shutil
import signal
import socketserver
import ssl
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import azure_https  # noqa: E402  (the stand-ins' one self-signed certificate maker)
import iv_database  # noqa: E402  (the key-share crypto lives there)

SERVICES = ("wallet", "orchestrator", "policy-node0", "policy-node1", "policy-node2", "nats")
RETRY_SECONDS = 1.0
_SECRETS = set()   # values never to print (scrubbed from every log line)
_LOG_LOCK = threading.Lock()


def forget_secret(value):
    if value and len(str(value)) >= 4:
        _SECRETS.add(str(value))


def scrub(text):
    for value in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(value, "***")
    return text


class Log(object):
    def __init__(self, service):
        self.service = service

    def __call__(self, message):
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        line = scrub("%s %s: %s" % (stamp, self.service, " ".join(str(message).split())))
        with _LOG_LOCK:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()


def first_line(exc):
    text = str(exc).strip().splitlines()
    return "%s: %s" % (type(exc).__name__, text[0] if text else "")


# secret stores --------------------------------------------------------------------------------------------------
class AwsSecrets(object):
    def __init__(self, env):
        import boto3
        from botocore.config import Config
        forget_secret(env.get("AWS_SECRET_ACCESS_KEY"))
        self.endpoint = env.get("IV_AWS_ENDPOINT_URL") or None
        self.region = env.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.client = boto3.client("secretsmanager", endpoint_url=self.endpoint, region_name=self.region,
                                   config=Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 1}))
        self.describe = "AWS Secrets Manager (%s, region %s)" % (self.endpoint or "default endpoint", self.region)

    def name(self, name):
        return name

    def get(self, name):
        return self.client.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"]


class AzureSecrets(object):
    def __init__(self, env):
        from azure.identity import ClientSecretCredential
        from azure.keyvault.secrets import SecretClient
        forget_secret(env.get("AZURE_CLIENT_SECRET"))
        self.url = env.get("IV_KEY_VAULT_URL")
        if not self.url:
            raise ValueError("IV_KEY_VAULT_URL is not set")
        verify = env.get("IV_CA_BUNDLE") or True
        identity = dict(connection_verify=verify)
        authority = env.get("IV_AZURE_AUTHORITY_HOST")
        if authority:
            identity.update(authority=authority, disable_instance_discovery=True)
        credential = ClientSecretCredential(env.get("AZURE_TENANT_ID", ""), env.get("AZURE_CLIENT_ID", ""),
                                            env.get("AZURE_CLIENT_SECRET", ""), **identity)
        host = self.url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower()
        self.client = SecretClient(self.url, credential, connection_verify=verify,
                                   verify_challenge_resource=".vault." in host and ".azure." in host)
        self.describe = "Azure Key Vault %s" % self.url

    def name(self, name):
        return re.sub(r"[^0-9A-Za-z-]", "-", name)

    def get(self, name):
        return self.client.get_secret(name).value


def secret_store(env):
    provider = (env.get("IV_SECRET_PROVIDER") or "aws").lower()
    if provider == "aws":
        return AwsSecrets(env)
    if provider == "azure":
        return AzureSecrets(env)
    raise ValueError("IV_SECRET_PROVIDER=%r: expected aws or azure" % provider)


def parse_db_info(text, name):
    """psycopg2 keyword arguments from a db-info secret's JSON (DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD)."""
    try:
        info = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ValueError("secret %s is not JSON (%s)" % (name, type(exc).__name__))
    if not isinstance(info, dict):
        raise ValueError("secret %s is not a JSON object" % name)
    forget_secret(info.get("DB_PASSWORD"))
    missing = [key for key in ("DB_HOST", "DB_NAME", "DB_USER", "DB_PASSWORD") if not info.get(key)]
    if missing:
        raise ValueError("secret %s has no %s" % (name, ", ".join(missing)))
    try:
        port = int(info.get("DB_PORT") or 5432)
    except (TypeError, ValueError):
        raise ValueError("secret %s: DB_PORT is not a number" % name)
    return dict(host=str(info["DB_HOST"]), port=port, dbname=str(info["DB_NAME"]), user=str(info["DB_USER"]),
                password=str(info["DB_PASSWORD"]))


# the service ----------------------------------------------------------------------------------------------------
class Service(object):
    def __init__(self, name, env):
        self.name = name
        self.env = env
        self.log = Log(name)
        self.port = int(env["PORT"])
        self.environment = env.get("IV_ENVIRONMENT", "lab")
        self.namespace = env.get("IV_NAMESPACE") or env.get("POD_NAMESPACE") or "ivault"
        self.shutdown_seconds = float(env.get("LAB_SHUTDOWN_SECONDS") or 0)
        self.db = None            # psycopg2 kwargs once the db-info secret is read
        self.failed = None        # a reason that keeps the service not ready for good (a wrong EMP)
        self.starting = "reading its secrets"
        self.stopping = threading.Event()
        self.stopped = threading.Event()
        self.db_up = None         # last known database state, to log changes only
        self._last_problem = None
        self._last_connected = None

    # names ----------------------------------------------------------------------------------------------
    def secret_name(self, kind):
        return "%s.%s.%s.%s" % (self.environment, self.namespace, self.name, kind)

    @property
    def is_policy_node(self):
        return self.name.startswith("policy-node")

    # start-up -------------------------------------------------------------------------------------------
    def problem(self, message):
        if message != self._last_problem:
            self.log("%s (retrying every %g s)" % (message, RETRY_SECONDS))
            self._last_problem = message
        self.starting = message

    def start_up(self):
        """Read the secrets, for a policy node decrypt its key share; retried until done, stopping or failed."""
        store = None
        while not self.stopping.is_set():
            try:
                if store is None:
                    store = secret_store(self.env)
                    self.log("reading secrets from %s" % store.describe)
                if self.try_start(store):
                    return
            except (RuntimeError, ValueError) as exc:  # our own messages: a secret missing, unreadable or malformed
                self.problem(str(exc))
            except Exception as exc:  # a stand-in keeps running and says why, like a pod that is not Ready
                self.problem("cannot start: %s" % first_line(exc))
            if self.failed:
                return
            self.stopping.wait(RETRY_SECONDS)

    def read_secret(self, store, kind):
        name = store.name(self.secret_name(kind))
        try:
            return name, store.get(name)
        except Exception as exc:
            raise RuntimeError("cannot read secret %s from %s: %s" % (name, store.describe, first_line(exc)))

    def try_start(self, store):
        db_name, text = self.read_secret(store, "db-info")
        db = parse_db_info(text, db_name)
        emp_name = emp = None
        if self.is_policy_node:
            emp_name, emp = self.read_secret(store, "encryptor-master-password")
            forget_secret(emp)
        try:
            conn = self.connect(db)
        except Exception as exc:
            self.problem("cannot connect to database %s:%s/%s as %s: %s"
                         % (db["host"], db["port"], db["dbname"], db["user"], first_line(exc)))
            return False
        try:
            connected = "connected to database %s:%s/%s as %s (from secret %s)" % (
                db["host"], db["port"], db["dbname"], db["user"], db_name)
            if connected != self._last_connected:
                self.log(connected)
                self._last_connected = connected
            if self.is_policy_node and not self.unlock(conn, emp, emp_name):
                return False
        finally:
            conn.close()
        self.db = db
        self.db_up = True
        self.starting = None
        self.log("started: configuration loaded")
        return True

    def unlock(self, conn, emp, emp_name):
        from cryptography.exceptions import InvalidTag
        with conn.cursor() as cur:
            cur.execute("SELECT salt, nonce, ciphertext FROM key_shares WHERE node = %s", (self.name,))
            row = cur.fetchone()
        if row is None:
            self.problem("no key share for %s in table key_shares" % self.name)
            return False
        try:
            iv_database.decrypt_share(emp, self.name, *row)
        except InvalidTag:
            self.failed = ("cannot decrypt key share with the Encryptor Master Password from %s: authentication"
                           " tag mismatch (wrong or changed EMP)" % emp_name)
            # Nothing to serve without the share: exit, as a service that cannot unlock at start does. The
            # kubelet restarts it (CrashLoopBackOff) and each start reads the EMP secret again, so the pod becomes
            # Ready once the secret is put back, and never before.
            self.log(self.failed + "; exiting (this node cannot become ready until its EMP secret is fixed)")
            sys.stdout.flush()
            os._exit(3)
        self.log("key share decrypted with the Encryptor Master Password from %s" % emp_name)
        return True

    # database -------------------------------------------------------------------------------------------
    def connect(self, db):
        import psycopg2
        return psycopg2.connect(connect_timeout=3, application_name="iv-%s" % self.name,
                                options="-c statement_timeout=5000", **db)

    def query(self, sql, params=()):
        """Rows of sql on a fresh connection; logs when the database goes down or comes back."""
        try:
            conn = self.connect(self.db)
            try:
                with conn.cursor() as cur:
                    cur.execute(sql, params)
                    rows = cur.fetchall()
            finally:
                conn.close()
        except Exception as exc:
            reason = first_line(exc)
            if self.db_up is not False:
                self.log("database %s:%s/%s does not answer: %s"
                         % (self.db["host"], self.db["port"], self.db["dbname"], reason))
            self.db_up = False
            raise RuntimeError("database does not answer: %s" % scrub(reason))
        if self.db_up is False:
            self.log("database %s:%s/%s answers again" % (self.db["host"], self.db["port"], self.db["dbname"]))
        self.db_up = True
        return rows

    # probes ---------------------------------------------------------------------------------------------
    def not_ready_reason(self):
        if self.stopping.is_set():
            return "shutting down"
        if self.failed:
            return self.failed
        if self.db is None:
            return "starting: %s" % self.starting
        try:
            self.query("SELECT 1")
        except RuntimeError as exc:
            return str(exc)
        return None

    def health(self):
        if self.stopping.is_set():
            return 503, {"status": "error", "database": "unknown", "reason": "shutting down"}
        if self.db is None or self.failed:
            return 503, {"status": "error", "database": "unknown", "reason": self.failed or self.starting}
        try:
            self.query("SELECT 1")
        except RuntimeError as exc:
            return 503, {"status": "error", "database": "down", "reason": str(exc)}
        return 200, {"status": "ok", "database": "up"}

    def accounts(self, query):
        if self.db is None:
            return 503, {"error": "not ready: %s" % (self.starting or "")}
        try:
            limit = int(query.get("limit", 1000))
            offset = int(query.get("offset", 0))
        except ValueError:
            return 400, {"error": "limit and offset must be integers"}
        try:
            total = self.query("SELECT count(*) FROM accounts")[0][0]
            rows = self.query("SELECT id, name, asset, created_at FROM accounts ORDER BY id LIMIT %s OFFSET %s",
                              (max(limit, 0), max(offset, 0)))
        except RuntimeError as exc:
            return 503, {"error": str(exc)}
        return 200, {"accounts": [{"id": r[0], "name": r[1], "asset": r[2], "created_at": r[3].isoformat()}
                                  for r in rows], "total": total}

    def answer(self, path, query):
        if path == "/ready":
            reason = self.not_ready_reason()
            return (503, {"ready": False, "reason": reason}) if reason else (200, {"ready": True})
        if path == "/health":
            return self.health()
        if path == "/api/v2/accounts" and self.name == "wallet":
            return self.accounts(query)
        return 404, {"error": "no such path: %s" % path}

    # servers --------------------------------------------------------------------------------------------
    def tls_context(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert, key = self.env.get("IV_TLS_CERT"), self.env.get("IV_TLS_KEY")
        if cert and key:
            context.load_cert_chain(cert, key)
            return context
        directory = tempfile.mkdtemp(prefix="iv-service-tls-")
        try:
            cert, key = azure_https.make_certificate(directory)  # key file 0600, removed below
            context.load_cert_chain(cert, key)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        self.log("no IV_TLS_CERT/IV_TLS_KEY: serving a self-signed certificate")
        return context

    def https_server(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # probes every second would drown the log
                pass

            def do_GET(self):
                parsed = urllib.parse.urlsplit(self.path)
                query = dict((k, v[0]) for k, v in urllib.parse.parse_qs(parsed.query).items())
                try:
                    status, body = service.answer(parsed.path, query)
                except Exception as exc:
                    service.log("error answering %s: %s" % (parsed.path, first_line(exc)))
                    status, body = 500, {"error": "internal error"}
                payload = scrub(json.dumps(body)).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        httpd.daemon_threads = True
        httpd.socket = self.tls_context().wrap_socket(httpd.socket, server_side=True)
        return httpd

    def nats_server(self):
        service = self
        info = {"server_id": "LAB%s" % os.getpid(), "server_name": self.env.get("POD_NAME") or "nats",
                "version": "2.10.0-lab", "proto": 1, "host": "127.0.0.1", "port": self.port,
                "max_payload": 1048576, "headers": True}

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                if not service.stopping.is_set():
                    try:
                        self.request.sendall(("INFO %s\r\n" % json.dumps(info)).encode())
                    except OSError:
                        pass

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        return server

    def on_signal(self, signum, _frame):
        if not self.stopping.is_set():
            self.log("received %s: shutting down in %g s (not ready from now on)"
                     % (signal.Signals(signum).name, self.shutdown_seconds))
            self.stopping.set()

    def run(self):
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)
        server = self.nats_server() if self.name == "nats" else self.https_server()
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
        self.log("listening on 127.0.0.1:%d (%s, pod %s in namespace %s)"
                 % (self.port, "tcp" if self.name == "nats" else "https", self.env.get("POD_NAME", "-"),
                    self.env.get("POD_NAMESPACE", "-")))
        if self.name == "nats":
            self.log("started")
        else:
            threading.Thread(target=self.start_up, daemon=True).start()
        while not self.stopping.wait(0.5):
            pass
        deadline = time.monotonic() + self.shutdown_seconds
        if self.name == "nats":  # readiness is the open port: close it at once
            server.shutdown()
            server.server_close()
        while time.monotonic() < deadline:
            time.sleep(min(0.1, max(deadline - time.monotonic(), 0)))
        if self.name != "nats":
            server.shutdown()
            server.server_close()
        self.log("stopped")
        return 0


def main(argv):
    if len(argv) != 2 or argv[1] not in SERVICES:
        sys.stderr.write("usage: iv_service.py {%s}\n" % "|".join(SERVICES))
        return 2
    if not os.environ.get("PORT"):
        sys.stderr.write("%s: PORT is not set\n" % argv[1])
        return 2
    return Service(argv[1], dict(os.environ)).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))

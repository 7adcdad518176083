"""The Institutional Vault service stand-ins (tests/support/iv_service.py) against a real PostgreSQL.

A TempCluster seeded by tests/support/iv_database.py, the db-info and EMP
secrets in a moto Secrets Manager (and once in the Key Vault stand-in), and
iv_service.py processes run directly, as the simulated kubelet runs them.
Every wait polls a condition until a deadline.
"""

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import boto3
import pytest
from cryptography.exceptions import InvalidTag

from support import azure_https
from support.azure_key_vault import KeyVaultStandIn
from support.db_info_planted import emp, password
from support.iv_database import NODES, account_count, db_info, decrypt_share, encrypt_share, seed
from support.moto_server import ACCESS_KEY, REGION, SECRET_KEY
from support.pg_cluster import TempCluster, free_port
from support.polling import wait_for

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      "support", "iv_service.py")
APP_USER = "iv_app"
APP_PASSWORD = password("wallet")          # one login role for every service in the lab
EMPS = dict((node, emp(node)) for node in NODES)
CHANGED_EMP = "planted-EMP-policy-node1-CHANGED-3e51aa"
ACCOUNTS = 23
ENVIRONMENT = "lab"


def get(port, path):
    """(status, parsed JSON body) of an HTTPS GET without certificate checks; (None, reason) if it fails."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen("https://127.0.0.1:%d%s" % (port, path), context=context, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except (OSError, ValueError) as exc:
        return None, str(exc)


def tcp_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class Pod(object):
    """One iv_service.py process; its output goes to a file (the pod's log)."""

    def __init__(self, service, env, log_dir):
        self.service = service
        self.port = free_port()
        self.log_path = os.path.join(str(log_dir), "%s-%d.log" % (service, self.port))
        full_env = dict(os.environ, PORT=str(self.port), POD_NAME="%s-0" % service, POD_NAMESPACE="iv-lab", **env)
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen([sys.executable, SCRIPT, service], env=full_env, stdout=log,
                                            stderr=subprocess.STDOUT)

    def output(self):
        with open(self.log_path) as handle:
            return handle.read()

    def ready(self):
        return get(self.port, "/ready")[0] == 200

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def secrets(moto):
    client = boto3.client("secretsmanager", endpoint_url=moto.url, aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY, region_name=REGION)

    def put(namespace, service, kind, value):
        name = "%s.%s.%s.%s" % (ENVIRONMENT, namespace, service, kind)
        client.create_secret(Name=name, SecretString=value)
        return name
    return put


@pytest.fixture(scope="module")
def cluster():
    started = TempCluster().start()
    seed(started, EMPS, accounts=ACCOUNTS, app_password=APP_PASSWORD, app_user=APP_USER)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def outputs():
    """Every pod's output; at the end, none may hold a planted secret value."""
    pods = []
    yield pods
    planted = [APP_PASSWORD, CHANGED_EMP, TempCluster.superuser_password, SECRET_KEY] + list(EMPS.values())
    leaked = [(pod.service, value) for pod in pods for value in planted if value in pod.output()]
    assert not leaked


@pytest.fixture
def pods(outputs, tmp_path):
    started = []

    def start(service, env):
        pod = Pod(service, env, tmp_path)
        started.append(pod)
        outputs.append(pod)
        return pod
    yield start
    for pod in started:
        pod.stop()


def aws_env(moto, namespace, **more):
    env = dict(IV_ENVIRONMENT=ENVIRONMENT, IV_NAMESPACE=namespace, IV_SECRET_PROVIDER="aws",
               IV_AWS_ENDPOINT_URL=moto.url, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
               AWS_DEFAULT_REGION=REGION)
    env.update(more)
    return env


def app_db_info(cluster):
    return db_info("127.0.0.1", cluster.port, APP_USER, APP_PASSWORD)


def test_seed_keeps_no_secret_in_clear(cluster):
    dump = cluster.psql("SELECT string_agg(encode(salt || nonce || ciphertext, 'escape'), '') FROM key_shares;",
                        "ivault")
    assert account_count(cluster) == ACCOUNTS
    assert cluster.psql("SELECT count(*) FROM key_shares;", "ivault") == "3"
    assert not [value for value in EMPS.values() if value in dump]


def test_a_share_opens_only_with_its_emp_and_node():
    salt, nonce, ciphertext = encrypt_share(EMPS["policy-node0"], "policy-node0", b"s" * 32)
    assert decrypt_share(EMPS["policy-node0"], "policy-node0", salt, nonce, ciphertext) == b"s" * 32
    for emp_value, node in ((CHANGED_EMP, "policy-node0"), (EMPS["policy-node0"], "policy-node1")):
        with pytest.raises(InvalidTag):
            decrypt_share(emp_value, node, salt, nonce, ciphertext)


def test_wallet_health_accounts_and_database_down(moto, secrets, pods):
    own = TempCluster().start()   # this test stops its database
    try:
        seed(own, {}, accounts=7, app_password=APP_PASSWORD, app_user=APP_USER)
        secrets("wallet-t", "wallet", "db-info", app_db_info(own))
        wallet = pods("wallet", aws_env(moto, "wallet-t", LAB_SHUTDOWN_SECONDS="1"))
        wait_for(wallet.ready, 15, "wallet ready")
        assert get(wallet.port, "/health") == (200, {"status": "ok", "database": "up"})
        status, body = get(wallet.port, "/api/v2/accounts")
        assert status == 200 and body["total"] == 7 and len(body["accounts"]) == 7
        assert sorted(body["accounts"][0]) == ["asset", "created_at", "id", "name"]
        assert get(wallet.port, "/api/v2/accounts?limit=2&offset=6")[1]["accounts"][0]["id"] == 7
        assert "connected to database 127.0.0.1:%d/ivault as iv_app" % own.port in wallet.output()

        own.stop()
        status, body = get(wallet.port, "/health")
        assert status == 503 and body["database"] == "down", body
        assert get(wallet.port, "/ready")[0] == 503
        assert "does not answer" in wallet.output()

        wallet.process.send_signal(signal.SIGTERM)
        wait_for(lambda: get(wallet.port, "/ready")[1].get("reason") == "shutting down", 0.9, "not ready")
        assert wallet.process.wait(timeout=10) == 0
        assert "received SIGTERM" in wallet.output() and "stopped" in wallet.output()
    finally:
        own.stop()


def test_policy_node_with_its_emp_becomes_ready(cluster, moto, secrets, pods):
    secrets("pn-ok", "policy-node0", "db-info", app_db_info(cluster))
    secrets("pn-ok", "policy-node0", "encryptor-master-password", EMPS["policy-node0"])
    node = pods("policy-node0", aws_env(moto, "pn-ok"))
    wait_for(node.ready, 15, "policy-node0 ready")
    assert "key share decrypted" in node.output()
    assert get(node.port, "/health")[0] == 200


def test_policy_node_with_a_changed_emp_never_becomes_ready(cluster, moto, secrets, pods):
    secrets("pn-bad", "policy-node1", "db-info", app_db_info(cluster))
    emp_name = secrets("pn-bad", "policy-node1", "encryptor-master-password", CHANGED_EMP)
    node = pods("policy-node1", aws_env(moto, "pn-bad"))
    wait_for(lambda: "cannot decrypt" in node.output(), 15, "the decryption failure in the log")
    line = [x for x in node.output().splitlines() if "cannot decrypt" in x][0]
    assert ("policy-node1: cannot decrypt key share with the Encryptor Master Password from %s: authentication tag"
            " mismatch (wrong or changed EMP)" % emp_name) in line
    # it never answered ready: it exits (the kubelet restarts it and it reads the EMP again)
    assert node.process.wait(timeout=15) == 3
    assert "exiting" in line
    assert "key share decrypted" not in node.output() and "configuration loaded" not in node.output()


def test_policy_node_waits_for_its_secret(cluster, moto, secrets, pods):
    node = pods("policy-node2", aws_env(moto, "pn-late"))
    wait_for(lambda: "cannot read secret lab.pn-late.policy-node2.db-info" in node.output(), 15, "the missing secret")
    assert get(node.port, "/ready")[0] == 503
    secrets("pn-late", "policy-node2", "db-info", app_db_info(cluster))
    secrets("pn-late", "policy-node2", "encryptor-master-password", EMPS["policy-node2"])
    wait_for(node.ready, 15, "policy-node2 ready once its secrets exist")


def test_orchestrator_becomes_ready_and_has_no_accounts_api(cluster, moto, secrets, pods):
    secrets("orch", "orchestrator", "db-info", app_db_info(cluster))
    orchestrator = pods("orchestrator", aws_env(moto, "orch"))
    wait_for(orchestrator.ready, 15, "orchestrator ready")
    assert get(orchestrator.port, "/health") == (200, {"status": "ok", "database": "up"})
    assert get(orchestrator.port, "/api/v2/accounts")[0] == 404


def test_nats_ready_on_tcp_and_graceful_shutdown(pods):
    nats = pods("nats", {"LAB_SHUTDOWN_SECONDS": "1"})
    wait_for(lambda: tcp_open(nats.port), 10, "nats port open")
    with socket.create_connection(("127.0.0.1", nats.port), timeout=2) as conn:
        assert conn.makefile("rb").readline().startswith(b"INFO {")
    started = time.monotonic()
    nats.process.send_signal(signal.SIGTERM)
    wait_for(lambda: not tcp_open(nats.port), 0.9, "nats port closed during its shutdown", interval=0.05)
    assert nats.process.poll() is None
    assert nats.process.wait(timeout=10) == 0
    assert time.monotonic() - started >= 1.0
    assert "received SIGTERM: shutting down in 1 s" in nats.output()


def test_wallet_reads_its_db_info_from_key_vault(cluster, pods, tmp_path):
    vault = KeyVaultStandIn(tmp_path / "key-vault").start()
    try:
        vault.set("lab-kv-t-wallet-db-info", app_db_info(cluster))
        wallet = pods("wallet", dict(
            IV_ENVIRONMENT=ENVIRONMENT, IV_NAMESPACE="kv.t", IV_SECRET_PROVIDER="azure", IV_KEY_VAULT_URL=vault.url,
            AZURE_TENANT_ID=azure_https.TENANT_ID, AZURE_CLIENT_ID=azure_https.CLIENT_ID,
            AZURE_CLIENT_SECRET=azure_https.CLIENT_SECRET, IV_AZURE_AUTHORITY_HOST=vault.server.authority_host,
            IV_CA_BUNDLE=vault.server.ca_bundle))
        wait_for(wallet.ready, 20, "wallet ready with Key Vault")
        assert get(wallet.port, "/api/v2/accounts")[1]["total"] == ACCOUNTS
        assert "from secret lab-kv-t-wallet-db-info" in wallet.output()
        assert azure_https.CLIENT_SECRET not in wallet.output()
    finally:
        vault.stop()

"""The IV lab's wallet Service stand-in, its one certificate, the drill namespace and the test helpers.

One lab (aws) for the module. The wallet is reached as an operator reaches it: https://127.0.0.1:<fixed port>
through the Service stand-in, with the certificate verified against the lab CA. Scaling the wallet to 0 makes
connections fail at once; the drill namespace is stopped, annotated as the services role leaves one, and its
db-info secrets point at ivault_drill on the target cluster. Waits poll conditions (tests/support/polling.py).
"""

import json
import os
import socket
import ssl
import stat
import time
import urllib.error
import urllib.request

import psycopg2
import pytest

from support import iv_database
from support.iv_lab import APP_PASSWORD, DB_SERVICES, DRILL_DATABASE, EMPS, NODES, PLANTED, REPLICAS_ANNOTATION, WORKLOADS, IVLab
from support.polling import wait_for
from support.service_proxy import pod_is_ready


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = IVLab(tmp_path_factory.mktemp("iv-lab-service")).start()
    yield lab
    lab.stop()


def host_vars(lab):
    with open(lab.inventory) as handle:
        text = handle.read()
    return text, json.loads(text)["all"]["children"]["institutional_vault"]["hosts"]["iv_lab"]


def test_wallet_url_verified_health_and_accounts(lab):
    text, host = host_vars(lab)
    url, ca_cert = host["institutional_vault_wallet_url"], host["institutional_vault_wallet_ca_cert"]
    assert url == lab.wallet_url and url.startswith("https://127.0.0.1:") and ca_cert == lab.ca_cert
    assert host["institutional_vault_drill_namespace"] == lab.drill_namespace == "iv-lab-drill"
    assert host["institutional_vault_namespace"] == "iv-lab"   # the existing vars stay
    assert [value for value in PLANTED if value in text] == []
    assert stat.S_IMODE(os.stat(lab.inventory).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(lab.tls_key).st_mode) == 0o600

    assert lab.wallet_get("/health") == (200, {"status": "ok", "database": "up"})
    status, body = lab.wallet_get("/api/v2/accounts")
    assert status == 200 and body["total"] == 12 and len(body["accounts"]) == 12

    # verification is really on: a client trusting only the system CAs refuses the lab's certificate
    with pytest.raises(urllib.error.URLError) as refused:
        urllib.request.urlopen(url + "/health", context=ssl.create_default_context(), timeout=5)
    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)

    # every HTTPS pod serves the lab certificate, not one of its own
    with open(lab.ca_cert) as handle:
        lab_pem = handle.read()
    for name in ("wallet",) + NODES:
        for pod in lab.workload_pods(name):
            port = int(pod["metadata"]["annotations"]["lab.vaultops.io/port"])
            assert ssl.get_server_certificate(("127.0.0.1", port)).strip() == lab_pem.strip(), name


def test_relay_spreads_over_ready_pods(lab):
    endpoints = lab.wallet.endpoints()
    assert len(endpoints) == 2 and all(port != lab.wallet.port for _name, port in endpoints)
    before = lab.wallet.connections
    statuses = [lab.wallet_get("/health")[0] for attempt in range(4)]
    assert statuses == [200] * 4
    assert lab.wallet.connections - before == 4


def test_no_ready_wallet_fails_at_once_then_recovers(lab):
    port = lab.wallet.port
    lab.scale("wallet", 0)
    wait_for(lambda: not lab.workload_pods("wallet"), timeout=20, what="the wallet pods to be gone")
    started = time.monotonic()
    with pytest.raises(OSError):
        lab.wallet_get("/health", timeout=10)
    assert time.monotonic() - started < 1.0
    assert lab.wallet.refused >= 1

    lab.scale("wallet", 2)
    wait_for(lambda: len([p for p in lab.workload_pods("wallet") if pod_is_ready(p)]) == 2, timeout=30,
             what="two Ready wallet pods")
    assert lab.wallet.port == port   # the Service's address did not move
    assert lab.wallet_get("/health")[0] == 200


def test_drill_namespace_stopped_and_annotated(lab):
    drill = lab.drill_namespace
    assert lab.api.pods(drill) == []
    for name, kind, replicas, _probe, _grace in WORKLOADS:
        obj = lab.api.get(kind, drill, name)
        assert obj["spec"]["replicas"] == 0
        assert obj["metadata"]["annotations"][REPLICAS_ANNOTATION] == str(replicas)
        env = dict((e["name"], e.get("value")) for e in obj["spec"]["template"]["spec"]["containers"][0]["env"])
        assert env["IV_NAMESPACE"] == drill
    assert lab.api.get("Secret", drill, "iv-cloud-credentials")["data"]


def test_drill_secrets_point_at_ivault_drill_on_target(lab):
    drill = lab.drill_namespace
    for service in DB_SERVICES:
        info = json.loads(lab.secret_value("lab.%s.%s.db-info" % (drill, service)))
        assert (info["DB_HOST"], info["DB_PORT"], info["DB_NAME"]) == ("127.0.0.1", lab.target.port, DRILL_DATABASE)
        production = json.loads(lab.secret_value("lab.iv-lab.%s.db-info" % service))
        assert (production["DB_PORT"], production["DB_NAME"]) == (lab.source.port, "ivault")
    for node in NODES:
        name = "lab.%s.%s.encryptor-master-password" % (drill, node)
        production = "lab.iv-lab.%s.encryptor-master-password" % node
        assert lab.secret_value(name) == EMPS[node] == lab.secret_value(production)
    lab.set_emp("policy-node1", "planted-EMP-drill-changed-77a0", namespace=drill)
    assert lab.secret_value("lab.%s.policy-node1.encryptor-master-password" % drill) == "planted-EMP-drill-changed-77a0"
    assert lab.secret_value("lab.iv-lab.policy-node1.encryptor-master-password") == EMPS["policy-node1"]
    lab.set_emp("policy-node1", EMPS["policy-node1"], namespace=drill)
    assert lab.account_count("target", DRILL_DATABASE) is None   # a drill restores into it: not there yet


def test_drill_starts_to_annotated_counts_once_its_database_exists(lab):
    """What a drill does after its restore: ivault_drill exists (here seeded), the start brings the counts back."""
    drill = lab.drill_namespace
    iv_database.seed(lab.target, EMPS, accounts=5, database=DRILL_DATABASE, app_password=APP_PASSWORD)
    try:
        for name, kind, _replicas, _probe, _grace in WORKLOADS:
            obj = lab.api.get(kind, drill, name)
            lab.scale(name, int(obj["metadata"]["annotations"][REPLICAS_ANNOTATION]), namespace=drill)
        wanted = sum(w[2] for w in WORKLOADS)
        wait_for(lambda: len([p for p in lab.api.pods(drill) if pod_is_ready(p)]) == wanted, timeout=30,
                 what="every drill pod Ready")
        wallet = lab.workload_pods("wallet", namespace=drill)[0]
        with open(wallet["metadata"]["annotations"]["lab.vaultops.io/log"]) as handle:
            log = handle.read()
        assert "127.0.0.1:%d/%s" % (lab.target.port, DRILL_DATABASE) in log
    finally:
        for name, _kind, _replicas, _probe, _grace in WORKLOADS:
            lab.scale(name, 0, namespace=drill)
        wait_for(lambda: lab.api.pods(drill) == [], timeout=30, what="the drill pods to be gone")


def test_helpers_disaster_and_after_backup_rows(lab):
    assert lab.account_count("source") == 12
    ids = lab.add_accounts(3)
    assert ids == [13, 14, 15] and lab.account_count("source") == 15
    assert lab.wallet_get("/api/v2/accounts")[1]["total"] == 15
    lab.disaster_drop_accounts()
    assert lab.account_count("source") is None
    status, body = lab.wallet_get("/api/v2/accounts")
    assert status == 503 and "accounts" in body["error"]
    with pytest.raises(psycopg2.Error):
        lab.add_accounts(1)


def test_relay_passes_the_pods_tls_through(lab):
    """A raw TLS client shakes hands with the pod itself through the relay (no termination in between)."""
    with socket.create_connection(("127.0.0.1", lab.wallet.port), timeout=5) as sock:
        context = ssl.create_default_context(cafile=lab.ca_cert)
        with context.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            assert tls.getpeercert()["subjectAltName"] == (("IP Address", "127.0.0.1"), ("DNS", "localhost"))


def test_azure_store_secret_value_and_set_emp(tmp_path):
    """On azure, secret_value and set_emp go through Key Vault's name rule (only the store is started: cheap)."""
    lab = IVLab(tmp_path / "lab", provider="azure")
    os.makedirs(lab.directory, mode=0o700)
    lab.start_store()
    try:
        lab.set_emp("policy-node2", "planted-EMP-azure-drill-5b1e", namespace=lab.drill_namespace)
        assert lab.secret_value("lab.iv-lab-drill.policy-node2.encryptor-master-password") == \
            "planted-EMP-azure-drill-5b1e"
        assert lab.store.latest("lab-iv-lab-drill-policy-node2-encryptor-master-password")["value"] == \
            "planted-EMP-azure-drill-5b1e"
    finally:
        lab.store.stop()

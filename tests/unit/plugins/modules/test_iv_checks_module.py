"""iv_checks main() run in-process against the Kubernetes API stand-in (pods are real local processes), a local
HTTPS wallet stand-in and a real PostgreSQL: all checks pass, failed checks do not fail the module unless asked,
connection failures become failed checks naming the option to fix, the wait re-checks, the pending-operations
probe (a missing table is null), and the planted token and passwords appear in no output."""

import json
import sys

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vaultops.recovery.plugins.modules import iv_checks
from support.polling import wait_for
from support.wallet_standin import WalletStandIn

WALLET_TOKEN = "PLANTED-wallet-token-c41d8e"
DB_PASSWORD = "PLANTED-db-password-9b2f70"
DB_USER = "iv_reader"


@pytest.fixture(scope="module")
def wallet(tmp_path_factory):
    server = WalletStandIn(tmp_path_factory.mktemp("wallet"), token=WALLET_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh_wallet(wallet):
    wallet.health, wallet.send_total, wallet.redirect_to = (200, {"status": "ok"}), True, None
    del wallet.requests[:]


def deployment(namespace, name, program):
    labels = {"app.kubernetes.io/name": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {
                         "terminationGracePeriodSeconds": 1,
                         "containers": [{"name": name, "image": "lab/%s:1" % name, "command": program}]}}}}


def all_ready(api, namespace):
    pods = api.pods(namespace)
    return pods and all(c.get("ready") for p in pods for c in p["status"].get("containerStatuses") or [])


@pytest.fixture(scope="module")
def cluster(kube_api, pod_program):
    kube_api.apply(deployment("ivok", "wallet", [sys.executable, pod_program]))
    kube_api.apply(deployment("ivbad", "wallet", [sys.executable, pod_program]))
    kube_api.apply(deployment("ivbad", "policy-node1", [sys.executable, "-c", "raise SystemExit(3)"]))
    wait_for(lambda: all_ready(kube_api, "ivok"), what="the ivok pod Ready")

    def crashing():
        pods = kube_api.pods("ivbad", "app.kubernetes.io/name=policy-node1")
        return pods and pods[0]["status"]["containerStatuses"][0]["state"].get("waiting", {}).get(
            "reason") == "CrashLoopBackOff"
    wait_for(crashing, what="policy-node1 in CrashLoopBackOff")
    wait_for(lambda: all_ready(kube_api, "ivbad") is not None, what="ivbad listed")
    return kube_api


@pytest.fixture(scope="module")
def database(pg_cluster):
    pg_cluster.psql('CREATE ROLE :"user" LOGIN PASSWORD :\'pw\';', variables={"user": DB_USER, "pw": DB_PASSWORD})
    for name in ("ivchecks_wallet", "ivchecks_empty"):
        pg_cluster.psql('CREATE DATABASE :"name" OWNER :"owner";', variables={"name": name, "owner": DB_USER})
    pg_cluster.psql("CREATE TABLE pending_operations (id serial PRIMARY KEY, kind text);"
                    " INSERT INTO pending_operations (kind) VALUES ('transfer'), ('transfer'), ('stake');"
                    " GRANT SELECT ON pending_operations TO %s;" % DB_USER, database="ivchecks_wallet")
    return dict(host="127.0.0.1", port=pg_cluster.port, name="ivchecks_wallet", user=DB_USER)


def run_main(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exited:
            iv_checks.main()
    out = capsys.readouterr()
    text = out.out + out.err
    for secret in (WALLET_TOKEN, DB_PASSWORD, "wrong-kube-token-PLANTED"):
        assert secret not in text
    return exited.value.code, json.loads(out.out)


def common(api, wallet, **extra):
    args = dict(host=api.url, api_key=api.token, ca_cert=api.ca_cert, wallet_url=wallet.url,
                wallet_ca_cert=wallet.ca_cert, wallet_api_token=WALLET_TOKEN, timeout=5)
    args.update(extra)
    return args


def test_all_checks_pass_in_order_and_nothing_changes(cluster, wallet, database, capsys):
    for check_mode in (False, True):
        code, out = run_main(capsys, namespace="ivok", expected_accounts=7, database=database,
                             database_password=DB_PASSWORD, _ansible_check_mode=check_mode,
                             **common(cluster, wallet))
        assert code == 0, out.get("msg")
        assert [(c["name"], c["passed"]) for c in out["checks"]] == [
            ("pods_ready", True), ("wallet_health", True), ("accounts_count", True)]
        assert out["checks"][0]["detail"] == "1 pods Ready in namespace ivok"
        assert out["checks"][2]["detail"] == "7 accounts, as expected"
        assert out["passed"] is True and out["failed_checks"] == [] and out["changed"] is False
        assert [(p["phase"], p["ready"], p["reason"]) for p in out["pods"]] == [("Running", True, "ready")]
        assert out["pods"][0]["name"].startswith("wallet-")
        assert out["health"] == {"status_code": 200, "status": "ok"} and out["accounts_total"] == 7
        assert out["pending_operations"] == 3 and out["rounds"] == 1
    assert all(authorized for _path, _query, authorized in wallet.requests)


def test_failed_checks_are_returned_without_failing(cluster, wallet, capsys):
    wallet.health = (503, {"status": "degraded"})
    code, out = run_main(capsys, namespace="ivbad", expected_accounts=9, **common(cluster, wallet))
    assert code == 0 and out["passed"] is False
    assert out["failed_checks"] == ["pods_ready", "wallet_health", "accounts_count"]
    pods = out["checks"][0]["detail"]
    assert pods.startswith("1 of 2 pods in namespace ivbad not Ready: policy-node1-")
    assert "container policy-node1 CrashLoopBackOff" in pods
    assert "HTTP 503, status 'degraded'" in out["checks"][1]["detail"]
    assert out["checks"][2]["detail"] == "7 accounts, 9 expected: 2 missing"
    assert out["pending_operations"] is None and out["pending_operations_detail"] == "not counted: no database given"


def test_fail_on_failed_check_names_every_failed_check(cluster, wallet, capsys):
    code, out = run_main(capsys, namespace="ivempty", expected_accounts=9, fail_on_failed_check=True,
                         **common(cluster, wallet))
    assert code == 1 and out["failed"] is True
    assert ("2 of 3 checks failed: pods_ready: no pods in namespace ivempty; accounts_count: 7 accounts, 9 expected:"
            " 2 missing.") in out["msg"]
    assert out["failed_checks"] == ["pods_ready", "accounts_count"] and len(out["checks"]) == 3


def test_connection_failures_are_failed_checks_naming_the_option(cluster, wallet, tmp_path, capsys):
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_text(open(cluster.ca_cert).read())  # a real CA, but not the wallet's
    code, out = run_main(capsys, namespace="ivok", **common(cluster, wallet, api_key="wrong-kube-token-PLANTED",
                                                            wallet_ca_cert=str(other_ca)))
    assert code == 0 and out["failed_checks"] == ["pods_ready", "wallet_health", "accounts_count"]
    assert "401 Unauthorized" in out["checks"][0]["detail"] and "api_key" in out["checks"][0]["detail"]
    for item in out["checks"][1:]:
        assert "TLS certificate could not be verified" in item["detail"] and "wallet_ca_cert" in item["detail"]
    assert out["health"] is None and out["accounts_total"] is None and out["pods"] == []
    assert wallet.requests == []


def test_a_wrong_wallet_token_names_wallet_api_token(cluster, wallet, capsys):
    code, out = run_main(capsys, **common(cluster, wallet, wallet_api_token="wrong-kube-token-PLANTED"))
    assert code == 0 and [c["name"] for c in out["checks"]] == ["wallet_health", "accounts_count"]
    assert all("401 Unauthorized" in c["detail"] and "wallet_api_token" in c["detail"] for c in out["checks"])


def test_the_wait_rechecks_until_the_wallet_is_healthy(cluster, wallet, capsys):
    answers = iter([(503, {"status": "starting"})] * 2)
    wallet.health = lambda: next(answers, (200, {"status": "healthy"}))
    code, out = run_main(capsys, checks=["wallet_health"], wait_timeout=20, poll_interval=0.05,
                         **common(cluster, wallet))
    assert code == 0 and out["passed"] is True and out["rounds"] == 3
    assert out["health"] == {"status_code": 200, "status": "healthy"}


def test_the_wait_returns_the_last_round_at_the_timeout(cluster, wallet, capsys):
    wallet.health = (503, {"status": "starting"})
    code, out = run_main(capsys, checks=["wallet_health"], wait_timeout=1, poll_interval=0.2,
                         **common(cluster, wallet))
    assert code == 0 and out["passed"] is False and out["rounds"] >= 2
    assert "HTTP 503" in out["checks"][0]["detail"]


def test_a_missing_table_gives_null_pending_operations(cluster, wallet, database, capsys):
    code, out = run_main(capsys, checks=["wallet_health"], database=dict(database, name="ivchecks_empty"),
                         database_password=DB_PASSWORD, **common(cluster, wallet))
    assert code == 0 and out["pending_operations"] is None
    assert 'relation "pending_operations" does not exist' in out["pending_operations_detail"]


def test_a_wrong_database_password_fails_naming_it(cluster, wallet, database, capsys):
    code, out = run_main(capsys, checks=["wallet_health"], database=database,
                         database_password="wrong-kube-token-PLANTED", **common(cluster, wallet))
    assert code == 1 and "password authentication failed for user iv_reader" in out["msg"]
    assert out["checks"][0]["passed"] is True  # what was checked is still returned


def test_a_misspelt_check_is_refused_by_choices(cluster, wallet, capsys):
    code, out = run_main(capsys, checks=["pods_healthy"], **common(cluster, wallet))
    assert code == 1 and "pods_healthy" in out["msg"] and "pods_ready" in out["msg"]
    assert wallet.requests == []


def test_a_check_without_its_input_is_refused(cluster, wallet, capsys):
    code, out = run_main(capsys, checks=["pods_ready"], wallet_url=wallet.url)
    assert code == 1 and "pods_ready needs namespace" in out["msg"]

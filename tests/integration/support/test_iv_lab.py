"""lab/iv-up.sh and lab/iv-down.sh: the whole Institutional Vault lab (tests/support/iv_lab.py serve) up and down.

One run with provider azure (the pods read their db-info and EMPs from the Key Vault stand-in through the real
azure SDK): up, the inventory and the pods as kubectl shows them, the wallet's /health through its Service
stand-in with the lab CA verified, a second up reuses the running lab, down stops
the serve process and every pod process, a second down has nothing to do. Then: no planted secret value appears in
anything the scripts printed, in lab.log or in the pods' logs. Every wait is the scripts' own (they poll conditions
until a deadline); the test only runs them with a timeout.
"""

import collections
import json
import os
import shutil
import ssl
import subprocess
import sys
import urllib.request

import pytest

from support.iv_lab import NAME_LABEL, NODES, PLANTED, WORKLOADS
from support.kube_apiserver import PID_ANNOTATION
from support.polling import process_alive

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
UP = os.path.join(REPO, "lab", "iv-up.sh")
DOWN = os.path.join(REPO, "lab", "iv-down.sh")

Run = collections.namedtuple("Run", "returncode stdout stderr")


def wallet_health(lab):
    """GET /health through the wallet's Service stand-in, the certificate verified against the lab CA."""
    context = ssl.create_default_context(cafile=lab["wallet_ca_cert"])
    with urllib.request.urlopen(lab["wallet_url"] + "/health", context=context, timeout=10) as answer:
        return answer.status, json.loads(answer.read())


@pytest.fixture(scope="module")
def lab_run(tmp_path_factory):
    """Runs the whole story once and records what each step printed and saw."""
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is missing: scripts/setup.sh installs it")
    directory = str(tmp_path_factory.mktemp("iv-lab-scripts") / "lab")
    env = dict(os.environ, IV_LAB_DIR=directory, IV_LAB_TIMEOUT="90", VENV=os.path.dirname(os.path.dirname(sys.executable)))
    env.pop("IV_LAB_PROVIDER", None)
    outputs = []

    def run(argv, timeout=120):
        done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        outputs.append(done.stdout + done.stderr)
        return Run(done.returncode, done.stdout, done.stderr)

    record = {"dir": directory, "outputs": outputs}
    try:
        record["up"] = run([UP, "--provider", "azure"])
        assert record["up"].returncode == 0, record["up"].stderr
        with open(os.path.join(directory, "lab.json")) as handle:
            record["lab"] = lab = json.load(handle)
        with open(record["up"].stdout.strip()) as handle:
            record["inventory"] = json.load(handle)
        kubectl = ["kubectl", "--kubeconfig", lab["kubeconfig"], "-n", lab["namespace"]]
        record["table"] = run(kubectl + ["get", "pods"], timeout=30)
        record["pods"] = run(kubectl + ["get", "pods", "-o", "json"], timeout=30)
        record["health"] = wallet_health(lab)
        record["again"] = run([UP])
        record["down"] = run([DOWN], timeout=90)
        record["down_again"] = run([DOWN], timeout=30)
        yield record
    finally:
        subprocess.run([DOWN], cwd=REPO, env=env, capture_output=True, timeout=90, check=False)


def test_up_reuse_down(lab_run):
    up, lab = lab_run["up"], lab_run["lab"]
    assert up.stdout == lab["inventory"] + "\n" and lab["provider"] == "azure"
    assert "kubectl --kubeconfig %s get pods -n %s" % (lab["kubeconfig"], lab["namespace"]) in up.stderr
    assert "ansible-playbook -i %s playbooks/institutional_vault_services.yml" % lab["inventory"] in up.stderr

    host = lab_run["inventory"]["all"]["children"]["institutional_vault"]["hosts"]["iv_lab"]
    assert host["institutional_vault_provider"] == "azure"
    assert host["institutional_vault_kubeconfig"] == lab["kubeconfig"] and os.path.isfile(lab["kubeconfig"])
    assert host["institutional_vault_secret_store"]["vault_url"].startswith("https://127.0.0.1:")
    databases = host["institutional_vault_databases"]
    assert sorted(databases) == ["source", "target"]
    assert databases["source"]["port"] != databases["target"]["port"]
    assert all("password" not in db for db in databases.values())
    assert host["institutional_vault_wallet_url"] == lab["wallet_url"]
    assert host["institutional_vault_wallet_ca_cert"] == lab["wallet_ca_cert"]
    assert host["institutional_vault_drill_namespace"] == lab["drill_namespace"] == lab["namespace"] + "-drill"
    assert "curl --cacert %s %s/health" % (lab["wallet_ca_cert"], lab["wallet_url"]) in up.stderr
    assert lab_run["health"] == (200, {"status": "ok", "database": "up"})

    # kubectl's table: every replica of every workload 1/1 Running
    table = lab_run["table"]
    assert table.returncode == 0, table.stderr
    rows = [line.split() for line in table.stdout.splitlines()[1:] if line.strip()]
    assert rows and all(row[1:3] == ["1/1", "Running"] for row in rows), table.stdout
    names = sorted(row[0] for row in rows)
    assert sorted(n for n in names if n.startswith("nats-")) == ["nats-0", "nats-1", "nats-2"]
    assert sum(n.startswith("wallet-") for n in names) == 2
    assert all(sum(n.startswith(node + "-") for n in names) == 1 for node in NODES)
    assert len(names) == sum(replicas for _name, _kind, replicas, _probe, _grace in WORKLOADS)

    pods = json.loads(lab_run["pods"].stdout)["items"]
    pids = dict((pod["metadata"]["name"], int(pod["metadata"]["annotations"][PID_ANNOTATION])) for pod in pods)
    assert sorted(pids) == names
    assert {pod["metadata"]["labels"][NAME_LABEL] for pod in pods} == {"wallet", "nats"} | set(NODES)

    # the services read their secrets from the Key Vault stand-in (azure SDK) and reached the database
    logs = [pod["metadata"]["annotations"]["lab.vaultops.io/log"] for pod in pods
            if pod["metadata"]["labels"][NAME_LABEL] != "nats"]
    for path in logs:
        with open(path) as handle:
            text = handle.read()
        assert "reading secrets from Azure Key Vault" in text and "connected to database" in text, text

    again = lab_run["again"]
    assert again.returncode == 0 and again.stdout == up.stdout, again.stderr
    assert "reusing" in again.stderr and "pid %d" % lab["pid"] in again.stderr

    down = lab_run["down"]
    assert down.returncode == 0, down.stderr
    assert "the IV lab is down" in down.stderr
    assert not process_alive(lab["pid"])
    assert [name for name, pid in sorted(pids.items()) if process_alive(pid)] == []
    assert not os.path.exists(os.path.join(lab_run["dir"], "lab.json"))
    assert all(not os.path.exists(datadir) for datadir in lab["clusters"])

    down_again = lab_run["down_again"]
    assert down_again.returncode == 0 and "no IV lab is running" in down_again.stderr, down_again.stderr


def test_nothing_planted_leaks(lab_run):
    texts = list(lab_run["outputs"])
    with open(os.path.join(lab_run["dir"], "lab.log")) as handle:
        texts.append(handle.read())
    pod_logs = os.path.join(lab_run["dir"], "kube", "pod-logs")
    for name in sorted(os.listdir(pod_logs)):
        with open(os.path.join(pod_logs, name)) as handle:
            texts.append(handle.read())
    assert len(texts) > 6
    assert [value for value in PLANTED if any(value in text for text in texts)] == []

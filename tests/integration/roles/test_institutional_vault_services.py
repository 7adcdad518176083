"""Role institutional_vault_services against the IV lab (tests/support/iv_lab.py): real pods (processes) behind
the Kubernetes API stand-in, services that read their secrets from moto's Secrets Manager and their data from a
real PostgreSQL, through ansible-playbook.

A watcher samples the pods every 50 ms while a stop or start runs and records every moment at which the order
was broken (a later tier touched while an earlier one still had pods, or was not yet Ready), so a stop that does
not wait for pods to be gone fails here.
"""

import json
import os
import ssl
import subprocess
import sys
import threading
import urllib.request

import pytest

from support.collection import REPO, collections_root
from support.iv_lab import EMPS, NODES, PLANTED, IVLab
from support.kube_apiserver import PORT_ANNOTATION
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.service_tiers import (
    DEFAULT_ANNOTATION_KEY)

WRONG_TOKEN = "planted-wrong-token-91f3e0"
ORIGINAL = {"wallet": 2, "policy-node0": 1, "policy-node1": 1, "policy-node2": 1, "orchestrator": 0, "nats": 3}
# The vendor's newer order puts the orchestrator in a front tier: here with the wallet (it is at 0 in the lab).
TIERS = [
    {"name": "front", "workloads": [
        {"name": "wallet", "kind": "Deployment", "selector": "app.kubernetes.io/name=wallet"},
        {"name": "orchestrator", "kind": "Deployment", "selector": "app.kubernetes.io/name=orchestrator"}]},
    {"name": "policy-nodes", "workloads": [
        {"name": n, "kind": "Deployment", "selector": "app.kubernetes.io/name=%s" % n} for n in NODES]},
    {"name": "nats", "workloads": [
        {"name": "nats", "kind": "StatefulSet", "selector": "app.kubernetes.io/name=nats"}]},
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = IVLab(tmp_path_factory.mktemp("iv-lab")).start()
    yield lab
    lab.stop()


class Transcripts(object):
    def __init__(self):
        self.texts = []

    def assert_nothing_leaked(self):
        everything = "\n".join(self.texts)
        assert everything and not [value for value in PLANTED + [WRONG_TOKEN] if value in everything]


@pytest.fixture(scope="module")
def transcripts():
    return Transcripts()


def run_role(lab, tmp_path, transcripts, state, check=False, name="run", **variables):
    """rc, output and the role's result fact of one ansible-playbook run against the lab inventory."""
    result_file = str(tmp_path / ("%s.result.json" % name))
    play = [{"name": "under test", "hosts": "institutional_vault", "gather_facts": False, "tasks": [
        {"name": "run the role", "block": [{"ansible.builtin.include_role": {
            "name": "vaultops.recovery.institutional_vault_services"}}],
         "always": [{"name": "save the result", "check_mode": False, "delegate_to": "localhost",
                     "ansible.builtin.copy": {"dest": result_file, "mode": "0600",
                                              "content": "{{ institutional_vault_services_result | default({}) | to_json }}"}}]}]}]
    playbook = str(tmp_path / ("%s.yml" % name))
    with open(playbook, "w") as handle:
        json.dump(play, handle)
    variables.setdefault("institutional_vault_services_poll_interval", 0.25)
    variables.setdefault("institutional_vault_services_tiers", TIERS)
    variables["institutional_vault_services_state"] = state
    log = str(tmp_path / ("%s.log" % name))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_root(), ANSIBLE_NOCOLOR="1", ANSIBLE_LOG_PATH=log)
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv", "-i", lab.inventory, playbook,
            "-e", json.dumps(variables)] + (["--check"] if check else [])
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600, check=False)
    with open(log) as handle:
        output = proc.stdout + proc.stderr + handle.read()
    with open(result_file) as handle:
        result = json.load(handle)
    transcripts.texts.append(output + json.dumps(result))
    return proc.returncode, output, result


def replicas(lab):
    return dict((name, lab.api.get(kind, lab.namespace, name)["spec"]["replicas"]) for name, kind in (
        ("wallet", "Deployment"), ("policy-node0", "Deployment"), ("policy-node1", "Deployment"),
        ("policy-node2", "Deployment"), ("orchestrator", "Deployment"), ("nats", "StatefulSet")))


def annotation(lab, name, kind="Deployment"):
    return (lab.api.get(kind, lab.namespace, name)["metadata"].get("annotations") or {}).get(DEFAULT_ANNOTATION_KEY)


def is_ready(pod):
    return not pod["metadata"].get("deletionTimestamp") and all(
        c.get("ready") for c in (pod.get("status") or {}).get("containerStatuses") or [{}])


class OrderWatcher(object):
    """Samples the tiers' pods; records each sample where a later tier moved before an earlier one finished."""

    def __init__(self, lab, action):
        self.lab, self.action, self.violations, self.samples = lab, action, [], 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tiers(self):
        pods = {}
        for name in ORIGINAL:
            pods[name] = self.lab.workload_pods(name)
        wallet = pods["wallet"]
        nodes = [p for n in NODES for p in pods[n]]
        return wallet, nodes, pods["nats"]

    def _check(self):
        wallet, nodes, nats = self._tiers()
        if self.action == "stop":
            # a later tier is touched (a pod terminating or gone) while an earlier tier still has pods
            nodes_touched = len(nodes) < 3 or any(p["metadata"].get("deletionTimestamp") for p in nodes)
            nats_touched = len(nats) < 3 or any(p["metadata"].get("deletionTimestamp") for p in nats)
            if wallet and nodes_touched:
                self.violations.append("policy nodes stopping while wallet pods exist: %s" % [
                    p["metadata"]["name"] for p in wallet])
            if nodes and nats_touched:
                self.violations.append("nats stopping while policy-node pods exist")
        else:
            if nodes and not (len(nats) == 3 and all(is_ready(p) for p in nats)):
                self.violations.append("policy-node pods exist before nats is Ready")
            if wallet and not (len(nodes) == 3 and all(is_ready(p) for p in nodes)):
                self.violations.append("wallet pods exist before every policy node is Ready")

    def _run(self):
        while not self._stop.wait(0.05):
            self._check()
            self.samples += 1

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def wallet_get(lab, path):
    pod = [p for p in lab.workload_pods("wallet") if is_ready(p)][0]
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the stand-in's own certificate
    port = pod["metadata"]["annotations"][PORT_ANNOTATION]
    with urllib.request.urlopen("https://127.0.0.1:%s%s" % (port, path), context=context, timeout=10) as answer:
        return answer.status, json.load(answer)


def patches(lab, since):
    return [r for r in lab.api.requests[since:] if r[0] in ("PATCH", "PUT", "POST", "DELETE")]


def test_check_mode_prints_the_plan_and_changes_nothing(lab, tmp_path, transcripts):
    since = len(lab.api.requests)
    rc, output, result = run_role(lab, tmp_path, transcripts, "stopped", check=True)
    assert rc == 0, output[-3000:]
    assert "stop in this order: front -> policy-nodes -> nats" in output
    assert "Deployment iv-lab/wallet: 2 replicas now, records 2, scales to 0" in output
    assert result["status"] == "planned" and result["recorded_replicas"]["iv-lab/StatefulSet/nats"] == 3
    assert replicas(lab) == ORIGINAL and annotation(lab, "wallet") is None
    assert patches(lab, since) == []
    assert not os.path.exists(os.path.join(lab.directory, "run-state"))


def test_stop_waits_for_each_tier_then_start_restores_the_exact_counts(lab, tmp_path, transcripts):
    with OrderWatcher(lab, "stop") as watcher:
        rc, output, stopped = run_role(lab, tmp_path, transcripts, "stopped", name="stop")
    assert rc == 0, output[-3000:]
    assert watcher.samples > 20 and watcher.violations == []
    assert replicas(lab) == dict((name, 0) for name in ORIGINAL)
    assert [lab.workload_pods(name) for name in ORIGINAL] == [[]] * len(ORIGINAL)
    # the wallet's pods take 1.5 s to shut down: the front tier lasted at least that long
    seconds = dict((t["tier"], t["seconds"]) for t in stopped["tier_seconds"])
    assert seconds["front"] >= 1.5, stopped["tier_seconds"]
    assert (annotation(lab, "wallet"), annotation(lab, "orchestrator"), annotation(lab, "nats", "StatefulSet")) == (
        "2", "0", "3")
    with open(stopped["run_state_path"]) as handle:
        run_state = json.load(handle)
    assert run_state["recorded"]["iv-lab/Deployment/wallet"] == 2 and run_state["completed"] is True
    assert oct(os.stat(stopped["run_state_path"]).st_mode & 0o777) == "0o600"

    with OrderWatcher(lab, "start") as watcher:
        rc, output, started = run_role(lab, tmp_path, transcripts, "started", name="start")
    assert rc == 0, output[-3000:]
    assert watcher.violations == []
    assert replicas(lab) == ORIGINAL
    assert all(is_ready(p) for name in ORIGINAL for p in lab.workload_pods(name))
    assert len(lab.workload_pods("wallet")) == 2 and lab.workload_pods("orchestrator") == []
    assert [t["tier"] for t in started["tier_seconds"]] == ["nats", "policy-nodes", "front"]
    # the services are back on their database
    assert wallet_get(lab, "/health") == (200, {"status": "ok", "database": "up"})
    assert wallet_get(lab, "/api/v2/accounts")[1]["total"] == lab.accounts
    print("tier seconds: stop %s; start %s" % (stopped["tier_seconds"], started["tier_seconds"]))

    rc, output, again = run_role(lab, tmp_path, transcripts, "started", name="start-again")
    assert rc == 0 and again["changed"] is False and again["status"] == "started", output[-3000:]


def test_a_policy_node_with_a_changed_emp_stops_the_start_and_a_rerun_finishes(lab, tmp_path, transcripts):
    rc, output, stopped = run_role(lab, tmp_path, transcripts, "stopped", name="stop")
    assert rc == 0 and stopped["status"] == "stopped", output[-3000:]
    lab.set_emp("policy-node1", "planted-EMP-changed-by-mistake-11aa")
    PLANTED.append("planted-EMP-changed-by-mistake-11aa")
    rc, output, failed = run_role(lab, tmp_path, transcripts, "started", name="start-bad-emp",
                                  institutional_vault_services_start_timeout=12)
    assert rc != 0
    assert failed["status"] == "failed" and failed["failed_tier"] == "policy-nodes" and failed["changed"] is True
    assert failed["tiers_down"] == ["front"] and failed["pod"].startswith("policy-node1-")
    assert "policy-node1: cannot decrypt key share with the Encryptor Master Password" in failed["msg"]
    assert "Tiers still down: front" in failed["msg"]
    assert replicas(lab)["wallet"] == 0 and lab.workload_pods("wallet") == []  # the wallet was never started
    assert len(lab.workload_pods("nats")) == 3

    lab.set_emp("policy-node1", EMPS["policy-node1"])
    rc, output, finished = run_role(lab, tmp_path, transcripts, "started", name="start-rerun")
    assert rc == 0, output[-3000:]
    # nats stays as it was; the node restarted by itself once its EMP was back, so only the front tier is left
    skipped = [t["skipped"] for t in finished["tier_seconds"]]
    assert skipped[0] is True and skipped[2] is False, finished["tier_seconds"]
    assert replicas(lab) == ORIGINAL
    assert all(is_ready(p) for p in lab.workload_pods("wallet"))


@pytest.mark.parametrize("case", ["wrong token", "unreachable API server", "missing workload"])
def test_bad_connection_or_workload_gives_one_clear_error_and_changes_nothing(lab, tmp_path, transcripts, case):
    variables, expected = {}, ""
    if case == "wrong token":
        variables["institutional_vault_services_api_key"] = WRONG_TOKEN
        expected = "refused api_key (401 Unauthorized"
    elif case == "unreachable API server":
        variables["institutional_vault_services_host"] = "https://127.0.0.1:9"
        expected = "cannot reach the Kubernetes API server https://127.0.0.1:9"
    else:
        variables["institutional_vault_services_tiers"] = TIERS + [{"name": "approval", "workloads": [
            {"name": "approval-service", "kind": "Deployment", "selector": "app.kubernetes.io/name=approval-service"}]}]
        expected = "workloads not found: iv-lab/Deployment/approval-service"
    since = len(lab.api.requests)
    rc, output, result = run_role(lab, tmp_path, transcripts, "stopped", name="bad", **variables)
    assert rc != 0 and expected in output, [line for line in output.splitlines() if "FAILED" in line or "msg" in line]
    assert "Nothing was changed" in output and "Fix:" in output
    assert patches(lab, since) == [] and replicas(lab) == ORIGINAL


def test_the_operator_playbook_and_kubectl_see_the_same_environment(lab, tmp_path, transcripts):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_root(), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "--check", "-i",
                           lab.inventory, os.path.join(REPO, "playbooks", "institutional_vault_services.yml"),
                           "-e", "institutional_vault_services_state=started"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    transcripts.texts.append(proc.stdout + proc.stderr)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "start in this order: nats -> policy-nodes -> wallet" in proc.stdout
    kubeconfig = json.load(open(lab.inventory))["all"]["children"]["institutional_vault"]["hosts"]["iv_lab"][
        "institutional_vault_services_kubeconfig"]
    shown = subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "get", "pods", "-n", lab.namespace],
                           capture_output=True, text=True, check=True, timeout=60).stdout
    assert shown.splitlines()[0].split()[:3] == ["NAME", "READY", "STATUS"] and "nats-2" in shown


def test_no_planted_secret_in_any_output(transcripts):
    transcripts.assert_nothing_leaked()

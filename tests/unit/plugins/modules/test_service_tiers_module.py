"""service_tiers main() run in-process against the Kubernetes API stand-in (tests/support/kube_apiserver.py):
check mode plans without a change, a missing workload and a misspelt kind fail before any change, the run-state
file is named after the namespace and the API server, and a real stop and start go through the scale
subresource. Pods are real local processes (a tiny HTTP server); waits poll against deadlines."""

import hashlib
import json
import os
import re
import sys

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vaultops.recovery.plugins.modules import service_tiers

KEY = "vaultops.recovery/replicas-before-stop"


@pytest.fixture(scope="module")
def api(kube_api):
    return kube_api


def manifest(kind, namespace, name, replicas, pod_program):
    labels = {"app.kubernetes.io/name": name}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"terminationGracePeriodSeconds": 1, "containers": [
                                      {"name": name, "image": "lab/%s:1" % name, "command": [sys.executable, pod_program]}]}}}}


def tiers(*workloads):
    return [{"name": name, "workloads": [{"name": name, "kind": kind, "selector": "app.kubernetes.io/name=%s" % name}]}
            for kind, name in workloads]


def run_main(api, capsys, **args):
    args = dict(dict(host=api.url, api_key=api.token, ca_cert=api.ca_cert), **args)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exited:
            service_tiers.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def changes(api, start):
    return [request for request in api.requests[start:] if request[0] != "GET"]


def files_under(directory):
    return sorted(os.path.join(root, name) for root, _dirs, names in os.walk(str(directory)) for name in names)


def test_check_mode_returns_the_plan_and_changes_nothing(api, pod_program, tmp_path, capsys):
    api.apply(manifest("Deployment", "ivcheck", "wallet", 1, pod_program))
    api.apply(manifest("StatefulSet", "ivcheck", "nats", 0, pod_program))
    state_dir = tmp_path / "run-state"
    start = len(api.requests)
    code, out = run_main(api, capsys, state="stopped", namespace="ivcheck", run_state_dir=str(state_dir),
                         tiers=tiers(("Deployment", "wallet"), ("StatefulSet", "nats")), _ansible_check_mode=True)
    assert code == 0, out.get("msg")
    assert out["changed"] is True and out["state"] == "stopped" and out["api_server"] == api.url
    assert out["plan"]["pending_tiers"] == ["wallet"] and out["plan"]["done_tiers"] == ["nats"]
    assert out["plan_text"][0].startswith("stop in this order: wallet -> nats")
    assert "   Deployment ivcheck/wallet: 1 replicas now, records 1, scales to 0 and waits until its" in "\n".join(
        out["plan_text"])
    assert out["recorded_replicas"] == {"ivcheck/Deployment/wallet": 1, "ivcheck/StatefulSet/nats": 0}
    assert "tier_seconds" not in out
    assert changes(api, start) == []  # no PATCH, no annotation, no scale
    assert not state_dir.exists() and not os.path.exists(out["run_state_path"])
    assert KEY not in (api.get("Deployment", "ivcheck", "wallet")["metadata"].get("annotations") or {})
    assert api.token not in json.dumps(out)


def test_the_run_state_path_names_the_namespace_and_the_server(api, pod_program, tmp_path, capsys):
    api.apply(manifest("Deployment", "ivpath", "wallet", 0, pod_program))
    code, out = run_main(api, capsys, state="stopped", namespace="ivpath", run_state_dir=str(tmp_path / "rs"),
                         tiers=tiers(("Deployment", "wallet")), _ansible_check_mode=True)
    assert code == 0, out.get("msg")
    directory, name = os.path.split(out["run_state_path"])
    assert directory == str(tmp_path / "rs")
    assert re.match(r"^services-ivpath-[0-9a-f]{8}\.json$", name)
    assert name == "services-ivpath-%s.json" % hashlib.sha256(api.url.encode("utf-8")).hexdigest()[:8]
    assert out["changed"] is False and out["plan"]["pending_tiers"] == []  # at 0 already: nothing to stop


def test_a_missing_workload_fails_listing_it(api, pod_program, tmp_path, capsys):
    api.apply(manifest("Deployment", "ivmissing", "wallet", 1, pod_program))
    start = len(api.requests)
    code, out = run_main(api, capsys, state="stopped", namespace="ivmissing", run_state_dir=str(tmp_path / "rs"),
                         tiers=tiers(("Deployment", "wallet"), ("Deployment", "policy-node0"), ("StatefulSet", "nats")))
    assert code == 1 and out["failed"] is True
    assert "workloads not found: ivmissing/Deployment/policy-node0, ivmissing/StatefulSet/nats." in out["msg"]
    assert "ivmissing/Deployment/wallet" not in out["msg"].split("Fix:")[0]
    assert "Nothing was changed" in out["msg"]
    assert changes(api, start) == [] and files_under(tmp_path) == []
    assert api.get("Deployment", "ivmissing", "wallet")["spec"]["replicas"] == 1


def test_a_misspelt_kind_fails_listing_the_problem_before_any_request(api, tmp_path, capsys):
    bad = tiers(("Deployment", "wallet"), ("Statefulset", "nats"))
    start = len(api.requests)
    code, out = run_main(api, capsys, state="stopped", namespace="ivtypo", run_state_dir=str(tmp_path / "rs"), tiers=bad)
    assert code == 1 and out["failed"] is True
    assert "tiers[1] (nats) workloads[0] (nats) has kind 'Statefulset', not Deployment or StatefulSet" in out["msg"]
    assert out["problems"] == ["tiers[1] (nats) workloads[0] (nats) has kind 'Statefulset', not Deployment or StatefulSet"]
    assert "Nothing was changed" in out["msg"] and "kind is spelled Deployment or StatefulSet" in out["fix"]
    assert api.requests[start:] == [] and files_under(tmp_path) == []


def test_a_stop_then_a_start_scale_through_the_subresource_and_keep_the_count(api, pod_program, tmp_path, capsys):
    ns = "ivrun"
    api.apply(manifest("Deployment", ns, "wallet", 1, pod_program))
    api.apply(manifest("StatefulSet", ns, "nats", 1, pod_program))
    order = tiers(("Deployment", "wallet"), ("StatefulSet", "nats"))
    common = dict(namespace=ns, run_state_dir=str(tmp_path / "rs"), tiers=order, poll_interval=0.1, stop_timeout=20,
                  start_timeout=20)
    start = len(api.requests)
    code, out = run_main(api, capsys, state="stopped", **common)
    assert code == 0, out.get("msg")
    assert out["changed"] is True and [t["tier"] for t in out["tier_seconds"]] == ["wallet", "nats"]
    assert changes(api, start) == [
        ("PATCH", "/apis/apps/v1/namespaces/%s/deployments/wallet" % ns),
        ("PATCH", "/apis/apps/v1/namespaces/%s/deployments/wallet/scale" % ns),
        ("PATCH", "/apis/apps/v1/namespaces/%s/statefulsets/nats" % ns),
        ("PATCH", "/apis/apps/v1/namespaces/%s/statefulsets/nats/scale" % ns)]
    assert api.pods(ns) == []
    assert api.get("Deployment", ns, "wallet")["metadata"]["annotations"][KEY] == "1"
    with open(out["run_state_path"]) as handle:
        document = json.load(handle)
    assert document["recorded"] == {"%s/Deployment/wallet" % ns: 1, "%s/StatefulSet/nats" % ns: 1}
    assert document["completed"] is True and oct(os.stat(out["run_state_path"]).st_mode & 0o777) == "0o600"

    code, out = run_main(api, capsys, state="stopped", **common)
    assert code == 0 and out["changed"] is False  # a stop of stopped tiers changes nothing

    start = len(api.requests)
    code, out = run_main(api, capsys, state="started", **common)
    assert code == 0, out.get("msg")
    assert out["changed"] is True and [t["tier"] for t in out["tier_seconds"]] == ["nats", "wallet"]
    assert changes(api, start) == [("PATCH", "/apis/apps/v1/namespaces/%s/statefulsets/nats/scale" % ns),
                                   ("PATCH", "/apis/apps/v1/namespaces/%s/deployments/wallet/scale" % ns)]
    assert api.get("Deployment", ns, "wallet")["spec"]["replicas"] == 1
    assert len(api.pods(ns, "app.kubernetes.io/name=nats")) == 1

"""Workloads against the Kubernetes API stand-in (tests/support/kube_apiserver.py) through the REAL kubernetes
client: objects as the API's JSON, pods by selector, scale through the scale subresource, annotate touching only
metadata.annotations, and a pod log that is [] when there is none. Pods are real local processes (a tiny HTTP
server); no sleep is used as a wait - every wait polls against a deadline."""

import sys

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.k8s.connection import K8sConnection
from ansible_collections.vaultops.recovery.plugins.module_utils.k8s.workloads import Workloads
from support.polling import wait_for

NS = "wl"


@pytest.fixture(scope="module")
def api(kube_api):
    return kube_api


@pytest.fixture(scope="module")
def workloads(api):
    return Workloads(K8sConnection(dict(host=api.url, api_key=api.token, ca_cert=api.ca_cert)))


def manifest(kind, name, replicas, pod_program):
    labels = {"app.kubernetes.io/name": name}
    return {"apiVersion": "apps/v1", "kind": kind,
            "metadata": {"name": name, "namespace": NS, "labels": labels, "annotations": {"team": "vault"}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"terminationGracePeriodSeconds": 1, "containers": [
                                      {"name": name, "image": "lab/%s:1" % name, "command": [sys.executable, pod_program]}]}}}}


def ref(kind, name):
    return {"name": name, "kind": kind, "namespace": NS, "selector": "app.kubernetes.io/name=%s" % name}


def requests_since(api, start):
    return api.requests[start:]


def test_read_returns_the_apis_json(api, workloads, pod_program):
    api.apply(manifest("Deployment", "reader", 0, pod_program))
    api.apply(manifest("StatefulSet", "reader-sts", 0, pod_program))
    deployment = workloads.read(ref("Deployment", "reader"))
    assert deployment["kind"] == "Deployment" and deployment["apiVersion"] == "apps/v1"
    assert deployment["metadata"]["name"] == "reader" and deployment["spec"]["replicas"] == 0
    # raw JSON, not a typed model's to_dict(): camelCase keys and absent zero counters
    assert "creationTimestamp" in deployment["metadata"] and "creation_timestamp" not in deployment["metadata"]
    assert deployment["spec"]["revisionHistoryLimit"] == 10
    assert "readyReplicas" not in deployment.get("status", {}) and "ready_replicas" not in deployment.get("status", {})
    statefulset = workloads.read(ref("StatefulSet", "reader-sts"))
    assert statefulset["kind"] == "StatefulSet" and statefulset["spec"]["podManagementPolicy"] == "OrderedReady"
    assert ("GET", "/apis/apps/v1/namespaces/%s/statefulsets/reader-sts" % NS) in api.requests


def test_read_of_a_missing_workload_is_none(workloads):
    assert workloads.read(ref("Deployment", "ghost")) is None
    assert workloads.read(ref("StatefulSet", "ghost")) is None


def test_a_misspelt_kind_is_refused_before_any_request(api, workloads):
    start = len(api.requests)
    with pytest.raises(RecoveryError) as caught:
        workloads.read(ref("Deploymnet", "reader"))
    assert "'Deploymnet' is not Deployment or StatefulSet" in caught.value.message
    assert requests_since(api, start) == []


def test_a_401_reading_a_workload_is_an_error_not_none(api):
    wrong = Workloads(K8sConnection(dict(host=api.url, api_key="wrong", ca_cert=api.ca_cert)))
    with pytest.raises(RecoveryError) as caught:
        wrong.read(ref("Deployment", "reader"))
    assert caught.value.facts["status"] == 401


def test_pods_lists_the_selectors_pods_only(api, workloads, pod_program):
    api.apply(manifest("Deployment", "lister", 2, pod_program))
    api.apply(manifest("StatefulSet", "lister-sts", 1, pod_program))
    pods = wait_for(lambda: len(workloads.pods(ref("Deployment", "lister"))) == 2
                    and workloads.pods(ref("Deployment", "lister")), what="2 lister pods")
    assert all(p["metadata"]["labels"]["app.kubernetes.io/name"] == "lister" for p in pods)
    assert all("creationTimestamp" in p["metadata"] for p in pods)
    sts_pods = wait_for(lambda: workloads.pods(ref("StatefulSet", "lister-sts")), what="the lister-sts pod")
    assert [p["metadata"]["name"] for p in sts_pods] == ["lister-sts-0"]
    assert workloads.pods(ref("Deployment", "nobody-has-this")) == []


def test_scale_goes_through_the_scale_subresource(api, workloads, pod_program):
    api.apply(manifest("StatefulSet", "scaler", 0, pod_program))
    api.apply(manifest("Deployment", "scaler-dep", 0, pod_program))
    before = api.get("StatefulSet", NS, "scaler")
    start = len(api.requests)
    workloads.scale(ref("StatefulSet", "scaler"), 1)
    workloads.scale(ref("Deployment", "scaler-dep"), 2)
    patches = [r for r in requests_since(api, start) if r[0] != "GET"]
    assert patches == [("PATCH", "/apis/apps/v1/namespaces/%s/statefulsets/scaler/scale" % NS),
                       ("PATCH", "/apis/apps/v1/namespaces/%s/deployments/scaler-dep/scale" % NS)]
    after = api.get("StatefulSet", NS, "scaler")
    assert after["spec"]["replicas"] == 1 and after["metadata"]["generation"] == before["metadata"]["generation"] + 1
    assert after["spec"]["template"] == before["spec"]["template"]
    assert api.get("Deployment", NS, "scaler-dep")["spec"]["replicas"] == 2
    workloads.scale(ref("StatefulSet", "scaler"), 0)
    workloads.scale(ref("Deployment", "scaler-dep"), 0)
    assert api.get("StatefulSet", NS, "scaler")["spec"]["replicas"] == 0


def test_scale_of_a_missing_workload_fails_with_404(workloads):
    with pytest.raises(RecoveryError) as caught:
        workloads.scale(ref("Deployment", "ghost"), 0)
    assert caught.value.facts["status"] == 404 and caught.value.message.startswith("scale Deployment %s/ghost to 0" % NS)


def test_annotate_changes_only_the_annotations(api, workloads, pod_program):
    api.apply(manifest("Deployment", "annotated", 0, pod_program))
    before = api.get("Deployment", NS, "annotated")
    start = len(api.requests)
    workloads.annotate(ref("Deployment", "annotated"), "vaultops.recovery/replicas-before-stop", "3")
    assert requests_since(api, start) == [("PATCH", "/apis/apps/v1/namespaces/%s/deployments/annotated" % NS)]
    after = api.get("Deployment", NS, "annotated")
    assert after["metadata"]["annotations"] == {"team": "vault", "vaultops.recovery/replicas-before-stop": "3"}
    assert after["spec"] == before["spec"] and after["metadata"]["labels"] == before["metadata"]["labels"]
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    assert after["metadata"]["resourceVersion"] != before["metadata"]["resourceVersion"]


def test_pod_log(api, workloads, pod_program):
    api.apply(manifest("Deployment", "logger", 1, pod_program))

    def serving():
        pods = workloads.pods(ref("Deployment", "logger"))
        if not pods:
            return None
        lines = workloads.pod_log(NS, pods[0]["metadata"]["name"], 5)
        return lines if any(line.startswith("serving ") for line in lines) else None
    lines = wait_for(serving, what="the logger pod's first log line")
    assert len(lines) <= 5


def test_pod_log_of_a_missing_pod_is_empty(api, workloads):
    start = len(api.requests)
    assert workloads.pod_log(NS, "gone-pod-abcde", 20) == []
    assert requests_since(api, start) == [("GET", "/api/v1/namespaces/%s/pods/gone-pod-abcde/log" % NS)]


def test_pod_log_swallows_other_errors(api):
    wrong = Workloads(K8sConnection(dict(host=api.url, api_key="wrong", ca_cert=api.ca_cert)))
    assert wrong.pod_log(NS, "any", 20) == []

"""The Kubernetes API server stand-in (tests/support/kube_apiserver.py) against the REAL clients, unmodified:
the ``kubernetes`` Python client (typed APIs and DynamicClient), kubernetes.core's k8s_scale / k8s_info / k8s
run by ansible-playbook, and kubectl. Its pods are real local processes: a tiny HTTP program written here.

No sleep is used as a wait: every wait polls a condition against a deadline.
"""

import base64
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from support.kube_apiserver import KubeApiServer
from support.polling import process_alive, wait_for

NS = "lab"

POD_PROGRAM = r'''
import http.server, os, signal, sys, threading
marker = os.environ.get("EXIT_ONCE")
if marker and not os.path.exists(marker):
    open(marker, "w").close()
    print("first start: exiting with 3", flush=True)
    sys.exit(3)
if os.environ.get("SECRET_VALUE"):
    print("secret=" + os.environ["SECRET_VALUE"], flush=True)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        print("GET " + self.path, flush=True)
        self.send_response(503 if self.path == "/never" else 200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def on_term(*_):
    print("SIGTERM: stopping in %s s" % os.environ.get("SHUTDOWN_SECONDS", "0"), flush=True)
    if not os.environ.get("IGNORE_TERM"):
        threading.Timer(float(os.environ.get("SHUTDOWN_SECONDS", "0")), os._exit, (0,)).start()


signal.signal(signal.SIGTERM, on_term)
server = http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
print("serving %s/%s on port %s" % (os.environ["POD_NAMESPACE"], os.environ["POD_NAME"], os.environ["PORT"]), flush=True)
server.serve_forever()
'''


def pid_of(pod):
    return int(pod["metadata"]["annotations"]["lab.vaultops.io/pid"])


def ready(pod):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def workload(kind, name, replicas, program, env=None, probe=None, grace=10, parallel=False):
    """A Deployment or StatefulSet running the pod program; probe defaults to httpGet /ready."""
    container = {"name": name, "image": "lab/%s:1" % name, "command": [sys.executable, program],
                 "env": [{"name": k, "value": v} for k, v in (env or {}).items()],
                 "readinessProbe": probe or {"httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"}}}
    obj = {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": NS, "labels": {"app": name}},
           "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": {"app": name}},
                                 "spec": {"terminationGracePeriodSeconds": grace, "containers": [container]}}}}
    if parallel:
        obj["spec"]["podManagementPolicy"] = "Parallel"
    return obj


@pytest.fixture
def program(tmp_path):
    path = tmp_path / "pod_program.py"
    path.write_text(POD_PROGRAM)
    return str(path)


@pytest.fixture
def api(tmp_path):
    """A started stand-in; on teardown stop() must leave none of the pod processes it ever ran."""
    server = KubeApiServer(tmp_path / "kube").start()
    seen = set()
    server.seen_pids = seen
    yield server
    for pod in server.pods(NS):
        if "lab.vaultops.io/pid" in pod["metadata"].get("annotations", {}):
            seen.add(pid_of(pod))
    server.stop()
    assert [pid for pid in seen if process_alive(pid)] == []


def settled_pods(api, name, count, timeout=20):
    def check():
        pods = api.pods(NS, "app=" + name)
        return pods if len(pods) == count and all(ready(p) and not p["metadata"].get("deletionTimestamp") for p in pods) else None
    pods = wait_for(check, timeout, "exactly %d Ready %s pods" % (count, name))
    api.seen_pids.update(pid_of(p) for p in pods)
    return pods


def client_configuration(api, token=None):
    from kubernetes import client, config
    path = api.kubeconfig
    if token is not None:   # a copy of the kubeconfig with another token (the loader re-reads the file per request)
        path = api.kubeconfig + "-other-token"
        with open(api.kubeconfig) as source, open(path, "w") as copy:
            copy.write(source.read().replace(json.dumps(api.token), json.dumps(token)))
    configuration = client.Configuration()
    config.load_kube_config(config_file=path, client_configuration=configuration)
    return configuration


def http(api, method, path, body=None, token=None, content_type="application/json", accept="application/json"):
    """A raw request; (status, parsed JSON or text)."""
    context = ssl.create_default_context(cafile=api.ca_cert)
    headers = {"Authorization": "Bearer " + (api.token if token is None else token), "Accept": accept,
               "Content-Type": content_type}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(api.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            status, payload, kind = response.status, response.read(), response.headers.get("Content-Type")
    except urllib.error.HTTPError as exc:
        status, payload, kind = exc.code, exc.read(), exc.headers.get("Content-Type")
    return status, (json.loads(payload) if kind.startswith("application/json") else payload.decode())


# 1 ----------------------------------------------------------------------------------------------------------
def test_kubernetes_python_client(api, program, tmp_path):
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    from kubernetes.dynamic import DynamicClient

    api.apply(workload("Deployment", "web", 1, program))
    settled_pods(api, "web", 1)
    api_client = client.ApiClient(client_configuration(api))
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)

    pods = core.list_namespaced_pod(NS, label_selector="app=web").items
    assert [p.status.phase for p in pods] == ["Running"] and pods[0].status.container_statuses[0].ready
    deployment = apps.read_namespaced_deployment("web", NS)
    assert deployment.spec.replicas == 1 and deployment.status.ready_replicas == 1

    scale = apps.patch_namespaced_deployment_scale("web", NS, {"spec": {"replicas": 2}})
    assert scale.kind == "Scale" and scale.spec.replicas == 2 and scale.status.selector == "app=web"

    def scaled():
        current = apps.read_namespaced_deployment("web", NS)
        return (current.status.observed_generation == current.metadata.generation == 2
                and current.status.available_replicas == 2 and current)
    assert wait_for(scaled, what="the Deployment at 2 available replicas").status.updated_replicas == 2
    assert apps.read_namespaced_deployment_scale("web", NS).status.replicas == 2

    dynamic = DynamicClient(api_client, cache_file=str(tmp_path / "discovery.json"))
    deployments = dynamic.resources.get(api_version="apps/v1", kind="Deployment")
    assert deployments.namespaced and "scale" in deployments.subresources
    assert dynamic.resources.get(api_version="apps/v1", kind="Deployment").get(name="web", namespace=NS).spec.replicas == 2
    dyn_pods = dynamic.resources.get(api_version="v1", kind="Pod").get(namespace=NS, label_selector="app=web")
    assert len(dyn_pods.items) == 2
    settled_pods(api, "web", 2)

    with pytest.raises(ApiException) as missing:
        apps.read_namespaced_deployment("nowhere", NS)
    assert missing.value.status == 404 and json.loads(missing.value.body)["kind"] == "Status"
    with pytest.raises(ApiException) as wrong:
        client.CoreV1Api(client.ApiClient(client_configuration(api, token="not-the-token"))).list_namespaced_pod(NS)
    assert wrong.value.status == 401 and json.loads(wrong.value.body)["reason"] == "Unauthorized"


# 2 ----------------------------------------------------------------------------------------------------------
def test_kubernetes_core_modules(api, program, ansible, tmp_path, monkeypatch):
    api.apply(workload("Deployment", "web", 1, program))
    api.apply(workload("StatefulSet", "nats", 1, program, probe={"tcpSocket": {"port": 4222}}))
    api.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db-info", "namespace": NS},
               "stringData": {"password": "original"}})
    assert api.wait_idle(20)
    connection = {"kubeconfig": api.kubeconfig}

    def start(module, args, name):
        tmpdir = tmp_path / ("tmp-" + name)   # its own discovery cache (a stale cache hit is never refreshed)
        tmpdir.mkdir()
        monkeypatch.setenv("TMPDIR", str(tmpdir))
        return ansible.start(module, dict(connection, **args), name=name)

    scale = {"replicas": 2, "wait": True, "wait_timeout": 30, "wait_sleep": 1, "namespace": NS}
    running = [
        start("kubernetes.core.k8s_scale", dict(scale, api_version="apps/v1", kind="Deployment", name="web"), "scale-web"),
        start("kubernetes.core.k8s_scale", dict(scale, api_version="apps/v1", kind="StatefulSet", name="nats"), "scale-nats"),
        start("kubernetes.core.k8s", {"state": "patched", "definition": {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db-info", "namespace": NS},
            "stringData": {"password": "rotated"}}}, "patch-secret"),
    ]
    results = [ansible.finish(proc) for proc in running]
    for result in results:
        assert not result.get("failed"), result
        assert result["changed"] is True
    web, nats = api.get("Deployment", NS, "web"), api.get("StatefulSet", NS, "nats")
    assert web["status"]["availableReplicas"] == web["status"]["replicas"] == 2
    assert nats["status"]["readyReplicas"] == nats["status"]["replicas"] == 2
    assert nats["status"]["currentRevision"] == nats["status"]["updateRevision"]
    assert sorted(p["metadata"]["name"] for p in api.pods(NS, "app=nats")) == ["nats-0", "nats-1"]
    secret = api.get("Secret", NS, "db-info")
    assert secret["data"] == {"password": base64.b64encode(b"rotated").decode()} and "stringData" not in secret

    info = ansible.run("kubernetes.core.k8s_info", dict(connection, kind="Pod", namespace=NS, label_selectors=["app=web"],
                                                        wait=True, wait_timeout=30, wait_sleep=1,
                                                        wait_condition={"type": "Ready", "status": "True"}), name="info")
    assert not info.get("failed"), info
    assert len(info["resources"]) == 2
    assert all(ready(pod) for pod in info["resources"])
    settled_pods(api, "web", 2)
    settled_pods(api, "nats", 2)


# 3 ----------------------------------------------------------------------------------------------------------
@pytest.fixture
def kubectl(api, tmp_path):
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.skip("kubectl is not installed (it comes with the base image, not a registry)")

    def run(*args):
        argv = [binary, "--kubeconfig", api.kubeconfig, "--cache-dir", str(tmp_path / "kubectl-cache")] + list(args)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout
    return run


def test_kubectl(api, program, kubectl):
    api.apply(workload("Deployment", "web", 2, program))
    pods = settled_pods(api, "web", 2)
    table = kubectl("get", "pods", "-n", NS).splitlines()
    assert table[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    rows = {line.split()[0]: line.split()[1:4] for line in table[1:]}
    assert rows == {p["metadata"]["name"]: ["1/1", "Running", "0"] for p in pods}
    listed = json.loads(kubectl("get", "deploy", "-n", NS, "-o", "json"))
    assert [item["metadata"]["name"] for item in listed["items"]] == ["web"]
    assert listed["items"][0]["status"]["readyReplicas"] == 2
    assert "serving %s/%s" % (NS, pods[0]["metadata"]["name"]) in kubectl("logs", "-n", NS, pods[0]["metadata"]["name"])
    victim = pods[0]["metadata"]["name"]
    assert 'pod "%s" deleted' % victim in kubectl("delete", "pod", victim, "-n", NS, "--wait=false")
    replaced = wait_for(lambda: victim not in [p["metadata"]["name"] for p in settled_pods(api, "web", 2, timeout=15)],
                        what="the deleted pod replaced")
    assert replaced and not process_alive(pid_of(pods[0]))
    assert "scaled" in kubectl("scale", "deployment", "web", "-n", NS, "--replicas=0")
    wait_for(lambda: api.pods(NS) == [], what="the pods gone after kubectl scale --replicas=0")
    assert api.get("Deployment", NS, "web")["spec"]["replicas"] == 0


# 4 ----------------------------------------------------------------------------------------------------------
def test_scale_to_zero_waits_for_the_processes(api, program):
    from kubernetes import client

    env = {"SHUTDOWN_SECONDS": "2"}
    api.apply(workload("Deployment", "slow", 2, program, env=env))
    api.apply(workload("StatefulSet", "queue", 2, program, env=env, parallel=True))
    pids = [pid_of(p) for p in settled_pods(api, "slow", 2) + settled_pods(api, "queue", 2)]
    apps = client.AppsV1Api(client.ApiClient(client_configuration(api)))
    started = time.monotonic()
    apps.patch_namespaced_deployment_scale("slow", NS, {"spec": {"replicas": 0}})
    apps.patch_namespaced_stateful_set_scale("queue", NS, {"spec": {"replicas": 0}})

    def observed(kind, name):
        obj = api.get(kind, NS, name)
        return obj["status"].get("observedGeneration") == obj["metadata"]["generation"] and obj
    deployment = wait_for(lambda: observed("Deployment", "slow"), what="the Deployment scale observed")
    statefulset = wait_for(lambda: observed("StatefulSet", "queue"), what="the StatefulSet scale observed")
    terminating = api.pods(NS)
    # A Deployment counts only non-terminating pods (omitempty: the 0 is absent); a StatefulSet counts them all.
    assert "replicas" not in deployment["status"] and "availableReplicas" not in deployment["status"]
    assert statefulset["status"]["replicas"] == 2
    assert len(terminating) == 4 and all(p["metadata"].get("deletionTimestamp") for p in terminating)
    assert all(p["metadata"]["deletionGracePeriodSeconds"] == 10 for p in terminating)
    assert all(process_alive(pid) for pid in pids)

    wait_for(lambda: api.pods(NS) == [], timeout=15, what="the terminating pods gone")
    assert time.monotonic() - started >= 1.5   # the processes took their SHUTDOWN_SECONDS
    assert [pid for pid in pids if process_alive(pid)] == []
    assert api.get("StatefulSet", NS, "queue")["status"]["replicas"] == 0
    status, body = http(api, "GET", "/apis/apps/v1/namespaces/%s/deployments/slow/scale" % NS)
    assert status == 200 and body["status"]["replicas"] == 0 and body["spec"]["replicas"] == 0


def test_stop_leaves_no_process_behind(tmp_path, program):
    server = KubeApiServer(tmp_path / "kube").start()
    try:
        server.apply(workload("Deployment", "stubborn", 2, program, env={"IGNORE_TERM": "1"}, grace=1))
        server.apply(workload("StatefulSet", "polite", 1, program))
        server.wait_idle(20)
        pids = [pid_of(p) for p in server.pods(NS)]
        assert len(pids) == 3 and all(process_alive(pid) for pid in pids)
    finally:
        server.stop()
    assert [pid for pid in pids if process_alive(pid)] == []


# 5 ----------------------------------------------------------------------------------------------------------
def test_restart_readiness_and_logs(api, program, tmp_path):
    from kubernetes import client

    api.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "app-secret", "namespace": NS},
               "data": {"value": base64.b64encode(b"s3cr3t").decode()}})
    flaky = workload("Deployment", "flaky", 1, program, env={"EXIT_ONCE": str(tmp_path / "exited-once")})
    flaky["spec"]["template"]["spec"]["containers"][0]["env"].append(
        {"name": "SECRET_VALUE", "valueFrom": {"secretKeyRef": {"name": "app-secret", "key": "value"}}})
    api.apply(flaky)
    api.apply(workload("Deployment", "stuck", 1, program, probe={"httpGet": {"path": "/never", "port": 8080}}))
    api.apply(workload("Deployment", "tcp", 1, program, probe={"tcpSocket": {"port": 8080}}))

    pod = settled_pods(api, "flaky", 1)[0]
    status = pod["status"]["containerStatuses"][0]
    assert status["restartCount"] == 1 and status["lastState"]["terminated"]["exitCode"] == 3
    assert "running" in status["state"]
    settled_pods(api, "tcp", 1)

    stuck = wait_for(lambda: [p for p in api.pods(NS, "app=stuck") if "running" in
                              p["status"].get("containerStatuses", [{}])[0].get("state", {})], what="the stuck pod running")[0]
    log = stuck["metadata"]["annotations"]["lab.vaultops.io/log"]
    wait_for(lambda: open(log).read().count("GET /never") >= 3, what="three failed probes")
    stuck = api.pods(NS, "app=stuck")[0]
    api.seen_pids.add(pid_of(stuck))
    assert not ready(stuck) and stuck["status"]["containerStatuses"][0]["ready"] is False
    assert stuck["status"]["phase"] == "Running"
    deployment = api.get("Deployment", NS, "stuck")["status"]
    assert "availableReplicas" not in deployment and deployment["unavailableReplicas"] == 1

    core = client.CoreV1Api(client.ApiClient(client_configuration(api)))
    name = pod["metadata"]["name"]
    whole = core.read_namespaced_pod_log(name, NS)
    assert whole.splitlines()[:3] == ["first start: exiting with 3", "secret=s3cr3t",
                                      "serving %s/%s on port %s" % (NS, name, pod["metadata"]["annotations"]["lab.vaultops.io/port"])]
    tail = core.read_namespaced_pod_log(name, NS, tail_lines=2).splitlines()
    with open(pod["metadata"]["annotations"]["lab.vaultops.io/log"]) as handle:
        on_disk = handle.read().splitlines()
    # probes keep logging, so the file may have grown since: the tail is 2 consecutive lines near its end
    assert len(tail) == 2 and any(on_disk[i:i + 2] == tail for i in range(len(on_disk) - 8, len(on_disk) - 1))
    assert oct(os.stat(pod["metadata"]["annotations"]["lab.vaultops.io/log"]).st_mode & 0o777) == "0o600"


def test_rollout_replaces_a_pod_once_its_successor_is_ready(api, program):
    from kubernetes import client

    api.apply(workload("Deployment", "roll", 1, program, env={"SHUTDOWN_SECONDS": "0.5"}))
    old = settled_pods(api, "roll", 1)[0]
    apps = client.AppsV1Api(client.ApiClient(client_configuration(api)))
    apps.patch_namespaced_deployment("roll", NS, {"spec": {"template": {"metadata": {"annotations": {"restarted": "1"}}}}})
    overlap = []

    def replaced():
        pods = api.pods(NS, "app=roll")
        successors = [p for p in pods if p["metadata"]["name"] != old["metadata"]["name"]]
        if any(p["metadata"]["name"] == old["metadata"]["name"] and p["metadata"].get("deletionTimestamp") for p in pods):
            assert any(ready(p) for p in successors), "the old pod went before its successor was Ready"
        if len(pods) == 2:
            overlap.append(True)
        return len(pods) == 1 and successors and ready(successors[0]) and successors[0]
    new = wait_for(replaced, what="the rollout")
    api.seen_pids.add(pid_of(new))
    assert overlap and new["metadata"]["labels"]["pod-template-hash"] != old["metadata"]["labels"]["pod-template-hash"]
    assert new["metadata"]["annotations"]["restarted"] == "1" and not process_alive(pid_of(old))
    assert api.wait_idle(10) and api.get("Deployment", NS, "roll")["metadata"]["generation"] == 2


# 6 ----------------------------------------------------------------------------------------------------------
def test_http_surface_and_status_errors(api, program):
    status, body = http(api, "GET", "/apis/apps/v1/namespaces/%s/deployments/missing" % NS)
    assert status == 404 and body["kind"] == "Status" and body["reason"] == "NotFound" and body["code"] == 404
    for token in ("wrong", ""):
        status, body = http(api, "GET", "/api/v1/namespaces/%s/pods" % NS, token=token)
        assert status == 401 and body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                          "reason": "Unauthorized", "code": 401, "message": "Unauthorized"}
    assert http(api, "GET", "/api/v1/namespaces/%s/widgets" % NS)[1]["reason"] == "NotFound"
    assert http(api, "GET", "/version")[1]["gitVersion"].startswith("v1.30.")
    for path in ("/api", "/api/v1", "/apis", "/apis/apps/v1"):
        assert "kind" in http(api, "GET", path)[1]
    resources = {r["name"]: r for r in http(api, "GET", "/apis/apps/v1")[1]["resources"]}
    assert resources["deployments/scale"]["namespaced"] and resources["statefulsets/scale"]["kind"] == "Scale"
    assert not {r["name"]: r for r in http(api, "GET", "/api/v1")[1]["resources"]}["namespaces"]["namespaced"]

    # label selectors, on Secrets (no processes needed)
    for name, labels in (("a", {"tier": "db", "env": "prod"}), ("b", {"tier": "web"}), ("c", {})):
        status, body = http(api, "POST", "/api/v1/namespaces/%s/secrets" % NS, {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "labels": labels}, "stringData": {"k": name}})
        assert status == 201 and body["data"] == {"k": base64.b64encode(name.encode()).decode()}
    status, body = http(api, "POST", "/api/v1/namespaces/%s/secrets" % NS, {"kind": "Secret", "metadata": {"name": "a"}})
    assert status == 409 and body["reason"] == "AlreadyExists"
    for selector, names in (("", "abc"), ("tier=db", "a"), ("tier==web", "b"), ("tier!=db", "bc"), ("tier in (db,web)", "ab"),
                            ("tier notin (db)", "bc"), ("tier", "ab"), ("!tier", "c"), ("tier,env=prod", "a")):
        query = urllib.request.quote(selector)
        items = http(api, "GET", "/api/v1/namespaces/%s/secrets?labelSelector=%s" % (NS, query))[1]["items"]
        assert "".join(i["metadata"]["name"] for i in items) == names, selector

    # patches: merge, strategic merge and json patch; a Deployment's generation follows its spec
    path = "/api/v1/namespaces/%s/secrets/a" % NS
    assert http(api, "PATCH", path, {"stringData": {"x": "1"}}, content_type="application/merge-patch+json")[1]["data"]["x"] == "MQ=="
    assert http(api, "PATCH", path, [{"op": "remove", "path": "/data/x"}],
                content_type="application/json-patch+json")[1]["data"] == {"k": "YQ=="}
    assert http(api, "DELETE", path)[1]["status"] == "Success" and http(api, "GET", path)[0] == 404
    api.apply(workload("Deployment", "gen", 0, program))
    dpath = "/apis/apps/v1/namespaces/%s/deployments/gen" % NS
    env = [{"name": "A", "value": "1"}]
    patched = http(api, "PATCH", dpath, {"spec": {"template": {"spec": {"containers": [{"name": "gen", "env": env}]}}}},
                   content_type="application/strategic-merge-patch+json")[1]
    container = patched["spec"]["template"]["spec"]["containers"][0]
    assert patched["metadata"]["generation"] == 2 and container["env"] == env and container["command"][0] == sys.executable
    assert http(api, "PATCH", dpath, {"metadata": {"labels": {"x": "y"}}},
                content_type="application/merge-patch+json")[1]["metadata"]["generation"] == 2
    scale = http(api, "PATCH", dpath + "/scale", {"kind": "Deployment", "apiVersion": "apps/v1", "spec": {"replicas": 0}},
                 content_type="application/strategic-merge-patch+json")[1]
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert http(api, "PUT", dpath + "/scale", {"kind": "Scale", "spec": {"replicas": 1}})[1]["spec"]["replicas"] == 1
    assert wait_for(lambda: api.get("Deployment", NS, "gen")["status"].get("observedGeneration") == 3, what="observed")
    table = http(api, "GET", "/api/v1/namespaces/%s/pods" % NS,
                 accept="application/json;as=Table;v=v1;g=meta.k8s.io,application/json")[1]
    assert table["kind"] == "Table" and [c["name"] for c in table["columnDefinitions"]][:5] == [
        "Name", "Ready", "Status", "Restarts", "Age"]
    settled_pods(api, "gen", 1)
    status, text = http(api, "GET", "/api/v1/namespaces/%s/pods/%s/log?tailLines=1" % (NS, api.pods(NS)[0]["metadata"]["name"]))
    assert status == 200 and text.count("\n") == 1
    assert ("GET", "/version") in api.requests and not any("Bearer" in str(r) for r in api.requests)


# the daemon -------------------------------------------------------------------------------------------------
def test_daemon_mode(tmp_path, program):
    from support import kube_apiserver

    directory = tmp_path / "daemon"
    objects = tmp_path / "objects.json"
    objects.write_text(json.dumps([workload("Deployment", "web", 1, program)]))
    proc = subprocess.Popen([sys.executable, kube_apiserver.__file__, "--dir", str(directory), "--objects", str(objects)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        server = wait_for(lambda: (directory / "server.json").exists() and json.loads((directory / "server.json").read_text()),
                          what="server.json")
        assert server["pid"] == proc.pid and oct((directory / "token").stat().st_mode & 0o777) == "0o600"
        token = (directory / "token").read_text().strip()
        context = ssl.create_default_context(cafile=str(directory / "ca.crt"))

        def running_pods():
            request = urllib.request.Request(server["url"] + "/api/v1/namespaces/%s/pods" % NS,
                                             headers={"Authorization": "Bearer " + token})
            with urllib.request.urlopen(request, context=context, timeout=5) as response:
                items = json.load(response)["items"]
            return [p for p in items if ready(p)]
        pods = wait_for(running_pods, what="the daemon's pod Ready")
        pid = pid_of(pods[0])
        assert process_alive(pid)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0, proc.stdout.read()
        assert not process_alive(pid)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

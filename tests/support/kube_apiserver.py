"""A Kubernetes API server stand-in whose simulated controller runs pods as REAL local processes.

Stands in for: kube-apiserver + the Deployment/StatefulSet controllers + a kubelet, for the parts that the
REAL ``kubernetes`` Python client, the kubernetes.core modules (k8s, k8s_info, k8s_scale) and kubectl use.
No kube-apiserver, kind, k3s or kwok can be installed here (see /work/shared/notes/kubernetes-facts.md,
whose facts this honours: ``kind`` on every document, Status errors, namespaced scale subresources in
``/apis/apps/v1``, generation/observedGeneration, omitempty zero counters on Deployments, Deployment
``status.replicas`` counting only non-terminating pods while a StatefulSet's counts terminating ones,
StatefulSet updateStrategy and full status, Secret ``stringData`` folded into base64 ``data``,
strategic-merge/merge/json patches, discovery endpoints, a meta.k8s.io Table for kubectl).

Interface (others code against it; change it only additively)::

    api = KubeApiServer(directory, token=None)  # token None -> random; directory: CA, server cert, kubeconfig, pod logs
    api.start()          # HTTPS on 127.0.0.1:<free port>, request threads + a controller thread; returns api
    api.url              # "https://127.0.0.1:PORT"
    api.token            # the bearer token (wrong/missing token -> 401 Status "Unauthorized")
    api.ca_cert          # path of the CA certificate (PEM) that signed the server certificate
    api.kubeconfig       # path of a kubeconfig (0600): certificate-authority-data of the CA, the token,
                         # cluster/context/user "vaultops-lab" (current context), namespace default
    api.apply(obj)       # create or replace an object dict (Namespace, Deployment, StatefulSet, Secret, Pod);
                         # returns the stored copy; the controller reconciles it
    api.get(kind, namespace, name) -> dict or None     # deep copy of the stored object
    api.pods(namespace, selector=None) -> [pod dicts]  # selector: a labelSelector string or a dict of labels
    api.wait_idle(timeout=30) -> bool  # every workload settled (kubernetes.core's ready predicates) and
                                       # no pod pending deletion
    api.requests         # list of (method, path) served (no query, never an Authorization header)
    api.stop()           # stops the server; SIGTERM then SIGKILL to every pod's process group; waits for them

Pods: ``spec.template.spec.containers[0].command`` + ``args`` run with ``start_new_session=True``; env is
PATH/HOME/LANG/TMPDIR of this process + ``containers[0].env`` (``value`` or ``valueFrom.secretKeyRef``) +
``envFrom[].secretRef`` + ``PORT`` (a free 127.0.0.1 port chosen for the pod, kept across restarts),
``POD_NAME``, ``POD_NAMESPACE``, ``HOSTNAME``; stdout+stderr are appended to ``<directory>/pod-logs/*.log``
(0600). Annotations ``lab.vaultops.io/port``, ``lab.vaultops.io/pid`` and ``lab.vaultops.io/log`` tell a test
where the process is. ``readinessProbe`` httpGet (HTTP/HTTPS, unverified) / tcpSocket / exec is run against
PORT every ~0.2 s. A process that exits on its own is restarted (restartCount + 1, CrashLoopBackOff <= 1 s).
Deleting a pod (API, scale-down, workload deleted) sets deletionTimestamp, sends SIGTERM to the process group,
SIGKILL after terminationGracePeriodSeconds, and removes the pod only once the process has exited.

Daemon for the lab: ``python tests/support/kube_apiserver.py --dir DIR [--objects FILE.json]
[--token-file F]`` applies the objects (a JSON list), writes DIR/server.json {"url", "pid", "kubeconfig",
"ca_cert"} atomically once serving (token in --token-file, else a random one written to DIR/token, 0600) and
runs until SIGTERM/SIGINT, then stops cleanly (every pod process gone).

Not modelled: watch, ReplicaSets (pods' owner is the Deployment), Services, ConfigMaps, RBAC, admission.
"""

import argparse
import base64
import concurrent.futures
import copy
import datetime
import hashlib
import hmac
import http.client
import http.server
import ipaddress
import itertools
import json
import os
import random
import re
import secrets as _secrets
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

GIT_VERSION = "v1.30.6"
CONTEXT = "vaultops-lab"
NODE_NAME = "vaultops-lab-node"
PORT_ANNOTATION = "lab.vaultops.io/port"
PID_ANNOTATION = "lab.vaultops.io/pid"
LOG_ANNOTATION = "lab.vaultops.io/log"
TICK = 0.1
PROBE_PERIOD = 0.2
PROBE_DEFAULTS = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
STOP_GRACE = 5.0      # stop(): the longest a pod gets between SIGTERM and SIGKILL

# (group, plural) -> kind, namespaced, short names
RESOURCES = {
    ("", "namespaces"): ("Namespace", False, ["ns"]),
    ("", "pods"): ("Pod", True, ["po"]),
    ("", "secrets"): ("Secret", True, []),
    ("", "events"): ("Event", True, ["ev"]),
    ("apps", "deployments"): ("Deployment", True, ["deploy"]),
    ("apps", "statefulsets"): ("StatefulSet", True, ["sts"]),
}
KINDS = {kind: (group, plural) for (group, plural), (kind, _n, _s) in RESOURCES.items()}
VERBS = ["create", "delete", "get", "list", "patch", "update"]
WORKLOADS = ("Deployment", "StatefulSet")
SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _ts(moment=None):
    return (moment or _now()).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_ts(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def _api_version(kind):
    return "apps/v1" if KINDS[kind][0] == "apps" else "v1"


def _human_age(created):
    seconds = max(0, int((_now() - _parse_ts(created)).total_seconds()))
    if seconds < 120:
        return "%ds" % seconds
    minutes = seconds // 60
    if minutes < 10:
        return "%dm%ds" % (minutes, seconds % 60)
    if minutes < 180:
        return "%dm" % minutes
    hours = minutes // 60
    if hours < 48:
        return "%dh%dm" % (hours, minutes % 60) if hours < 8 else "%dh" % hours
    return "%dd" % (hours // 24)


# certificates --------------------------------------------------------------------------------------------
def make_ca_and_server_certificate(directory):
    """A CA, and a server certificate for 127.0.0.1/localhost signed by it. Returns (ca, cert, key) paths."""
    now = _now()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vaultops kube stand-in CA %s" % uuid.uuid4().hex[:8])])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=7))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                            content_commitment=False, key_encipherment=False, data_encipherment=False,
                                            key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost"), x509.DNSName("kubernetes"),
            x509.DNSName("kubernetes.default"), x509.DNSName("kubernetes.default.svc")]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = [os.path.join(directory, name) for name in ("ca.crt", "apiserver.crt", "apiserver.key")]
    for path, data in zip(paths, (ca_cert.public_bytes(serialization.Encoding.PEM),
                                  cert.public_bytes(serialization.Encoding.PEM),
                                  key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))):
        _write_private(path, data)
    return tuple(paths)


def _write_private(path, data, mode=0o600):
    """Write atomically with the mode from the start."""
    tmp = "%s.tmp-%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# errors, selectors, patches ------------------------------------------------------------------------------
class ApiError(Exception):
    def __init__(self, code, reason, message, details=None):
        Exception.__init__(self, message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": self.message,
                "reason": self.reason, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


def _not_found(kind, name):
    group, plural = KINDS.get(kind, ("", kind.lower() + "s"))
    resource = plural + ("." + group if group else "")
    return ApiError(404, "NotFound", '%s "%s" not found' % (resource, name),
                    {"name": name, "group": group, "kind": plural} if group else {"name": name, "kind": plural})


def _split_terms(text):
    terms, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [term.strip() for term in terms if term.strip()]


_KEY = r"[A-Za-z0-9_./-]+"


def parse_label_selector(text):
    """labelSelector text -> list of (key, op, values); ops: =, !=, in, notin, exists, !exists."""
    requirements = []
    for term in _split_terms(text or ""):
        match = re.match(r"^(%s)\s+(in|notin)\s+\((.*)\)$" % _KEY, term)
        if match:
            values = {value.strip() for value in match.group(3).split(",") if value.strip()}
            requirements.append((match.group(1), match.group(2), values))
            continue
        match = re.match(r"^(%s)\s*(==|!=|=)\s*([A-Za-z0-9_.-]*)$" % _KEY, term)
        if match:
            requirements.append((match.group(1), "!=" if match.group(2) == "!=" else "=", {match.group(3)}))
            continue
        match = re.match(r"^(!?)\s*(%s)$" % _KEY, term)
        if match:
            requirements.append((match.group(2), "!exists" if match.group(1) else "exists", set()))
            continue
        raise ApiError(400, "BadRequest", "unable to parse requirement: %r" % term)
    return requirements


def labels_match(requirements, labels):
    labels = labels or {}
    for key, op, values in requirements:
        present = key in labels
        if op == "=" and labels.get(key) not in values:
            return False
        if op == "!=" and present and labels[key] in values:
            return False
        if op == "in" and labels.get(key) not in values:
            return False
        if op == "notin" and present and labels[key] in values:
            return False
        if op == "exists" and not present:
            return False
        if op == "!exists" and present:
            return False
    return True


def _field_match(text, obj):
    for term in _split_terms(text or ""):
        match = re.match(r"^([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*)$", term)
        if not match:
            raise ApiError(400, "BadRequest", "invalid field selector: %r" % term)
        value = obj
        for part in match.group(1).split("."):
            value = value.get(part) if isinstance(value, dict) else None
        value = "" if value is None else str(value)
        if (match.group(2) == "!=") == (value == match.group(3)):
            return False
    return True


def selector_string(selector):
    selector = selector or {}
    terms = ["%s=%s" % item for item in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        op = expression.get("operator", "")
        if op in ("In", "NotIn"):
            terms.append("%s %s (%s)" % (expression["key"], op.lower(), ",".join(expression.get("values") or [])))
        elif op == "Exists":
            terms.append(expression["key"])
        elif op == "DoesNotExist":
            terms.append("!" + expression["key"])
    return ",".join(terms)


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


_MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name", "volumes": "name",
               "volumeMounts": "mountPath", "ports": "containerPort", "imagePullSecrets": "name",
               "envFrom": None, "ownerReferences": "uid", "conditions": "type", "tolerations": None}


def strategic_merge_patch(target, patch):
    """Kubernetes strategic merge patch, for the lists the clients touch (merged by their merge key)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if not k.startswith("$")}
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            result[key] = strategic_merge_patch(result.get(key), value)
        elif isinstance(value, list) and _MERGE_KEYS.get(key) and isinstance(result.get(key), list) \
                and all(isinstance(item, dict) for item in value + result[key]):
            merge_key = _MERGE_KEYS[key]
            merged = [copy.deepcopy(item) for item in result[key]]
            for item in value:
                index = next((i for i, old in enumerate(merged) if old.get(merge_key) == item.get(merge_key)), None)
                if item.get("$patch") == "delete":
                    if index is not None:
                        merged.pop(index)
                elif index is None:
                    merged.append({k: copy.deepcopy(v) for k, v in item.items() if not k.startswith("$")})
                else:
                    merged[index] = strategic_merge_patch(merged[index], item)
            result[key] = merged
        else:
            result[key] = copy.deepcopy(value)
    return result


def json_patch(target, operations):
    """RFC 6902 JSON patch (add, remove, replace, test, copy, move)."""
    doc = copy.deepcopy(target)

    def walk(pointer):
        parts = [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]
        parent = doc
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        return parent, parts[-1]

    def get(pointer):
        parent, last = walk(pointer)
        return parent[int(last)] if isinstance(parent, list) else parent[last]

    def put(pointer, value, replace):
        parent, last = walk(pointer)
        if isinstance(parent, list):
            if last == "-":
                parent.append(value)
            elif replace:
                parent[int(last)] = value
            else:
                parent.insert(int(last), value)
        else:
            parent[last] = value

    def remove(pointer):
        parent, last = walk(pointer)
        return parent.pop(int(last)) if isinstance(parent, list) else parent.pop(last)

    try:
        for operation in operations:
            op, path = operation["op"], operation["path"]
            if op == "add":
                put(path, copy.deepcopy(operation["value"]), False)
            elif op == "replace":
                get(path)
                put(path, copy.deepcopy(operation["value"]), True)
            elif op == "remove":
                remove(path)
            elif op == "test":
                if get(path) != operation["value"]:
                    raise ApiError(422, "Invalid", "the test operation at %s failed" % path)
            elif op in ("copy", "move"):
                value = copy.deepcopy(get(operation["from"]))
                if op == "move":
                    remove(operation["from"])
                put(path, value, False)
            else:
                raise ApiError(400, "BadRequest", "unknown json patch operation %r" % op)
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise ApiError(422, "Invalid", "the json patch could not be applied: %s" % exc)
    return doc


def apply_patch(target, body, content_type):
    content_type = (content_type or "").split(";")[0].strip()
    if content_type == "application/json-patch+json":
        if not isinstance(body, list):
            raise ApiError(400, "BadRequest", "a json patch must be a list of operations")
        return json_patch(target, body)
    if not isinstance(body, dict):
        raise ApiError(400, "BadRequest", "the patch body must be a JSON object")
    if content_type == "application/merge-patch+json":
        return merge_patch(target, body)
    if content_type == "application/strategic-merge-patch+json":
        return strategic_merge_patch(target, body)
    if content_type == "application/apply-patch+yaml":
        raise ApiError(415, "UnsupportedMediaType", "server-side apply is not supported by the stand-in")
    raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types "
                   "include: application/json-patch+json, application/merge-patch+json, "
                   "application/strategic-merge-patch+json")


def _template_hash(template):
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _killpg(pid, sig):
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# pods' processes --------------------------------------------------------------------------------------------
class _Runtime(object):
    """What the simulated kubelet knows about one pod's process."""

    def __init__(self, port, log_path):
        self.port = port
        self.log_path = log_path
        self.proc = None
        self.seq = 0             # bumps on every start; probe results of an older start are dropped
        self.restarts = 0
        self.started_at = None
        self.ever_started = False
        self.waiting = ("ContainerCreating", "")
        self.last_state = {}
        self.backoff_until = 0.0
        self.probe_ok = False
        self.probe_inflight = False
        self.last_probe = 0.0
        self.ready_changed = _ts()
        self.was_ready = False
        self.term_sent = False
        self.kill_at = None
        self.killed = False

    def running(self):
        return self.proc is not None and self.proc.poll() is None


def _probe(probe, port, env):
    """One readiness probe against the pod's PORT; True when it passes."""
    timeout = min(1.0, float(probe.get("timeoutSeconds") or 1))
    try:
        if "httpGet" in probe:
            get = probe["httpGet"]
            if (get.get("scheme") or "HTTP").upper() == "HTTPS":
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=context)
            else:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            try:
                headers = {h["name"]: h["value"] for h in get.get("httpHeaders") or []}
                conn.request("GET", get.get("path") or "/", headers=headers)
                return 200 <= conn.getresponse().status < 400
            finally:
                conn.close()
        if "tcpSocket" in probe:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout):
                return True
        if "exec" in probe:
            return subprocess.run(probe["exec"].get("command") or ["false"], env=env, timeout=timeout, check=False,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    except (OSError, ssl.SSLError, http.client.HTTPException, subprocess.SubprocessError):
        return False
    return True


# HTTP -------------------------------------------------------------------------------------------------------
class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parsed = urllib.parse.urlsplit(self.path)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query, keep_blank_values=True).items()}
        status, payload, content_type = self.server.owner.handle(self.command, parsed.path, query, self.headers, body)
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _serve


class KubeApiServer(object):
    def __init__(self, directory, token=None):
        self.directory = os.path.abspath(str(directory))
        os.makedirs(self.directory, exist_ok=True)
        self.log_dir = os.path.join(self.directory, "pod-logs")
        os.makedirs(self.log_dir, mode=0o700, exist_ok=True)
        self.token = token or _secrets.token_urlsafe(32)
        self.ca_cert, self._server_cert, self._server_key = make_ca_and_server_certificate(self.directory)
        self.kubeconfig = os.path.join(self.directory, "kubeconfig")
        self.requests = []
        self._lock = threading.RLock()
        self._store = {}         # (kind, namespace, name) -> object; namespace "" for Namespaces
        self._runtimes = {}      # pod uid -> _Runtime
        self._ports = set()
        self._rv = itertools.count(1000)
        self._resource_version = "1000"
        self._stopping = threading.Event()
        self._httpd = None
        self._controller = None
        self._probes = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="kube-probe")
        self._create(self._defaults({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "default"}}))

    # lifecycle -------------------------------------------------------------------------------------------
    @property
    def url(self):
        return "https://127.0.0.1:%d" % self._httpd.server_address[1]

    def start(self):
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.owner = self
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self._server_cert, self._server_key)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        threading.Thread(target=self._httpd.serve_forever, name="kube-apiserver", daemon=True).start()
        self._write_kubeconfig()
        self._controller = threading.Thread(target=self._control_loop, name="kube-controller", daemon=True)
        self._controller.start()
        return self

    def _write_kubeconfig(self):
        with open(self.ca_cert, "rb") as handle:
            ca_data = base64.b64encode(handle.read()).decode()
        lines = ["apiVersion: v1", "kind: Config", "clusters:", "- name: %s" % CONTEXT, "  cluster:",
                 "    server: %s" % json.dumps(self.url), "    certificate-authority-data: %s" % ca_data,
                 "users:", "- name: %s" % CONTEXT, "  user:", "    token: %s" % json.dumps(self.token),
                 "contexts:", "- name: %s" % CONTEXT, "  context:", "    cluster: %s" % CONTEXT,
                 "    user: %s" % CONTEXT, "    namespace: default", "current-context: %s" % CONTEXT,
                 "preferences: {}", ""]
        _write_private(self.kubeconfig, "\n".join(lines))

    def stop(self):
        self._stopping.set()
        if self._controller is not None:
            self._controller.join(timeout=10)
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        self._probes.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            graces = {}
            for pod in [obj for (kind, _ns, _n), obj in self._store.items() if kind == "Pod"]:
                graces[pod["metadata"]["uid"]] = float(pod["metadata"].get("deletionGracePeriodSeconds",
                                                                           pod["spec"].get("terminationGracePeriodSeconds", 30)))
            runtimes = [(rt, min(STOP_GRACE, graces.get(uid, STOP_GRACE))) for uid, rt in self._runtimes.items()]
            self._runtimes.clear()
        live = [(rt.proc, grace) for rt, grace in runtimes if rt.proc is not None]
        start = time.monotonic()
        for proc, _grace in live:
            _killpg(proc.pid, signal.SIGTERM)
        for proc, grace in live:   # each pod gets min(its grace period, STOP_GRACE) to exit on SIGTERM
            try:
                proc.wait(timeout=max(0.01, start + grace - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _killpg(proc.pid, signal.SIGKILL)
        for proc, _grace in live:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # the Python interface --------------------------------------------------------------------------------
    def apply(self, obj):
        obj = copy.deepcopy(obj)
        kind = obj.get("kind")
        if kind not in KINDS:
            raise ValueError("the stand-in does not serve kind %r" % kind)
        meta = obj.setdefault("metadata", {})
        namespace = meta.setdefault("namespace", "default") if RESOURCES[KINDS[kind]][1] else ""
        if not RESOURCES[KINDS[kind]][1]:
            meta.pop("namespace", None)
        with self._lock:
            if (kind, namespace, meta.get("name")) in self._store:
                meta.pop("resourceVersion", None)
                return self._replace(kind, namespace, meta["name"], obj)
            return self._create(obj)

    def get(self, kind, namespace, name):
        with self._lock:
            obj = self._store.get((kind, "" if kind == "Namespace" else namespace, name))
            return copy.deepcopy(obj) if obj else None

    def pods(self, namespace, selector=None):
        if isinstance(selector, dict):
            selector = ",".join("%s=%s" % item for item in sorted(selector.items()))
        requirements = parse_label_selector(selector or "")
        with self._lock:
            return [copy.deepcopy(obj) for (kind, ns, _name), obj in sorted(self._store.items())
                    if kind == "Pod" and ns == namespace and labels_match(requirements, obj["metadata"].get("labels"))]

    def wait_idle(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._idle():
                return True
            time.sleep(TICK)
        return False

    def _idle(self):
        with self._lock:
            for (kind, _ns, _name), obj in self._store.items():
                if kind == "Pod" and obj["metadata"].get("deletionTimestamp"):
                    return False
                if kind in WORKLOADS:
                    status, spec = obj.get("status") or {}, obj["spec"]
                    if status.get("observedGeneration") != obj["metadata"]["generation"]:
                        return False
                    want = spec.get("replicas", 1)
                    if kind == "Deployment" and not (status.get("replicas", 0) == want == status.get("availableReplicas", 0)
                                                     and not status.get("unavailableReplicas")):
                        return False
                    if kind == "StatefulSet" and not (status.get("replicas", 0) == want == status.get("readyReplicas", 0)
                                                      == status.get("updatedReplicas", 0)
                                                      and status.get("currentRevision") == status.get("updateRevision")):
                        return False
            return True

    # the store -------------------------------------------------------------------------------------------
    def _bump(self):
        self._resource_version = str(next(self._rv))
        return self._resource_version

    def _defaults(self, obj):
        kind = obj["kind"]
        obj["apiVersion"] = _api_version(kind)
        meta = obj["metadata"]
        if kind == "Namespace":
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj["status"] = {"phase": "Active"}
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
        elif kind == "Secret":
            obj.setdefault("type", "Opaque")
            string_data = obj.pop("stringData", None) or {}
            data = obj.get("data") or {}
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()
            for key, value in data.items():
                try:
                    base64.b64decode(value, validate=True)
                except (ValueError, TypeError):
                    raise ApiError(422, "Invalid", 'Secret "%s" is invalid: data[%s]: Invalid value: illegal base64 data'
                                   % (meta["name"], key))
            if data or "data" in obj:
                obj["data"] = data
        elif kind == "Pod":
            spec = obj.setdefault("spec", {})
            if not spec.get("containers"):
                raise ApiError(422, "Invalid", 'Pod "%s" is invalid: spec.containers: Required value' % meta["name"])
            spec.setdefault("restartPolicy", "Always")
            spec.setdefault("terminationGracePeriodSeconds", 30)
            spec.setdefault("nodeName", NODE_NAME)
        elif kind in WORKLOADS:
            spec = obj.setdefault("spec", {})
            spec.setdefault("replicas", 1)
            spec.setdefault("revisionHistoryLimit", 10)
            template = spec.setdefault("template", {})
            template.setdefault("metadata", {})
            if "selector" not in spec:
                spec["selector"] = {"matchLabels": dict(template["metadata"].get("labels") or {})}
            pod_spec = template.setdefault("spec", {})
            for container in pod_spec.get("containers") or []:
                for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                    if isinstance(container.get(probe), dict):
                        for field, value in PROBE_DEFAULTS.items():
                            container[probe].setdefault(field, value)
            pod_spec.setdefault("restartPolicy", "Always")
            pod_spec.setdefault("terminationGracePeriodSeconds", 30)
            pod_spec.setdefault("dnsPolicy", "ClusterFirst")
            pod_spec.setdefault("schedulerName", "default-scheduler")
            if kind == "Deployment":
                spec.setdefault("strategy", {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
                spec.setdefault("progressDeadlineSeconds", 600)
            else:
                spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
                spec.setdefault("podManagementPolicy", "OrderedReady")
                spec.setdefault("serviceName", meta["name"])
                spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
        return obj

    def _create(self, obj):
        """Store a new object (lock held). Validates, defaults and stamps metadata."""
        obj = copy.deepcopy(obj)
        kind = obj.get("kind")
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(random.choice(SUFFIX_ALPHABET) for _letter in range(5))
        if not meta.get("name"):
            raise ApiError(422, "Invalid", "%s is invalid: metadata.name: Required value: name or generateName is required" % kind)
        namespaced = RESOURCES[KINDS[kind]][1]
        namespace = meta.get("namespace", "") if namespaced else ""
        key = (kind, namespace, meta["name"])
        if key in self._store:
            group, plural = KINDS[kind]
            raise ApiError(409, "AlreadyExists", '%s%s "%s" already exists' % (plural, "." + group if group else "", meta["name"]),
                           {"name": meta["name"], "group": group, "kind": plural})
        if namespaced and ("Namespace", "", namespace) not in self._store:
            self._create(self._defaults({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": namespace}}))
        self._defaults(obj)
        for field in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(field, None)
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=_ts(), generation=1, resourceVersion=self._bump())
        if kind in WORKLOADS:
            obj["status"] = {"replicas": 0} if kind == "StatefulSet" else {}
        elif kind == "Pod":
            obj["status"] = obj.get("status") or {"phase": "Pending", "qosClass": "BestEffort"}
        elif kind != "Namespace":
            obj.pop("status", None)
        self._store[key] = obj
        return copy.deepcopy(obj)

    def _replace(self, kind, namespace, name, obj, keep_status=True):
        """PUT semantics (lock held): uid/creationTimestamp kept, generation bumped on a spec change."""
        key = (kind, namespace, name)
        old = self._store.get(key)
        if old is None:
            raise _not_found(kind, name)
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if meta.get("name", name) != name:
            raise ApiError(400, "BadRequest", "the name of the object (%s) does not match the name on the URL (%s)"
                           % (meta.get("name"), name))
        sent_rv = meta.get("resourceVersion")
        if sent_rv and sent_rv != old["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the object has been modified; '
                           "please apply your changes to the latest version and try again" % (KINDS[kind][1], name))
        obj["kind"] = kind
        meta["name"] = name
        if namespace:
            meta["namespace"] = namespace
        self._defaults(obj)
        for field in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
            if field in old["metadata"]:
                meta[field] = old["metadata"][field]
            else:
                meta.pop(field, None)
        if keep_status and "status" in old:
            obj["status"] = copy.deepcopy(old["status"])
        changed_body = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
        old_body = {k: v for k, v in old.items() if k not in ("metadata", "status")}
        if changed_body != old_body:
            meta["generation"] = old["metadata"].get("generation", 1) + 1
        if kind == "Pod" and old.get("spec") != obj.get("spec"):
            obj["spec"] = old["spec"]   # a pod's spec is immutable here (the process already runs)
        meta["resourceVersion"] = self._bump()
        self._store[key] = obj
        return copy.deepcopy(obj)

    def _set_status(self, obj, status):
        if obj.get("status") != status:
            obj["status"] = status
            obj["metadata"]["resourceVersion"] = self._bump()

    def _set_annotations(self, obj, values):
        annotations = obj["metadata"].setdefault("annotations", {})
        if any(annotations.get(k) != v for k, v in values.items()):
            annotations.update(values)
            obj["metadata"]["resourceVersion"] = self._bump()

    def _mark_deleted(self, pod, grace=None):
        """Start a pod's graceful deletion (lock held)."""
        meta = pod["metadata"]
        if meta.get("deletionTimestamp"):
            return
        if grace is None:
            grace = int(pod["spec"].get("terminationGracePeriodSeconds", 30))
        meta["deletionTimestamp"] = _ts(_now() + datetime.timedelta(seconds=grace))
        meta["deletionGracePeriodSeconds"] = grace
        meta["resourceVersion"] = self._bump()
        rt = self._runtimes.get(meta["uid"])
        if rt is not None:
            rt.kill_at = time.monotonic() + grace

    # HTTP ------------------------------------------------------------------------------------------------
    def handle(self, method, path, query, headers, body):
        """-> (status, payload, content type)."""
        with self._lock:
            self.requests.append((method, path))
        auth = headers.get("Authorization") or ""
        if not hmac.compare_digest(auth.encode(), ("Bearer " + self.token).encode()):
            return 401, ApiError(401, "Unauthorized", "Unauthorized").status(), "application/json"
        try:
            parsed = None
            if body:
                try:
                    parsed = json.loads(body.decode("utf-8"))
                except ValueError:
                    raise ApiError(400, "BadRequest", "the request body is not JSON (the stand-in speaks JSON only)")
            result = self._route(method, path.rstrip("/") or "/", query, headers, parsed)
            if isinstance(result, tuple):
                return result
            return 201 if method == "POST" else 200, result, "application/json"
        except ApiError as exc:
            return exc.code, exc.status(), "application/json"
        except Exception as exc:  # a stand-in bug must show up as a failing test, not a hang
            return 500, ApiError(500, "InternalError", "stand-in error: %s: %s" % (type(exc).__name__, exc)).status(), \
                "application/json"

    def _route(self, method, path, query, headers, body):
        if method == "HEAD":
            method = "GET"
        discovery = {"/version": self._version, "/api": self._api_versions, "/api/v1": self._core_resources,
                     "/apis": self._group_list, "/apis/apps": self._apps_group, "/apis/apps/v1": self._apps_resources}
        if path in discovery:
            if method != "GET":
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
            return discovery[path]()
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "v1"]:
            group, rest = "", parts[2:]
        elif parts[:3] == ["apis", "apps", "v1"]:
            group, rest = "apps", parts[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        namespace, name, sub = None, None, None
        if not rest or not rest[0] or rest[0] == "namespaces" and group == "apps" and len(rest) < 3:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, plural = rest[1], rest[2]
            name = rest[3] if len(rest) > 3 else None
            sub = "/".join(rest[4:]) or None
        else:
            plural = rest[0]
            name = rest[1] if len(rest) > 1 else None
            sub = "/".join(rest[2:]) or None
        entry = RESOURCES.get((group, plural))
        if entry is None or (entry[1] and namespace is None and name is not None) or (not entry[1] and namespace):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        kind = entry[0]
        if query.get("watch") in ("true", "1"):
            raise ApiError(405, "MethodNotAllowed", "watch is not supported by the stand-in; poll instead")
        ns = namespace if entry[1] else ""
        with self._lock:
            if sub == "scale" and kind in WORKLOADS:
                return self._scale(method, kind, ns, name, headers, body)
            if sub == "log" and kind == "Pod" and method == "GET":
                return self._log(ns, name, query)
            if sub == "status" and method == "GET":
                sub = None
            if sub:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            if name is None:
                if method == "GET":
                    return self._list(kind, namespace if entry[1] else None, query, headers)
                if method == "POST":
                    return self._post(kind, ns, body)
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
            if method == "GET":
                obj = self._store.get((kind, ns, name))
                if obj is None:
                    raise _not_found(kind, name)
                if self._wants_table(headers):
                    return self._table(kind, [obj], query)
                return copy.deepcopy(obj)
            if method == "PUT":
                if not isinstance(body, dict):
                    raise ApiError(400, "BadRequest", "the body must be a %s object" % kind)
                return self._replace(kind, ns, name, body)
            if method == "PATCH":
                old = self._store.get((kind, ns, name))
                if old is None:
                    raise _not_found(kind, name)
                patched = apply_patch(old, body, headers.get("Content-Type"))
                if not isinstance(patched, dict):
                    raise ApiError(422, "Invalid", "the patch did not produce an object")
                return self._replace(kind, ns, name, patched)
            if method == "DELETE":
                return self._delete(kind, ns, name, query, body)
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    def _post(self, kind, namespace, body):
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the body must be a %s object" % kind)
        body = copy.deepcopy(body)
        body["kind"] = kind
        meta = body.setdefault("metadata", {})
        if namespace:
            if meta.get("namespace", namespace) != namespace:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace "
                               "sent on the request")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        return self._create(body)

    def _delete(self, kind, namespace, name, query, body):
        obj = self._store.get((kind, namespace, name))
        if obj is None:
            raise _not_found(kind, name)
        if kind == "Pod":
            grace = query.get("gracePeriodSeconds")
            if grace is None and isinstance(body, dict):
                grace = body.get("gracePeriodSeconds")
            self._mark_deleted(obj, None if grace in (None, "") else int(grace))
            return copy.deepcopy(obj)
        del self._store[(kind, namespace, name)]
        self._bump()
        if kind == "Namespace":
            for key in [key for key in self._store if key[1] == name]:
                if key[0] == "Pod":
                    self._mark_deleted(self._store[key])
                else:
                    del self._store[key]
        group, plural = KINDS[kind]
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": {"name": name, "group": group, "kind": plural, "uid": obj["metadata"]["uid"]}}

    def _list(self, kind, namespace, query, headers):
        requirements = parse_label_selector(query.get("labelSelector", ""))
        items = [obj for (k, ns, _name), obj in sorted(self._store.items())
                 if k == kind and (namespace is None or ns == namespace)
                 and labels_match(requirements, obj["metadata"].get("labels"))
                 and _field_match(query.get("fieldSelector", ""), obj)]
        if self._wants_table(headers):
            return self._table(kind, items, query)
        return {"kind": kind + "List", "apiVersion": _api_version(kind),
                "metadata": {"resourceVersion": self._resource_version}, "items": copy.deepcopy(items)}

    def _scale(self, method, kind, namespace, name, headers, body):
        obj = self._store.get((kind, namespace, name))
        if obj is None:
            raise _not_found(kind, name)
        if method in ("PATCH", "PUT"):
            current = self._scale_doc(obj)
            if method == "PATCH":
                wanted = apply_patch(current, body, headers.get("Content-Type"))
            else:
                wanted = body if isinstance(body, dict) else {}
            replicas = (wanted.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                raise ApiError(422, "Invalid", 'Scale.autoscaling "%s" is invalid: spec.replicas: Invalid value: %r: '
                               "must be a non-negative integer" % (name, replicas))
            if replicas != obj["spec"].get("replicas"):
                obj["spec"]["replicas"] = replicas
                obj["metadata"]["generation"] += 1
                obj["metadata"]["resourceVersion"] = self._bump()
        elif method != "GET":
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        return self._scale_doc(obj)

    def _scale_doc(self, obj):
        meta = obj["metadata"]
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")},
                "spec": {"replicas": obj["spec"].get("replicas", 1)},
                "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                           "selector": selector_string(obj["spec"].get("selector"))}}

    def _log(self, namespace, name, query):
        pod = self._store.get(("Pod", namespace, name))
        if pod is None:
            raise _not_found("Pod", name)
        rt = self._runtimes.get(pod["metadata"]["uid"])
        path = rt.log_path if rt else pod["metadata"].get("annotations", {}).get(LOG_ANNOTATION)
        data = b""
        if path and os.path.exists(path):
            with open(path, "rb") as handle:
                data = handle.read()
        if query.get("tailLines") not in (None, ""):
            count = int(query["tailLines"])
            lines = data.splitlines(True)
            data = b"".join(lines[-count:]) if count > 0 else b""
        if query.get("limitBytes") not in (None, ""):
            data = data[:int(query["limitBytes"])]
        return 200, data, "text/plain"

    # discovery -------------------------------------------------------------------------------------------
    def _version(self):
        return {"major": "1", "minor": "30", "gitVersion": GIT_VERSION, "gitCommit": "0" * 40, "gitTreeState": "clean",
                "buildDate": "2026-11-01T00:00:00Z", "goVersion": "go1.22.8", "compiler": "gc", "platform": "linux/amd64"}

    def _api_versions(self):
        address = "127.0.0.1:%d" % self._httpd.server_address[1]
        return {"kind": "APIVersions", "apiVersion": "v1", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}]}

    def _group_list(self):
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [self._apps_group()]}

    def _apps_group(self):
        version = {"groupVersion": "apps/v1", "version": "v1"}
        return {"kind": "APIGroup", "apiVersion": "v1", "name": "apps", "versions": [version], "preferredVersion": version}

    def _resource_entries(self, group):
        entries = []
        for (g, plural), (kind, namespaced, short) in RESOURCES.items():
            if g != group:
                continue
            singular = kind.lower()
            entry = {"name": plural, "singularName": singular, "namespaced": namespaced, "kind": kind,
                     "verbs": VERBS + (["deletecollection", "watch"] if plural != "namespaces" else ["watch"])}
            if short:
                entry["shortNames"] = short
            if plural in ("pods", "deployments", "statefulsets"):
                entry["categories"] = ["all"]
            entries.append(entry)
            if plural in ("deployments", "statefulsets"):
                entries.append({"name": plural + "/scale", "singularName": "", "namespaced": True, "group": "autoscaling",
                                "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]})
                entries.append({"name": plural + "/status", "singularName": "", "namespaced": True, "kind": kind,
                                "verbs": ["get", "patch", "update"]})
            if plural == "pods":
                entries.append({"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]})
                entries.append({"name": "pods/status", "singularName": "", "namespaced": True, "kind": "Pod",
                                "verbs": ["get", "patch", "update"]})
        return entries

    def _core_resources(self):
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1", "resources": self._resource_entries("")}

    def _apps_resources(self):
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "apps/v1",
                "resources": self._resource_entries("apps")}

    # tables for kubectl ----------------------------------------------------------------------------------
    @staticmethod
    def _wants_table(headers):
        return "as=Table" in (headers.get("Accept") or "")

    def _table(self, kind, items, query):
        def column(name, kind_="string", priority=0, fmt=""):
            return {"name": name, "type": kind_, "format": fmt, "description": name, "priority": priority}

        if kind == "Pod":
            columns = [column("Name", fmt="name"), column("Ready"), column("Status"), column("Restarts"), column("Age"),
                       column("IP", priority=1), column("Node", priority=1)]
        elif kind == "Deployment":
            columns = [column("Name", fmt="name"), column("Ready"), column("Up-to-date", "integer"),
                       column("Available", "integer"), column("Age"), column("Containers", priority=1),
                       column("Images", priority=1), column("Selector", priority=1)]
        elif kind == "StatefulSet":
            columns = [column("Name", fmt="name"), column("Ready"), column("Age"), column("Containers", priority=1),
                       column("Images", priority=1)]
        elif kind == "Secret":
            columns = [column("Name", fmt="name"), column("Type"), column("Data", "integer"), column("Age")]
        elif kind == "Namespace":
            columns = [column("Name", fmt="name"), column("Status"), column("Age")]
        else:
            columns = [column("Name", fmt="name"), column("Age")]
        rows = []
        for obj in items:
            meta, status, spec = obj["metadata"], obj.get("status") or {}, obj.get("spec") or {}
            age = _human_age(meta["creationTimestamp"])
            if kind == "Pod":
                statuses = status.get("containerStatuses") or []
                cells = [meta["name"], "%d/%d" % (sum(1 for c in statuses if c.get("ready")), len(spec.get("containers") or [])),
                         _pod_status_word(obj), str(sum(c.get("restartCount", 0) for c in statuses)), age,
                         status.get("podIP", "<none>"), spec.get("nodeName", "<none>")]
            elif kind in WORKLOADS:
                containers = (spec.get("template") or {}).get("spec", {}).get("containers") or []
                ready = "%d/%d" % (status.get("readyReplicas", 0), spec.get("replicas", 1))
                names = ",".join(c.get("name", "") for c in containers)
                images = ",".join(c.get("image", "") for c in containers)
                if kind == "Deployment":
                    cells = [meta["name"], ready, status.get("updatedReplicas", 0), status.get("availableReplicas", 0), age,
                             names, images, selector_string(spec.get("selector"))]
                else:
                    cells = [meta["name"], ready, age, names, images]
            elif kind == "Secret":
                cells = [meta["name"], obj.get("type", "Opaque"), len(obj.get("data") or {}), age]
            elif kind == "Namespace":
                cells = [meta["name"], status.get("phase", "Active"), age]
            else:
                cells = [meta["name"], age]
            if query.get("includeObject") == "Object":
                embedded = copy.deepcopy(obj)
            elif query.get("includeObject") == "None":
                embedded = None
            else:
                embedded = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": copy.deepcopy(meta)}
            row = {"cells": cells}
            if embedded is not None:
                row["object"] = embedded
            rows.append(row)
        return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": self._resource_version},
                "columnDefinitions": columns, "rows": rows}

    # the controller --------------------------------------------------------------------------------------
    def _control_loop(self):
        while not self._stopping.is_set():
            try:
                self._reconcile()
            except Exception as exc:  # keep the controller alive; the state shows up in the tests
                sys.stderr.write("kube stand-in controller: %s: %s\n" % (type(exc).__name__, exc))
            self._stopping.wait(TICK)

    def _reconcile(self):
        with self._lock:
            owners = {obj["metadata"]["uid"] for (kind, _ns, _n), obj in self._store.items() if kind in WORKLOADS}
            for key, obj in list(self._store.items()):   # garbage collection (background propagation)
                if key[0] == "Pod":
                    refs = [ref for ref in obj["metadata"].get("ownerReferences") or [] if ref.get("kind") in WORKLOADS]
                    if refs and refs[0]["uid"] not in owners:
                        self._mark_deleted(obj)
            for key, obj in list(self._store.items()):
                if key[0] == "Deployment":
                    self._reconcile_deployment(obj)
                elif key[0] == "StatefulSet":
                    self._reconcile_statefulset(obj)
            for key, obj in list(self._store.items()):
                if key[0] == "Pod":
                    self._kubelet(key, obj)
            for key, obj in list(self._store.items()):
                if key[0] == "Deployment":
                    self._deployment_status(obj)
                elif key[0] == "StatefulSet":
                    self._statefulset_status(obj)
            self._schedule_probes()

    def _owned_pods(self, owner):
        uid = owner["metadata"]["uid"]
        return [obj for (kind, ns, _n), obj in sorted(self._store.items())
                if kind == "Pod" and ns == owner["metadata"]["namespace"]
                and any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or [])]

    def _pod_ready(self, pod):
        return any(c.get("type") == "Ready" and c.get("status") == "True" for c in (pod.get("status") or {}).get("conditions") or [])

    def _new_pod(self, owner, name, extra_labels):
        template = owner["spec"]["template"]
        labels = dict(template["metadata"].get("labels") or {})
        labels.update(extra_labels)
        meta = {"name": name, "namespace": owner["metadata"]["namespace"], "labels": labels,
                "annotations": dict(template["metadata"].get("annotations") or {}),
                "ownerReferences": [{"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
                                     "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]}
        spec = copy.deepcopy(template["spec"])
        spec["nodeName"] = NODE_NAME
        if owner["kind"] == "StatefulSet":
            spec.setdefault("hostname", name)
        pod = {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec,
               "status": {"phase": "Pending", "qosClass": "BestEffort",
                          "conditions": [{"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                                          "lastTransitionTime": _ts()}]}}
        return self._create(pod)

    def _reconcile_deployment(self, dep):
        spec, name = dep["spec"], dep["metadata"]["name"]
        want = spec.get("replicas", 1)
        template_hash = _template_hash(spec["template"])
        live = [p for p in self._owned_pods(dep) if not p["metadata"].get("deletionTimestamp")]
        new = [p for p in live if p["metadata"]["labels"].get("pod-template-hash") == template_hash]
        old = [p for p in live if p not in new]
        for _missing in range(want - len(new)):
            while True:
                pod_name = "%s-%s-%s" % (name, template_hash, "".join(random.choice(SUFFIX_ALPHABET) for _letter in range(5)))
                if ("Pod", dep["metadata"]["namespace"], pod_name) not in self._store:
                    break
            self._new_pod(dep, pod_name, {"pod-template-hash": template_hash})
        if len(new) > want:   # not ready first, then the newest
            surplus = sorted(new, key=lambda p: (self._pod_ready(p), p["metadata"]["creationTimestamp"]))
            for pod in surplus[:len(new) - want]:
                self._mark_deleted(pod)
        ready_new = sum(1 for p in new if self._pod_ready(p))
        keep_old = max(0, want - ready_new)   # a rollout: old pods go as new ones become Ready
        for pod in sorted(old, key=self._pod_ready)[:max(0, len(old) - keep_old)]:
            self._mark_deleted(pod)

    def _reconcile_statefulset(self, sts):
        spec, name = sts["spec"], sts["metadata"]["name"]
        want = spec.get("replicas", 1)
        revision = "%s-%s" % (name, _template_hash(spec["template"]))
        pods = {}
        for pod in self._owned_pods(sts):
            suffix = pod["metadata"]["name"][len(name) + 1:]
            if suffix.isdigit():
                pods[int(suffix)] = pod
        parallel = spec.get("podManagementPolicy") == "Parallel"

        def healthy(pod):
            return pod is not None and not pod["metadata"].get("deletionTimestamp") and self._pod_ready(pod)

        for ordinal in range(want):
            if ordinal not in pods:
                if parallel or all(healthy(pods.get(i)) for i in range(ordinal)):
                    pod_name = "%s-%d" % (name, ordinal)
                    pods[ordinal] = self._new_pod(sts, pod_name, {
                        "controller-revision-hash": revision, "statefulset.kubernetes.io/pod-name": pod_name,
                        "apps.kubernetes.io/pod-index": str(ordinal)})
                if not parallel:
                    break
            elif not parallel and not healthy(pods[ordinal]):
                break
        surplus = sorted((o for o in pods if o >= want), reverse=True)
        if parallel:
            for ordinal in surplus:
                self._mark_deleted(self._store[("Pod", sts["metadata"]["namespace"], pods[ordinal]["metadata"]["name"])])
        elif surplus and not any(pods[o]["metadata"].get("deletionTimestamp") for o in surplus):
            self._mark_deleted(self._store[("Pod", sts["metadata"]["namespace"], pods[surplus[0]]["metadata"]["name"])])
        strategy = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate")
        in_range = [pods.get(o) for o in range(want)]
        if strategy == "RollingUpdate" and all(healthy(p) for p in in_range):
            stale = [o for o in range(want) if pods[o]["metadata"]["labels"].get("controller-revision-hash") != revision]
            partition = ((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition", 0)
            stale = [o for o in stale if o >= partition]
            if stale:
                self._mark_deleted(pods[max(stale)])

    def _deployment_status(self, dep):
        spec = dep["spec"]
        want = spec.get("replicas", 1)
        template_hash = _template_hash(spec["template"])
        live = [p for p in self._owned_pods(dep) if not p["metadata"].get("deletionTimestamp")]
        updated = sum(1 for p in live if p["metadata"]["labels"].get("pod-template-hash") == template_hash)
        ready = sum(1 for p in live if self._pod_ready(p))
        old = len(live) - updated
        counters = {"replicas": len(live), "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": ready,
                    "unavailableReplicas": max(0, want + old - ready)}
        status = {"observedGeneration": dep["metadata"]["generation"]}
        status.update({k: v for k, v in counters.items() if v})
        previous = {c["type"]: c for c in (dep.get("status") or {}).get("conditions") or []}
        available = ready >= want - int(want * 0.25)
        complete = updated == want and ready >= want and old == 0
        status["conditions"] = [
            self._condition(previous, "Available", available, "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                            "Deployment has minimum availability." if available else "Deployment does not have minimum availability."),
            self._condition(previous, "Progressing", True, "NewReplicaSetAvailable" if complete else "ReplicaSetUpdated",
                            'ReplicaSet "%s-%s" %s.' % (dep["metadata"]["name"], template_hash,
                                                        "has successfully progressed" if complete else "is progressing")),
        ]
        self._set_status(dep, status)

    @staticmethod
    def _condition(previous, kind, value, reason, message):
        value = "True" if value else "False"
        old = previous.get(kind) or {}
        changed = old.get("status") != value or old.get("reason") != reason
        stamp = _ts() if changed else old.get("lastTransitionTime", _ts())
        return {"type": kind, "status": value, "reason": reason, "message": message,
                "lastUpdateTime": stamp if changed else old.get("lastUpdateTime", stamp), "lastTransitionTime": stamp}

    def _statefulset_status(self, sts):
        spec, name = sts["spec"], sts["metadata"]["name"]
        revision = "%s-%s" % (name, _template_hash(spec["template"]))
        pods = self._owned_pods(sts)
        previous = sts.get("status") or {}
        current = previous.get("currentRevision") or revision
        revisions = [p["metadata"]["labels"].get("controller-revision-hash") for p in pods]
        want = spec.get("replicas", 1)
        if all(r == revision for r in revisions) and len(pods) <= want:
            current = revision
        ready = sum(1 for p in pods if self._pod_ready(p))
        status = {"observedGeneration": sts["metadata"]["generation"], "replicas": len(pods), "availableReplicas": ready,
                  "currentRevision": current, "updateRevision": revision, "collisionCount": 0}
        for key, value in (("readyReplicas", ready), ("currentReplicas", revisions.count(current)),
                           ("updatedReplicas", revisions.count(revision))):
            if value:
                status[key] = value
        self._set_status(sts, status)

    # the simulated kubelet -------------------------------------------------------------------------------
    def _container_env(self, pod):
        container = pod["spec"]["containers"][0]
        namespace = pod["metadata"]["namespace"]
        env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT") if k in os.environ}

        def secret(name):
            obj = self._store.get(("Secret", namespace, name))
            if obj is None:
                raise ValueError('secret "%s" not found' % name)
            return obj

        for source in container.get("envFrom") or []:
            if "secretRef" in source:
                try:
                    data = secret(source["secretRef"]["name"]).get("data") or {}
                except ValueError:
                    if source["secretRef"].get("optional"):
                        continue
                    raise
                for key, value in data.items():
                    env[source.get("prefix", "") + key] = base64.b64decode(value).decode("utf-8", "replace")
        for item in container.get("env") or []:
            if "value" in item:
                env[item["name"]] = str(item["value"])
            elif "secretKeyRef" in (item.get("valueFrom") or {}):
                ref = item["valueFrom"]["secretKeyRef"]
                try:
                    data = secret(ref["name"]).get("data") or {}
                    if ref["key"] not in data:
                        raise ValueError("couldn't find key %s in Secret %s/%s" % (ref["key"], namespace, ref["name"]))
                except ValueError:
                    if ref.get("optional"):
                        continue
                    raise
                env[item["name"]] = base64.b64decode(data[ref["key"]]).decode("utf-8", "replace")
            elif "fieldRef" in (item.get("valueFrom") or {}):
                path = item["valueFrom"]["fieldRef"].get("fieldPath", "")
                env[item["name"]] = {"metadata.name": pod["metadata"]["name"], "metadata.namespace": namespace,
                                     "status.podIP": "127.0.0.1", "spec.nodeName": NODE_NAME}.get(path, "")
            else:
                env[item["name"]] = ""
        env.update(PORT=str(self._runtimes[pod["metadata"]["uid"]].port), POD_NAME=pod["metadata"]["name"],
                   POD_NAMESPACE=namespace, HOSTNAME=pod["metadata"]["name"])
        return env

    def _start_process(self, pod, rt):
        container = pod["spec"]["containers"][0]
        argv = list(container.get("command") or []) + [str(a) for a in container.get("args") or []]
        try:
            env = self._container_env(pod)
        except ValueError as exc:
            rt.waiting = ("CreateContainerConfigError", str(exc))
            rt.backoff_until = time.monotonic() + 0.5
            return
        fd = os.open(rt.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            if not argv:
                raise OSError("the container has no command (the stand-in runs command + args)")
            rt.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=fd, stderr=subprocess.STDOUT,
                                       start_new_session=True, cwd=container.get("workingDir") or self.directory)
        except OSError as exc:
            os.write(fd, ("stand-in: cannot start %r: %s\n" % (argv, exc)).encode())
            rt.waiting = ("RunContainerError", str(exc))
            rt.last_state = {"terminated": {"exitCode": 128, "reason": "StartError", "message": str(exc),
                                            "startedAt": _ts(), "finishedAt": _ts()}}
            rt.backoff_until = time.monotonic() + 1.0
            return
        finally:
            os.close(fd)
        if rt.ever_started:
            rt.restarts += 1
        rt.ever_started = True
        rt.seq += 1
        rt.started_at = _ts()
        rt.waiting = None
        rt.probe_ok = False
        rt.last_probe = 0.0
        self._set_annotations(pod, {PID_ANNOTATION: str(rt.proc.pid)})

    def _kubelet(self, key, pod):
        meta = pod["metadata"]
        rt = self._runtimes.get(meta["uid"])
        now = time.monotonic()
        if rt is None:
            if meta.get("deletionTimestamp"):
                del self._store[key]
                self._bump()
                return
            port = _free_port()
            while port in self._ports:
                port = _free_port()
            self._ports.add(port)
            log_path = os.path.join(self.log_dir, "%s_%s_%s.log" % (key[1], key[2], meta["uid"][:8]))
            rt = self._runtimes[meta["uid"]] = _Runtime(port, log_path)
            self._set_annotations(pod, {PORT_ANNOTATION: str(port), LOG_ANNOTATION: log_path})
        if meta.get("deletionTimestamp"):
            if rt.kill_at is None:
                rt.kill_at = now + float(meta.get("deletionGracePeriodSeconds") or 0)
            if not rt.term_sent:
                rt.term_sent = True
                if rt.proc is not None and rt.proc.poll() is None:
                    _killpg(rt.proc.pid, signal.SIGTERM if meta.get("deletionGracePeriodSeconds") else signal.SIGKILL)
            if rt.proc is None or rt.proc.poll() is not None:
                if rt.proc is not None:
                    _killpg(rt.proc.pid, signal.SIGKILL)   # anything the process left behind in its group
                del self._store[key]
                del self._runtimes[meta["uid"]]
                self._ports.discard(rt.port)
                self._bump()
                return
            if now >= rt.kill_at and not rt.killed:
                rt.killed = True
                _killpg(rt.proc.pid, signal.SIGKILL)
        elif rt.proc is not None and rt.proc.poll() is not None:
            code = rt.proc.returncode
            _killpg(rt.proc.pid, signal.SIGKILL)
            rt.last_state = {"terminated": {"exitCode": code if code >= 0 else 128 - code,
                                            "reason": "Completed" if code == 0 else "Error",
                                            "startedAt": rt.started_at, "finishedAt": _ts(),
                                            "containerID": "process://%d" % rt.proc.pid}}
            rt.proc = None
            rt.waiting = ("CrashLoopBackOff", "back-off restarting failed container %s in pod %s_%s"
                          % (pod["spec"]["containers"][0].get("name", "main"), key[2], key[1]))
            rt.backoff_until = now + min(1.0, 0.25 * 2 ** rt.restarts)
        if rt.proc is None and not meta.get("deletionTimestamp") and now >= rt.backoff_until:
            self._start_process(pod, rt)
        self._pod_status(pod, rt)

    def _pod_status(self, pod, rt):
        container = pod["spec"]["containers"][0]
        running = rt.running()
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        has_probe = bool(container.get("readinessProbe"))
        ready = running and not terminating and (rt.probe_ok or not has_probe)
        if ready != rt.was_ready:
            rt.was_ready = ready
            rt.ready_changed = _ts()
        if running:
            state = {"running": {"startedAt": rt.started_at}}
        elif rt.waiting:
            state = {"waiting": {"reason": rt.waiting[0]}}
            if rt.waiting[1]:
                state["waiting"]["message"] = rt.waiting[1]
        elif rt.proc is not None:
            code = rt.proc.returncode
            state = {"terminated": {"exitCode": code if code >= 0 else 128 - code, "reason": "Error" if code else "Completed",
                                    "startedAt": rt.started_at, "finishedAt": _ts()}}
        else:
            state = {"waiting": {"reason": "ContainerCreating"}}
        container_status = {"name": container.get("name", "main"), "image": container.get("image", ""),
                            "imageID": "", "ready": ready, "started": running, "restartCount": rt.restarts,
                            "state": state, "lastState": rt.last_state}
        if rt.proc is not None:
            container_status["containerID"] = "process://%d" % rt.proc.pid
        old = pod.get("status") or {}
        scheduled = next((c for c in old.get("conditions") or [] if c["type"] == "PodScheduled"),
                         {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": _ts()})
        value = "True" if ready else "False"
        conditions = [{"type": "PodReadyToStartContainers", "status": "True" if rt.ever_started else "False",
                       "lastProbeTime": None, "lastTransitionTime": scheduled["lastTransitionTime"]},
                      {"type": "Initialized", "status": "True", "lastProbeTime": None,
                       "lastTransitionTime": scheduled["lastTransitionTime"]},
                      {"type": "Ready", "status": value, "lastProbeTime": None, "lastTransitionTime": rt.ready_changed},
                      {"type": "ContainersReady", "status": value, "lastProbeTime": None, "lastTransitionTime": rt.ready_changed},
                      scheduled]
        if not ready:
            reason = "containers with unready status: [%s]" % container.get("name", "main")
            for condition in conditions[2:4]:
                condition.update(reason="ContainersNotReady", message=reason)
        status = {"phase": "Running" if rt.ever_started else "Pending", "conditions": conditions, "hostIP": "127.0.0.1",
                  "hostIPs": [{"ip": "127.0.0.1"}], "qosClass": "BestEffort", "containerStatuses": [container_status]}
        if rt.ever_started:
            status.update(podIP="127.0.0.1", podIPs=[{"ip": "127.0.0.1"}], startTime=old.get("startTime") or _ts())
        self._set_status(pod, status)

    def _schedule_probes(self):
        now = time.monotonic()
        for (kind, _ns, _n), pod in self._store.items():
            if kind != "Pod" or pod["metadata"].get("deletionTimestamp"):
                continue
            rt = self._runtimes.get(pod["metadata"]["uid"])
            probe = pod["spec"]["containers"][0].get("readinessProbe")
            if not probe or rt is None or not rt.running() or rt.probe_inflight or now - rt.last_probe < PROBE_PERIOD:
                continue
            if rt.last_probe == 0.0 and float(probe.get("initialDelaySeconds") or 0) > 0:
                rt.last_probe = now + float(probe["initialDelaySeconds"]) - PROBE_PERIOD
                continue
            rt.probe_inflight = True
            rt.last_probe = now
            try:
                env = self._container_env(pod) if "exec" in probe else None
                self._probes.submit(self._run_probe, rt, rt.seq, probe, env)
            except (RuntimeError, ValueError):
                rt.probe_inflight = False

    def _run_probe(self, rt, seq, probe, env):
        result = _probe(probe, rt.port, env)
        with self._lock:
            rt.probe_inflight = False
            if rt.seq == seq:
                rt.probe_ok = result


def _pod_status_word(pod):
    if pod["metadata"].get("deletionTimestamp"):
        return "Terminating"
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        state = status.get("state") or {}
        if "waiting" in state and state["waiting"].get("reason"):
            return state["waiting"]["reason"]
        if "terminated" in state:
            return state["terminated"].get("reason") or "Error"
    return (pod.get("status") or {}).get("phase", "Pending")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Kubernetes API server stand-in (pods are local processes)")
    parser.add_argument("--dir", required=True)
    parser.add_argument("--objects", help="a JSON list of objects to apply once serving")
    parser.add_argument("--token-file", help="file holding the bearer token (else a random one goes to DIR/token)")
    args = parser.parse_args(argv)
    os.makedirs(args.dir, exist_ok=True)
    token = None
    if args.token_file:
        with open(args.token_file) as handle:
            token = handle.read().strip()
    api = KubeApiServer(args.dir, token=token)
    if not args.token_file:
        _write_private(os.path.join(args.dir, "token"), api.token + "\n")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    api.start()
    try:
        if args.objects:
            with open(args.objects) as handle:
                for obj in json.load(handle):
                    api.apply(obj)
        _write_private(os.path.join(args.dir, "server.json"),
                       json.dumps({"url": api.url, "pid": os.getpid(), "kubeconfig": api.kubeconfig, "ca_cert": api.ca_cert}),
                       mode=0o644)
        while not stop.wait(0.5):
            pass
    finally:
        api.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

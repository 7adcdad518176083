"""A Kubernetes Service + Ingress stand-in for the lab: one stable 127.0.0.1 port in front of a workload's pods.

Stands in for: the Service (and the Ingress / load balancer in front of it) through which an operator reaches
``https://<wallet-domain>/health``. The pods of the Kubernetes API stand-in (tests/support/kube_apiserver.py) are
processes on ports that change with every pod; this relay gives them one address that stays put while the lab
runs.

How it works: a TCP relay (threads, no TLS termination: the client's TLS session is with the pod, whose
certificate is the lab's, so ``validate_certs: true`` against the lab CA works). For each accepted connection it
lists the pods of ``namespace`` matching ``selector`` through the API stand-in's Python interface and takes the
Ready ones (Ready condition True, not terminating, a ``lab.vaultops.io/port`` annotation) -- the Service's
endpoints -- in round-robin order, then relays bytes both ways until either side closes.

No Ready pod (workload scaled to 0, pods terminating or not Ready) -> the connection is reset at once (accepted,
then closed with SO_LINGER 0, which sends RST): the client sees ConnectionResetError / an SSL EOF immediately,
never a hang. A real Ingress controller with no endpoints answers HTTP 503 instead, but that needs TLS termination
(its own certificate); a Service without endpoints rejects the connection, which is what this models. A Ready
pod whose port does not accept (it died between two probes) is skipped for the next one.

Interface::

    proxy = ServiceProxy(api, namespace, selector, port=0)  # selector: labelSelector text or dict of labels
    proxy.start()        # binds 127.0.0.1:port (0 = a free one, then fixed until stop); returns proxy
    proxy.port           # the bound port
    proxy.url(scheme="https")  # "https://127.0.0.1:<port>"
    proxy.endpoints()    # [(pod name, port)] of the Ready pods right now
    proxy.connections    # connections accepted; proxy.refused: those closed for want of an endpoint
    proxy.stop()         # closes the listener and every relayed connection
"""

import itertools
import socket
import struct
import threading

PORT_ANNOTATION = "lab.vaultops.io/port"
CONNECT_TIMEOUT = 2.0


def pod_is_ready(pod):
    """An endpoint: Ready condition True, not terminating, with the lab's port annotation."""
    meta = pod.get("metadata") or {}
    if meta.get("deletionTimestamp") or not (meta.get("annotations") or {}).get(PORT_ANNOTATION):
        return False
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _reset(sock):
    """Close with RST (SO_LINGER 0): the client learns at once that nobody serves it."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class ServiceProxy(object):
    def __init__(self, api, namespace, selector, port=0, host="127.0.0.1"):
        self.api, self.namespace, self.selector = api, namespace, selector
        self.host, self._wanted_port = host, port
        self.port = None
        self.connections = self.refused = 0
        self._listener = None
        self._lock = threading.Lock()
        self._open = set()
        self._turn = itertools.count()
        self._stopping = threading.Event()

    def url(self, scheme="https"):
        return "%s://%s:%d" % (scheme, self.host, self.port)

    def endpoints(self):
        pods = [p for p in self.api.pods(self.namespace, self.selector) if pod_is_ready(p)]
        return [(p["metadata"]["name"], int(p["metadata"]["annotations"][PORT_ANNOTATION])) for p in pods]

    def start(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self._wanted_port))
        listener.listen(64)
        self._listener = listener
        self.port = listener.getsockname()[1]
        threading.Thread(target=self._accept_loop, name="service-proxy-%d" % self.port, daemon=True).start()
        return self

    def stop(self):
        self._stopping.set()
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept()
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            _reset(sock)

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                client, _address = self._listener.accept()
            except (OSError, AttributeError):
                return  # listener closed by stop()
            self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _backend(self):
        endpoints = self.endpoints()
        if not endpoints:
            return None
        first = next(self._turn)
        for offset in range(len(endpoints)):
            _name, port = endpoints[(first + offset) % len(endpoints)]
            try:
                return socket.create_connection((self.host, port), timeout=CONNECT_TIMEOUT)
            except OSError:
                continue  # a pod that died since its last probe: try the next endpoint
        return None

    def _serve(self, client):
        try:
            backend = self._backend()
        except Exception:  # the API stand-in stopping under us: no endpoint
            backend = None
        if backend is None or self._stopping.is_set():
            with self._lock:
                self.refused += 1
            _reset(client)
            if backend is not None:
                backend.close()
            return
        backend.settimeout(None)
        with self._lock:
            self._open.update((client, backend))
        pump = threading.Thread(target=self._pump, args=(backend, client), daemon=True)
        pump.start()
        self._pump(client, backend)
        pump.join()
        with self._lock:
            self._open.difference_update((client, backend))
        client.close()
        backend.close()

    @staticmethod
    def _pump(source, sink):
        """Copy source -> sink until EOF or an error, then pass the half-close on."""
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

"""Fixtures for tests against the Kubernetes API stand-in (a pytest plugin, listed in tests/conftest.py).

``kube_api``: a KubeApiServer of the test module's own (its own port, so no discovery cache is shared).
``pod_program``: the path of a minimal pod program, an HTTP server on $PORT (readiness by tcpSocket or httpGet /).
"""

import pytest

from support.kube_apiserver import KubeApiServer

POD_PROGRAM = r'''
import http.server, os
server = http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), http.server.BaseHTTPRequestHandler)
print("serving %s on port %s" % (os.environ["POD_NAME"], os.environ["PORT"]), flush=True)
server.serve_forever()
'''


@pytest.fixture(scope="module")
def pod_program(tmp_path_factory):
    path = tmp_path_factory.mktemp("pod") / "pod_program.py"
    path.write_text(POD_PROGRAM)
    return str(path)


@pytest.fixture(scope="module")
def kube_api(tmp_path_factory):
    server = KubeApiServer(tmp_path_factory.mktemp("kube")).start()
    yield server
    server.stop()

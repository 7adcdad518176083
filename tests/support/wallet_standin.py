"""A small HTTPS stand-in for the Institutional Vault wallet's API, for the iv_checks tests.

Stands in for: ``GET /health`` and ``GET /api/v2/accounts[?limit&offset]`` in the lab wallet's shape
(tests/support/iv_service.py): ``{"accounts": [...], "total": N}``. Self-signed certificate for 127.0.0.1 from
azure_https.make_certificate.

Interface::

    wallet = WalletStandIn(directory, token=None).start()   # token None: no Authorization required
    wallet.url, wallet.ca_cert
    wallet.accounts = [...]          # the account list served
    wallet.send_total = True         # False: no "total" field, the client must page
    wallet.ignore_paging = False     # True: every page is the whole list, limit and offset ignored
    wallet.health = (200, {"status": "ok"})   # status and body (dict -> JSON, bytes as they are), or a callable
                                              # returning them (called once per request)
    wallet.redirect_to = None        # a URL: every request answers 302 to it
    wallet.requests                  # [(path, query dict, "Authorization" header present and right)]
    wallet.stop()
"""

import http.server
import json
import ssl
import threading
import urllib.parse

from support.azure_https import make_certificate


class WalletStandIn(object):
    def __init__(self, directory, token=None):
        self.directory = str(directory)
        self.token = token
        self.accounts = [{"id": n, "name": "account-%d" % n, "asset": "ETH"} for n in range(1, 8)]
        self.send_total = True
        self.ignore_paging = False
        self.health = (200, {"status": "ok", "database": "up"})
        self.redirect_to = None
        self.requests = []
        self.ca_cert, self.key_file = make_certificate(self.directory)
        self.server = None
        self.thread = None

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.server.server_address[1]

    def start(self):
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 (the stdlib's name)
                standin.handle(self)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_cert, self.key_file)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def handle(self, request):
        parts = urllib.parse.urlsplit(request.path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        authorized = request.headers.get("Authorization") == "Bearer %s" % self.token
        self.requests.append((parts.path, query, authorized))
        if self.redirect_to:
            return self.send(request, 302, {"moved": True}, {"Location": self.redirect_to})
        if self.token and not authorized:
            return self.send(request, 401, {"error": "unauthorized"})
        if parts.path == "/health":
            return self.send(request, *(self.health() if callable(self.health) else self.health))
        if parts.path == "/api/v2/accounts":
            limit, offset = int(query.get("limit", 1000)), int(query.get("offset", 0))
            page = self.accounts if self.ignore_paging else self.accounts[offset:offset + limit]
            body = {"accounts": page}
            if self.send_total:
                body["total"] = len(self.accounts)
            return self.send(request, 200, body)
        return self.send(request, 404, {"error": "not found"})

    @staticmethod
    def send(request, status, body, headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)

"""Base of the local HTTPS stand-ins for Azure (Microsoft Entra ID token endpoint, ARM, Key Vault).

Stands in for: the parts of Azure that every stand-in shares - HTTPS with a
certificate, the Microsoft Entra ID (AAD) v2 token endpoint that the REAL
azure-identity ClientSecretCredential (msal) talks to, bearer-token checks,
Key Vault's 401 challenge, and ARM's long-running operations. No Azure
emulator exists, so this behaves like the real service where the SDK can see
it (status codes, error bodies, headers) and nothing more.

Interface (used by azure_flexible_server.py and azure_key_vault.py; change it only additively):

- ``AzureHttpsServer(directory)``: ``.start()`` / ``.stop()``; ``.url`` (``https://127.0.0.1:<port>``);
  ``.ca_bundle`` (PEM of the self-signed certificate for 127.0.0.1, to pass as azure_ca_bundle /
  connection_verify); ``.authority_host`` (= url, for authority_host / AZURE_AUTHORITY_HOST);
  ``.connection_params()`` (the collection's Azure connection options that reach it: service principal,
  authority_host, azure_ca_bundle).
- Identity: ``TENANT_ID``, ``CLIENT_ID``, ``CLIENT_SECRET`` (the only service principal the token endpoint
  accepts; anything else gets AADSTS7000215 invalid_client like Entra ID), ``ACCESS_TOKEN`` (what it issues).
  ``.token_requests`` counts token grants.
- ``.route(method, pattern, handler)``: ``pattern`` is a regular expression matched against the path (without
  the query); ``handler(request)`` returns ``Response(status, body=None, headers=None)`` (a dict/list body is sent
  as JSON). ``request`` has ``method``, ``path``, ``query`` (dict of first values), ``headers``, ``json`` (parsed
  body or None), ``body`` (bytes) and ``match`` (the regex match). Routes added later win.
- Auth guards for handlers: ``.bearer_problem(request)`` -> None when the request carries the issued token, else
  an ARM-style 401 Response (``AuthenticationFailed``, with a WWW-Authenticate header);
  ``.key_vault_challenge(request, resource="https://vault.azure.net")`` -> None when authorised, else Key Vault's
  401 challenge (``WWW-Authenticate: Bearer authorization="<authority>/<tenant>", resource="..."``).
- Errors: ``arm_error(status, code, message)`` -> Response with ARM's ``{"error": {"code", "message"}}`` body.
- Long-running operations: ``.start_operation(finish, polls=1, error=None)`` registers an operation and returns
  its headers (``Azure-AsyncOperation`` absolute https URL, ``Location``, ``Retry-After: 0``) for a 201/202 answer.
  The status URL answers ``InProgress`` ``polls`` times, then calls ``finish()`` once and answers ``Succeeded``
  (or ``Failed`` with ``error`` = (code, message)). ``finish`` applies the change, so a resource appears only when
  the operation has finished, as on Azure.
- Fault injection: ``.fail_next(method, pattern, response, times=1)`` answers the next matching request(s) with
  ``response`` before any handler runs.
- ``.requests``: list of (method, path) served, for assertions. Authorization headers are never recorded.
"""

import datetime
import http.server
import ipaddress
import itertools
import json
import os
import re
import ssl
import threading
import urllib.parse
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TENANT_ID = "72f988bf-0000-4000-8000-00000000ten1"
CLIENT_ID = "5a1c0d2e-0000-4000-8000-00000000cli1"
CLIENT_SECRET = "standin-client-secret-0f9e8d7c"
ACCESS_TOKEN = "standin-access-token-0123456789"


class Response(object):
    def __init__(self, status, body=None, headers=None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


class Request(object):
    def __init__(self, method, path, query, headers, body):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.match = None
        try:
            self.json = json.loads(body.decode("utf-8")) if body else None
        except ValueError:
            self.json = None


def arm_error(status, code, message, headers=None):
    return Response(status, {"error": {"code": code, "message": message}}, headers)


def make_certificate(directory):
    """A self-signed certificate (and key) for 127.0.0.1 and localhost; returns (cert path, key path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    # A unique subject, so several stand-ins' certificates can share one CA bundle (OpenSSL looks issuers up by it).
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vaultops azure stand-in %s" % uuid.uuid4().hex[:8])])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = os.path.join(directory, "standin-cert.pem"), os.path.join(directory, "standin-key.pem")
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    return cert_path, key_path


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # the tests assert on outcomes, not on a console log
        pass

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parsed = urllib.parse.urlsplit(self.path)
        query = dict((k, v[0]) for k, v in urllib.parse.parse_qs(parsed.query, keep_blank_values=True).items())
        request = Request(self.command, parsed.path, query, self.headers, body)
        response = self.server.owner.dispatch(request)
        payload = b""
        if response.body is not None:
            payload = response.body if isinstance(response.body, bytes) else json.dumps(response.body).encode()
        self.send_response(response.status)
        headers = dict(response.headers)
        if response.body is not None and not isinstance(response.body, bytes):
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        headers.setdefault("x-ms-request-id", "standin-%d" % next(self.server.owner.ids))
        for name, value in headers.items():
            self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _serve


class AzureHttpsServer(object):
    def __init__(self, directory):
        self.directory = str(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.ca_bundle, self._key = make_certificate(self.directory)
        self._routes = []
        self._faults = []
        self._lock = threading.Lock()
        self._operations = {}
        self.ids = itertools.count(1)
        self.requests = []
        self.token_requests = 0
        self.httpd = None
        self.route("GET", r"^/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration$", self._openid)
        self.route("POST", r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/token$", self._token)
        self.route("GET", r"^/operations/(?P<op>[0-9]+)$", self._operation_status)

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.httpd.server_address[1]

    @property
    def authority_host(self):
        return self.url

    def connection_params(self):
        """The Azure connection options that reach this stand-in with the real SDK (service principal)."""
        return dict(tenant_id=TENANT_ID, client_id=CLIENT_ID, secret=CLIENT_SECRET,
                    authority_host=self.authority_host, azure_ca_bundle=self.ca_bundle)

    def start(self):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_bundle, self._key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    # routing -------------------------------------------------------------------------------------------------
    def route(self, method, pattern, handler):
        self._routes.insert(0, (method, re.compile(pattern), handler))

    def fail_next(self, method, pattern, response, times=1):
        with self._lock:
            self._faults.append([method, re.compile(pattern), response, times])

    def _fault(self, request):
        with self._lock:
            for fault in self._faults:
                if fault[0] == request.method and fault[1].search(request.path) and fault[3] > 0:
                    fault[3] -= 1
                    return fault[2]
        return None

    def dispatch(self, request):
        self.requests.append((request.method, request.path))
        fault = self._fault(request)
        if fault is not None:
            return fault
        for method, pattern, handler in self._routes:
            match = pattern.search(request.path)
            if method == request.method and match:
                request.match = match
                try:
                    return handler(request)
                except Exception as exc:  # a stand-in bug must show up as a failing test, not a hang
                    return arm_error(500, "StandInError", "%s: %s" % (type(exc).__name__, exc))
        return arm_error(404, "NoRoute", "The stand-in has no route for %s %s." % (request.method, request.path))

    # identity ------------------------------------------------------------------------------------------------
    def _openid(self, request):
        tenant = request.match.group("tenant")
        base = "%s/%s" % (self.url, tenant)
        return Response(200, {
            "token_endpoint": base + "/oauth2/v2.0/token",
            "authorization_endpoint": base + "/oauth2/v2.0/authorize",
            "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
            "issuer": "%s/%s/v2.0" % (self.url, tenant),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "tenant_region_scope": "EU",
        })

    def _token(self, request):
        form = dict((k, v[0]) for k, v in urllib.parse.parse_qs(request.body.decode()).items())
        tenant = request.match.group("tenant")
        if tenant != TENANT_ID:
            return Response(400, {"error": "invalid_request", "error_description":
                                  "AADSTS90002: Tenant '%s' not found." % tenant, "error_codes": [90002]})
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return Response(401, {"error": "invalid_client", "error_codes": [7000215], "error_description":
                                  "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in"
                                  " the request is the client secret value, not the client secret ID."})
        self.token_requests += 1
        return Response(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                              "access_token": ACCESS_TOKEN})

    def _has_token(self, request):
        return request.headers.get("Authorization", "") == "Bearer " + ACCESS_TOKEN

    def bearer_problem(self, request):
        if self._has_token(request):
            return None
        # ARM says InvalidAuthenticationToken for a token it does not accept, AuthenticationFailed for none.
        code = "InvalidAuthenticationToken" if request.headers.get("Authorization") else "AuthenticationFailed"
        return arm_error(401, code, "Authentication failed. The 'Authorization' header is missing or invalid.",
                         {"WWW-Authenticate": 'Bearer authorization_uri="%s/%s", error="invalid_token"'
                                              % (self.url, TENANT_ID)})

    def key_vault_challenge(self, request, resource="https://vault.azure.net"):
        if self._has_token(request):
            return None
        challenge = 'Bearer authorization="https://login.microsoftonline.com/%s", resource="%s"' % (TENANT_ID, resource)
        return Response(401, {"error": {"code": "Unauthorized",
                                        "message": "AKV10000: Request is missing a Bearer or PoP token."}},
                        {"WWW-Authenticate": challenge})

    # long-running operations -------------------------------------------------------------------------------
    def start_operation(self, finish, polls=1, error=None):
        with self._lock:
            op_id = str(next(self.ids))
            self._operations[op_id] = {"finish": finish, "polls": polls, "error": error, "status": "InProgress"}
        status_url = "%s/operations/%s?api-version=2025-08-01" % (self.url, op_id)
        return {"Azure-AsyncOperation": status_url, "Location": status_url, "Retry-After": "0"}

    def _operation_status(self, request):
        problem = self.bearer_problem(request)
        if problem:
            return problem
        op_id = request.match.group("op")
        with self._lock:
            operation = self._operations.get(op_id)
            if operation is None:
                return arm_error(404, "OperationNotFound", "Operation %s was not found." % op_id)
            if operation["status"] == "InProgress":
                if operation["polls"] > 0:
                    operation["polls"] -= 1
                elif operation["error"]:
                    operation["status"] = "Failed"
                else:
                    operation["finish"]()
                    operation["status"] = "Succeeded"
            body = {"name": op_id, "status": operation["status"],
                    "startTime": "2026-11-21T10:00:00Z"}
            if operation["status"] == "Failed":
                body["error"] = {"code": operation["error"][0], "message": operation["error"][1]}
        return Response(200, body, {"Retry-After": "0"})

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small client of the Institutional Vault wallet's HTTP API (GET /health, GET /api/v2/accounts), and what its
failures mean.

Interface:

- ``check_url(url)``: the base URL without a trailing slash; a URL that is not http(s), has no host, or carries
  credentials is refused (RecoveryError naming wallet_url).
- ``WalletApi(base_url, token=None, validate_certs=True, ca_cert=None, timeout=10)``:
  ``.get(path, query=None, ok_statuses=(200,))`` -> (status, parsed JSON body or None). The token goes only in an
  ``Authorization: Bearer`` header; redirects are not followed (a redirect would carry the header elsewhere).
  Unreachable, TLS failure, timeout, 401/403, another status than ok_statuses: RecoveryError whose message names
  the cause and whose fix names the option to change. Neither the token nor the response headers appear in any
  message.

Only the standard library (urllib, ssl): no extra dependency on the controller.
"""

import json
import socket
import ssl

from urllib import request as urllib_request
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

BODY_EXCERPT = 200  # characters of an error body quoted in a message


def check_url(url):
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RecoveryError("wallet_url %r is not an http(s) URL with a host." % url,
                            fix="give the wallet's base URL, for example https://wallet.example.com.")
    if parts.username or parts.password:
        raise RecoveryError("wallet_url carries credentials (user:password@); they would show in every message.",
                            fix="remove them from wallet_url and give the wallet's token in wallet_api_token.")
    return url.rstrip("/")


class _NoRedirect(urllib_request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 3xx surfaces as an HTTPError, reported with its Location


class WalletApi(object):
    def __init__(self, base_url, token=None, validate_certs=True, ca_cert=None, timeout=10):
        self.base_url = check_url(base_url)
        self.token = token
        self.timeout = timeout
        self.validate_certs = validate_certs
        handlers = [_NoRedirect()]
        if self.base_url.startswith("https:"):
            if validate_certs:
                context = ssl.create_default_context(cafile=ca_cert) if ca_cert else ssl.create_default_context()
            else:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            handlers.append(urllib_request.HTTPSHandler(context=context))
        self.opener = urllib_request.build_opener(*handlers)

    def url(self, path, query=None):
        return "%s%s%s" % (self.base_url, path, "?" + urlencode(query) if query else "")

    def get(self, path, query=None, ok_statuses=(200,)):
        url = self.url(path, query)
        headers = {"Accept": "application/json", "User-Agent": "vaultops.recovery"}
        if self.token:
            headers["Authorization"] = "Bearer %s" % self.token
        request = urllib_request.Request(url, headers=headers)
        try:
            response = self.opener.open(request, timeout=self.timeout)
            status, data = response.getcode(), response.read()
        except HTTPError as exc:
            status, data = exc.code, exc.read() if exc.fp is not None else b""
            if status not in ok_statuses:
                raise self._status_error(url, exc, data)
        except (URLError, socket.timeout, ssl.SSLError, OSError) as exc:
            raise self._connection_error(url, exc)
        if status not in ok_statuses:
            raise self._status_error(url, None, data, status)
        return status, _json(data)

    def _status_error(self, url, exc, data, status=None):
        status = exc.code if exc is not None else status
        excerpt = data.decode("utf-8", "replace").strip()[:BODY_EXCERPT]
        if status in (401, 403):
            given = "the token in wallet_api_token" if self.token else "no token (wallet_api_token is not set)"
            return RecoveryError("GET %s: the wallet refused %s (%s %s)." % (
                url, given, status, "Unauthorized" if status == 401 else "Forbidden"),
                fix="give wallet_api_token a valid, unexpired API token with read access to accounts.",
                status=status)
        if 300 <= status < 400:
            location = exc.headers.get("Location") if exc is not None and exc.headers else None
            return RecoveryError("GET %s: the wallet redirects (HTTP %s) to %s; redirects are not followed so that"
                                 " the token goes nowhere else." % (url, status, location or "?"),
                                 fix="give wallet_url the base URL the redirect points to.", status=status)
        return RecoveryError("GET %s: the wallet answered HTTP %s%s." % (url, status, ": %s" % excerpt if excerpt else ""),
                             fix="check wallet_url (the wallet's base URL) and the wallet's log.", status=status)

    def _connection_error(self, url, exc):
        reason = getattr(exc, "reason", None) or exc
        text = "%s" % reason
        if isinstance(reason, (socket.timeout, TimeoutError)) or "timed out" in text:
            return RecoveryError("GET %s: the wallet did not answer within %s seconds." % (url, self.timeout),
                                 fix="check that the wallet is up (its pods Ready), or raise timeout.")
        if isinstance(reason, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in text:
            return RecoveryError("GET %s: the wallet's TLS certificate could not be verified (%s)." % (url, text),
                                 fix="give wallet_ca_cert the PEM file of the certificate authority that signed the"
                                     " wallet's certificate (wallet_validate_certs false only for a lab).")
        if isinstance(reason, ssl.SSLError):
            return RecoveryError("GET %s: the TLS handshake with the wallet failed (%s)." % (url, text),
                                 fix="check that wallet_url's scheme and port are the wallet's HTTPS endpoint.")
        if isinstance(reason, socket.gaierror):
            return RecoveryError("GET %s: the wallet's host name does not resolve (%s)." % (url, text),
                                 fix="check the host in wallet_url (a typo, or DNS on the controller).")
        return RecoveryError("GET %s: cannot reach the wallet (%s)." % (url, text),
                             fix="check wallet_url (host and port) and that the wallet is up and reachable from"
                                 " the controller.")


def _json(data):
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None

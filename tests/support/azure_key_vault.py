"""A local HTTPS stand-in for Azure Key Vault secrets, for the REAL azure-keyvault-secrets SecretClient.

Stands in for: the Key Vault data plane (https://<vault>.vault.azure.net)
secrets operations the collection uses - set a secret (a new version each
time), get the latest or a given version, list a secret's versions (without
values) and list secrets - with Key Vault's behaviour where the SDK can see it:

- the first request of a client carries no token and gets the 401 challenge
  (WWW-Authenticate with authorization and resource); only the token issued
  by the stand-in's Entra ID endpoint is accepted (tests/support/azure_https.py);
- an api-version query parameter is required (400 BadParameter without);
- names: letters, digits and dashes, 1 to 127 characters (else 400
  BadParameter "The request URI contains an invalid name"), compared
  without regard to case as on Key Vault;
- a version id is 32 hex characters; "created"/"updated" are Unix seconds,
  so versions written within one second share a timestamp, as on Key Vault;
- versions are listed in version-id order, not in the order they were made;
- 404 SecretNotFound bodies like Key Vault's; a disabled version answers 403
  Forbidden (SecretDisabled) to get.

Tests may read and plant values directly (set/latest/versions) to prepare or
check state without going through the SDK.
"""

import re
import threading
import time
import uuid

from support.azure_https import AzureHttpsServer, Response

_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")


def kv_error(status, code, message, inner=None):
    error = {"code": code, "message": message}
    if inner:
        error["innererror"] = {"code": inner}
    return Response(status, {"error": error})


class KeyVaultStandIn(object):
    def __init__(self, directory):
        self.server = AzureHttpsServer(directory)
        self._lock = threading.Lock()
        self._vaults = {}   # host -> lower-case name -> {"name": as first written, "versions": [version dicts]}
        route = self.server.route
        route("GET", r"^/secrets/?$", self._guarded(self._list_secrets))
        route("PUT", r"^/secrets/(?P<name>[^/]*)/?$", self._guarded(self._set))
        route("GET", r"^/secrets/(?P<name>[^/]*)/?$", self._guarded(self._get))
        route("GET", r"^/secrets/(?P<name>[^/]*)/(?P<version>[^/]*)/?$", self._guarded(self._get))
        route("GET", r"^/secrets/(?P<name>[^/]*)/versions/?$", self._guarded(self._list_versions))

    # lifecycle -----------------------------------------------------------------------------------------------
    def start(self):
        self.server.start()
        return self

    def stop(self):
        self.server.stop()

    @property
    def url(self):
        return self.server.url + "/"

    @property
    def second_url(self):
        """Another vault on the same server (and certificate): the stand-in tells vaults apart by host name."""
        return self.url.replace("://127.0.0.1:", "://localhost:")

    def connection_params(self):
        return self.server.connection_params()

    def reset(self):
        with self._lock:
            self._vaults.clear()

    def _secrets(self, vault_url):
        host = vault_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower()
        return self._vaults.setdefault(host, {})

    # direct access for tests ---------------------------------------------------------------------------------
    def set(self, name, value, tags=None, content_type=None, enabled=True, vault=None, created=None):
        """Plant a new version (in the vault at url, or at `vault`; created: Unix seconds); returns its id."""
        with self._lock:
            return self._add(self._secrets(vault or self.url), name, value, tags, content_type, enabled,
                             created)["version"]

    def latest(self, name, vault=None):
        with self._lock:
            return dict(self._newest(self._secrets(vault or self.url)[name.lower()]))

    def versions(self, name, vault=None):
        with self._lock:
            return [dict(version) for version in self._secrets(vault or self.url)[name.lower()]["versions"]]

    # behaviour -----------------------------------------------------------------------------------------------
    @staticmethod
    def _add(secrets, name, value, tags, content_type, enabled, created=None):
        entry = secrets.setdefault(name.lower(), {"name": name, "versions": []})
        now = int(time.time()) if created is None else created
        version = {"version": uuid.uuid4().hex, "value": value, "tags": dict(tags or {}),
                   "contentType": content_type, "enabled": enabled, "created": now, "updated": now,
                   "sequence": len(entry["versions"])}
        entry["versions"].append(version)
        return version

    @staticmethod
    def _newest(entry):
        return entry["versions"][-1]

    def _guarded(self, handler):
        def guarded(request):
            problem = self.server.key_vault_challenge(request)
            if problem:
                return problem
            if not request.query.get("api-version"):
                return kv_error(400, "BadParameter", "The 'api-version' query parameter is missing.")
            name = request.match.groupdict().get("name")
            if name is not None and not _NAME.match(name):
                return kv_error(400, "BadParameter", "The request URI contains an invalid name: %s" % name)
            with self._lock:
                return handler(request, self._secrets("https://" + (request.headers.get("Host") or "")))
        return guarded

    def _id(self, request, entry, version=None):
        base = "https://%s/secrets/%s" % (request.headers.get("Host"), entry["name"])
        return base + ("/" + version["version"] if version else "")

    def _attributes(self, version):
        return {"enabled": version["enabled"], "created": version["created"], "updated": version["updated"],
                "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90}

    def _item(self, request, entry, version):
        item = {"id": self._id(request, entry, version), "attributes": self._attributes(version), "tags": version["tags"]}
        if version["contentType"] is not None:
            item["contentType"] = version["contentType"]
        return item

    def _bundle(self, request, entry, version):
        bundle = self._item(request, entry, version)
        bundle["value"] = version["value"]
        return bundle

    def _not_found(self, name, version=""):
        label = "%s/%s" % (name, version) if version else name
        return kv_error(404, "SecretNotFound", "A secret with (name/id) %s was not found in this key vault. If you"
                        " recently deleted this secret you may be able to recover it using the correct recovery"
                        " command. For help resolving this issue, please see https://go.microsoft.com/fwlink/"
                        "?linkid=2125182" % label)

    def _set(self, request, secrets):
        body = request.json or {}
        if not isinstance(body.get("value"), str):
            return kv_error(400, "BadParameter", "Property 'value' is required and must be a string.")
        attributes = body.get("attributes") or {}
        version = self._add(secrets, request.match.group("name"), body["value"], body.get("tags"),
                            body.get("contentType"), attributes.get("enabled", True))
        return Response(200, self._bundle(request, secrets[request.match.group("name").lower()], version))

    def _get(self, request, secrets):
        name = request.match.group("name")
        wanted = request.match.groupdict().get("version") or ""
        entry = secrets.get(name.lower())
        if entry is None:
            return self._not_found(name, wanted)
        if wanted:
            version = next((v for v in entry["versions"] if v["version"] == wanted.lower()), None)
            if version is None:
                return self._not_found(name, wanted)
        else:
            version = self._newest(entry)
        if not version["enabled"]:
            return kv_error(403, "Forbidden", "Operation get is not allowed on a disabled secret.", "SecretDisabled")
        return Response(200, self._bundle(request, entry, version))

    def _list_versions(self, request, secrets):
        entry = secrets.get(request.match.group("name").lower())
        if entry is None:
            return Response(200, {"value": [], "nextLink": None})
        items = [self._item(request, entry, version)
                 for version in sorted(entry["versions"], key=lambda v: v["version"])]
        return Response(200, {"value": items, "nextLink": None})

    def _list_secrets(self, request, secrets):
        items = [self._item(request, entry, self._newest(entry)) for entry in secrets.values()]
        for item in items:
            item["id"] = item["id"].rsplit("/", 1)[0]
        return Response(200, {"value": items, "nextLink": None})

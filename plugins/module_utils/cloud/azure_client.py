# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An Azure credential and SDK client settings from the module options, and what azure.core failures mean.

Interface (shared by every module that talks to Azure; change it only additively):

- ``HAS_AZURE`` / ``AZURE_IMPORT_ERROR``: guard for ``missing_required_lib("azure-identity")`` (azure-core comes
  with it).
- ``azure_argument_spec()``: the options of the ``vaultops.recovery.azure_connection`` doc fragment: tenant_id
  (alias tenant), client_id, secret (no_log), managed_identity_client_id, subscription_id, authority_host,
  resource_manager_url, azure_ca_bundle, polling_interval.
- ``AzureConnection(params)``:
    - ``.credential``: ``ClientSecretCredential`` when tenant_id, client_id and secret are all given, else
      ``DefaultAzureCredential`` (AZURE_* service principal environment, workload identity, managed identity - with
      managed_identity_client_id for a user-assigned one -, Azure CLI). A half-given service principal is refused.
      authority_host (or AZURE_AUTHORITY_HOST) selects another cloud or a test token endpoint; instance discovery is
      turned off for hosts that are not Azure's own clouds.
    - ``.client_kwargs()``: keyword arguments for any azure SDK client: ``connection_verify`` (azure_ca_bundle) and
      ``polling_interval``. ``.management_client(cls)`` builds an ARM client (subscription_id, resource_manager_url
      as base_url with its ``/.default`` scope).
    - ``.subscription_id``: the option or AZURE_SUBSCRIPTION_ID (``require_subscription()`` raises when unset).
    - ``.call(action, function, *args, where="", not_found_fix=None, **kwargs)``: calls ``function`` and turns
      azure.core exceptions into a ``RecoveryError`` naming the option to fix; facts ``status`` and ``code``.
    - ``.explain(exc, action, where="", not_found_fix=None)``: that translation alone (for pollers, iterators).
- ``http_status(exc)`` / ``error_code(exc)``: the HTTP status and service error code of a RecoveryError made here.
"""

import os
import traceback

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

AZURE_IMPORT_ERROR = None
try:
    from azure.core import exceptions as azure_errors
    from azure.identity import ClientSecretCredential, DefaultAzureCredential
    HAS_AZURE = True
except ImportError:
    AZURE_IMPORT_ERROR = traceback.format_exc()
    HAS_AZURE = False

AZURE_AUTHORITY_HOSTS = ("login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn")
SERVICE_PRINCIPAL_OPTIONS = ("tenant_id", "client_id", "secret")
CREDENTIAL_FIX = ("pass tenant_id, client_id and secret of a service principal, or give the managed host a"
                  " credential DefaultAzureCredential finds (AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET,"
                  " a managed identity - managed_identity_client_id for a user-assigned one -, or az login); check"
                  " authority_host for clouds other than Azure's public one.")


def azure_argument_spec():
    return dict(
        tenant_id=dict(type="str", aliases=["tenant"]),
        client_id=dict(type="str"),
        secret=dict(type="str", no_log=True),
        managed_identity_client_id=dict(type="str"),
        subscription_id=dict(type="str"),
        authority_host=dict(type="str"),
        resource_manager_url=dict(type="str"),
        azure_ca_bundle=dict(type="path"),
        polling_interval=dict(type="float"),
    )


def _authority(params):
    authority = params.get("authority_host") or os.environ.get("AZURE_AUTHORITY_HOST")
    if not authority:
        return None, False
    if "://" not in authority:
        authority = "https://" + authority
    host = authority.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0].lower()
    return authority.rstrip("/"), host not in AZURE_AUTHORITY_HOSTS


class AzureConnection(object):
    """The credential and client settings of one set of Azure options."""

    def __init__(self, params):
        self.params = params
        given = [name for name in SERVICE_PRINCIPAL_OPTIONS if params.get(name)]
        if given and len(given) != len(SERVICE_PRINCIPAL_OPTIONS):
            missing = [name for name in SERVICE_PRINCIPAL_OPTIONS if name not in given]
            raise RecoveryError("%s given but %s not." % (", ".join(given), ", ".join(missing)),
                                fix="pass all of tenant_id, client_id and secret for a service principal, or none of"
                                    " them (then DefaultAzureCredential is used).")
        self.verify = params.get("azure_ca_bundle") or True
        self.authority, custom = _authority(params)
        self.resource_manager_url = (params.get("resource_manager_url") or "").rstrip("/") or None
        self.subscription_id = params.get("subscription_id") or os.environ.get("AZURE_SUBSCRIPTION_ID")
        identity = dict(connection_verify=self.verify)
        if self.authority:
            identity.update(authority=self.authority, disable_instance_discovery=custom)
        if given:
            self.credential_kind = "service principal (tenant_id, client_id, secret)"
            self.credential = ClientSecretCredential(params["tenant_id"], params["client_id"], params["secret"],
                                                     **identity)
        else:
            self.credential_kind = "DefaultAzureCredential"
            if params.get("managed_identity_client_id"):
                identity["managed_identity_client_id"] = params["managed_identity_client_id"]
            self.credential = DefaultAzureCredential(exclude_interactive_browser_credential=True, **identity)

    def client_kwargs(self):
        kwargs = dict(connection_verify=self.verify)
        if self.params.get("polling_interval") is not None:
            kwargs["polling_interval"] = self.params["polling_interval"]
        return kwargs

    def require_subscription(self):
        if not self.subscription_id:
            raise RecoveryError("No Azure subscription is set.",
                                fix="pass subscription_id (or set AZURE_SUBSCRIPTION_ID on the managed host).")
        return self.subscription_id

    def management_client(self, client_class):
        """An ARM client (azure-mgmt-*) of the subscription, at resource_manager_url when set."""
        kwargs = self.client_kwargs()
        if self.resource_manager_url:
            kwargs.update(base_url=self.resource_manager_url,
                          credential_scopes=[self.resource_manager_url + "/.default"])
        return client_class(self.credential, self.require_subscription(), **kwargs)

    def explain(self, exc, action, where="", not_found_fix=None):
        """A RecoveryError for an azure.core exception raised while doing `action` on `where`."""
        target = (" " + where) if where else ""
        if isinstance(exc, azure_errors.ClientAuthenticationError) and getattr(exc, "status_code", None) != 403:
            return RecoveryError("Azure authentication with the %s failed while trying to %s%s: %s" % (
                self.credential_kind, action, target, _first_line(exc)), fix=CREDENTIAL_FIX, status=401,
                code="AuthenticationFailed")
        if isinstance(exc, azure_errors.ServiceRequestError):
            text = str(exc)
            if "CERTIFICATE_VERIFY_FAILED" in text or "SSLError" in text:
                return RecoveryError("TLS to Azure failed while trying to %s%s: %s" % (action, target, _first_line(exc)),
                                     fix="trust the endpoint's CA with azure_ca_bundle, or check resource_manager_url"
                                         " (and the key vault URL).")
            return RecoveryError("Cannot reach Azure while trying to %s%s: %s" % (action, target, _first_line(exc)),
                                 fix="check resource_manager_url (and the key vault URL, authority_host): the service"
                                     " must answer from the managed host.")
        if isinstance(exc, azure_errors.ServiceResponseError):
            return RecoveryError("Azure broke off while trying to %s%s: %s" % (action, target, _first_line(exc)),
                                 fix="run again; if it persists, check the network path to Azure.")
        if isinstance(exc, azure_errors.HttpResponseError):
            status = exc.status_code
            code = getattr(getattr(exc, "error", None), "code", None) or getattr(exc, "reason", None) or ""
            message = getattr(getattr(exc, "error", None), "message", None) or _first_line(exc)
            facts = dict(status=status, code=code)
            if status == 403:
                return RecoveryError("Azure denied access (%s) while trying to %s%s: %s" % (
                    code, action, target, message),
                    fix="grant the identity (%s) a role that allows this, or use another one." % self.credential_kind,
                    **facts)
            if status == 404:
                return RecoveryError("Not found while trying to %s%s (%s): %s" % (action, target, code, message),
                                     fix=not_found_fix or "check the names, subscription_id and resource group.",
                                     **facts)
            return RecoveryError("Azure error %s %s while trying to %s%s: %s" % (status, code, action, target, message),
                                 fix="check the request's parameters against the message; run again if it is"
                                     " transient.", **facts)
        if isinstance(exc, azure_errors.AzureError):
            return RecoveryError("Azure failed while trying to %s%s: %s" % (action, target, _first_line(exc)),
                                 fix="check the connection options (resource_manager_url, authority_host).")
        return exc

    def call(self, action, function, *args, **kwargs):
        where = kwargs.pop("where", "")
        not_found_fix = kwargs.pop("not_found_fix", None)
        try:
            return function(*args, **kwargs)
        except Exception as exc:
            if HAS_AZURE and isinstance(exc, azure_errors.AzureError):
                raise self.explain(exc, action, where, not_found_fix)
            raise


def _first_line(exc):
    text = getattr(exc, "message", None) or str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def http_status(exc):
    return exc.facts.get("status") if isinstance(exc, RecoveryError) else None


def error_code(exc):
    return exc.facts.get("code") if isinstance(exc, RecoveryError) else None

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A client of the Kubernetes API from kubernetes.core-style options, and what its failures mean.

Interface (shared by every module that talks to Kubernetes; change it only additively):

- ``HAS_KUBERNETES`` / ``KUBERNETES_IMPORT_ERROR``: guard for ``missing_required_lib("kubernetes")``.
- ``k8s_argument_spec()``: the options of the ``vaultops.recovery.k8s_connection`` doc fragment. Names, aliases
  and environment variables follow kubernetes.core (kubeconfig, context, host, api_key, validate_certs,
  ca_cert; K8S_AUTH_*), so one set of module_defaults serves both collections.
- ``K8sConnection(params)``: ``.api_client`` (kubernetes.client.ApiClient); ``.server`` names the API server in
  messages. Nothing is read from the cluster until the first call.
- ``K8sConnection.call(action, method, *args, **kwargs)``: ``method(*args, **kwargs)`` with a request timeout; a
  client failure becomes a ``RecoveryError`` naming the option to fix (host/kubeconfig, api_key/context,
  ca_cert/validate_certs), with ``facts["status"]`` set to the HTTP status when there is one.
  ``not_found_is_none=True`` returns None for a 404 instead.
- ``K8sConnection.explain(exc, action)``: that translation for an exception caught elsewhere.
"""

import os
import traceback

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

KUBERNETES_IMPORT_ERROR = None
try:
    import urllib3
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.client.rest import ApiException
    from kubernetes.config.config_exception import ConfigException
    HAS_KUBERNETES = True
except ImportError:
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()
    HAS_KUBERNETES = False

# (connect, read) seconds of every request: an unroutable API server fails the task instead of hanging it
REQUEST_TIMEOUT = (10, 60)


def k8s_argument_spec():
    """The connection options, as kubernetes.core names them (with its K8S_AUTH_* environment fallbacks)."""
    return {
        "kubeconfig": dict(type="path", fallback=(_env, ["K8S_AUTH_KUBECONFIG"])),
        "context": dict(type="str", fallback=(_env, ["K8S_AUTH_CONTEXT"])),
        "host": dict(type="str", fallback=(_env, ["K8S_AUTH_HOST"])),
        "api_key": dict(type="str", no_log=True, fallback=(_env, ["K8S_AUTH_API_KEY"])),
        "validate_certs": dict(type="bool", aliases=["verify_ssl"], fallback=(_env, ["K8S_AUTH_VERIFY_SSL"])),
        "ca_cert": dict(type="path", aliases=["ssl_ca_cert"], fallback=(_env, ["K8S_AUTH_SSL_CA_CERT"])),
    }


def _env(name):
    if not os.environ.get(name):
        from ansible.module_utils.basic import AnsibleFallbackNotFound
        raise AnsibleFallbackNotFound
    return os.environ[name]


class _KeepOverrides(object):
    """A refresh hook that runs the kubeconfig loader's, then puts the explicit options back (the loader installs
    a new hook of its own on every refresh, so this one takes it and stays in front)."""

    def __init__(self, refresh, overrides):
        self.refresh, self.overrides = refresh, overrides

    def __call__(self, configuration):
        self.refresh(configuration)
        if configuration.refresh_api_key_hook is not self:
            self.refresh = configuration.refresh_api_key_hook or self.refresh
            configuration.refresh_api_key_hook = self
        _apply(configuration, self.overrides)


def _apply(configuration, overrides):
    for name, value in overrides.items():
        setattr(configuration, name, dict(value) if isinstance(value, dict) else value)


def _status_message(exc):
    """The message of the Status object in an ApiException's body (never its headers)."""
    import json
    try:
        return json.loads(exc.body).get("message") or exc.reason
    except (TypeError, ValueError, AttributeError):
        return exc.reason or "HTTP %s" % exc.status


class K8sConnection(object):
    def __init__(self, params):
        self.params = params
        configuration = k8s_client.Configuration()
        kubeconfig = params.get("kubeconfig")
        # what messages name as the origin of the server and of the token
        self.source = "" if params.get("host") else " (from kubeconfig %s)" % (kubeconfig or "~/.kube/config")
        self.token_source = "api_key" if params.get("api_key") else "the token of the kubeconfig's user%s" % (
            " in context %s" % params["context"] if params.get("context") else "")
        if kubeconfig or not params.get("host"):
            if kubeconfig and not os.path.isfile(kubeconfig):
                raise RecoveryError("kubeconfig %s does not exist or is not a file. Nothing was changed." % kubeconfig,
                                    fix="give the path of the cluster's kubeconfig file in kubeconfig, or host and"
                                        " api_key instead.")
            try:
                # persist_config=False: a refreshed token is never written back into the operator's file
                k8s_config.load_kube_config(config_file=kubeconfig, context=params.get("context"),
                                            client_configuration=configuration, persist_config=False)
            except (ConfigException, OSError, ValueError, TypeError) as exc:
                raise RecoveryError(
                    "cannot use the kubeconfig %s%s: %s. Nothing was changed." % (
                        kubeconfig or "~/.kube/config",
                        " (context %s)" % params["context"] if params.get("context") else "", exc),
                    fix="give kubeconfig the cluster's kubeconfig file and context one of its contexts"
                        " (kubectl config get-contexts), or give host and api_key.")
        overrides = {}
        if params.get("host"):
            overrides["host"] = params["host"]
        if params.get("api_key"):
            overrides["api_key"] = {"authorization": "Bearer %s" % params["api_key"]}
        if params.get("validate_certs") is not None:
            overrides["verify_ssl"] = params["validate_certs"]
        if params.get("ca_cert"):
            overrides["ssl_ca_cert"] = params["ca_cert"]
        _apply(configuration, overrides)
        kubeconfig_refresh = configuration.refresh_api_key_hook
        if kubeconfig_refresh is not None and overrides:
            # the kubeconfig loader re-applies the file's server, token and TLS settings before every request (to
            # renew an exec or OIDC token); the options given explicitly must still win afterwards
            configuration.refresh_api_key_hook = _KeepOverrides(kubeconfig_refresh, overrides)
        # one retry: a refused connection fails in a second, not after urllib3's default three
        configuration.retries = 1
        self.server = configuration.host
        self.api_client = k8s_client.ApiClient(configuration)

    def explain(self, exc, action):
        where = "the Kubernetes API server %s%s" % (self.server, self.source)
        if isinstance(exc, ApiException):
            message = _status_message(exc)
            if exc.status == 401:
                return RecoveryError(
                    "%s: %s refused %s (401 Unauthorized: %s)." % (action, where, self.token_source, message),
                    fix="give a valid, unexpired bearer token (api_key, or the kubeconfig user's token) for this"
                        " cluster.", status=401)
            if exc.status == 403:
                return RecoveryError(
                    "%s: %s forbids it (403 Forbidden: %s)." % (action, where, message),
                    fix="grant the service account or user the verbs named above (RBAC), or use a context that has"
                        " them.", status=403)
            return RecoveryError("%s: %s answered %s %s: %s." % (action, where, exc.status, exc.reason, message),
                                 fix="read the message above; check the namespace and names in the tiers.",
                                 status=exc.status)
        reason = getattr(exc, "reason", None) or exc
        text = "%s" % reason
        if isinstance(exc, urllib3.exceptions.ReadTimeoutError) or isinstance(reason, urllib3.exceptions.ReadTimeoutError):
            return RecoveryError(
                "%s: %s accepted the connection but did not answer within %d seconds." % (
                    action, where, REQUEST_TIMEOUT[1]),
                fix="the API server is overloaded or a proxy holds the request; check it (kubectl get --raw /readyz)"
                    " and run again.")
        if "CERTIFICATE_VERIFY_FAILED" in text or isinstance(reason, urllib3.exceptions.SSLError):
            return RecoveryError(
                "%s: the TLS certificate of %s could not be verified (%s)." % (action, where, text),
                fix="give ca_cert the certificate authority that signed the API server's certificate (or fix the"
                    " kubeconfig's certificate-authority).")
        return RecoveryError(
            "%s: cannot reach %s (%s)." % (action, where, text),
            fix="check host, or the server of the kubeconfig context, and that the API server is up and reachable"
                " from this host.")

    def call(self, action, method, *args, **kwargs):
        not_found_is_none = kwargs.pop("not_found_is_none", False)
        kwargs.setdefault("_request_timeout", REQUEST_TIMEOUT)
        try:
            return method(*args, **kwargs)
        except ApiException as exc:
            if not_found_is_none and exc.status == 404:
                return None
            raise self.explain(exc, action)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self.explain(exc, action)

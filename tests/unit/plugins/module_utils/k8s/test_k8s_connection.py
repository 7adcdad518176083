"""K8sConnection: options as kubernetes.core names them, which of them wins over the kubeconfig, and what each
client failure becomes - proven against the REAL kubernetes client and a real HTTPS socket (the API stand-in)
where the failure can be produced for real (401, TLS verification, refused connection)."""

import hashlib
import json
import os
import socket

import pytest
import urllib3
from kubernetes import client as k8s_client
from kubernetes.client.rest import ApiException

from ansible.module_utils.basic import AnsibleFallbackNotFound
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.k8s import connection as k8s_connection
from ansible_collections.vaultops.recovery.plugins.module_utils.k8s.connection import K8sConnection, k8s_argument_spec
from support.kube_apiserver import KubeApiServer, make_ca_and_server_certificate

TOKEN = "s3cr3t-token-value-0123456789"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    server = KubeApiServer(tmp_path_factory.mktemp("kube"), token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    """A CA certificate (PEM) that did not sign the stand-in's server certificate."""
    return make_ca_and_server_certificate(str(tmp_path_factory.mktemp("other-ca")))[0]


def kubeconfig_copy(api, path, token=None, server=None, ca_cert=None):
    """The stand-in's kubeconfig with another token, server or certificate-authority file."""
    with open(api.kubeconfig) as handle:
        text = handle.read()
    if token is not None:
        text = text.replace(json.dumps(api.token), json.dumps(token))
    if server is not None:
        text = text.replace(json.dumps(api.url), json.dumps(server))
    if ca_cert is not None:
        text = "\n".join("    certificate-authority: %s" % ca_cert if line.strip().startswith("certificate-authority-data:")
                         else line for line in text.splitlines()) + "\n"
    path.write_text(text)
    return str(path)


def closed_port_url():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there any more: connect() is refused at once
    return "https://127.0.0.1:%d" % port


def list_namespaces(connection):
    return connection.call("list namespaces", k8s_client.CoreV1Api(connection.api_client).list_namespace)


def raised(function, *args, **kwargs):
    with pytest.raises(RecoveryError) as caught:
        function(*args, **kwargs)
    return caught.value


# kubeconfig problems -----------------------------------------------------------------------------------------
def test_a_kubeconfig_that_does_not_exist_names_the_path(tmp_path):
    missing = str(tmp_path / "no-such.kubeconfig")
    error = raised(K8sConnection, dict(kubeconfig=missing))
    assert missing in error.message and "Nothing was changed" in error.message
    assert "kubeconfig" in error.fix and "host" in error.fix


def test_an_unknown_context_names_the_context_and_the_fix(api):
    error = raised(K8sConnection, dict(kubeconfig=api.kubeconfig, context="prod-typo"))
    assert "prod-typo" in error.message and api.kubeconfig in error.message and "Nothing was changed" in error.message
    assert "kubectl config get-contexts" in error.fix


def test_the_kubeconfig_alone_reaches_the_server_with_its_token(api):
    connection = K8sConnection(dict(kubeconfig=api.kubeconfig))
    assert connection.server == api.url
    names = [ns.metadata.name for ns in list_namespaces(connection).items]
    assert "default" in names


# host / api_key ----------------------------------------------------------------------------------------------
def test_host_and_api_key_without_a_kubeconfig():
    connection = K8sConnection(dict(host="https://k8s.example:6443", api_key="abc"))
    configuration = connection.api_client.configuration
    assert configuration.host == "https://k8s.example:6443" and connection.server == "https://k8s.example:6443"
    assert configuration.api_key["authorization"] == "Bearer abc"
    assert configuration.auth_settings()["BearerToken"]["value"] == "Bearer abc"
    assert configuration.retries == 1


def test_explicit_host_and_api_key_win_over_the_kubeconfig_refresh_hook(api, tmp_path):
    path = kubeconfig_copy(api, tmp_path / "kc", token="kubeconfig-token", server="https://kubeconfig.example:6443")
    connection = K8sConnection(dict(kubeconfig=path, host="https://explicit.example:6443", api_key="explicit-token"))
    configuration = connection.api_client.configuration
    # what the client does before every request (the kubeconfig loader's refresh): the explicit values stay
    configuration.refresh_api_key_hook(configuration)
    assert configuration.get_api_key_with_prefix("authorization") == "Bearer explicit-token"
    assert configuration.auth_settings()["BearerToken"]["value"] == "Bearer explicit-token"
    assert configuration.host == "https://explicit.example:6443"


def test_explicit_api_key_wins_over_a_wrong_kubeconfig_token_on_the_wire(api, tmp_path):
    path = kubeconfig_copy(api, tmp_path / "kc", token="stale-kubeconfig-token")
    with pytest.raises(RecoveryError):
        list_namespaces(K8sConnection(dict(kubeconfig=path)))
    connection = K8sConnection(dict(kubeconfig=path, api_key=api.token))
    assert list_namespaces(connection).items


def test_explicit_host_wins_over_a_wrong_kubeconfig_server_on_the_wire(api, tmp_path):
    path = kubeconfig_copy(api, tmp_path / "kc", server=closed_port_url())
    connection = K8sConnection(dict(kubeconfig=path, host=api.url))
    assert connection.server == api.url and connection.source == ""
    assert list_namespaces(connection).items


# TLS options -------------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_validate_certs_false_overrides_the_kubeconfig(api, tmp_path, other_ca):
    path = kubeconfig_copy(api, tmp_path / "kc", ca_cert=other_ca)
    assert K8sConnection(dict(kubeconfig=path)).api_client.configuration.verify_ssl is True
    connection = K8sConnection(dict(kubeconfig=path, validate_certs=False))
    assert connection.api_client.configuration.verify_ssl is False
    assert list_namespaces(connection).items  # the kubeconfig's (wrong) CA is not used to verify


def test_ca_cert_overrides_the_kubeconfig(api, tmp_path, other_ca):
    path = kubeconfig_copy(api, tmp_path / "kc", ca_cert=other_ca)
    connection = K8sConnection(dict(kubeconfig=path, ca_cert=api.ca_cert))
    assert connection.api_client.configuration.ssl_ca_cert == api.ca_cert
    assert list_namespaces(connection).items


def test_a_ca_that_did_not_sign_the_server_certificate_names_ca_cert(api, other_ca):
    connection = K8sConnection(dict(host=api.url, api_key=api.token, ca_cert=other_ca))
    error = raised(list_namespaces, connection)
    assert error.message.startswith("list namespaces: the TLS certificate of the Kubernetes API server %s" % api.url)
    assert "CERTIFICATE_VERIFY_FAILED" in error.message
    assert "ca_cert" in error.fix
    assert "status" not in error.facts


def test_the_kubeconfig_ca_that_did_not_sign_it_names_the_kubeconfig(api, tmp_path, other_ca):
    path = kubeconfig_copy(api, tmp_path / "kc", ca_cert=other_ca)
    error = raised(list_namespaces, K8sConnection(dict(kubeconfig=path)))
    assert "could not be verified" in error.message and "(from kubeconfig %s)" % path in error.message
    assert "certificate-authority" in error.fix


# real 401 and refused connection ---------------------------------------------------------------------------
def test_a_wrong_api_key_is_a_401_naming_api_key_without_the_value(api):
    wrong = "wrong-token-" + hashlib.sha256(b"x").hexdigest()[:16]
    connection = K8sConnection(dict(host=api.url, api_key=wrong, ca_cert=api.ca_cert))
    error = raised(list_namespaces, connection)
    assert "401 Unauthorized" in error.message and "refused api_key" in error.message
    assert error.facts["status"] == 401
    assert wrong not in str(error) and api.token not in str(error)
    assert "api_key" in error.fix


def test_a_wrong_kubeconfig_token_is_a_401_naming_the_kubeconfig_user(api, tmp_path):
    wrong = "kubeconfig-wrong-token-value"
    path = kubeconfig_copy(api, tmp_path / "kc", token=wrong)
    error = raised(list_namespaces, K8sConnection(dict(kubeconfig=path, context="vaultops-lab")))
    assert "401 Unauthorized" in error.message
    assert "the token of the kubeconfig's user in context vaultops-lab" in error.message
    assert wrong not in str(error) and error.facts["status"] == 401


def test_a_refused_connection_cannot_reach_and_names_host(api):
    url = closed_port_url()
    connection = K8sConnection(dict(host=url, api_key="t", ca_cert=api.ca_cert))
    error = raised(list_namespaces, connection)
    assert error.message.startswith("list namespaces: cannot reach the Kubernetes API server %s" % url)
    assert "check host" in error.fix and "status" not in error.facts


# explain() on exceptions built here --------------------------------------------------------------------------
@pytest.fixture
def conn():
    return K8sConnection(dict(host="https://k8s.example:6443", api_key=TOKEN))


def api_exception(status, reason, message):
    exc = ApiException(status=status, reason=reason)
    exc.body = json.dumps({"kind": "Status", "status": "Failure", "message": message, "reason": reason, "code": status})
    return exc


def test_explain_401_names_api_key_never_its_value(conn):
    error = conn.explain(api_exception(401, "Unauthorized", "Unauthorized"), "read x")
    assert "401 Unauthorized" in error.message and "api_key" in error.message
    assert TOKEN not in str(error) and error.facts == {"status": 401}


def test_explain_403_gives_the_rbac_fix(conn):
    message = 'deployments.apps "wallet" is forbidden: User "ci" cannot patch resource "deployments/scale"'
    error = conn.explain(api_exception(403, "Forbidden", message), "scale wallet")
    assert "403 Forbidden" in error.message and message in error.message
    assert "RBAC" in error.fix and error.facts["status"] == 403


def test_explain_500_keeps_the_status(conn):
    error = conn.explain(api_exception(500, "Internal Server Error", "etcd timeout"), "read x")
    assert error.facts["status"] == 500 and "500 Internal Server Error: etcd timeout" in error.message


def test_explain_an_api_exception_without_a_status_body(conn):
    exc = ApiException(status=502, reason="Bad Gateway")
    exc.body = "<html>proxy</html>"
    error = conn.explain(exc, "read x")
    assert error.facts["status"] == 502 and "Bad Gateway" in error.message


@pytest.mark.parametrize("exc", [
    urllib3.exceptions.SSLError("handshake failed"),
    urllib3.exceptions.MaxRetryError(None, "/api", urllib3.exceptions.SSLError("[SSL] CERTIFICATE_VERIFY_FAILED")),
    OSError("certificate verify failed: CERTIFICATE_VERIFY_FAILED"),
], ids=["SSLError", "MaxRetryError(SSLError)", "text"])
def test_explain_tls_failures_give_the_ca_cert_fix(conn, exc):
    error = conn.explain(exc, "read x")
    assert "could not be verified" in error.message and "ca_cert" in error.fix


@pytest.mark.parametrize("exc", [
    urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused"),
    urllib3.exceptions.MaxRetryError(None, "/api", urllib3.exceptions.NewConnectionError(None, "Connection refused")),
], ids=["NewConnectionError", "MaxRetryError"])
def test_explain_refused_connections_cannot_reach(conn, exc):
    error = conn.explain(exc, "read x")
    assert "cannot reach the Kubernetes API server https://k8s.example:6443" in error.message
    assert "Connection refused" in error.message and "check host" in error.fix
    assert "could not be verified" not in error.message


# call() ------------------------------------------------------------------------------------------------------
def test_call_not_found_is_none_returns_none_on_404(conn):
    def missing(*args, **kwargs):
        raise api_exception(404, "Not Found", 'deployments.apps "x" not found')
    assert conn.call("read x", missing, not_found_is_none=True) is None
    error = raised(conn.call, "read x", missing)
    assert error.facts["status"] == 404 and 'deployments.apps "x" not found' in error.message


def test_call_other_statuses_raise_with_the_status_even_with_not_found_is_none(conn):
    def conflict(*args, **kwargs):
        raise api_exception(409, "Conflict", "the object has been modified")
    error = raised(conn.call, "patch x", conflict, not_found_is_none=True)
    assert error.facts["status"] == 409 and error.message.startswith("patch x: ")


def test_call_passes_arguments_and_a_request_timeout(conn):
    seen = {}

    def method(*args, **kwargs):
        seen.update(args=args, kwargs=kwargs)
        return "result"
    assert conn.call("act", method, "a", "b", label_selector="k=v") == "result"
    assert seen["args"] == ("a", "b")
    assert seen["kwargs"] == {"label_selector": "k=v", "_request_timeout": k8s_connection.REQUEST_TIMEOUT}


def test_a_real_404_through_call(api):
    connection = K8sConnection(dict(host=api.url, api_key=api.token, ca_cert=api.ca_cert))
    apps = k8s_client.AppsV1Api(connection.api_client)
    assert connection.call("read", apps.read_namespaced_deployment, "ghost", "default", not_found_is_none=True) is None
    error = raised(connection.call, "read deployment ghost", apps.read_namespaced_deployment, "ghost", "default")
    assert error.facts["status"] == 404 and 'deployments.apps "ghost" not found' in error.message


# the argument spec -------------------------------------------------------------------------------------------
def test_the_argument_spec_uses_kubernetes_core_names():
    spec = k8s_argument_spec()
    assert sorted(spec) == ["api_key", "ca_cert", "context", "host", "kubeconfig", "validate_certs"]
    assert spec["api_key"]["no_log"] is True
    assert spec["validate_certs"]["aliases"] == ["verify_ssl"] and spec["validate_certs"]["type"] == "bool"
    assert spec["ca_cert"]["aliases"] == ["ssl_ca_cert"] and spec["ca_cert"]["type"] == "path"
    assert spec["kubeconfig"]["type"] == "path"
    envs = dict((name, option["fallback"][1]) for name, option in spec.items())
    assert envs == {"kubeconfig": ["K8S_AUTH_KUBECONFIG"], "context": ["K8S_AUTH_CONTEXT"], "host": ["K8S_AUTH_HOST"],
                    "api_key": ["K8S_AUTH_API_KEY"], "validate_certs": ["K8S_AUTH_VERIFY_SSL"],
                    "ca_cert": ["K8S_AUTH_SSL_CA_CERT"]}


def test_the_fallback_functions_read_the_environment(monkeypatch):
    spec = k8s_argument_spec()
    for name in ("K8S_AUTH_HOST", "K8S_AUTH_VERIFY_SSL", "K8S_AUTH_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    function, args = spec["host"]["fallback"]
    with pytest.raises(AnsibleFallbackNotFound):
        function(*args)
    monkeypatch.setenv("K8S_AUTH_HOST", "https://env.example:6443")
    assert function(*args) == "https://env.example:6443"
    function, args = spec["validate_certs"]["fallback"]
    for text, value in (("no", False), ("false", False), ("0", False), ("yes", True), ("True", True), ("1", True)):
        monkeypatch.setenv("K8S_AUTH_VERIFY_SSL", text)
        assert ArgumentSpecValidator(k8s_argument_spec()).validate({}).validated_parameters["validate_certs"] is value
    monkeypatch.setenv("K8S_AUTH_VERIFY_SSL", "ture")  # a typo is refused, never read as "do not verify"
    assert function(*args) == "ture"
    assert "validate_certs" in " ".join(ArgumentSpecValidator(k8s_argument_spec()).validate({}).error_messages)
    monkeypatch.setenv("K8S_AUTH_API_KEY", "")
    with pytest.raises(AnsibleFallbackNotFound):  # an empty variable is no value
        spec["api_key"]["fallback"][0](*spec["api_key"]["fallback"][1])


def test_the_spec_validates_with_aliases_and_environment(monkeypatch, tmp_path):
    for name in ("K8S_AUTH_KUBECONFIG", "K8S_AUTH_CONTEXT", "K8S_AUTH_SSL_CA_CERT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("K8S_AUTH_HOST", "https://env.example:6443")
    monkeypatch.setenv("K8S_AUTH_API_KEY", "env-token")
    monkeypatch.setenv("K8S_AUTH_VERIFY_SSL", "no")
    result = ArgumentSpecValidator(k8s_argument_spec()).validate({"ssl_ca_cert": str(tmp_path / "ca.pem")})
    assert result.error_messages == []
    params = result.validated_parameters
    assert params["host"] == "https://env.example:6443" and params["api_key"] == "env-token"
    assert params["validate_certs"] is False and params["ca_cert"] == str(tmp_path / "ca.pem")
    assert "env-token" in result._no_log_values
    result = ArgumentSpecValidator(k8s_argument_spec()).validate({"verify_ssl": True, "host": "https://given:1"})
    assert result.validated_parameters["validate_certs"] is True and result.validated_parameters["host"] == "https://given:1"
    assert os.environ["K8S_AUTH_HOST"] == "https://env.example:6443"

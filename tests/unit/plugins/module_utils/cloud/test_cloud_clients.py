"""aws_client and azure_client (shared with db_info_secret): settings errors name the option to fix."""

import pytest

pytest.importorskip("azure.identity")
pytest.importorskip("botocore")
from azure.core.exceptions import HttpResponseError, ServiceRequestError  # noqa: E402

from ansible_collections.vaultops.recovery.plugins.module_utils.cloud.aws_client import AwsConnection  # noqa: E402
from ansible_collections.vaultops.recovery.plugins.module_utils.cloud.azure_client import (  # noqa: E402
    AzureConnection, azure_argument_spec)
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError  # noqa: E402


def test_aws_region_missing_is_named(monkeypatch):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(RecoveryError, match="No AWS region is set for RDS") as caught:
        AwsConnection(dict(access_key="A", secret_key="S"), "rds", label="RDS")
    assert "set region" in caught.value.fix


def test_aws_prefixed_side_uses_its_own_credentials_only_when_given():
    params = dict(region="us-east-1", access_key="A", secret_key="S", target_access_key="B", target_secret_key=None)
    with pytest.raises(RecoveryError, match="target_access_key is set but target_secret_key is not"):
        AwsConnection(params, "secretsmanager", prefix="target_")
    conn = AwsConnection(dict(params, target_access_key=None), "secretsmanager", prefix="target_")
    assert conn.credential_prefix == "" and conn.region == "us-east-1"


def test_azure_half_service_principal_is_refused_and_spec_hides_the_secret():
    assert azure_argument_spec()["secret"]["no_log"]
    with pytest.raises(RecoveryError, match="tenant_id, secret given but client_id not"):
        AzureConnection(dict(tenant_id="t", secret="planted"))


class FakeResponse(object):
    def __init__(self, status):
        self.status_code = status
        self.reason = "reason"
        self.headers = {}
        self.request = None

    def text(self, encoding=None):
        return '{"error": {"code": "ResourceNotFound", "message": "gone"}}'


def test_azure_errors_name_the_fix():
    conn = AzureConnection(dict(tenant_id="t", client_id="c", secret="planted"))
    missing = conn.explain(HttpResponseError(response=FakeResponse(404)), "read", "pg1", not_found_fix="check instance.")
    assert missing.facts["status"] == 404 and missing.fix == "check instance."
    denied = conn.explain(HttpResponseError(response=FakeResponse(403)), "read", "pg1")
    assert "denied access" in str(denied) and "role" in denied.fix
    tls = conn.explain(ServiceRequestError("SSLError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
                       "read", "pg1")
    assert "azure_ca_bundle" in tls.fix and "planted" not in str(tls)

"""S3 failures become one line that names the option to fix, on the side (source or destination) that failed."""

import pytest

botocore = pytest.importorskip("botocore")
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError  # noqa: E402

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError  # noqa: E402
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_connection import (  # noqa: E402
    S3Connection, connection_argument_spec)

BASE = dict(endpoint_url="http://127.0.0.1:9", region="us-east-1", access_key="AKIA", secret_key="planted-secret",
            session_token=None, profile=None, validate_certs=True, aws_ca_bundle=None,
            dest_endpoint_url=None, dest_region=None, dest_access_key=None, dest_secret_key=None,
            dest_session_token=None, dest_profile=None)


def client_error(code, status=403, operation="ListObjectVersions"):
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       operation)


def test_argument_spec_follows_amazon_aws_names():
    spec = connection_argument_spec()
    assert spec["secret_key"]["no_log"] and spec["session_token"]["no_log"]
    assert "aws_secret_access_key" in spec["secret_key"]["aliases"]
    assert "aws_access_key_id" in spec["access_key"]["aliases"]
    dest = connection_argument_spec("dest_")
    assert dest["dest_secret_key"]["no_log"] and "dest_validate_certs" not in dest


def test_unreachable_endpoint_names_endpoint_url():
    conn = S3Connection(BASE)
    error = conn.explain(EndpointConnectionError(endpoint_url="http://127.0.0.1:9/b"), "list", "b")
    assert "Cannot reach the source S3 endpoint http://127.0.0.1:9" in str(error)
    assert "endpoint_url" in error.fix


@pytest.mark.parametrize("code", ["InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"])
def test_rejected_credentials_name_the_credential_options(code):
    error = S3Connection(BASE).explain(client_error(code), "list", "b")
    assert "rejected the credentials (%s)" % code in str(error)
    assert "access_key, secret_key" in error.fix
    assert "planted-secret" not in str(error)


def test_access_denied_and_missing_bucket():
    conn = S3Connection(BASE)
    assert "denied access" in str(conn.explain(client_error("AccessDenied"), "list", "b"))
    missing = conn.explain(client_error("NoSuchBucket", 404), "list", "vault-b")
    assert "Source S3 bucket vault-b does not exist" in str(missing) and "bucket" in missing.fix
    assert "No credentials" in str(conn.explain(NoCredentialsError(), "list", "b"))


def test_destination_errors_name_dest_options():
    params = dict(BASE, dest_endpoint_url="http://127.0.0.1:10", dest_access_key="K2", dest_secret_key="S2")
    conn = S3Connection(params, prefix="dest_")
    assert conn.endpoint == "http://127.0.0.1:10"
    error = conn.explain(client_error("InvalidAccessKeyId"), "write", "d")
    assert "destination" in str(error) and "dest_access_key, dest_secret_key" in error.fix
    assert "dest_endpoint_url" in conn.explain(EndpointConnectionError(endpoint_url="x"), "write", "d").fix
    assert "dest_bucket" in conn.explain(client_error("NoSuchBucket", 404), "write", "d").fix


def test_destination_reuses_source_settings_when_it_has_none():
    conn = S3Connection(BASE, prefix="dest_")
    assert conn.endpoint == "http://127.0.0.1:9"
    assert "access_key, secret_key" in conn.explain(client_error("InvalidAccessKeyId"), "write", "d").fix


def test_half_a_key_pair_is_refused():
    with pytest.raises(RecoveryError, match="access_key is set but secret_key is not"):
        S3Connection(dict(BASE, secret_key=None))
    with pytest.raises(RecoveryError, match="dest_secret_key is set but dest_access_key is not"):
        S3Connection(dict(BASE, dest_secret_key="x"), prefix="dest_")

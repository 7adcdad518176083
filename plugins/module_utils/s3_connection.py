# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How to reach an S3-compatible service (AWS S3, Cloudflare R2, MinIO), and what its errors mean.

Option names follow amazon.aws (access_key, secret_key, session_token,
profile, endpoint_url, region, validate_certs, aws_ca_bundle, with the same
aliases). Options left unset fall through to boto3's own credential chain
(environment, shared config and credentials files, instance or container
role), which also honours AWS_ENDPOINT_URL.

A second set of options with a prefix (dest_) describes another service;
each of them defaults to its unprefixed counterpart, and the credentials are
taken as a group: from the prefixed options when any of them is set.

Every botocore failure becomes a RecoveryError that names the option to fix,
using the option names of the side (source or destination) that failed.
"""

import traceback

from ansible_collections.vaultops.recovery.plugins.module_utils.errors import RecoveryError

BOTO3_IMPORT_ERROR = None
try:
    import boto3
    import botocore.config
    import botocore.exceptions
    HAS_BOTO3 = True
except ImportError:
    BOTO3_IMPORT_ERROR = traceback.format_exc()
    HAS_BOTO3 = False

CREDENTIAL_OPTIONS = ("access_key", "secret_key", "session_token", "profile")
_CREDENTIAL_CODES = ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
                     "TokenRefreshRequired", "InvalidSecurity", "Unauthorized",
                     "InvalidClientTokenId", "UnrecognizedClientException")
_DENIED_CODES = ("AccessDenied", "AllAccessDisabled", "403", "Forbidden")
_MISSING_BUCKET_CODES = ("NoSuchBucket",)


def connection_argument_spec(prefix=""):
    """The connection options; prefix="dest_" gives the destination's set (without aliases)."""
    def alias(*names):
        return [prefix + name for name in names] if not prefix else []
    spec = {
        "access_key": dict(type="str", aliases=alias("aws_access_key_id", "aws_access_key"), no_log=False),
        "secret_key": dict(type="str", aliases=alias("aws_secret_access_key", "aws_secret_key"), no_log=True),
        "session_token": dict(type="str", aliases=alias("aws_session_token"), no_log=True),
        "profile": dict(type="str", aliases=alias("aws_profile")),
        "endpoint_url": dict(type="str", aliases=alias("aws_endpoint_url")),
        "region": dict(type="str", aliases=alias("aws_region")),
    }
    if not prefix:
        spec["validate_certs"] = dict(type="bool", default=True)
        spec["aws_ca_bundle"] = dict(type="path")
    return dict((prefix + name, options) for name, options in spec.items())


def _missing_pair(params, prefix):
    key, secret = params.get(prefix + "access_key"), params.get(prefix + "secret_key")
    if bool(key) != bool(secret):
        given, missing = ("access_key", "secret_key") if key else ("secret_key", "access_key")
        raise RecoveryError("%s%s is set but %s%s is not." % (prefix, given, prefix, missing),
                            fix="pass both %saccess_key and %ssecret_key, or neither (then the default credential"
                                " chain of the managed host is used)." % (prefix, prefix))
    if params.get(prefix + "profile") and key:
        raise RecoveryError("%sprofile and %saccess_key are mutually exclusive." % (prefix, prefix),
                            fix="use either a named profile or explicit keys.")


class S3Connection(object):
    """A boto3 S3 client plus what is needed to explain its failures in terms of module options."""

    def __init__(self, params, prefix="", max_pool_connections=10):
        self.prefix = prefix
        self.side = "destination" if prefix else "source"
        own_credentials = not prefix or any(params.get(prefix + name) for name in CREDENTIAL_OPTIONS)
        cred_prefix = prefix if own_credentials else ""
        self.credential_prefix = cred_prefix
        _missing_pair(params, cred_prefix)

        def pick(name):
            value = params.get(prefix + name) if prefix else None
            return value if value else params.get(name)
        self.endpoint_option = prefix + "endpoint_url" if prefix and params.get(prefix + "endpoint_url") else "endpoint_url"
        self.region_option = prefix + "region" if prefix and params.get(prefix + "region") else "region"
        verify = params.get("aws_ca_bundle") or True
        if params.get("validate_certs") is False:
            verify = False
        config = botocore.config.Config(
            retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=15, read_timeout=120,
            max_pool_connections=max_pool_connections, user_agent_extra="vaultops.recovery")
        try:
            session = boto3.session.Session(
                aws_access_key_id=params.get(cred_prefix + "access_key") or None,
                aws_secret_access_key=params.get(cred_prefix + "secret_key") or None,
                aws_session_token=params.get(cred_prefix + "session_token") or None,
                profile_name=params.get(cred_prefix + "profile") or None,
                region_name=pick("region") or None)
            self.client = session.client("s3", endpoint_url=pick("endpoint_url") or None, verify=verify,
                                         config=config)
        except botocore.exceptions.ProfileNotFound as exc:
            raise RecoveryError("The AWS profile for the %s does not exist (%s)." % (self.side, exc),
                                fix="check %sprofile (and AWS_PROFILE) against ~/.aws/config of the user running"
                                    " the task." % cred_prefix)
        except ValueError as exc:
            raise RecoveryError("Invalid %s S3 connection settings: %s." % (self.side, exc),
                                fix="check %s (a URL such as https://<account>.r2.cloudflarestorage.com) and %s."
                                    % (self.endpoint_option, self.region_option))
        self.endpoint = self.client.meta.endpoint_url
        self.region = self.client.meta.region_name

    def credential_options(self):
        return ", ".join(self.credential_prefix + name for name in ("access_key", "secret_key", "session_token"))

    def explain(self, exc, action, bucket=None, key=None):
        """A RecoveryError for a botocore exception raised while doing `action`."""
        where = "bucket %s" % bucket if bucket else "the service"
        if key is not None:
            where = "%r in bucket %s" % (key, bucket)
        endpoint_fix = ("check %s (and %s): the service must answer at that URL from the managed host."
                        % (self.endpoint_option, self.region_option))
        errors = botocore.exceptions
        if isinstance(exc, (errors.EndpointConnectionError, errors.ConnectTimeoutError)):
            return RecoveryError("Cannot reach the %s S3 endpoint %s while trying to %s %s (%s)." % (
                self.side, self.endpoint, action, where, type(exc).__name__), fix=endpoint_fix)
        if isinstance(exc, errors.SSLError):
            return RecoveryError("TLS to the %s S3 endpoint %s failed (%s)." % (self.side, self.endpoint, exc),
                                 fix="trust its CA with aws_ca_bundle, or check %s." % self.endpoint_option)
        if isinstance(exc, (errors.NoCredentialsError, errors.PartialCredentialsError)):
            return RecoveryError("No credentials for the %s S3 service were found." % self.side,
                                 fix="pass %s (or %sprofile), or provide them to the managed host through AWS_*"
                                     " environment variables, ~/.aws/credentials or an instance role."
                                     % (self.credential_options(), self.credential_prefix))
        if isinstance(exc, (errors.ReadTimeoutError, errors.ConnectionClosedError, errors.ResponseStreamingError)):
            return RecoveryError("The %s S3 endpoint %s broke off while trying to %s %s (%s)." % (
                self.side, self.endpoint, action, where, type(exc).__name__),
                fix="run again; if it persists, check the network path to %s." % self.endpoint)
        if isinstance(exc, errors.ClientError):
            return self._explain_client_error(exc, action, bucket, where, endpoint_fix)
        if isinstance(exc, errors.BotoCoreError):
            return RecoveryError("S3 request to %s failed while trying to %s %s: %s" % (
                self.endpoint, action, where, exc), fix=endpoint_fix)
        return exc

    def _explain_client_error(self, exc, action, bucket, where, endpoint_fix):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = str(error.get("Code") or status or "")
        if code in _CREDENTIAL_CODES:
            return RecoveryError(
                "The %s S3 service at %s rejected the credentials (%s) while trying to %s %s." % (
                    self.side, self.endpoint, code, action, where),
                fix="check %s (or %sprofile, or the AWS_* environment of the managed host)."
                    % (self.credential_options(), self.credential_prefix), code=code)
        if code == "InvalidObjectState":
            return RecoveryError(
                "%s is archived (Glacier/Deep Archive) and cannot be read (%s)." % (where[0].upper() + where[1:], code),
                fix="restore the archived versions first (S3 RestoreObject), then copy again.", code=code)
        if code in _DENIED_CODES or status == 403:
            return RecoveryError(
                "The %s S3 service at %s denied access (%s) while trying to %s %s." % (
                    self.side, self.endpoint, code, action, where),
                fix="use credentials (%s) that may read and list every version of the bucket (s3:ListBucket,"
                    " s3:ListBucketVersions, s3:GetObject, s3:GetObjectVersion, s3:GetBucketVersioning) or, on the"
                    " destination, write it (s3:PutObject); also check the bucket name." % self.credential_options(),
                code=code)
        if code in _MISSING_BUCKET_CODES or (code in ("404", "NotFound") and action == "find"):
            return RecoveryError("%s S3 bucket %s does not exist at %s." % (
                self.side.capitalize(), bucket, self.endpoint),
                fix="check %sbucket (and %s, %s)." % (self.prefix, self.endpoint_option, self.region_option),
                code=code)
        if code in ("PermanentRedirect", "301", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"):
            return RecoveryError("Bucket %s is in another region than the one used (%s)." % (bucket, self.region),
                                 fix="set %s to the bucket's region." % self.region_option, code=code)
        message = error.get("Message") or ""
        return RecoveryError("S3 error %s%s while trying to %s %s at %s." % (
            code, (": " + message) if message else "", action, where, self.endpoint),
            fix=endpoint_fix, code=code)

    def call(self, action, method, bucket=None, key=None, **kwargs):
        """self.client.<method>(**kwargs), with botocore errors explained."""
        try:
            return getattr(self.client, method)(**kwargs)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise self.explain(exc, action, bucket, key)

    def pages(self, action, operation, bucket, **kwargs):
        """Every page of a paginated operation, with errors explained."""
        try:
            yield from self.client.get_paginator(operation).paginate(Bucket=bucket, **kwargs)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise self.explain(exc, action, bucket)

    def same_place(self, other, bucket, other_bucket):
        return self.endpoint == other.endpoint and bucket == other_bucket


def error_code(exc):
    """The S3 error code of a RecoveryError made by explain(), or None."""
    return exc.facts.get("code") if isinstance(exc, RecoveryError) else None


def is_streaming_error(exc):
    return HAS_BOTO3 and isinstance(exc, (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError))

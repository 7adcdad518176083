# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A boto3 client for any AWS service from the amazon.aws-style options, and what its failures mean.

Interface (shared by every module that talks to AWS; change it only additively):

- ``HAS_BOTO3`` / ``BOTO3_IMPORT_ERROR``: guard for ``missing_required_lib("boto3")``.
- ``aws_argument_spec(prefix="")``: the options of the ``vaultops.recovery.aws_connection`` doc fragment
  (access_key, secret_key, session_token, profile, endpoint_url, region, validate_certs, aws_ca_bundle, with
  amazon.aws's aliases). With a prefix (``dest_``, ``target_``...) it gives a second set without aliases and
  without validate_certs/aws_ca_bundle (those are shared by both sides).
- ``AwsConnection(params, service, prefix="", label=None)``: ``.client`` is the boto3 client. Options left unset
  fall through to boto3's default chain (AWS_* environment, shared config and credentials files, container and
  instance roles; AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> too). With a prefix each option defaults to its
  unprefixed counterpart, and credentials are taken as a group: from the prefixed options when any is set.
  ``.endpoint`` and ``.region`` say where it talks to; ``label`` (default: the service name, e.g. ``rds``)
  appears in messages.
- ``AwsConnection.call(action, method, where="", **kwargs)``: ``client.<method>(**kwargs)``; a botocore failure
  becomes a ``RecoveryError`` naming the option to fix (endpoint_url/region, access_key/secret_key/profile,
  aws_ca_bundle/validate_certs), with ``facts["code"]`` set to the AWS error code when there is one.
- ``AwsConnection.explain(exc, action, where="")``: the same translation for code that calls the client itself
  (paginators, waiters). Subclasses refine service-specific codes in ``explain_service_error`` and the
  permission hint in ``permissions_hint``.
- ``error_code(exc)``: the AWS error code of a ``RecoveryError`` made here, or None.
"""

import traceback

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

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
CREDENTIAL_CODES = ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
                    "ExpiredTokenException", "TokenRefreshRequired", "InvalidSecurity", "Unauthorized",
                    "InvalidClientTokenId", "UnrecognizedClientException", "AuthFailure")
DENIED_CODES = ("AccessDenied", "AccessDeniedException", "AllAccessDisabled", "Forbidden", "403",
                "UnauthorizedOperation")


def aws_argument_spec(prefix=""):
    """The connection options; a prefix gives a second set (without aliases and without the TLS options)."""
    def alias(*names):
        return list(names) if not prefix else []
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


def _check_pair(params, prefix):
    key, secret = params.get(prefix + "access_key"), params.get(prefix + "secret_key")
    if bool(key) != bool(secret):
        given, missing = ("access_key", "secret_key") if key else ("secret_key", "access_key")
        raise RecoveryError("%s%s is set but %s%s is not." % (prefix, given, prefix, missing),
                            fix="pass both %saccess_key and %ssecret_key, or neither (then the default credential"
                                " chain of the managed host is used)." % (prefix, prefix))
    if params.get(prefix + "profile") and key:
        raise RecoveryError("%sprofile and %saccess_key are mutually exclusive." % (prefix, prefix),
                            fix="use either a named profile or explicit keys.")


class AwsConnection(object):
    """A boto3 client plus what is needed to explain its failures in terms of module options."""

    def __init__(self, params, service, prefix="", label=None, max_pool_connections=10):
        self.service = service
        self.prefix = prefix
        self.label = label or service
        own_credentials = not prefix or any(params.get(prefix + name) for name in CREDENTIAL_OPTIONS)
        self.credential_prefix = prefix if own_credentials else ""
        cred = self.credential_prefix
        _check_pair(params, cred)

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
                aws_access_key_id=params.get(cred + "access_key") or None,
                aws_secret_access_key=params.get(cred + "secret_key") or None,
                aws_session_token=params.get(cred + "session_token") or None,
                profile_name=params.get(cred + "profile") or None,
                region_name=pick("region") or None)
            self.client = session.client(service, endpoint_url=pick("endpoint_url") or None, verify=verify,
                                         config=config)
        except botocore.exceptions.ProfileNotFound as exc:
            raise RecoveryError("The AWS profile for %s does not exist (%s)." % (self.label, exc),
                                fix="check %sprofile (and AWS_PROFILE) against ~/.aws/config of the user running"
                                    " the task." % cred)
        except botocore.exceptions.NoRegionError:
            raise RecoveryError("No AWS region is set for %s." % self.label,
                                fix="set %s (or AWS_REGION / AWS_DEFAULT_REGION, or the profile's region)."
                                    % self.region_option)
        except ValueError as exc:
            raise RecoveryError("Invalid %s connection settings: %s." % (self.label, exc),
                                fix="check %s (a URL such as https://host:port) and %s."
                                    % (self.endpoint_option, self.region_option))
        self.endpoint = self.client.meta.endpoint_url
        self.region = self.client.meta.region_name

    def credential_options(self):
        return ", ".join(self.credential_prefix + name for name in ("access_key", "secret_key", "session_token"))

    def endpoint_fix(self):
        return ("check %s (and %s): the service must answer at that URL from the managed host."
                % (self.endpoint_option, self.region_option))

    def permissions_hint(self, action, where, **context):
        """How to fix an access denial; subclasses name the IAM actions they need."""
        return "use credentials (%s) whose IAM policy allows this %s call." % (self.credential_options(), self.label)

    def explain_service_error(self, code, status, message, action, where, **context):
        """Service-specific error codes: a RecoveryError, or None to fall back to the generic explanation."""
        return None

    def explain(self, exc, action, where="", **context):
        """A RecoveryError for a botocore exception raised while doing `action` on `where`.

        `context` (for example bucket=...) is handed to the subclass hooks.
        """
        target = (" " + where) if where else ""
        errors = botocore.exceptions
        if isinstance(exc, (errors.EndpointConnectionError, errors.ConnectTimeoutError)):
            return RecoveryError("Cannot reach the %s endpoint %s while trying to %s%s (%s)." % (
                self.label, self.endpoint, action, target, type(exc).__name__), fix=self.endpoint_fix())
        if isinstance(exc, errors.SSLError):
            return RecoveryError("TLS to the %s endpoint %s failed (%s)." % (self.label, self.endpoint, exc),
                                 fix="trust its CA with aws_ca_bundle, or check %s." % self.endpoint_option)
        if isinstance(exc, (errors.NoCredentialsError, errors.PartialCredentialsError)):
            return RecoveryError("No credentials for the %s service were found." % self.label,
                                 fix="pass %s (or %sprofile), or provide them to the managed host through AWS_*"
                                     " environment variables, ~/.aws/credentials or an instance role."
                                     % (self.credential_options(), self.credential_prefix))
        if isinstance(exc, (errors.ReadTimeoutError, errors.ConnectionClosedError, errors.ResponseStreamingError)):
            return RecoveryError("The %s endpoint %s broke off while trying to %s%s (%s)." % (
                self.label, self.endpoint, action, target, type(exc).__name__),
                fix="run again; if it persists, check the network path to %s." % self.endpoint)
        if isinstance(exc, errors.ClientError):
            return self._explain_client_error(exc, action, where, context)
        if isinstance(exc, errors.BotoCoreError):
            return RecoveryError("%s request to %s failed while trying to %s%s: %s" % (
                self.label, self.endpoint, action, target, exc), fix=self.endpoint_fix())
        return exc

    def _explain_client_error(self, exc, action, where, context):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = str(error.get("Code") or status or "")
        message = error.get("Message") or ""
        target = (" " + where) if where else ""
        if code in CREDENTIAL_CODES:
            return RecoveryError(
                "The %s service at %s rejected the credentials (%s) while trying to %s%s." % (
                    self.label, self.endpoint, code, action, target),
                fix="check %s (or %sprofile, or the AWS_* environment of the managed host)."
                    % (self.credential_options(), self.credential_prefix), code=code)
        specific = self.explain_service_error(code, status, message, action, where, **context)
        if specific is not None:
            specific.facts.setdefault("code", code)
            return specific
        if code in DENIED_CODES or status == 403:
            return RecoveryError(
                "The %s service at %s denied access (%s) while trying to %s%s." % (
                    self.label, self.endpoint, code, action, target),
                fix=self.permissions_hint(action, where, **context), code=code)
        return RecoveryError("%s error %s%s while trying to %s%s at %s." % (
            self.label, code, (": " + message) if message else "", action, target, self.endpoint),
            fix=self.endpoint_fix(), code=code)

    def call(self, action, method, where="", **kwargs):
        """self.client.<method>(**kwargs), with botocore errors explained."""
        try:
            return getattr(self.client, method)(**kwargs)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise self.explain(exc, action, where)


def error_code(exc):
    """The AWS error code of a RecoveryError made by AwsConnection.explain(), or None."""
    return exc.facts.get("code") if isinstance(exc, RecoveryError) else None


def is_botocore_error(exc):
    return HAS_BOTO3 and isinstance(exc, (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError))

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How to reach an S3-compatible service (AWS S3, Cloudflare R2, MinIO), and what its S3-specific errors mean.

The session, the options and the generic failures (endpoint, credentials,
TLS) come from aws_client; this adds what only S3 has: a source and a
destination side (the dest_ options), buckets and keys in every message,
archived objects, missing buckets and wrong regions.
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.cloud.aws_client import (
    BOTO3_IMPORT_ERROR, HAS_BOTO3, AwsConnection, aws_argument_spec, error_code, is_botocore_error)
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

# The S3 modules import these from here.
__all__ = ["BOTO3_IMPORT_ERROR", "HAS_BOTO3", "MIN_PART_SIZE", "S3Connection", "connection_argument_spec",
           "error_code", "is_streaming_error"]

# The smallest part S3 accepts in a multipart upload (every part but the last): 5 MiB.
MIN_PART_SIZE = 5 * 1024 * 1024

_MISSING_BUCKET_CODES = ("NoSuchBucket",)
_REGION_CODES = ("PermanentRedirect", "301", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException")


def connection_argument_spec(prefix=""):
    """The connection options; prefix="dest_" gives the destination's set (without aliases)."""
    return aws_argument_spec(prefix)


class S3Connection(AwsConnection):
    """A boto3 S3 client for the source (no prefix) or the destination (dest_) side."""

    def __init__(self, params, prefix="", max_pool_connections=10):
        self.side = "destination" if prefix else "source"
        super(S3Connection, self).__init__(params, "s3", prefix=prefix, label="%s S3" % self.side,
                                           max_pool_connections=max_pool_connections)

    @staticmethod
    def _where(bucket, key):
        if key is not None:
            return "%r in bucket %s" % (key, bucket)
        return "bucket %s" % bucket if bucket else "the service"

    def permissions_hint(self, action, where, **context):
        return ("use credentials (%s) that may read and list every version of the bucket (s3:ListBucket,"
                " s3:ListBucketVersions, s3:GetObject, s3:GetObjectVersion, s3:GetBucketVersioning) or, on the"
                " destination, write it (s3:PutObject); also check the bucket name." % self.credential_options())

    def explain_service_error(self, code, status, message, action, where, bucket=None, **context):
        if code == "InvalidObjectState":
            return RecoveryError(
                "%s is archived (Glacier/Deep Archive) and cannot be read (%s)." % (where[0].upper() + where[1:], code),
                fix="restore the archived versions first (S3 RestoreObject), then copy again.")
        if code in _MISSING_BUCKET_CODES or (code in ("404", "NotFound") and action == "find"):
            return RecoveryError("%s S3 bucket %s does not exist at %s." % (
                self.side.capitalize(), bucket, self.endpoint),
                fix="check %sbucket (and %s, %s)." % (self.prefix, self.endpoint_option, self.region_option))
        if code in _REGION_CODES:
            return RecoveryError("Bucket %s is in another region than the one used (%s)." % (bucket, self.region),
                                 fix="set %s to the bucket's region." % self.region_option)
        return None

    def explain(self, exc, action, where="", key=None, **context):
        """A RecoveryError for a botocore exception raised while doing `action` on a bucket (`where`) or its key."""
        bucket = where or None
        return super(S3Connection, self).explain(exc, action, self._where(bucket, key), bucket=bucket)

    def call(self, action, method, where="", **kwargs):
        """self.client.<method>(**kwargs), with botocore errors explained; bucket= and key= name what it acts on."""
        bucket, key = kwargs.pop("bucket", None) or where or None, kwargs.pop("key", None)
        try:
            return getattr(self.client, method)(**kwargs)
        except Exception as exc:
            if is_botocore_error(exc):
                raise self.explain(exc, action, bucket, key)
            raise

    def pages(self, action, operation, bucket, **kwargs):
        """Every page of a paginated operation, with errors explained."""
        try:
            yield from self.client.get_paginator(operation).paginate(Bucket=bucket, **kwargs)
        except Exception as exc:
            if is_botocore_error(exc):
                raise self.explain(exc, action, bucket)
            raise

    def same_place(self, other, bucket, other_bucket):
        return self.endpoint == other.endpoint and bucket == other_bucket


def is_streaming_error(exc):
    return is_botocore_error(exc)

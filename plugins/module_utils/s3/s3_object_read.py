# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read one object version: stream its body to a sink and prove the bytes against S3's size and ETag.

The body is never held in memory as a whole and never appears in any output.
For a multipart ETag the part sizes are asked for first (HEAD with
partNumber), so the multipart MD5 can be computed on the same single pass.
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.s3 import s3_copy_index, s3_etag
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_connection import error_code, is_streaming_error

CHUNK_SIZE = 1024 * 1024
# Answers meaning "this service cannot tell part sizes", as opposed to credential or network failures.
_NO_PART_INFO = ("400", "InvalidArgument", "InvalidRequest", "InvalidPartNumber", "NotImplemented", "501", "416",
                 "InvalidRange", "RangeNotSatisfiable")


def describe(bucket, entry):
    version = entry.get("version_id")
    return "%r%s in bucket %s" % (entry["key"], " version %s" % version if version is not None else "", bucket)


def _version_args(bucket, entry):
    args = dict(Bucket=bucket, Key=entry["key"])
    if entry.get("version_id") is not None:
        args["VersionId"] = entry["version_id"]
    return args


def part_sizes(conn, bucket, entry):
    """(sizes of the parts in order, None), or (None, why they are unknown) for a multipart ETag."""
    count = s3_etag.parts_in(entry.get("etag"))
    if not count:
        return None, None
    sizes = []
    for number in range(1, count + 1):
        try:
            head = conn.call("read the part sizes of", "head_object", bucket=bucket, key=entry["key"],
                             PartNumber=number, **_version_args(bucket, entry))
        except RecoveryError as exc:
            if error_code(exc) in _NO_PART_INFO:
                return None, "the service does not report multipart part sizes"
            raise
        if number == 1 and head.get("PartsCount") not in (None, count):
            return None, "the service reports %s parts for a %d-part ETag" % (head.get("PartsCount"), count)
        sizes.append(int(head.get("ContentLength", 0)))
    if sum(sizes) != entry["size"]:
        return None, "the part sizes the service reports do not add up to the object size"
    return sizes, None


def read_version(conn, bucket, entry, sink, sha256=True):
    """Stream one version into sink(chunk); returns the body facts for the index.

    Raises RecoveryError when the bytes do not match the size S3 announced or the ETag (where it is an MD5).
    """
    what = describe(bucket, entry)
    sizes, skip = part_sizes(conn, bucket, entry)
    response = conn.call("read", "get_object", bucket=bucket, key=entry["key"], **_version_args(bucket, entry))
    if entry.get("version_id") is not None and s3_etag.clean(response.get("ETag")) != s3_etag.clean(entry["etag"]):
        raise RecoveryError("%s changed while it was read (ETag %s, listed %s)." % (
            what, response.get("ETag"), entry["etag"]), fix="run again.")
    skip = skip or s3_etag.not_checkable(response.get("ETag"), response.get("ServerSideEncryption"),
                                         response.get("SSECustomerAlgorithm"))
    digest = s3_etag.BodyDigest(None if skip else sizes, sha256=sha256)
    body = response["Body"]
    try:
        for chunk in body.iter_chunks(CHUNK_SIZE):
            digest.update(chunk)
            sink(chunk)
    except Exception as exc:  # pylint: disable=broad-except
        if is_streaming_error(exc):
            raise conn.explain(exc, "read", bucket, entry["key"])
        raise
    finally:
        body.close()
    etag_check = s3_etag.check_body(digest, int(response.get("ContentLength", digest.size)), response.get("ETag"),
                                    what, skip)
    facts = dict(size=digest.size, etag=response.get("ETag", ""), etag_check=etag_check,
                 content_type=response.get("ContentType"), metadata=dict(response.get("Metadata") or {}),
                 headers=dict((name, response[name]) for name in s3_copy_index.RESTORE_HEADERS if response.get(name)))
    if sha256:
        facts["sha256"] = digest.sha256
    if response.get("ServerSideEncryption"):
        facts["server_side_encryption"] = response["ServerSideEncryption"]
    if response.get("TagCount"):
        tags = conn.call("read the tags of", "get_object_tagging", bucket=bucket, key=entry["key"],
                         **_version_args(bucket, entry))
        facts["tags"] = dict((tag["Key"], tag["Value"]) for tag in tags.get("TagSet") or [])
    if entry.get("version_id") is None:
        # An unversioned store: the object may have changed since it was listed; record what was read.
        facts["last_modified"] = s3_copy_index.timestamp(response.get("LastModified")) or entry["last_modified"]
    return facts

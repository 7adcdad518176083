# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write one object body into a bucket so that the service proves what it received.

Every upload carries the body's SHA-256 (x-amz-checksum-sha256; per part and
with ChecksumAlgorithm SHA256 for multipart uploads), and the service refuses
bytes that do not match. A service that does not support checksums gets the
upload without them once it has said so (the connection remembers). A failed
multipart upload is aborted, so no hidden parts are left behind.
"""

import base64
import hashlib
from urllib.parse import urlencode

from ansible_collections.vaultops.recovery.plugins.module_utils.s3 import s3_copy_index
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_connection import MIN_PART_SIZE, error_code

MAX_PARTS = 10000
_CHECKSUM_UNSUPPORTED = ("NotImplemented", "501", "InvalidRequest", "InvalidArgument", "UnsupportedArgument")


def b64_sha256(hexdigest):
    return base64.b64encode(bytes.fromhex(hexdigest)).decode("ascii")


def put_arguments(entry, extra_metadata=None):
    """put_object arguments that give a version back its content type, user metadata, headers and tags."""
    args = dict(entry.get("headers") or {})
    metadata = dict(entry.get("metadata") or {})
    metadata.update(extra_metadata or {})
    if metadata:
        args["Metadata"] = metadata
    if entry.get("content_type"):
        args["ContentType"] = entry["content_type"]
    tags = entry.get("tags")
    if tags:
        args["Tagging"] = urlencode(sorted(tags.items()))
    return dict((name, value) for name, value in args.items()
                if name in s3_copy_index.RESTORE_HEADERS + ("Metadata", "ContentType", "Tagging"))


def _bad_digest(exc, what):
    if error_code(exc) in ("BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"):
        return RecoveryError("%s: the service received bytes whose checksum differs from the body sent (%s)." % (
            what, error_code(exc)), fix="run again; if it persists, check the network path and the local disk.")
    return exc


def put_body(conn, bucket, key, fileobj, size, sha256, extra, part_size, what):
    """Upload size bytes from fileobj (at offset 0). Returns the put/complete response (VersionId, ETag)."""
    if size > part_size:
        return _put_multipart(conn, bucket, key, fileobj, size, extra, part_size, what)
    args = dict(extra, Bucket=bucket, Key=key, Body=fileobj, ContentLength=size)
    if getattr(conn, "checksums", True):
        args["ChecksumSHA256"] = b64_sha256(sha256)
    try:
        return conn.call("write", "put_object", bucket=bucket, key=key, **args)
    except RecoveryError as exc:
        if "ChecksumSHA256" in args and error_code(exc) in _CHECKSUM_UNSUPPORTED:
            conn.checksums = False
            fileobj.seek(0)
            args.pop("ChecksumSHA256")
            return conn.call("write", "put_object", bucket=bucket, key=key, **args)
        raise _bad_digest(exc, what)


def _put_multipart(conn, bucket, key, fileobj, size, extra, part_size, what):
    part_size = max(part_size, MIN_PART_SIZE, -(-size // MAX_PARTS))
    checksums = getattr(conn, "checksums", True)
    start = dict(extra, Bucket=bucket, Key=key)
    if checksums:
        start["ChecksumAlgorithm"] = "SHA256"
    try:
        upload = conn.call("start a multipart upload of", "create_multipart_upload", bucket=bucket, key=key, **start)
    except RecoveryError as exc:
        if not checksums or error_code(exc) not in _CHECKSUM_UNSUPPORTED:
            raise
        conn.checksums = checksums = False
        start.pop("ChecksumAlgorithm")
        upload = conn.call("start a multipart upload of", "create_multipart_upload", bucket=bucket, key=key, **start)
    upload_id = upload["UploadId"]
    try:
        parts, number, left = [], 1, size
        while left > 0:
            data = fileobj.read(min(part_size, left))
            if not data:
                raise RecoveryError("%s: the scratch copy ended %d bytes early." % (what, left), fix="run again.")
            part = dict(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data)
            if checksums:
                part["ChecksumSHA256"] = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
            answer = conn.call("write a part of", "upload_part", bucket=bucket, key=key, **part)
            done = {"PartNumber": number, "ETag": answer["ETag"]}
            if checksums:
                done["ChecksumSHA256"] = part["ChecksumSHA256"]
            parts.append(done)
            left -= len(data)
            number += 1
        return conn.call("complete the multipart upload of", "complete_multipart_upload", bucket=bucket, key=key,
                         Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    except BaseException as exc:
        try:
            conn.client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except Exception:  # pylint: disable=broad-except
            pass  # the original failure is what the operator needs; a lifecycle rule cleans up the rest
        if isinstance(exc, RecoveryError):
            raise _bad_digest(exc, what)
        raise

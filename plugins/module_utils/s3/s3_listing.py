# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a bucket holds: its versioning status and every object version and delete marker under a prefix.

ListObjectVersions is paginated to the end. Services without object versions
(Cloudflare R2 answers NotImplemented) are listed with ListObjectsV2 instead;
their entries have no version id and are read without one.
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.s3 import s3_copy_index
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_connection import error_code

ENABLED = "Enabled"
SUSPENDED = "Suspended"
NEVER_ENABLED = "Disabled"
UNSUPPORTED = "Unsupported"
_NOT_IMPLEMENTED = ("NotImplemented", "501")


def versioning_status(conn, bucket):
    """Enabled, Suspended, Disabled (never enabled) or Unsupported (the service has no versioning)."""
    try:
        answer = conn.call("read the versioning status of", "get_bucket_versioning", bucket=bucket, Bucket=bucket)
    except RecoveryError as exc:
        if error_code(exc) in _NOT_IMPLEMENTED:
            return UNSUPPORTED
        raise
    return answer.get("Status") or NEVER_ENABLED


def bucket_exists(conn, bucket):
    """True when the bucket exists (and is ours to see); a missing one is False, other errors are raised."""
    try:
        conn.call("find", "head_bucket", bucket=bucket, Bucket=bucket)
    except RecoveryError as exc:
        if error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise
    return True


def create_versioned_bucket(conn, bucket):
    """Create the bucket in the connection's region, with versioning enabled (a restore replays history)."""
    arguments = dict(Bucket=bucket)
    if conn.region and conn.region != "us-east-1":
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": conn.region}
    conn.call("create", "create_bucket", bucket=bucket, **arguments)
    conn.call("enable versioning on", "put_bucket_versioning", bucket=bucket, Bucket=bucket,
              VersioningConfiguration={"Status": "Enabled"})


def list_entries(conn, bucket, prefix, versions):
    """(entries, listing) for every version and delete marker under prefix; listing says which API was used.

    With versions == "latest" only the current version of each key that is not deleted is returned.
    """
    entries = []
    try:
        for page in conn.pages("list the object versions of", "list_object_versions", bucket, Prefix=prefix):
            entries.extend(s3_copy_index.version_entry(item) for item in page.get("Versions") or [])
            entries.extend(s3_copy_index.delete_marker_entry(item) for item in page.get("DeleteMarkers") or [])
        listing = "versions"
    except RecoveryError as exc:
        if error_code(exc) not in _NOT_IMPLEMENTED:
            raise
        entries = []
        for page in conn.pages("list the objects of", "list_objects_v2", bucket, Prefix=prefix):
            for item in page.get("Contents") or []:
                entry = s3_copy_index.version_entry(item)
                entry["version_id"] = None
                entries.append(entry)
        listing = "objects"
    if versions == "latest":
        entries = s3_copy_index.only_latest(entries)
    return entries, listing


def is_empty(conn, bucket, prefix):
    """Whether no version and no delete marker exists under prefix (for a restore target)."""
    try:
        page = conn.call("list the object versions of", "list_object_versions", bucket=bucket, Bucket=bucket,
                         Prefix=prefix, MaxKeys=1)
        return not (page.get("Versions") or page.get("DeleteMarkers"))
    except RecoveryError as exc:
        if error_code(exc) not in _NOT_IMPLEMENTED:
            raise
    page = conn.call("list the objects of", "list_objects_v2", bucket=bucket, Bucket=bucket, Prefix=prefix,
                     MaxKeys=1)
    return not page.get("Contents")

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Put a verified S3 bucket copy back into a bucket (the original one, or a replacement).

Order of safety: verify the whole copy (manifest, index, every body's SHA-256)
before touching the target; require the target to exist, to be empty under
the copy's prefix (a restore never mixes with other data) and to have
versioning when history is restored. Then replay every key's history oldest
first: each version is put back with its content type, user metadata,
headers and tags, its SHA-256 sent along so the service proves the bytes,
and each delete marker is recreated by a delete. Keys are restored a few at
a time; the versions of one key strictly in order.
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.s3 import s3_copy_index, s3_listing
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.parallel_groups import run_groups
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_copy import check_copy, reader_for
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_connection import S3Connection
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_object_read import describe
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_object_write import put_arguments, put_body


def _has_history(entries):
    keys = [entry["key"] for entry in entries]
    return len(keys) != len(set(keys)) or any(entry.get("delete_marker") for entry in entries)


def restore(params, check_mode):
    workers = params["concurrency"]
    target = S3Connection(params, max_pool_connections=workers + 4)
    copy_conn = None if params.get("path") else S3Connection(params, prefix="dest_", max_pool_connections=workers + 4)
    reader = reader_for(params, copy_conn)
    manifest, index = check_copy(reader, workers)
    bucket = params["bucket"]
    entries = index["entries"]
    if params["versions"] == "latest":
        entries = s3_copy_index.only_latest(entries)
    created = False
    if params.get("create_bucket") and not s3_listing.bucket_exists(target, bucket):
        if check_mode:
            return dict(changed=True, copy_name=manifest["copy_name"], bucket=bucket, endpoint=target.endpoint,
                        created_bucket=True, manifest=reader.manifest_path, restored_from=reader.describe(),
                        plan="would create bucket %s (versioning enabled) and restore %s into it" % (
                            bucket, reader.describe()), **s3_copy_index.counts(entries))
        s3_listing.create_versioned_bucket(target, bucket)
        created = True
    versioning = s3_listing.versioning_status(target, bucket)
    if _has_history(entries) and versioning != s3_listing.ENABLED:
        raise RecoveryError(
            "Target bucket %s has versioning %s, but the copy holds older versions and delete markers. Nothing was"
            " changed." % (bucket, versioning),
            fix="enable versioning on %s first, or restore only the current objects with versions=latest." % bucket)
    prefix = manifest["source"].get("prefix") or ""
    if not s3_listing.is_empty(target, bucket, prefix):
        if params.get("if_not_empty") == "skip":
            return dict(changed=False, skipped_reason="bucket %s already holds objects under prefix %r; left as it is"
                        % (bucket, prefix), copy_name=manifest["copy_name"], bucket=bucket, endpoint=target.endpoint,
                        versioning=versioning, manifest=reader.manifest_path, restored_from=reader.describe(),
                        created_bucket=False)
        raise RecoveryError(
            "Target bucket %s already holds objects (or versions) under prefix %r. Nothing was changed." % (
                bucket, prefix),
            fix="restore into an empty bucket (a replacement), or empty this one first; a restore never merges.")
    totals = s3_copy_index.counts(entries)
    result = dict(changed=True, copy_name=manifest["copy_name"], bucket=bucket, endpoint=target.endpoint,
                  versioning=versioning, versions=params["versions"], manifest=reader.manifest_path,
                  restored_from=reader.describe(), copied_from=manifest["source"], created_bucket=created, **totals)
    if check_mode:
        result["plan"] = "would restore %d versions (%d bytes) of %d keys and %d delete markers from %s into %s" % (
            totals["object_count"], totals["total_bytes"], totals["key_count"], totals["delete_marker_count"],
            reader.describe(), bucket)
        return result

    def restore_group(group):
        restored = []
        for entry in group:
            if entry.get("delete_marker"):
                answer = target.call("recreate a delete marker in", "delete_object", bucket=bucket, key=entry["key"],
                                     Bucket=bucket, Key=entry["key"])
            else:
                with reader.open_body(entry) as body:
                    answer = put_body(target, bucket, entry["key"], body, entry["size"], entry["sha256"],
                                      put_arguments(entry), params["part_size"],
                                      "restore of %s" % describe(bucket, entry))
            restored.append(dict(key=entry["key"], version_id=entry["version_id"],
                                 restored_version_id=answer.get("VersionId")))
        return restored

    try:
        done = run_groups(s3_copy_index.groups_as_listed(entries), restore_group, workers)
    except RecoveryError as exc:
        raise RecoveryError(exc.message + " The restore stopped part way: bucket %s holds part of the copy." % bucket,
                            fix="%s Then empty %s and restore again." % (exc.fix or "", bucket), **exc.facts)
    result["restored"] = sum(len(group) for group in done)
    return result

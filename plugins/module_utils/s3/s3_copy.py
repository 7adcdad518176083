# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copy every object version of a bucket to a directory or another bucket, and verify such a copy.

Copy: reach the source (versioning status), check the destination, list every
version and delete marker, copy the bodies (a few keys at a time, the versions
of one key oldest first), write the index, then the manifest. Anything that
fails before the manifest is written removes what the copy wrote.

Verify: the manifest, the index against it, then every stored body's size and
SHA-256 against the index. It changes nothing.
"""

import datetime

from ansible_collections.vaultops.recovery.plugins.module_utils.s3 import s3_copy_index, s3_listing
from ansible_collections.vaultops.recovery.plugins.module_utils.common.artifact_name import check_plain_name
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.parallel_groups import run_groups
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_bucket_store import (
    BucketCopyReader, BucketCopyWriter)
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_connection import S3Connection
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_dir_copy import (
    DirectoryCopyReader, DirectoryCopyWriter)

DEFAULT_PATTERN = "{bucket}-s3-%Y%m%d-%H%M%S"
_MAX_LISTED_PROBLEMS = 10


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def copy_name(pattern, bucket, moment):
    """Render name_pattern: {bucket} literally, then strftime codes in UTC."""
    pattern = pattern or DEFAULT_PATTERN
    name = moment.strftime(pattern.replace("{bucket}", bucket.replace("%", "%%")))
    return check_plain_name(name, "name_pattern %r renders to %r, which is not a usable name." % (pattern, name),
                            fix="use a name_pattern without '/' that does not start with '.'.")


def connections(params, need_destination):
    workers = max(1, params.get("concurrency") or 1)
    source = S3Connection(params, max_pool_connections=workers + 4)
    if not need_destination:
        return source, None
    return source, S3Connection(params, prefix="dest_", max_pool_connections=workers + 4)


def versioning_warning(bucket, status, versions):
    if versions != "all" or status in (s3_listing.ENABLED, s3_listing.SUSPENDED):
        return None
    if status == s3_listing.UNSUPPORTED:
        return ("The service behind bucket %s keeps no object versions (for example Cloudflare R2): only the"
                " current objects exist, and they were copied." % bucket)
    return ("Bucket %s has versioning %s: it keeps only the current objects, so only those were copied. Enable"
            " versioning on the vault's bucket so that overwritten or deleted files stay recoverable." % (
                bucket, status))


def _writer(params, name, dest_conn):
    if params.get("dest_dir"):
        return DirectoryCopyWriter(params["dest_dir"], name)
    return BucketCopyWriter(dest_conn, params["dest_bucket"], params.get("dest_prefix") or "", name,
                            params["part_size"], params.get("tmp_dir"))


def copy(params, check_mode):
    """Take a copy; returns the module result."""
    started = utc_now()
    bucket, prefix, versions = params["bucket"], params.get("prefix") or "", params["versions"]
    to_bucket = not params.get("dest_dir")
    source, dest = connections(params, to_bucket)
    name = copy_name(params.get("name_pattern"), bucket, started)
    writer = _writer(params, name, dest)
    versioning = s3_listing.versioning_status(source, bucket)
    if to_bucket:
        writer.precheck(versions, source, bucket, prefix)
    else:
        writer.precheck()
    entries, listing = s3_listing.list_entries(source, bucket, prefix, versions)
    warnings = [w for w in [versioning_warning(bucket, versioning, versions)] if w]
    totals = s3_copy_index.counts(entries)
    source_facts = dict(bucket=bucket, endpoint=source.endpoint, region=source.region, prefix=prefix,
                        versioning=versioning, listing=listing)
    result = dict(changed=True, copy_name=name, source=source_facts, destination=writer.location(),
                  manifest=writer.manifest_location, versions=versions, warnings=warnings, **totals)
    if not to_bucket:
        result["path"] = writer.path
    if check_mode:
        result["plan"] = "would copy %d versions (%d bytes) of %d keys and record %d delete markers from %s to %s" % (
            totals["object_count"], totals["total_bytes"], totals["key_count"], totals["delete_marker_count"],
            bucket, writer.path if not to_bucket else "s3://%s/%s" % (params["dest_bucket"], writer.prefix))
        return result

    groups = s3_copy_index.history_order(entries)
    writer.begin()
    try:
        def copy_group(group):
            for entry in group:
                if not entry.get("delete_marker"):
                    entry.update(writer.store(source, bucket, entry))
        run_groups(groups, copy_group, params["concurrency"])
        ordered = [entry for group in groups for entry in group]
        index = s3_copy_index.build_index(name, source_facts, writer.location(), versions, ordered,
                                          iso(started), iso(utc_now()))
        data, digest = s3_copy_index.encode(index)
        location = writer.write_index(data)
        writer.finish()
        manifest = s3_copy_index.build_manifest(index, location, data, digest)
        writer.publish_manifest(manifest)
    except RecoveryError as exc:
        writer.abandon()
        raise RecoveryError(exc.message + " The copy was abandoned: what it wrote was removed and no manifest was"
                                          " written.", fix=exc.fix, **exc.facts)
    except BaseException:
        writer.abandon()
        raise
    unchecked = [entry for entry in ordered if entry.get("etag_check", "").startswith("not checked")]
    if unchecked:
        warnings.append("%d of %d versions have an ETag that is not an MD5 (SSE-KMS, SSE-C or a service that does"
                        " not report part sizes); their size was checked, their SHA-256 recorded." % (
                            len(unchecked), totals["object_count"]))
    result.update(s3_copy_index.counts(ordered))
    result.update(manifest_data=manifest, index=location, etag_unchecked=len(unchecked))
    return result


def reader_for(params, dest_conn):
    if params.get("path"):
        return DirectoryCopyReader(params["path"], params.get("manifest"))
    return BucketCopyReader(dest_conn, params["dest_bucket"], params.get("dest_prefix") or "", params["copy_name"],
                            params.get("tmp_dir"))


def check_copy(reader, concurrency):
    """(manifest, index) of a copy whose every stored body matches the index; raises listing what does not."""
    manifest, index = reader.load()
    versions = [entry for entry in index["entries"] if not entry.get("delete_marker")]
    problems = [p for p in run_groups([[entry] for entry in versions], lambda group: reader.check(group[0]),
                                      concurrency) if p]
    problems.extend(reader.strays(versions))
    if problems:
        shown = "; ".join(problems[:_MAX_LISTED_PROBLEMS])
        more = " (and %d more)" % (len(problems) - _MAX_LISTED_PROBLEMS) if len(problems) > _MAX_LISTED_PROBLEMS else ""
        raise RecoveryError("copy %s fails verification, %d problem(s): %s%s. Nothing was changed." % (
            reader.describe(), len(problems), shown, more),
            fix="use another intact copy; this one must not be restored.", problems=problems[:100])
    return manifest, index


def verify(params):
    dest = None
    if not params.get("path"):
        dest = S3Connection(params, prefix="dest_", max_pool_connections=params["concurrency"] + 4)
    reader = reader_for(params, dest)
    manifest, index = check_copy(reader, params["concurrency"])
    result = dict(changed=False, copy_name=manifest["copy_name"], source=manifest["source"],
                  destination=manifest["destination"], versions=manifest["versions"], manifest=reader.manifest_path,
                  manifest_data=manifest, verified=True)
    result.update(s3_copy_index.counts(index["entries"]))
    if params.get("path"):
        result["path"] = reader.path
    return result

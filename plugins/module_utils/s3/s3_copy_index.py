# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The index of an S3 bucket copy and the manifest that seals it.

The index (index.json) lists every version copied and every delete marker,
grouped by key and oldest first, so replaying it in order rebuilds the
bucket's history. A version records what a restore needs to put it back
(content type, user metadata, headers, tags), what proves its body (size,
ETag, SHA-256) and where the body is (a storage path in a directory copy, or
key and version id in a destination bucket).

The manifest is published last and carries the index's size and SHA-256, so
a copy without a manifest is incomplete, and a changed index is detected.
"""

import datetime
import hashlib
import json

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

KIND = "s3_bucket_copy"
PRODUCER = "s3_bucket_copy"
INDEX_NAME = "index.json"
INDEX_VERSION = 1
MANIFEST_VERSION = 1
MANIFEST_REQUIRED_KEYS = ("manifest_version", "kind", "copy_name", "source", "destination", "versions", "index",
                          "size", "sha256", "object_count", "delete_marker_count", "key_count", "total_bytes")
_VERSION_KEYS = ("key", "version_id", "is_latest", "last_modified", "size", "etag", "sha256")
_MARKER_KEYS = ("key", "version_id", "is_latest", "last_modified")
# get_object response fields a restore passes back to put_object unchanged.
RESTORE_HEADERS = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage",
                   "WebsiteRedirectLocation")


def timestamp(moment):
    """ISO 8601 UTC with microseconds, so that sorting the text sorts the times."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def version_entry(item):
    """An index entry (without body facts yet) from a ListObjectVersions 'Versions' item."""
    return {
        "key": item["Key"], "version_id": item.get("VersionId"), "is_latest": bool(item.get("IsLatest", True)),
        "last_modified": timestamp(item.get("LastModified")), "delete_marker": False,
        "size": int(item.get("Size", 0)), "etag": item.get("ETag", ""),
        "storage_class": item.get("StorageClass") or "STANDARD",
    }


def delete_marker_entry(item):
    return {
        "key": item["Key"], "version_id": item.get("VersionId"), "is_latest": bool(item.get("IsLatest")),
        "last_modified": timestamp(item.get("LastModified")), "delete_marker": True,
    }


def history_order(entries):
    """Listed entries grouped by key, each group oldest first, ending with the latest.

    The input must be in listing order (an index is already in history order:
    use groups_as_listed). S3 lists versions and delete markers in separate lists, newest first within
    each; LastModified decides between them, the listing order breaks ties,
    and the entry S3 marks latest always ends its key's history.
    """
    ranked = []
    seen = {}
    for position, entry in enumerate(entries):
        kind = (entry["key"], entry.get("delete_marker", False))
        rank = seen.get(kind, 0)
        seen[kind] = rank + 1
        ranked.append(((entry["key"], entry["last_modified"] or "", entry["is_latest"], -rank, position), entry))
    ranked.sort(key=lambda pair: pair[0])
    return groups_as_listed([entry for _ignored, entry in ranked])


def groups_as_listed(entries):
    """Entries already in history order (an index), grouped by key, order kept."""
    groups, current, current_key, seen = [], None, object(), set()
    for entry in entries:
        if entry["key"] != current_key:
            if entry["key"] in seen:
                raise _bad("the index", "lists key %r in two places (it must be grouped by key)" % (entry["key"],))
            seen.add(entry["key"])
            current_key, current = entry["key"], []
            groups.append(current)
        current.append(entry)
    return groups


def only_latest(entries):
    """The current view: the latest version of every key whose latest entry is not a delete marker."""
    return [entry for entry in entries if entry["is_latest"] and not entry.get("delete_marker")]


def counts(entries):
    versions = [entry for entry in entries if not entry.get("delete_marker")]
    return dict(object_count=len(versions), delete_marker_count=len(entries) - len(versions),
                key_count=len(set(entry["key"] for entry in entries)),
                total_bytes=sum(entry["size"] for entry in versions))


def build_index(copy_name, source, destination, versions, entries, started_at, completed_at):
    document = dict(index_version=INDEX_VERSION, kind=KIND + "_index", copy_name=copy_name, source=source,
                    destination=destination, versions=versions, started_at=started_at, completed_at=completed_at,
                    entries=entries)
    document.update(counts(entries))
    return document


def encode(document):
    """(bytes, sha256) of a document as written: UTF-8 JSON, sorted keys, one entry per line."""
    data = (json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
    return data, hashlib.sha256(data).hexdigest()


def build_manifest(index, index_location, index_data, index_sha256):
    document = dict(manifest_version=MANIFEST_VERSION, kind=KIND, written_by="vaultops.recovery." + PRODUCER,
                    copy_name=index["copy_name"], source=index["source"], destination=index["destination"],
                    versions=index["versions"], started_at=index["started_at"],
                    completed_at=index["completed_at"], index=index_location, size=len(index_data),
                    sha256=index_sha256)
    document.update(counts(index["entries"]))
    return document


def _bad(where, what):
    return RecoveryError("%s %s. Nothing was changed." % (where, what),
                         fix="use an intact copy; this one was changed, damaged or not written by %s." % PRODUCER)


def check_manifest(manifest, where):
    """The manifest of a copy kept in a bucket, checked like artifact_manifest.load_manifest checks files."""
    if not isinstance(manifest, dict):
        raise _bad(where, "is not a JSON object")
    if manifest.get("kind") != KIND:
        raise _bad(where, "describes a %r artifact, not an S3 bucket copy" % (manifest.get("kind"),))
    missing = [key for key in MANIFEST_REQUIRED_KEYS if key not in manifest]
    if missing:
        raise _bad(where, "lacks %s" % ", ".join(missing))
    version = manifest["manifest_version"]
    if not isinstance(version, int) or version > MANIFEST_VERSION:
        raise RecoveryError("%s has manifest version %r; this collection reads up to %d." % (
            where, version, MANIFEST_VERSION), fix="upgrade vaultops.recovery.")
    return manifest


def decode_index(data, where, manifest):
    """The index document from its bytes, after checking its shape and that it agrees with the manifest."""
    try:
        index = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad(where, "is not valid JSON (%s)" % exc)
    if not isinstance(index, dict) or not isinstance(index.get("entries"), list):
        raise _bad(where, "has no entries list")
    version = index.get("index_version")
    if not isinstance(version, int) or version > INDEX_VERSION:
        raise RecoveryError("%s has index version %r; this collection reads up to %d." % (
            where, version, INDEX_VERSION), fix="upgrade vaultops.recovery.")
    for entry in index["entries"]:
        required = _MARKER_KEYS if isinstance(entry, dict) and entry.get("delete_marker") else _VERSION_KEYS
        if not isinstance(entry, dict) or any(key not in entry for key in required):
            raise _bad(where, "has a malformed entry")
    found = counts(index["entries"])
    for name, value in found.items():
        if manifest.get(name) != value:
            raise _bad(where, "lists %s=%s but its manifest says %s" % (name, value, manifest.get(name)))
    return index

"""The copy's index and manifest, history order for restores, copy names, and the worker pool."""

import datetime
import threading

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.s3 import s3_copy_index
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.parallel_groups import run_groups
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_copy import copy_name, versioning_warning
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_object_write import put_arguments

UTC = datetime.timezone.utc


def at(second, micro=0):
    return datetime.datetime(2026, 11, 21, 10, 0, second, micro, tzinfo=UTC)


def version(key, vid, second, latest=False, size=1):
    return s3_copy_index.version_entry(dict(Key=key, VersionId=vid, IsLatest=latest, LastModified=at(second),
                                            Size=size, ETag='"e"', StorageClass="STANDARD"))


def marker(key, vid, second, latest=False):
    return s3_copy_index.delete_marker_entry(dict(Key=key, VersionId=vid, IsLatest=latest, LastModified=at(second)))


def listing():
    """As S3 lists them: per key, versions newest first, then the delete markers newest first."""
    return [
        version("a", "a3", 5, latest=True), version("a", "a2", 5), version("a", "a1", 1),
        marker("a", "am", 3),
        version("b", "b1", 1),
        marker("b", "bm2", 4, latest=True), marker("b", "bm1", 2),
        version("c", "c1", 9, latest=False), marker("c", "cm", 9, latest=True),  # same second: latest wins
    ]


def test_timestamps_sort_as_text():
    assert s3_copy_index.timestamp(at(5, 7)) == "2026-11-21T10:00:05.000007Z"
    other = datetime.datetime(2026, 11, 21, 11, 0, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    assert s3_copy_index.timestamp(other) == "2026-11-21T10:00:05.000000Z"
    assert s3_copy_index.timestamp(None) is None


def test_history_order_groups_by_key_oldest_first_latest_last():
    groups = s3_copy_index.history_order(listing())
    assert [[entry["version_id"] for entry in group] for group in groups] == [
        ["a1", "am", "a2", "a3"], ["b1", "bm1", "bm2"], ["c1", "cm"]]
    assert all(group[-1]["is_latest"] for group in groups)


def test_an_index_is_replayed_in_its_own_order():
    ordered = [entry for group in s3_copy_index.history_order(listing()) for entry in group]
    groups = s3_copy_index.groups_as_listed(ordered)
    assert [[entry["version_id"] for entry in group] for group in groups] == [
        ["a1", "am", "a2", "a3"], ["b1", "bm1", "bm2"], ["c1", "cm"]]
    with pytest.raises(RecoveryError, match="two places"):
        s3_copy_index.groups_as_listed(ordered + ordered[:1])


def test_only_latest_drops_deleted_keys_and_history():
    assert [entry["version_id"] for entry in s3_copy_index.only_latest(listing())] == ["a3"]


def test_counts():
    entries = listing()
    assert s3_copy_index.counts(entries) == dict(object_count=5, delete_marker_count=4, key_count=3, total_bytes=5)


def make_copy(entries=None):
    entries = entries if entries is not None else listing()
    for entry in entries:
        if not entry["delete_marker"]:
            entry.update(sha256="0" * 64, path="objects/00/" + "0" * 64)
    index = s3_copy_index.build_index("c1", dict(bucket="src"), dict(type="directory"), "all", entries, "t0", "t1")
    data, digest = s3_copy_index.encode(index)
    return index, data, digest, s3_copy_index.build_manifest(index, "index.json", data, digest)


def test_index_round_trip_and_manifest_seal():
    index, data, digest, manifest = make_copy()
    assert manifest["size"] == len(data) and manifest["sha256"] == digest
    assert manifest["object_count"] == 5 and manifest["kind"] == "s3_bucket_copy"
    assert s3_copy_index.check_manifest(manifest, "m") is manifest
    assert s3_copy_index.decode_index(data, "i", manifest)["entries"] == index["entries"]


def test_unicode_keys_survive_the_index():
    entries = [version("ü✓ \"q\" 'x'\n", "v", 1, latest=True)]
    _index, data, _digest, manifest = make_copy(entries)
    assert s3_copy_index.decode_index(data, "i", manifest)["entries"][0]["key"] == "ü✓ \"q\" 'x'\n"


def test_index_that_disagrees_with_its_manifest_is_refused():
    _index, data, _digest, manifest = make_copy()
    with pytest.raises(RecoveryError, match="object_count=5 but its manifest says 4"):
        s3_copy_index.decode_index(data, "i", dict(manifest, object_count=4))
    with pytest.raises(RecoveryError, match="not valid JSON"):
        s3_copy_index.decode_index(b"{", "i", manifest)
    with pytest.raises(RecoveryError, match="malformed entry"):
        s3_copy_index.decode_index(b'{"index_version": 1, "entries": [{"key": "k"}]}', "i", manifest)
    with pytest.raises(RecoveryError, match="upgrade"):
        s3_copy_index.decode_index(b'{"index_version": 99, "entries": []}', "i", manifest)


def test_manifest_checks():
    _index, _data, _digest, manifest = make_copy()
    with pytest.raises(RecoveryError, match="not an S3 bucket copy"):
        s3_copy_index.check_manifest(dict(manifest, kind="pg_dump"), "m")
    broken = dict(manifest)
    del broken["sha256"]
    with pytest.raises(RecoveryError, match="lacks sha256"):
        s3_copy_index.check_manifest(broken, "m")
    with pytest.raises(RecoveryError, match="upgrade"):
        s3_copy_index.check_manifest(dict(manifest, manifest_version=2), "m")


def test_copy_names():
    moment = datetime.datetime(2026, 11, 21, 10, 15, 0, tzinfo=UTC)
    assert copy_name(None, "vault-docs", moment) == "vault-docs-s3-20261121-101500"
    assert copy_name("{bucket}-%Y", "b.with.dots", moment) == "b.with.dots-2026"
    assert copy_name("", "b", moment) == "b-s3-20261121-101500"
    for bad in ("a/b", ".hidden", "%Y/{bucket}", ".."):
        with pytest.raises(RecoveryError, match="name_pattern"):
            copy_name(bad, "x", moment)


def test_versioning_warning():
    assert versioning_warning("b", "Enabled", "all") is None
    assert versioning_warning("b", "Disabled", "latest") is None
    assert "only the current objects" in versioning_warning("b", "Disabled", "all")
    assert "R2" in versioning_warning("b", "Unsupported", "all")


def test_put_arguments_restore_what_a_version_carried():
    entry = dict(content_type="application/octet-stream", metadata={"vh-iv": "abc"},
                 headers={"CacheControl": "no-cache", "Expires": "x", "ContentDisposition": "attachment"},
                 tags={"b": "2 3", "a": "1&"})
    args = put_arguments(entry, {"vaultops-sha256": "f" * 64})
    assert args == {"ContentType": "application/octet-stream", "CacheControl": "no-cache",
                    "ContentDisposition": "attachment", "Tagging": "a=1%26&b=2+3",
                    "Metadata": {"vh-iv": "abc", "vaultops-sha256": "f" * 64}}
    assert put_arguments({}) == {}


def test_run_groups_keeps_order_and_stops_at_the_first_failure():
    assert run_groups([[1], [2], [3]], lambda group: group[0] * 2, 3) == [2, 4, 6]
    started = []
    lock = threading.Lock()

    def work(group):
        with lock:
            started.append(group)
        if group == 3:
            raise RecoveryError("boom")
        return group

    with pytest.raises(RecoveryError, match="boom"):
        run_groups(range(1000), work, 2)
    assert len(started) < 1000
    assert run_groups([], work, 4) == []

"""Listing a bucket: every page of versions and delete markers, and services without versions (R2)."""

import datetime

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.s3 import s3_listing
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

WHEN = datetime.datetime(2026, 11, 21, 10, 0, 0, tzinfo=datetime.timezone.utc)


class FakeConnection(object):
    """Answers like S3Connection.call/pages; `missing` operations fail as R2 does (501 NotImplemented)."""

    def __init__(self, pages, missing=(), status=None):
        self._pages, self.missing, self.status, self.calls = pages, set(missing), status, []

    def _answer(self, operation):
        self.calls.append(operation)
        if operation in self.missing:
            raise RecoveryError("S3 error NotImplemented", code="NotImplemented")

    def call(self, action, method, bucket=None, key=None, **kwargs):
        self._answer(method)
        if method == "get_bucket_versioning":
            return {"Status": self.status} if self.status else {}
        return self._pages[method][0]

    def pages(self, action, operation, bucket, **kwargs):
        self._answer(operation)
        return iter(self._pages[operation])


def version(key, vid, latest):
    return dict(Key=key, VersionId=vid, IsLatest=latest, LastModified=WHEN, Size=3, ETag='"e"')


PAGES = {
    "list_object_versions": [
        {"Versions": [version("a", "2", True), version("a", "1", False)],
         "DeleteMarkers": [dict(Key="b", VersionId="m", IsLatest=True, LastModified=WHEN)]},
        {"Versions": [version("b", "3", False), version("c", "4", True)]},
    ],
    "list_objects_v2": [{"Contents": [dict(Key="a", LastModified=WHEN, Size=3, ETag='"e"')]},
                        {"Contents": [dict(Key="c", LastModified=WHEN, Size=5, ETag='"f"')]}],
}


def test_every_page_of_versions_and_markers():
    entries, listing = s3_listing.list_entries(FakeConnection(PAGES), "b", "", "all")
    assert listing == "versions"
    assert sorted((e["key"], e["version_id"], e["delete_marker"]) for e in entries) == [
        ("a", "1", False), ("a", "2", False), ("b", "3", False), ("b", "m", True), ("c", "4", False)]


def test_latest_drops_history_and_deleted_keys():
    entries, _listing = s3_listing.list_entries(FakeConnection(PAGES), "b", "", "latest")
    assert [(e["key"], e["version_id"]) for e in entries] == [("a", "2"), ("c", "4")]


def test_a_service_without_versions_is_listed_with_list_objects_v2():
    conn = FakeConnection(PAGES, missing={"list_object_versions", "get_bucket_versioning"})
    assert s3_listing.versioning_status(conn, "b") == s3_listing.UNSUPPORTED
    entries, listing = s3_listing.list_entries(conn, "b", "", "all")
    assert listing == "objects"
    assert [(e["key"], e["version_id"], e["is_latest"]) for e in entries] == [("a", None, True), ("c", None, True)]


def test_versioning_status_names():
    assert s3_listing.versioning_status(FakeConnection(PAGES), "b") == s3_listing.NEVER_ENABLED
    assert s3_listing.versioning_status(FakeConnection(PAGES, status="Suspended"), "b") == "Suspended"


def test_other_failures_are_not_mistaken_for_a_missing_feature():
    class Denied(FakeConnection):
        def pages(self, action, operation, bucket, **kwargs):
            raise RecoveryError("denied", code="AccessDenied")
    with pytest.raises(RecoveryError, match="denied"):
        s3_listing.list_entries(Denied(PAGES), "b", "", "all")

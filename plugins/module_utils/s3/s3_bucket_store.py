# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An S3 bucket copy kept in another bucket: writing one, and reading one back.

Every version becomes a new version of <dest_prefix><key> in the destination,
uploaded oldest first, with the source's content type, user metadata, headers
and tags, plus the metadata vaultops-sha256 and vaultops-source-version-id; the
upload carries the SHA-256, so the destination proves what it received. The
index and the manifest live beside the objects under
<dest_prefix>.vaultops-s3-copy/<name>/index.json and
<dest_prefix>.vaultops-s3-copy/<name>.manifest.json, the manifest written last.
Abandoning a copy deletes the versions it created.
"""

import hashlib
import io
import json

from ansible_collections.vaultops.recovery.plugins.module_utils.s3 import s3_copy_index, s3_listing
from ansible_collections.vaultops.recovery.plugins.module_utils.common.artifact_manifest import MANIFEST_SUFFIX
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_connection import error_code
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_object_read import describe, read_version
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_object_write import put_arguments, put_body
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_spool import Spool

META_DIR = ".vaultops-s3-copy/"
SHA256_METADATA = "vaultops-sha256"
SOURCE_VERSION_METADATA = "vaultops-source-version-id"
_NOT_FOUND = ("NoSuchKey", "404", "NotFound", "NoSuchVersion")


def index_key(prefix, name):
    return "%s%s%s/%s" % (prefix, META_DIR, name, s3_copy_index.INDEX_NAME)


def manifest_key(prefix, name):
    return "%s%s%s%s" % (prefix, META_DIR, name, MANIFEST_SUFFIX)


def _overlap(prefix_a, prefix_b):
    return prefix_a.startswith(prefix_b) or prefix_b.startswith(prefix_a)


class BucketCopyWriter(object):
    def __init__(self, conn, bucket, prefix, name, part_size, tmp_dir):
        self.conn, self.bucket, self.prefix, self.name = conn, bucket, prefix or "", name
        self.part_size, self.tmp_dir = part_size, tmp_dir
        self.index_key = index_key(self.prefix, name)
        self.manifest_location = manifest_key(self.prefix, name)
        self.created = []
        self.versioning = None

    def location(self):
        return dict(type="bucket", bucket=self.bucket, endpoint=self.conn.endpoint, prefix=self.prefix,
                    index_key=self.index_key, manifest_key=self.manifest_location)

    def precheck(self, versions, source_conn, source_bucket, source_prefix):
        if self.conn.endpoint == source_conn.endpoint and self.bucket == source_bucket and _overlap(
                self.prefix, source_prefix or ""):
            raise RecoveryError("dest_bucket %s with dest_prefix %r overlaps the source (bucket %s, prefix %r):"
                                " the copy would copy itself." % (self.bucket, self.prefix, source_bucket,
                                                                  source_prefix or ""),
                                fix="use another dest_bucket, or prefixes that do not contain each other.")
        self.versioning = s3_listing.versioning_status(self.conn, self.bucket)
        if versions == "all" and self.versioning != s3_listing.ENABLED:
            raise RecoveryError(
                "dest_bucket %s has versioning %s, so it cannot keep every version of an object." % (
                    self.bucket, self.versioning),
                fix="enable versioning on dest_bucket, or copy only the current objects with versions=latest.")
        for key in (self.index_key, self.manifest_location):
            if self._exists(key):
                raise RecoveryError("s3://%s/%s already exists; it was left untouched." % (self.bucket, key),
                                    fix="choose another name (name_pattern) or dest_prefix.")

    def _exists(self, key):
        try:
            self.conn.call("look for", "head_object", bucket=self.bucket, key=key, Bucket=self.bucket, Key=key)
        except RecoveryError as exc:
            if error_code(exc) in _NOT_FOUND:
                return False
            raise
        return True

    def begin(self):
        self.created = []

    def dest_key(self, key):
        return self.prefix + key

    def store(self, conn, bucket, entry):
        """Copy one version into the destination bucket; returns its facts for the index."""
        key = self.dest_key(entry["key"])
        if key.startswith(self.prefix + META_DIR):
            raise RecoveryError("%s would land on %r, where this module keeps its indexes." % (
                describe(bucket, entry), key), fix="copy with a prefix that excludes %s, or another dest_prefix."
                % META_DIR)
        with Spool(self.tmp_dir) as spool:
            facts = read_version(conn, bucket, entry, spool.write, sha256=False)
            facts["sha256"] = spool.sha256
            extra = put_arguments(dict(entry, **facts), {
                SHA256_METADATA: spool.sha256, SOURCE_VERSION_METADATA: entry["version_id"] or "none"})
            answer = put_body(self.conn, self.bucket, key, spool.rewind(), spool.size, spool.sha256, extra,
                              self.part_size, "copy of %s" % describe(bucket, entry))
        self.created.append((key, answer.get("VersionId")))
        facts.update(dest_key=key, dest_version_id=answer.get("VersionId"), dest_etag=answer.get("ETag", ""))
        return facts

    def _put_small(self, key, data):
        spool = io.BytesIO(data)
        answer = put_body(self.conn, self.bucket, key, spool, len(data), hashlib.sha256(data).hexdigest(),
                          {"ContentType": "application/json"}, max(self.part_size, len(data)),
                          "s3://%s/%s" % (self.bucket, key))
        self.created.append((key, answer.get("VersionId")))
        return answer

    def write_index(self, data):
        self._put_small(self.index_key, data)
        return self.index_key

    def finish(self):
        pass

    def publish_manifest(self, manifest):
        data = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
        self._put_small(self.manifest_location, data)

    def abandon(self):
        """Delete every version this copy created (best effort; the copy has no manifest in any case)."""
        created, self.created = self.created, []
        for start in range(0, len(created), 1000):
            objects = [dict(Key=key, VersionId=version) if version else dict(Key=key)
                       for key, version in created[start:start + 1000]]
            try:
                self.conn.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})
            except Exception:  # pylint: disable=broad-except
                pass  # the first failure is what the operator needs to see


class BucketCopyReader(object):
    def __init__(self, conn, bucket, prefix, name, tmp_dir):
        self.conn, self.bucket, self.prefix, self.name, self.tmp_dir = conn, bucket, prefix or "", name, tmp_dir
        self.manifest_path = manifest_key(self.prefix, name)
        self.manifest = self.index = None

    def _read(self, key, what):
        try:
            answer = self.conn.call("read", "get_object", bucket=self.bucket, key=key, Bucket=self.bucket, Key=key)
        except RecoveryError as exc:
            if error_code(exc) in _NOT_FOUND:
                raise RecoveryError(
                    "s3://%s/%s does not exist: there is no %s for copy %s (it is incomplete, an interrupted run, or"
                    " copy_name/dest_prefix are wrong). Nothing was changed." % (self.bucket, key, what, self.name),
                    fix="pass the copy_name and dest_prefix the copy returned, or take a new copy.")
            raise
        try:
            return answer["Body"].read()
        finally:
            answer["Body"].close()

    def load(self):
        data = self._read(self.manifest_path, "manifest")
        where = "manifest s3://%s/%s" % (self.bucket, self.manifest_path)
        try:
            manifest = json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise RecoveryError("%s is not valid JSON (%s). Nothing was changed." % (where, exc),
                                fix="use an intact copy.")
        self.manifest = s3_copy_index.check_manifest(manifest, where)
        key = self.manifest["index"]
        if key != index_key(self.prefix, self.name):
            raise RecoveryError("%s names index %r, not the one of copy %s." % (where, key, self.name),
                                fix="use an intact copy.")
        data = self._read(key, "index")
        digest = hashlib.sha256(data).hexdigest()
        if len(data) != self.manifest["size"] or digest != self.manifest["sha256"]:
            raise RecoveryError("index s3://%s/%s (%d bytes, sha256 %s) does not match its manifest (%d bytes, %s):"
                                " it was changed. Nothing was changed." % (
                                    self.bucket, key, len(data), digest, self.manifest["size"],
                                    self.manifest["sha256"]), fix="use an intact copy.")
        self.index = s3_copy_index.decode_index(data, "index s3://%s/%s" % (self.bucket, key), self.manifest)
        return self.manifest, self.index

    def _stored(self, entry):
        return dict(key=entry.get("dest_key"), version_id=entry.get("dest_version_id"),
                    etag=entry.get("dest_etag", ""), size=entry["size"])

    def _spool(self, entry):
        stored = self._stored(entry)
        spool = Spool(self.tmp_dir)
        try:
            read_version(self.conn, self.bucket, stored, spool.write, sha256=False)
        except BaseException:
            spool.close()
            raise
        return spool

    def check(self, entry):
        """None when the stored version has the index's size and SHA-256, else what is wrong."""
        if not isinstance(entry.get("dest_key"), str):
            return "%r version %s: the index names no stored object" % (entry["key"], entry["version_id"])
        try:
            with self._spool(entry) as spool:
                size, digest = spool.size, spool.sha256
        except RecoveryError as exc:
            if error_code(exc) in _NOT_FOUND:
                return "%r version %s: s3://%s/%s version %s is missing" % (
                    entry["key"], entry["version_id"], self.bucket, entry["dest_key"], entry.get("dest_version_id"))
            raise
        if size != entry["size"]:
            return "%r version %s: stored copy has %d bytes, the index says %d" % (
                entry["key"], entry["version_id"], size, entry["size"])
        if digest != entry["sha256"]:
            return "%r version %s: stored copy fails its checksum (sha256 %s, index %s)" % (
                entry["key"], entry["version_id"], digest, entry["sha256"])
        return None

    def strays(self, entries):
        return []

    def open_body(self, entry):
        spool = self._spool(entry)
        if spool.sha256 != entry["sha256"] or spool.size != entry["size"]:
            spool.close()
            raise RecoveryError("%r version %s changed in the copy bucket since it was verified." % (
                entry["key"], entry["version_id"]), fix="verify the copy again.")
        return spool.rewind()

    def describe(self):
        return "s3://%s/%s%s%s" % (self.bucket, self.prefix, META_DIR, self.name)

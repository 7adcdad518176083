# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A sealed recovery set kept in an S3/R2 bucket: uploading one, and downloading one back.

Layout: s3://<bucket>/<prefix><set name>/<relative path> for every file that
manifest.json lists, manifest.json.asc when the set is signed, and
manifest.json itself, uploaded last: a set without it in the bucket is
incomplete (an interrupted upload, which the next run resumes). Every upload
carries the manifest's SHA-256 as x-amz-checksum-sha256, so the service
refuses other bytes, and as the metadata vaultops-sha256, which HEAD returns,
so a second upload can tell what is already there without reading it.

A download reads manifest.json first (and checks its signature when asked),
finds every listed object before fetching any, streams each one to a private
temporary file, compares its SHA-256 with the manifest and publishes it inside
a hidden .partial directory. The directory is verified like any set and only
then renamed to its name, so a failure leaves nothing behind.
"""

import hashlib
import io
import os

from ansible_collections.vaultops.recovery.plugins.module_utils.recovery_set import recovery_set

from ansible_collections.vaultops.recovery.plugins.module_utils.s3 import s3_copy_index
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import (
    AtomicFile, PartialDir, check_writable_directory, fsync_directory, sha256_file, write_bytes_atomic)
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_connection import error_code
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_object_read import read_version
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_object_write import put_body

SHA256_METADATA = "vaultops-sha256"
SIGNATURE = recovery_set.SET_MANIFEST + ".asc"
_NOT_FOUND = ("NoSuchKey", "404", "NotFound")
_REUPLOAD = ("upload the set again from an intact copy (recovery_set state=upload replaces damaged or missing"
             " objects of the same set), or use another set.")


def set_name_for(set_dir, set_name=None):
    """The set's name in the bucket: set_name, else the directory's name."""
    name = set_name or os.path.basename(os.path.normpath(set_dir))
    if not name or name in (".", "..") or "/" in name:
        raise RecoveryError("%r cannot name a recovery set in a bucket (one path segment, not . or ..)." % name,
                            fix="pass set_name, or a set_dir whose last component names the set.")
    return name


def check_relative(rel, where):
    """rel, once it is a path inside a set (a manifest read from a bucket is not trusted with paths)."""
    parts = rel.split("/") if isinstance(rel, str) else [""]
    if rel in (recovery_set.SET_MANIFEST, SIGNATURE) or "\0" in rel or any(
            part in ("", ".", "..") for part in parts):
        raise RecoveryError("%s lists %r, which is not a file path inside a recovery set." % (where, rel),
                            fix="the manifest was changed or damaged: do not restore this set; use another one.")
    return rel


class BucketSet(object):
    """The objects of one set under s3://bucket/<prefix><name>/."""

    def __init__(self, conn, bucket, prefix, name):
        self.conn, self.bucket = conn, bucket
        self.root = "%s%s/" % (prefix or "", name)

    def url(self, rel=""):
        return "s3://%s/%s%s" % (self.bucket, self.root, rel)

    def stored(self):
        """{relative path: listing entry} for every current object under the set's prefix."""
        found = {}
        for page in self.conn.pages("list the objects of", "list_objects_v2", self.bucket, Prefix=self.root):
            for item in page.get("Contents") or []:
                entry = s3_copy_index.version_entry(item)
                entry["version_id"] = None
                found[item["Key"][len(self.root):]] = entry
        return found

    def recorded_sha256(self, rel):
        """(size, the vaultops-sha256 metadata or None) of a stored object, or None when it is gone."""
        key = self.root + rel
        try:
            head = self.conn.call("look at", "head_object", bucket=self.bucket, key=key, Bucket=self.bucket, Key=key)
        except RecoveryError as exc:
            if error_code(exc) in _NOT_FOUND:
                return None
            raise
        return int(head.get("ContentLength", -1)), (head.get("Metadata") or {}).get(SHA256_METADATA)

    def fetch(self, entry, sink):
        """Stream one listed object into sink(chunk) (size and, where it is an MD5, ETag checked)."""
        return read_version(self.conn, self.bucket, entry, sink, sha256=False)

    def read_small(self, entry):
        buffer = io.BytesIO()
        self.fetch(entry, buffer.write)
        return buffer.getvalue()

    def put(self, rel, path, size, sha256, part_size):
        key = self.root + rel
        with open(path, "rb") as handle:
            put_body(self.conn, self.bucket, key, handle, size, sha256, {"Metadata": {SHA256_METADATA: sha256}},
                     part_size, "upload of %s" % path)


def _local_files(set_dir, document):
    """[(relative path, local path, size, sha256)] in upload order: the files, the signature, manifest.json."""
    files = [(rel, os.path.join(set_dir, rel), item["size"], item["sha256"])
             for rel, item in sorted(document["files"].items())]
    for rel in (SIGNATURE, recovery_set.SET_MANIFEST):
        path = os.path.join(set_dir, rel)
        if os.path.isfile(path):
            digest, size = sha256_file(path)
            files.append((rel, path, size, digest))
    return files


def plan_upload(target, set_dir, document):
    """(files to upload, files already there, stored objects that are not part of the set).

    A set whose manifest.json is already in the bucket with other bytes is another set: refused.
    """
    files = _local_files(set_dir, document)
    stored = target.stored()
    recorded = dict((rel, target.recorded_sha256(rel)) for rel, _path, _size, _digest in files if rel in stored)
    manifest_sha256 = files[-1][3]
    if recovery_set.SET_MANIFEST in stored and recorded[recovery_set.SET_MANIFEST] != (files[-1][2], manifest_sha256):
        # Not uploaded by this module (no metadata) or another set: the bytes decide.
        remote_digest = hashlib.sha256(target.read_small(stored[recovery_set.SET_MANIFEST])).hexdigest()
        if remote_digest != manifest_sha256:
            raise RecoveryError(
                "%s already holds another recovery set (its manifest.json has sha256 %s, the one in %s has %s);"
                " nothing was uploaded." % (target.url(), remote_digest, set_dir, manifest_sha256),
                fix="upload this set under another set_name or prefix, or remove the stored set first if it"
                    " is no longer needed.")
    upload, present = [], []
    for rel, path, size, digest in files:
        if recorded.get(rel) == (size, digest):
            present.append(rel)
        else:
            upload.append((rel, path, size, digest))
    extra = sorted(set(stored) - set(item[0] for item in files))
    return upload, present, extra


def upload(target, set_dir, document, part_size, check_mode):
    """Put every file of a verified set that is not already stored, manifest.json last; returns the facts."""
    todo, present, extra = plan_upload(target, set_dir, document)
    if not check_mode:
        for rel, path, size, digest in todo:
            target.put(rel, path, size, digest, part_size)
    return dict(changed=bool(todo), location=target.url(), uploaded=[item[0] for item in todo],
                already_stored=len(present), upload_bytes=sum(item[2] for item in todo), extra_objects=extra)


def load_remote_manifest(target, stored):
    """(manifest.json's bytes, its document) from the bucket."""
    if recovery_set.SET_MANIFEST not in stored:
        raise RecoveryError(
            "%s does not exist: the set in the bucket is incomplete (manifest.json is uploaded last, so an upload"
            " did not finish) or bucket, prefix or set_name are wrong. Nothing was written." % target.url(
                recovery_set.SET_MANIFEST),
            fix="finish the upload (recovery_set state=upload from the sealed set), or name a complete set.")
    data = target.read_small(stored[recovery_set.SET_MANIFEST])
    where = target.url(recovery_set.SET_MANIFEST)
    document = recovery_set.parse_set_manifest(data, where, fix="check bucket, prefix and set_name.")
    for rel in document["files"]:
        check_relative(rel, where)
    return data, document


def plan_download(target, require_complete):
    """(stored objects, manifest bytes, document) once every file the manifest lists is in the bucket."""
    stored = target.stored()
    data, document = load_remote_manifest(target, stored)
    recovery_set.check_complete(document, target.url(), require_complete)
    missing = sorted(rel for rel in document["files"] if rel not in stored)
    if missing:
        raise RecoveryError("%s lacks %s, which its manifest.json lists. Nothing was written." % (
            target.url(), ", ".join(target.url(rel) for rel in missing)), fix=_REUPLOAD)
    for rel, item in sorted(document["files"].items()):
        if stored[rel]["size"] != item["size"]:
            raise RecoveryError("%s is %d bytes but the set's manifest.json records %d: truncated or replaced."
                                " Nothing was written." % (target.url(rel), stored[rel]["size"], item["size"]),
                                fix=_REUPLOAD)
    return stored, data, document


def _same_set_already_there(set_dir, manifest_data):
    path = os.path.join(set_dir, recovery_set.SET_MANIFEST)
    if not os.path.isfile(path):
        return False
    with open(path, "rb") as handle:
        return handle.read() == manifest_data


def _fetch_file(target, stored, rel, staging, expected):
    parts = rel.split("/")
    directory = staging
    for part in parts[:-1]:  # os.makedirs gives only the last level the mode
        directory = os.path.join(directory, part)
        if not os.path.isdir(directory):
            os.mkdir(directory)
            os.chmod(directory, 0o700)
    path = os.path.join(directory, parts[-1])
    with AtomicFile(path) as out:
        target.fetch(stored[rel], out.write)
        if expected and (out.size, out.sha256) != (expected["size"], expected["sha256"]):
            raise RecoveryError(
                "%s does not match the set's manifest.json (sha256 %s, %d bytes; manifest %s, %d bytes): the object"
                " in the bucket is corrupt or was replaced. Nothing was written." % (
                    target.url(rel), out.sha256, out.size, expected["sha256"], expected["size"]), fix=_REUPLOAD)
        out.commit()


def download(target, set_dir, require_complete, check_signature, check_mode):
    """Fetch the set into the new directory set_dir; returns (facts, verified document)."""
    stored, manifest_data, document = plan_download(target, require_complete)
    signature = [SIGNATURE] if SIGNATURE in stored else []
    facts = dict(location=target.url(), downloaded=[recovery_set.SET_MANIFEST] + signature + sorted(document["files"]),
                 download_bytes=len(manifest_data) + sum(stored[rel]["size"] for rel in signature)
                 + document["total_bytes"])
    if os.path.lexists(set_dir):
        if not _same_set_already_there(set_dir, manifest_data):
            raise RecoveryError("%s already exists and does not hold the set %s; it was left untouched." % (
                set_dir, target.url()), fix="download into a new set_dir, or move the existing directory away.")
        verified = recovery_set.verify(set_dir, require_complete)
        check_signature(os.path.join(set_dir, recovery_set.SET_MANIFEST))
        return dict(facts, changed=False, downloaded=[], download_bytes=0), verified
    parent = os.path.dirname(os.path.abspath(set_dir))
    check_writable_directory(parent, "dest_dir (the directory that holds set_dir)")
    if check_mode:
        check_signature(os.path.join(set_dir, recovery_set.SET_MANIFEST), present=bool(signature), where=target.url())
        return dict(facts, changed=True), document
    # Locked while this run lives: another run's sweep of stale partials in parent never takes it.
    with PartialDir(parent, os.path.basename(os.path.abspath(set_dir))) as partial:
        staging = partial.path  # removed on leaving the block unless renamed to set_dir
        manifest_path = os.path.join(staging, recovery_set.SET_MANIFEST)
        write_bytes_atomic(manifest_path, manifest_data)
        if SIGNATURE in stored:
            _fetch_file(target, stored, SIGNATURE, staging, None)
        check_signature(manifest_path, where=target.url())  # before the bulk of the bytes: a forged set stops here
        for rel in sorted(document["files"]):
            _fetch_file(target, stored, rel, staging, document["files"][rel])
        verified = recovery_set.verify(staging, require_complete)
        if os.path.lexists(set_dir):
            raise RecoveryError("%s appeared while the set was downloaded; it was left untouched." % set_dir,
                                fix="download into a new set_dir.")
        os.rename(staging, set_dir)
    fsync_directory(parent)
    return dict(facts, changed=True), verified

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An S3 bucket copy kept in a directory: writing one, and reading one back.

Layout: <dest_dir>/<name>/index.json, <dest_dir>/<name>/objects/<xx>/<sha256>
(directories 0700, files 0600) and the manifest <dest_dir>/<name>.manifest.json.
The copy is built in a hidden <dest_dir>/.<name>.<random>.partial directory,
renamed to its name when every body and the index are written, and the
manifest is published last. Abandoning a copy removes what it wrote.
"""

import os
import tempfile

from ansible_collections.vaultops.recovery.plugins.module_utils import artifact_manifest, s3_copy_index
from ansible_collections.vaultops.recovery.plugins.module_utils.atomic_file import (
    AtomicFile, check_writable_directory, fsync_directory, sha256_file, write_bytes_atomic, write_json_atomic)
from ansible_collections.vaultops.recovery.plugins.module_utils.dir_swap import remove_tree
from ansible_collections.vaultops.recovery.plugins.module_utils.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.s3_object_path import (
    OBJECTS_DIR, checked_path, storage_path)
from ansible_collections.vaultops.recovery.plugins.module_utils.s3_object_read import read_version


def _exists_error(path):
    return RecoveryError("%s already exists; it was left untouched." % path,
                         fix="choose another name (name_pattern) or move the existing copy away.")


class DirectoryCopyWriter(object):
    def __init__(self, dest_dir, name):
        self.dest_dir = dest_dir
        self.name = name
        self.path = os.path.join(dest_dir, name)
        self.manifest_location = artifact_manifest.manifest_path_for(self.path)
        self.staging = None
        self.published = None

    def location(self):
        return dict(type="directory", path=self.path)

    def precheck(self):
        check_writable_directory(self.dest_dir, "dest_dir")
        for path in (self.path, self.manifest_location):
            if os.path.lexists(path):
                raise _exists_error(path)

    def begin(self):
        self.staging = tempfile.mkdtemp(prefix="." + self.name + ".", suffix=".partial", dir=self.dest_dir)
        os.mkdir(os.path.join(self.staging, OBJECTS_DIR), 0o700)

    def store(self, conn, bucket, entry):
        """Copy one version's body into the staging directory; returns its facts for the index."""
        relative = storage_path(entry["key"], entry["version_id"])
        target = os.path.join(self.staging, *relative.split("/"))
        try:
            os.mkdir(os.path.dirname(target), 0o700)
        except FileExistsError:
            pass
        with AtomicFile(target) as out:
            facts = read_version(conn, bucket, entry, out.write, sha256=False)
            out.commit()
        facts.update(sha256=out.sha256, path=relative)
        return facts

    def write_index(self, data):
        write_bytes_atomic(os.path.join(self.staging, s3_copy_index.INDEX_NAME), data)
        return s3_copy_index.INDEX_NAME

    def finish(self):
        if os.path.lexists(self.path):
            raise _exists_error(self.path)
        os.rename(self.staging, self.path)
        self.published, self.staging = self.path, None
        fsync_directory(self.dest_dir)

    def publish_manifest(self, manifest):
        write_json_atomic(self.manifest_location, manifest)

    def abandon(self):
        """Remove everything this copy wrote (it has no manifest yet)."""
        remove_tree(self.staging)
        remove_tree(self.published)
        self.staging = self.published = None


class DirectoryCopyReader(object):
    def __init__(self, path, manifest_path=None):
        self.path = path.rstrip("/") or "/"
        self.manifest_path = manifest_path
        self.manifest = self.index = None

    def load(self):
        """(manifest, index) after checking the manifest and the index's size and SHA-256 against it."""
        if not os.path.isdir(self.path):
            raise RecoveryError("%s is not a directory." % self.path,
                                fix="point path at a copy directory made by vaultops.recovery.s3_bucket_copy.")
        self.manifest, self.manifest_path = artifact_manifest.load_manifest(
            self.path, self.manifest_path, s3_copy_index.PRODUCER, s3_copy_index.MANIFEST_REQUIRED_KEYS,
            s3_copy_index.MANIFEST_VERSION, kind=s3_copy_index.KIND)
        index_path = os.path.join(self.path, s3_copy_index.INDEX_NAME)
        artifact_manifest.check_file(index_path, self.manifest)
        with open(index_path, "rb") as handle:
            self.index = s3_copy_index.decode_index(handle.read(), index_path, self.manifest)
        return self.manifest, self.index

    def body_path(self, entry):
        return checked_path(self.path, entry.get("path"), entry["key"], entry["version_id"])

    def check(self, entry):
        """None when the stored body has the index's size and SHA-256, else what is wrong."""
        path = self.body_path(entry)
        if not os.path.isfile(path):
            return "%r version %s: %s is missing" % (entry["key"], entry["version_id"], entry["path"])
        digest, size = sha256_file(path)
        if size != entry["size"]:
            return "%r version %s: %s has %d bytes, the index says %d" % (
                entry["key"], entry["version_id"], entry["path"], size, entry["size"])
        if digest != entry["sha256"]:
            return "%r version %s: %s fails its checksum (sha256 %s, index %s)" % (
                entry["key"], entry["version_id"], entry["path"], digest, entry["sha256"])
        return None

    def strays(self, entries):
        """Files under objects/ that no index entry names."""
        expected = set(entry["path"] for entry in entries if not entry.get("delete_marker"))
        found = []
        for dirpath, dirnames, filenames in os.walk(os.path.join(self.path, OBJECTS_DIR)):
            dirnames.sort()
            for filename in sorted(filenames):
                relative = os.path.relpath(os.path.join(dirpath, filename), self.path).replace(os.sep, "/")
                if relative not in expected:
                    found.append(relative)
        return found

    def open_body(self, entry):
        return open(self.body_path(entry), "rb")

    def describe(self):
        return self.path

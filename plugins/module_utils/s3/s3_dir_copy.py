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

import hashlib
import os
import stat

from ansible_collections.vaultops.recovery.plugins.module_utils.common import artifact_manifest

from ansible_collections.vaultops.recovery.plugins.module_utils.s3 import s3_copy_index
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import (
    AtomicFile, PartialDir, check_writable_directory, fsync_directory, write_bytes_atomic, write_json_atomic)
from ansible_collections.vaultops.recovery.plugins.module_utils.common.dir_swap import remove_tree
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.regular_file import (
    kind_of, open_below, sha256_below)
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_object_path import (
    OBJECTS_DIR, checked_path, storage_path)
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_object_read import read_version


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
        self._partial = None
        self.published = None

    def location(self):
        return dict(type="directory", path=self.path)

    def precheck(self):
        check_writable_directory(self.dest_dir, "dest_dir")
        for path in (self.path, self.manifest_location):
            if os.path.lexists(path):
                raise _exists_error(path)

    def begin(self):
        # Locked while this run lives, so a sweep by another run (pg_backup's) never takes it.
        self._partial = PartialDir(self.dest_dir, self.name)
        self.staging = self._partial.path
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
        self._partial.discard()  # its name is gone, so this only drops the lock

    def publish_manifest(self, manifest):
        write_json_atomic(self.manifest_location, manifest)

    def abandon(self):
        """Remove everything this copy wrote (it has no manifest yet)."""
        remove_tree(self.staging)
        remove_tree(self.published)
        if self._partial is not None:
            self._partial.discard()
        self.staging = self.published = self._partial = None


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
        artifact_manifest.check_size(index_path, self.manifest)
        with open_below(self.path, s3_copy_index.INDEX_NAME) as handle:
            data = handle.read()
        artifact_manifest.check_digest(index_path, hashlib.sha256(data).hexdigest(), self.manifest)
        self.index = s3_copy_index.decode_index(data, index_path, self.manifest)
        return self.manifest, self.index

    def body_path(self, entry):
        return checked_path(self.path, entry.get("path"), entry["key"], entry["version_id"])

    def check(self, entry):
        """None when the stored body has the index's size and SHA-256, else what is wrong."""
        self.body_path(entry)
        try:
            digest, size = sha256_below(self.path, entry["path"])
        except FileNotFoundError:
            return "%r version %s: %s is missing" % (entry["key"], entry["version_id"], entry["path"])
        except RecoveryError as exc:
            return "%r version %s: %s" % (entry["key"], entry["version_id"], exc.message.rstrip("."))
        if size != entry["size"]:
            return "%r version %s: %s has %d bytes, the index says %d" % (
                entry["key"], entry["version_id"], entry["path"], size, entry["size"])
        if digest != entry["sha256"]:
            return "%r version %s: %s fails its checksum (sha256 %s, index %s)" % (
                entry["key"], entry["version_id"], entry["path"], digest, entry["sha256"])
        return None

    def strays(self, entries):
        """What under objects/ no index entry names, and whatever there is neither a directory nor a regular file."""
        expected = set(entry["path"] for entry in entries if not entry.get("delete_marker"))
        objects = os.path.join(self.path, OBJECTS_DIR)
        if not os.path.lexists(objects):
            return []
        mode = os.lstat(objects).st_mode
        if not stat.S_ISDIR(mode):
            return ["%s is %s, not a directory" % (OBJECTS_DIR, kind_of(mode))]
        found = []
        for dirpath, dirnames, filenames in os.walk(objects):
            # Only objects/<xx> may be directories. os.walk lists a link to a directory among dirnames and
            # never enters it: judge it as an entry.
            odd = [name for name in dirnames if dirpath != objects or os.path.islink(os.path.join(dirpath, name))]
            dirnames[:] = sorted(set(dirnames) - set(odd))
            for name in sorted(odd + filenames):
                path = os.path.join(dirpath, name)
                relative = os.path.relpath(path, self.path).replace(os.sep, "/")
                mode = os.lstat(path).st_mode
                if not stat.S_ISREG(mode):
                    found.append("%s is %s, not a regular file" % (relative, kind_of(mode)))
                elif relative not in expected:
                    found.append("%s is not in the index" % relative)
        return found

    def open_body(self, entry):
        self.body_path(entry)
        return open_below(self.path, entry["path"])

    def describe(self):
        return self.path

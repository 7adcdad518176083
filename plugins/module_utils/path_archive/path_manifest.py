# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The path_archive manifest: which paths, every member's metadata, the archive's size and SHA-256.

Members come from tar's own listing written while the archive was made
(path, type, mode, uid, gid, size, mtime, link target), so they describe
exactly what the archive holds. There is no per-file SHA-256: the content is
covered by the SHA-256 of the whole archive (computed while it is written)
and zstd's frame checksum, and per-file hashes would cost a second read of
every byte (measured in bench/path_archive.md). Owner names are recorded
once per ID, so a restore can map them on a host where IDs differ.

On disk the member list is the key ``members`` (ENTRIES_KEY), as every
manifest_version 1 manifest has it; in Python the listed items are
"entries" everywhere (path_listing entries, manifest_entries(manifest)), like the
swtpm_archive manifest, whose on-disk key is ``entries``. The on-disk key
stays as it is, so manifests already written stay readable by this code and
by anything else that reads them.
"""

import fnmatch
import posixpath

from ansible_collections.vaultops.recovery.plugins.module_utils.common import artifact_manifest

from ansible_collections.vaultops.recovery.plugins.module_utils.path_archive import path_listing, path_safety
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

KIND = "path_archive"
MANIFEST_VERSION = 1
# The on-disk key of the entry list (swtpm_manifest.ENTRIES_KEY is "entries"; do not rename it on disk).
ENTRIES_KEY = "members"
REQUIRED_KEYS = ("manifest_version", "kind", "root", "paths", "compressor", "size", "sha256", "member_count",
                 ENTRIES_KEY)
_ENTRY_KEYS = ("path", "type", "mode", "uid", "gid", "size", "mtime")
COMPARED = ("type", "mode", "uid", "gid", "size", "mtime", "target", "xattrs")
SEALED_BLOB_PATTERN = ".sealed_*.blob"


def sealed_blobs(entries):
    """Stored paths of the `.sealed_<name>.blob` directories (Vaulthalla's TPM-sealed keys)."""
    return sorted(entry["path"] for entry in entries
                  if entry["type"] == "dir"
                  and fnmatch.fnmatchcase(posixpath.basename(entry["path"]), SEALED_BLOB_PATTERN))


def owner_names(entries, user_name, group_name):
    """{"users": {uid: name}, "groups": {gid: name}} for the IDs in entries that have a name on this host."""
    users, groups = {}, {}
    for entry in entries:
        for ident, table, lookup in ((entry["uid"], users, user_name), (entry["gid"], groups, group_name)):
            key = str(ident)
            if key not in table:
                table[key] = lookup(ident)
    return dict(users=dict((k, v) for k, v in users.items() if v), groups=dict((k, v) for k, v in groups.items() if v))


def manifest_entries(manifest):
    """The manifest's entries (one per tar member), stored on disk under ``members``."""
    return manifest[ENTRIES_KEY]


def build(archive_name, request, entries, size, sha256, hostname, owners, started, completed, duration):
    count, files, total = path_listing.summary(entries)
    manifest = dict(
        manifest_version=MANIFEST_VERSION, kind=KIND, written_by="vaultops.recovery.path_archive",
        archive=archive_name, hostname=hostname, root=request["root"], paths=request["rel_paths"],
        compressor=request["compressor"], compress_level=request["level"], tar_format="posix",
        xattrs=request["xattrs"], one_file_system=request["one_file_system"], exclude=request["exclude"],
        size=size, sha256=sha256, member_count=count, file_count=files, total_bytes=total,
        sealed_blobs=sealed_blobs(entries), owners=owners, per_file_sha256=False,
        started_at=started, completed_at=completed, duration_seconds=duration)
    manifest[ENTRIES_KEY] = entries
    return manifest


def load(archive_path, manifest_path=None):
    """(manifest, manifest_path) once it is a complete path_archive manifest with sane paths and members."""
    manifest, manifest_path = artifact_manifest.load_manifest(
        archive_path, manifest_path, "path_archive", REQUIRED_KEYS, MANIFEST_VERSION, kind=KIND)
    listed = manifest_entries(manifest)
    if not isinstance(listed, list) or not all(
            isinstance(entry, dict) and all(key in entry for key in _ENTRY_KEYS) for entry in listed):
        raise artifact_manifest.damaged(manifest_path, "has a malformed members list")
    paths = manifest["paths"]
    if not isinstance(paths, list) or not paths or not all(isinstance(rel, str) for rel in paths):
        raise artifact_manifest.damaged(manifest_path, "has a malformed paths list")
    path_safety.check_relative_paths(paths, "manifest %s" % manifest_path)
    if manifest["compressor"] not in ("zstd", "gzip", "none"):
        raise artifact_manifest.damaged(manifest_path, "names an unknown compressor %r" % manifest["compressor"])
    if len(listed) != manifest["member_count"]:
        raise artifact_manifest.damaged(manifest_path, "counts %s members but lists %d" % (
            manifest["member_count"], len(listed)))
    return manifest, manifest_path


def differences(actual, expected, limit=None):
    """Human-readable differences between two member lists (names and fields, never contents)."""
    have = dict((entry["path"], entry) for entry in actual)
    want = dict((entry["path"], entry) for entry in expected)
    found = ["missing %r" % path for path in sorted(set(want) - set(have))]
    found += ["unexpected %r" % path for path in sorted(set(have) - set(want))]
    for path in sorted(set(have) & set(want)):
        fields = [key for key in COMPARED if have[path].get(key) != want[path].get(key)]
        if fields:
            found.append("%r differs (%s)" % (path, ", ".join(fields)))
    if len(actual) != len(have):
        found.append("%d duplicate member name(s)" % (len(actual) - len(have)))
    return found[:limit] if limit else found


def require_match(actual, expected, source):
    problems = differences(actual, expected)
    if problems:
        shown = "; ".join(problems[:5]) + ("; and %d more" % (len(problems) - 5) if len(problems) > 5 else "")
        raise RecoveryError("%s does not match its manifest: %s. Nothing was changed." % (source, shown),
                            fix="use an archive and manifest from the same backup copy.")

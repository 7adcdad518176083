# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The swtpm_archive manifest: what an archive holds, where from, and its checksum.

Published after the archive, so an archive without a manifest is incomplete.
It lists names, modes, owners, sizes and SHA-256 of the state files, never
their contents, and the source host's machine identity as a digest.

On disk the entry list is the key ``entries`` (ENTRIES_KEY); the
path_archive manifest stores its entry list under ``members``
(path_manifest.ENTRIES_KEY). Python code reads both through manifest_entries(manifest).
"""

import os

from ansible_collections.vaultops.recovery.plugins.module_utils.common import artifact_manifest
KIND = "swtpm_state"
MANIFEST_VERSION = 1
# The on-disk key of the entry list (path_manifest.ENTRIES_KEY is "members"; do not rename it on disk).
ENTRIES_KEY = "entries"
REQUIRED_KEYS = ("manifest_version", "kind", "compression", "state_dir", "hostname", "machine_id_digest", "size",
                 "sha256", ENTRIES_KEY)
_ENTRY_KEYS = ("path", "type", "mode", "uid", "gid")


def manifest_entries(manifest):
    """The manifest's entries (one per tar member), stored on disk under ``entries``."""
    return manifest[ENTRIES_KEY]


def build(archive_path, compression, state_dir, identity, entries, skipped, size, sha256, started, completed, service):
    files = [entry for entry in entries if entry["type"] == "file"]
    return dict(
        manifest_version=MANIFEST_VERSION, kind=KIND, archive=os.path.basename(archive_path), compression=compression,
        state_dir=state_dir, hostname=identity["hostname"], machine_id_digest=identity["machine_id_digest"],
        size=size, sha256=sha256, entries=entries, skipped=skipped, file_count=len(files),
        state_bytes=sum(entry["size"] for entry in files), started_at=started, completed_at=completed,
        service=service, written_by="vaultops.recovery.swtpm_archive")


def load(archive_path, manifest_path=None):
    """(manifest, manifest_path) after checking it is a complete swtpm_archive manifest."""
    manifest, manifest_path = artifact_manifest.load_manifest(
        archive_path, manifest_path, "swtpm_archive", REQUIRED_KEYS, MANIFEST_VERSION, kind=KIND)
    listed = manifest_entries(manifest)
    if not isinstance(listed, list) or not all(
            isinstance(entry, dict) and all(key in entry for key in _ENTRY_KEYS) for entry in listed):
        raise artifact_manifest.damaged(manifest_path, "has a malformed entries list")
    return manifest, manifest_path


check_archive_file = artifact_manifest.check_file

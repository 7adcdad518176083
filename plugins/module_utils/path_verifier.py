# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prove a path archive before anyone relies on it. Reads, never writes.

In order: the manifest is present and complete; the archive has the recorded
size (truncation) and SHA-256 (corruption); the standard tools can read it
to the end (``zstd -dc | tar -tv``, which also checks zstd's frame checksum);
every member is safe to restore; the members are exactly the manifest's.
"""

import os

from ansible_collections.vaultops.recovery.plugins.module_utils import (
    artifact_manifest, path_listing, path_manifest, path_safety, path_tar)
from ansible_collections.vaultops.recovery.plugins.module_utils.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.process import StageFailure, run_pipeline

_INTACT = "use an intact copy of the backup; this one must not be restored."


def list_archive(tools, archive_path, compressor, xattrs=False):
    """The parsed ``tar -tv`` listing of the archive, read to the end with the standard tools."""
    stages = path_tar.reader_stages(tools, compressor, archive_path, path_tar.list_argv(tools.path("tar"), xattrs))
    try:
        out = run_pipeline(stages, env=path_tar.tar_env())
    except StageFailure as exc:
        raise RecoveryError("%s cannot be read to the end by %s (%s): the archive is corrupt or truncated."
                            " Nothing was changed." % (archive_path, os.path.basename(exc.argv[0]),
                                                       path_tar.stderr_lines(exc.stderr) or exc), fix=_INTACT)
    return path_listing.parse_listing(out.decode("utf-8", "surrogateescape"), archive_path)


def verify(tools, archive_path, manifest_path=None):
    """Everything that can be checked without touching the host; returns the verified facts."""
    if not os.path.exists(archive_path):
        raise RecoveryError("archive %s does not exist." % archive_path,
                            fix="check path (and that the backup was fetched to this host).")
    manifest, manifest_path = path_manifest.load(archive_path, manifest_path)
    if manifest["compressor"] != "none":
        tools.path(manifest["compressor"])
    sha256, size = artifact_manifest.check_file(archive_path, manifest)
    entries = list_archive(tools, archive_path, manifest["compressor"], manifest.get("xattrs", False))
    path_safety.require_restorable(entries, manifest["paths"], archive_path)
    path_manifest.require_match(entries, manifest["members"], archive_path)
    return dict(manifest=manifest, manifest_path=manifest_path, sha256=sha256, size=size, entries=entries)


def facts(verified):
    """The result fields every state returns about a verified archive."""
    manifest = verified["manifest"]
    count, files, total = path_listing.summary(verified["entries"])
    return dict(manifest=verified["manifest_path"], sha256=verified["sha256"], size=verified["size"],
                member_count=count, file_count=files, total_bytes=total, compressor=manifest["compressor"],
                sealed_blobs=path_manifest.sealed_blobs(verified["entries"]),
                archived_from=dict(hostname=manifest.get("hostname"), root=manifest["root"],
                                   paths=[os.path.join(manifest["root"], rel) for rel in manifest["paths"]],
                                   completed_at=manifest.get("completed_at")))

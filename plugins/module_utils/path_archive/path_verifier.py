# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prove a path archive before anyone relies on it. Reads, never writes.

In order: the manifest is present and complete; the archive has the recorded
size (truncation); the members the manifest lists are safe to restore; the
archive's SHA-256 is the recorded one (corruption); the standard tools can
read it to the end (``zstd -dc | tar -tv``, which also checks zstd's frame
checksum); the members tar lists are safe and exactly the manifest's.
A restore runs the same checks on the single read that also extracts
(precheck before, accept_listing after).
"""

import os

from ansible_collections.vaultops.recovery.plugins.module_utils.common import artifact_manifest
from ansible_collections.vaultops.recovery.plugins.module_utils.path_archive import path_listing, path_manifest, path_safety, path_tar
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import sha256_file
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import StageFailure, run_pipeline

_INTACT = "use an intact copy of the backup; this one must not be restored."


def unreadable(archive_path, exc):
    """The error for a decompressor or tar that could not read the archive to its end."""
    return RecoveryError("%s cannot be read to the end by %s (%s): the archive is corrupt or truncated."
                         " Nothing was changed." % (archive_path, os.path.basename(exc.argv[0]),
                                                    path_tar.stderr_lines(exc.stderr) or exc), fix=_INTACT)


def parse(archive_path, output):
    return path_listing.parse_listing(output.decode("utf-8", "surrogateescape"), archive_path)


def list_archive(tools, archive_path, compressor, xattrs=False):
    """The parsed ``tar -tv`` listing of the archive, read to the end with the standard tools."""
    stages = path_tar.reader_stages(tools, compressor, archive_path, path_tar.list_argv(tools.path("tar"), xattrs))
    try:
        out = run_pipeline(stages, env=path_tar.tar_env())
    except StageFailure as exc:
        raise unreadable(archive_path, exc)
    return parse(archive_path, out)


def precheck(tools, archive_path, manifest_path=None):
    """What holds before the archive is read: manifest, tools, size, members the manifest lists safe to restore."""
    if not os.path.exists(archive_path):
        raise RecoveryError("archive %s does not exist." % archive_path,
                            fix="check path (and that the backup was fetched to this host).")
    manifest, manifest_path = path_manifest.load(archive_path, manifest_path)
    if manifest["compressor"] != "none":
        tools.path(manifest["compressor"])
    size = artifact_manifest.check_size(archive_path, manifest)
    path_safety.require_restorable(path_manifest.manifest_entries(manifest), manifest["paths"], archive_path)
    return dict(manifest=manifest, manifest_path=manifest_path, size=size)


def accept_listing(checked, archive_path, entries):
    """The members tar listed while reading the archive: safe, and exactly the manifest's."""
    path_safety.require_restorable(entries, checked["manifest"]["paths"], archive_path)
    path_manifest.require_match(entries, path_manifest.manifest_entries(checked["manifest"]), archive_path)
    return dict(checked, entries=entries)


def verify(tools, archive_path, manifest_path=None):
    """Everything that can be checked without touching the host; returns the verified facts."""
    checked = precheck(tools, archive_path, manifest_path)
    manifest = checked["manifest"]
    checked["sha256"] = sha256_file(archive_path)[0]
    artifact_manifest.check_digest(archive_path, checked["sha256"], manifest)
    entries = list_archive(tools, archive_path, manifest["compressor"], manifest.get("xattrs", False))
    return accept_listing(checked, archive_path, entries)


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

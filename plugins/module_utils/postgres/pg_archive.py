# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pg_backup manifest and the checks that prove an archive before use.

An archive is complete only when its manifest exists beside it: the dump is
published first and the manifest last, so an interrupted run leaves either
nothing or a dump that verify and restore refuse.
"""

import hashlib
import os

from ansible_collections.vaultops.recovery.plugins.module_utils.common import artifact_manifest
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import sha256_tree
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.client_tools import parse_version
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import StageFailure, run_pipeline

MANIFEST_VERSION = 1
REQUIRED_KEYS = ("manifest_version", "format", "compressor", "database", "pg_dump_version", "size", "sha256",
                 "object_count")


def tree_digest(files):
    """One SHA-256 for a directory-format archive: over its sorted per-file lines."""
    lines = "".join("%s  %d  %s\n" % (files[name]["sha256"], files[name]["size"], name) for name in sorted(files))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def load_manifest(archive_path, manifest_path=None):
    return artifact_manifest.load_manifest(archive_path, manifest_path, "pg_backup", REQUIRED_KEYS, MANIFEST_VERSION)


def check_archive_name(archive_path, manifest, manifest_path):
    """The manifest must be this archive's: it records the name the archive was published under.

    A manifest copied beside another dump would otherwise only show as a checksum mismatch (or not at all when
    the bytes happen to agree), hiding that the two files do not belong together.
    """
    name = os.path.basename(archive_path.rstrip("/"))
    recorded = manifest.get("archive")
    if not isinstance(recorded, str):
        raise artifact_manifest.damaged(manifest_path, "records no archive name (pg_backup always writes one)")
    if recorded != name:
        raise RecoveryError(
            "manifest %s belongs to archive %r, not to %r: the two files are not of one backup. Nothing was"
            " changed." % (manifest_path, recorded, name),
            fix="use the archive together with its own manifest (%s%s), or pass manifest: the manifest of %s."
                % (name, artifact_manifest.MANIFEST_SUFFIX, name))


def check_checksums(archive_path, manifest, checksum=True):
    """Size first (cheap, names truncation), then SHA-256 of every byte.

    checksum=False skips the SHA-256 pass of a single-file archive (its size is still checked): for a caller that
    proved the same bytes against the same manifest just before. A directory archive is always hashed.
    """
    if not checksum and manifest["format"] != "directory":
        return manifest["sha256"], artifact_manifest.check_size(archive_path, manifest)
    if manifest["format"] == "directory":
        if not os.path.isdir(archive_path):
            raise RecoveryError("%s should be a directory-format archive but is not a directory." % archive_path,
                                fix="point path at the archive directory.")
        actual = sha256_tree(archive_path)
        expected = manifest.get("files") or {}
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        changed = sorted(name for name in expected if name in actual and actual[name] != expected[name])
        if missing or extra or changed:
            raise RecoveryError(
                "%s does not match its manifest: missing %s, unexpected %s, changed %s." % (
                    archive_path, missing or "none", extra or "none", changed or "none"),
                fix="use an intact copy of the backup; this one is damaged or incomplete.")
        return tree_digest(actual), sum(item["size"] for item in actual.values())
    return artifact_manifest.check_file(archive_path, manifest)


def check_restore_tool(manifest, tools):
    """pg_restore cannot read archives from a newer pg_dump major version."""
    dumped = parse_version(manifest["pg_dump_version"])
    local = tools.version("pg_restore")
    if dumped and local and dumped[0] > local[0]:
        raise RecoveryError(
            "the archive was written by pg_dump %d.%d but the local pg_restore is %d.%d, which cannot read it." % (
                dumped[0], dumped[1], local[0], local[1]),
            fix="install postgresql-client-%d or newer on this host and set pg_bin_dir to its bin directory"
                " (for example /usr/lib/postgresql/%d/bin)." % (dumped[0], dumped[0]))


def archive_reader_stages(archive_path, manifest, tools):
    """Stages that feed the archive to pg_restore's stdin, or [] when it reads the path itself."""
    if manifest["compressor"] == "zstd":
        return [[tools.path("zstd"), "-q", "-d", "-c", archive_path]]
    return []


def list_toc(archive_path, manifest, tools):
    """The archive's table of contents (pg_restore --list), one entry per object."""
    pre = archive_reader_stages(archive_path, manifest, tools)
    listing = [tools.path("pg_restore"), "--list"]
    if not pre:
        listing.append(archive_path)
    try:
        # pg_restore stops reading once it has the TOC, so an upstream zstd may see a closed pipe.
        out = run_pipeline(pre + [listing], env=dict(os.environ, LC_MESSAGES="C"), upstream_may_see_closed_pipe=True)
    except StageFailure as exc:
        raise RecoveryError("the table of contents of %s cannot be read: %s" % (archive_path, exc.stderr.strip()),
                            fix="use an intact copy of the backup; this one must not be restored.")
    return [line for line in out.decode("utf-8", "replace").splitlines() if line and not line.startswith(";")]


def verify_archive(archive_path, tools, manifest_path=None, checksum=True):
    """Everything a restore must know before touching a database. Reads, never writes."""
    if not os.path.exists(archive_path):
        raise RecoveryError("archive %s does not exist." % archive_path, fix="check path (and that the backup was fetched).")
    manifest, manifest_path = load_manifest(archive_path, manifest_path)
    check_archive_name(archive_path, manifest, manifest_path)
    digest, size = check_checksums(archive_path, manifest, checksum)
    check_restore_tool(manifest, tools)
    entries = list_toc(archive_path, manifest, tools)
    if len(entries) != manifest["object_count"]:
        raise RecoveryError("%s lists %d objects but its manifest records %d." % (
            archive_path, len(entries), manifest["object_count"]),
            fix="use an intact copy of the backup; this one must not be restored.")
    return {"manifest": manifest, "manifest_path": manifest_path, "sha256": digest, "size": size,
            "object_count": len(entries), "checksum_verified": checksum or manifest["format"] == "directory"}

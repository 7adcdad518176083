# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The manifest every artifact carries beside it, and the checks on a file artifact.

Every module publishes its artifact first and `<artifact>.manifest.json` last,
so an artifact without a manifest is incomplete by construction. Loading and
checking are the same for every kind of artifact; what a manifest holds
beyond size and SHA-256 is the producing module's business.
"""

import json
import os

from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import sha256_file
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

MANIFEST_SUFFIX = ".manifest.json"
_INTACT_COPY = "use an intact copy of the backup; this one must not be restored."


def manifest_path_for(artifact_path):
    return artifact_path.rstrip("/") + MANIFEST_SUFFIX


def damaged(manifest_path, what):
    return RecoveryError("manifest %s %s. Nothing was changed." % (manifest_path, what),
                         fix="restore the manifest from the same backup copy as the artifact.")


def load_manifest(artifact_path, manifest_path, producer, required_keys, max_version, kind=None):
    """(manifest, manifest_path) once the manifest is present, valid JSON, complete and readable."""
    manifest_path = manifest_path or manifest_path_for(artifact_path)
    if not os.path.exists(manifest_path):
        raise RecoveryError(
            "%s has no manifest (%s). %s writes the manifest last, so this artifact is incomplete"
            " (an interrupted run) or was not made by %s. Nothing was changed." % (
                artifact_path, manifest_path, producer, producer),
            fix="take a new one with vaultops.recovery.%s, or pass manifest: when the manifest lives elsewhere."
                % producer)
    try:
        with open(manifest_path, "rb") as handle:
            manifest = json.loads(handle.read().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise damaged(manifest_path, "is not valid JSON (%s)" % exc)
    if not isinstance(manifest, dict):
        raise damaged(manifest_path, "is not a JSON object")
    if kind is not None and manifest.get("kind") != kind:
        raise RecoveryError("%s describes a %r artifact, not %s. Nothing was changed." % (
            manifest_path, manifest.get("kind"), kind),
            fix="point path at an artifact made by vaultops.recovery.%s." % producer)
    missing = [key for key in required_keys if key not in manifest]
    if missing:
        raise damaged(manifest_path, "lacks %s" % ", ".join(missing))
    version = manifest["manifest_version"] if "manifest_version" in manifest else None
    if not isinstance(version, int) or version > max_version:
        raise RecoveryError("manifest %s has version %r; this collection reads up to %d." % (
            manifest_path, version, max_version), fix="upgrade vaultops.recovery.")
    return manifest, manifest_path


def check_size(artifact_path, manifest):
    """The recorded size, checked before a byte is read (names truncation); returns the size."""
    if not os.path.isfile(artifact_path):
        raise RecoveryError("%s does not exist or is not a file." % artifact_path, fix="check path.")
    size = os.path.getsize(artifact_path)
    if size != manifest["size"]:
        raise RecoveryError(
            "%s is %d bytes but its manifest says %d: the file is truncated or was changed. Nothing was changed." % (
                artifact_path, size, manifest["size"]), fix=_INTACT_COPY)
    return size


def check_digest(artifact_path, digest, manifest):
    """The SHA-256 of every byte, computed by the caller, against the manifest's (names corruption)."""
    if digest != manifest["sha256"]:
        raise RecoveryError(
            "%s fails its checksum (sha256 %s, manifest %s): the file is corrupt. Nothing was changed." % (
                artifact_path, digest, manifest["sha256"]), fix=_INTACT_COPY)


def check_file(artifact_path, manifest):
    """Size first (names truncation), then SHA-256 of every byte (names corruption)."""
    size = check_size(artifact_path, manifest)
    digest = sha256_file(artifact_path)[0]
    check_digest(artifact_path, digest, manifest)
    return digest, size

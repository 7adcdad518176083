# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A recovery set: one directory of artifacts, sealed by manifest.json.

Each artifact arrives with its own `<artifact>.manifest.json` (written last by
the module that made it). Sealing lists every regular file of the set with
size and SHA-256 (taken from the artifact manifests where they were computed
while writing, hashed here otherwise), checks that every required kind of
artifact is present, and publishes manifest.json last: a set without it is
not complete. Verifying re-hashes every file against manifest.json.
"""

import datetime
import json
import os
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.vaultops.recovery.plugins.module_utils.common.artifact_manifest import MANIFEST_SUFFIX
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import sha256_file, write_json_atomic
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.regular_file import require_regular

SET_MANIFEST = "manifest.json"
SET_KIND = "vaultops_recovery_set"
SET_VERSION = 1


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _walk_files(set_dir):
    for dirpath, dirnames, filenames in os.walk(set_dir):
        dirnames.sort()
        for filename in sorted(filenames):
            path = os.path.join(dirpath, filename)
            rel = os.path.relpath(path, set_dir)
            if rel in (SET_MANIFEST, SET_MANIFEST + ".asc") or filename.endswith(".partial"):
                continue
            require_regular(path)
            yield rel, path


def read_artifact_manifests(set_dir):
    """{artifact relative path: its manifest} for every *.manifest.json in the set."""
    artifacts = {}
    for rel, path in _walk_files(set_dir):
        if not rel.endswith(MANIFEST_SUFFIX):
            continue
        try:
            with open(path, "rb") as handle:
                manifest = json.loads(handle.read().decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise RecoveryError("artifact manifest %s is not valid JSON (%s)." % (path, exc),
                                fix="the set is damaged: take a new recovery set.")
        artifacts[rel[:-len(MANIFEST_SUFFIX)]] = manifest
    return artifacts


def artifact_kind(manifest):
    return manifest.get("kind") or ("pg_dump" if manifest.get("tool") == "vaultops.recovery.pg_backup" else "unknown")


def seal(set_dir, metadata, required_kinds, incomplete_reason=None):
    """Write manifest.json for set_dir; returns the document."""
    if not os.path.isdir(set_dir):
        raise RecoveryError("recovery set directory %s does not exist." % set_dir, fix="check set_dir.")
    if os.path.exists(os.path.join(set_dir, SET_MANIFEST)):
        raise RecoveryError("%s is already sealed (manifest.json exists); it was left untouched." % set_dir,
                            fix="take a new set into a new directory.")
    artifact_manifests = read_artifact_manifests(set_dir)
    for name, manifest in artifact_manifests.items():
        if not os.path.exists(os.path.join(set_dir, name)):
            raise RecoveryError("artifact manifest %s%s has no artifact %s beside it." % (name, MANIFEST_SUFFIX, name),
                                fix="the set is incomplete: take a new recovery set.")
    kinds = sorted(set(artifact_kind(m) for m in artifact_manifests.values()))
    missing = [kind for kind in required_kinds if kind not in kinds]
    if missing:
        raise RecoveryError("recovery set %s lacks %s (it has %s); it was not sealed." % (
            set_dir, ", ".join(missing), ", ".join(kinds) or "nothing"),
            fix="find out why that step did not produce its artifact, then take a new set.")
    files = {}
    for rel, path in _walk_files(set_dir):
        recorded = artifact_manifests.get(rel)
        size = os.path.getsize(path)
        if recorded and "sha256" in recorded and recorded.get("size") == size and os.path.isfile(path) \
                and recorded.get("format") != "directory":
            files[rel] = {"sha256": recorded["sha256"], "size": size}  # hashed while it was written
        else:
            digest, size = sha256_file(path)
            files[rel] = {"sha256": digest, "size": size}
    document = {
        "kind": SET_KIND,
        "manifest_version": SET_VERSION,
        "complete": incomplete_reason is None,
        "sealed_at": utc_now(),
        "artifacts": [
            {"name": name, "kind": artifact_kind(manifest), "size": manifest.get("size"),
             "sha256": manifest.get("sha256")}
            for name, manifest in sorted(artifact_manifests.items())],
        "files": files,
        "total_bytes": sum(item["size"] for item in files.values()),
    }
    if incomplete_reason:
        document["incomplete_reason"] = incomplete_reason
    document.update(metadata)
    write_json_atomic(os.path.join(set_dir, SET_MANIFEST), document)
    return document


def parse_set_manifest(data, where, fix="check set_dir."):
    """The manifest.json document from its bytes; where names it (a path or an s3:// URL) in messages."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecoveryError("%s is not valid JSON (%s)." % (where, exc), fix="use an intact copy of the set.")
    if not isinstance(document, dict) or document.get("kind") != SET_KIND or not isinstance(
            document.get("files"), dict):
        raise RecoveryError("%s is not a vaultops recovery set manifest." % where, fix=fix)
    if document.get("manifest_version", 0) > SET_VERSION:
        raise RecoveryError("%s has manifest version %s; this collection reads up to %d." % (
            where, document.get("manifest_version"), SET_VERSION), fix="upgrade vaultops.recovery.")
    return document


def load_set_manifest(set_dir):
    path = os.path.join(set_dir, SET_MANIFEST)
    if not os.path.exists(path):
        raise RecoveryError("%s has no manifest.json: the recovery set is incomplete (it is written last)." % set_dir,
                            fix="use a complete set; an interrupted backup never seals its set.")
    with open(path, "rb") as handle:
        return parse_set_manifest(handle.read(), path)


def check_complete(document, where, require_complete=True):
    """Refuse a set sealed with incomplete_reason (unless require_complete is false)."""
    if require_complete and not document.get("complete"):
        raise RecoveryError("recovery set %s is marked incomplete: %s" % (
            where, document.get("incomplete_reason", "no reason recorded")),
            fix="use a complete set, or take a new one.")


def verify(set_dir, require_complete=True, checksums=True):
    """Check every file of the set against manifest.json; returns the document.

    Sizes and completeness first (cheap, and a truncated file is named as such), then the SHA-256 of every
    file, the large ones hashed side by side (hashlib and file reads release the GIL, so a 2-core host
    verifies two big artifacts in the time of one). checksums=False stops after the sizes: for a copy
    that is not the one restored, when a byte-identical manifest's copy is verified where it is used.
    """
    document = load_set_manifest(set_dir)
    check_complete(document, set_dir, require_complete)
    expected = document["files"]
    actual = dict(_walk_files(set_dir))
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    if missing or extra:
        raise RecoveryError("recovery set %s does not match its manifest: missing %s, unexpected %s." % (
            set_dir, missing or "none", extra or "none"), fix="use an intact copy of the set.")
    for rel in sorted(expected):
        size = os.path.getsize(actual[rel])
        if size != expected[rel]["size"]:
            raise RecoveryError("%s is %d bytes but the set manifest records %d: truncated or changed." % (
                actual[rel], size, expected[rel]["size"]), fix="use an intact copy of the set.")
    if not checksums:
        return document
    order = sorted(expected, key=lambda rel: -expected[rel]["size"])  # biggest first: the pool ends together
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        digests = dict(zip(order, pool.map(lambda rel: sha256_file(actual[rel])[0], order)))
    for rel in sorted(expected):
        if digests[rel] != expected[rel]["sha256"]:
            raise RecoveryError("%s fails its checksum (sha256 %s, set manifest %s): the file is corrupt." % (
                actual[rel], digests[rel], expected[rel]["sha256"]), fix="use an intact copy of the set.")
    return document

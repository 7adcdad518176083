"""The two manifests keep their on-disk entry keys: path_archive ``members``, swtpm_archive ``entries``.

Python reads both through manifest_entries(manifest); manifests written by earlier versions (these documents, as
version 1 writes them) must keep loading.
"""

import json

from ansible_collections.vaultops.recovery.plugins.module_utils.path_archive import path_manifest
from ansible_collections.vaultops.recovery.plugins.module_utils.swtpm import swtpm_manifest

PATH_ENTRY = dict(path="etc/vaulthalla", type="dir", mode="0755", uid=0, gid=0, size=0, mtime="2026-11-21 10:15:00")
SWTPM_ENTRY = dict(path=".", type="dir", mode="0750", uid=0, gid=0)


def _write(tmp_path, name, document):
    archive = tmp_path / name
    archive.write_bytes(b"data")
    (tmp_path / (name + ".manifest.json")).write_text(json.dumps(document))
    return str(archive)


def test_a_path_archive_manifest_keeps_its_members_key(tmp_path):
    document = dict(manifest_version=1, kind="path_archive", root="/", paths=["etc/vaulthalla"], compressor="zstd",
                    size=4, sha256="00" * 32, member_count=1, members=[PATH_ENTRY])
    manifest, _path = path_manifest.load(_write(tmp_path, "a.tar.zst", document))
    assert path_manifest.ENTRIES_KEY == "members"
    assert path_manifest.manifest_entries(manifest) == [PATH_ENTRY]
    request = dict(root="/", rel_paths=["etc/vaulthalla"], compressor="zstd", level=3, xattrs=False,
                   one_file_system=False, exclude=[])
    built = path_manifest.build("a.tar.zst", request, [PATH_ENTRY], 4, "00" * 32, "h", {}, "s", "c", 1.0)
    assert built["members"] == [PATH_ENTRY] and "entries" not in built


def test_a_swtpm_manifest_keeps_its_entries_key(tmp_path):
    document = dict(manifest_version=1, kind="swtpm_state", compression="gzip", state_dir="/var/lib/swtpm",
                    hostname="h", machine_id_digest="d", size=4, sha256="00" * 32, entries=[SWTPM_ENTRY])
    manifest, _path = swtpm_manifest.load(_write(tmp_path, "s.tar.gz", document))
    assert swtpm_manifest.ENTRIES_KEY == "entries"
    assert swtpm_manifest.manifest_entries(manifest) == [SWTPM_ENTRY]
    identity = dict(hostname="h", machine_id_digest="d")
    built = swtpm_manifest.build("/x/s.tar.gz", "gzip", "/var/lib/swtpm", identity, [SWTPM_ENTRY], [], 4,
                                 "00" * 32, "s", "c", {})
    assert built["entries"] == [SWTPM_ENTRY] and "members" not in built

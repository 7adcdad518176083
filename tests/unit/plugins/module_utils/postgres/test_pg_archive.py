"""pg_backup verify: the manifest must be the one of the archive it is checked against (its recorded name)."""

import hashlib
import json
import os

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.pg_archive import check_archive_name, verify_archive


def _dump(directory, name, data, recorded):
    """A single-file archive and a manifest beside it whose sizes and digests match; recorded is its archive name."""
    path = os.path.join(str(directory), name)
    with open(path, "wb") as handle:
        handle.write(data)
    manifest = {"manifest_version": 1, "format": "custom", "compressor": "gzip", "database": "d",
                "pg_dump_version": "pg_dump (PostgreSQL) 15.1", "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(), "object_count": 1}
    if recorded is not None:
        manifest["archive"] = recorded
    with open(path + ".manifest.json", "w") as handle:
        json.dump(manifest, handle)
    return path


def test_a_manifest_of_another_archive_is_refused_before_any_hashing(tmp_path):
    # Same bytes, so only the recorded name tells that the manifest was written for wallet-monday.dump.
    path = _dump(tmp_path, "wallet-tuesday.dump", b"PGDMP...", "wallet-monday.dump")
    with pytest.raises(RecoveryError) as caught:
        verify_archive(path, tools=None)
    assert "belongs to archive 'wallet-monday.dump', not to 'wallet-tuesday.dump'" in caught.value.message
    assert "Nothing was changed" in caught.value.message
    assert "wallet-tuesday.dump.manifest.json" in caught.value.fix


def test_a_manifest_without_an_archive_name_is_damaged(tmp_path):
    path = _dump(tmp_path, "wallet.dump", b"PGDMP...", None)
    with pytest.raises(RecoveryError, match="records no archive name"):
        verify_archive(path, tools=None)


@pytest.mark.parametrize("path", ["/backups/wallet.dump", "/backups/wallet.dir/", "wallet.dump"])
def test_the_archive_s_own_name_passes(path):
    name = os.path.basename(path.rstrip("/"))
    check_archive_name(path, {"archive": name}, path + ".manifest.json")


@pytest.mark.parametrize("recorded", ["other.dump", "wallet.dump.bak", "", 7])
def test_any_other_name_fails(recorded):
    with pytest.raises(RecoveryError):
        check_archive_name("/backups/wallet.dump", {"archive": recorded}, "/m.json")

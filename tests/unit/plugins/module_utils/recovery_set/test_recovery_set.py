import hashlib
import json
import os

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.recovery_set import recovery_set
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import write_json_atomic
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.openpgp.gpg_signature import sign_detached, verify_detached
from support.gpg_keys import make_key


def add_artifact(set_dir, name, data, kind):
    path = os.path.join(str(set_dir), name)
    with open(path, "wb") as handle:
        handle.write(data)
    write_json_atomic(path + ".manifest.json", {"kind": kind, "size": len(data),
                                                "sha256": hashlib.sha256(data).hexdigest()})
    return path


@pytest.fixture
def set_dir(tmp_path):
    path = tmp_path / "vh1-20261121T101500Z"
    path.mkdir()
    add_artifact(path, "db.dump", os.urandom(4096), "pg_dump")
    add_artifact(path, "config-state.tar.zst", os.urandom(2048), "path_archive")
    (path / "s3copy").mkdir()
    (path / "s3copy" / "obj").write_bytes(b"object body")
    return path


def test_seal_then_verify(set_dir):
    document = recovery_set.seal(str(set_dir), {"tpm_mode": "swtpm", "vaulthalla_version": "Vaulthalla v1.1.0"},
                                 ["pg_dump", "path_archive"])
    assert document["complete"] is True and document["tpm_mode"] == "swtpm"
    assert set(document["files"]) == {"db.dump", "db.dump.manifest.json", "config-state.tar.zst",
                                      "config-state.tar.zst.manifest.json", "s3copy/obj"}
    assert {a["kind"] for a in document["artifacts"]} == {"pg_dump", "path_archive"}
    assert recovery_set.verify(str(set_dir))["total_bytes"] == document["total_bytes"]
    with pytest.raises(RecoveryError, match="already sealed"):
        recovery_set.seal(str(set_dir), {}, [])


def test_seal_refuses_a_set_missing_a_required_kind(set_dir):
    with pytest.raises(RecoveryError, match="lacks swtpm_state"):
        recovery_set.seal(str(set_dir), {}, ["pg_dump", "swtpm_state"])
    assert not (set_dir / "manifest.json").exists()


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "s3copy" / "obj").write_bytes(b"object bodY"), "fails its checksum"),
    (lambda d: (d / "db.dump").open("r+b").truncate(10), "truncated"),
    (lambda d: (d / "config-state.tar.zst").unlink(), "missing"),
    (lambda d: (d / "stray").write_bytes(b"x"), "unexpected"),
])
def test_verify_names_every_kind_of_damage(set_dir, damage, message):
    recovery_set.seal(str(set_dir), {}, [])
    damage(set_dir)
    with pytest.raises(RecoveryError, match=message):
        recovery_set.verify(str(set_dir))


def test_verify_without_checksums_still_catches_size_and_completeness_but_not_a_flipped_byte(set_dir):
    recovery_set.seal(str(set_dir), {}, [])
    (set_dir / "s3copy" / "obj").write_bytes(b"object bodY")  # same size, other bytes
    assert recovery_set.verify(str(set_dir), checksums=False)["complete"]
    with pytest.raises(RecoveryError, match="obj fails its checksum"):
        recovery_set.verify(str(set_dir))
    (set_dir / "db.dump").open("r+b").truncate(10)
    with pytest.raises(RecoveryError, match="truncated"):
        recovery_set.verify(str(set_dir), checksums=False)


def test_verify_names_the_corrupt_file_among_several_hashed_side_by_side(set_dir):
    for index in range(6):
        add_artifact(set_dir, "extra-%d.bin" % index, os.urandom(70000 + index), "other")
    recovery_set.seal(str(set_dir), {}, [])
    with (set_dir / "extra-3.bin").open("r+b") as handle:
        handle.seek(123)
        byte = handle.read(1)
        handle.seek(123)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(RecoveryError, match="extra-3.bin fails its checksum"):
        recovery_set.verify(str(set_dir))


def test_incomplete_set_is_refused_and_unsealed_set_is_incomplete(set_dir, tmp_path):
    with pytest.raises(RecoveryError, match="no manifest.json"):
        recovery_set.verify(str(set_dir))
    recovery_set.seal(str(set_dir), {}, [], incomplete_reason="swtpm archive failed")
    with pytest.raises(RecoveryError, match="marked incomplete: swtpm archive failed"):
        recovery_set.verify(str(set_dir))
    assert recovery_set.verify(str(set_dir), require_complete=False)["complete"] is False


def test_detached_signature_pins_the_signer(set_dir, tmp_path):
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    other = tmp_path / "gnupg-other"
    other.mkdir(mode=0o700)

    signer = make_key(home, "set signer <signer@vaultops.invalid>")
    stranger = make_key(home, "someone else <else@vaultops.invalid>")
    recovery_set.seal(str(set_dir), {}, [])
    manifest = str(set_dir / "manifest.json")
    sign_detached("gpg", str(home), signer, manifest)
    assert oct(os.stat(manifest + ".asc").st_mode & 0o777) == "0o600"
    assert signer in verify_detached("gpg", str(home), signer, manifest)
    assert recovery_set.verify(str(set_dir))["complete"]
    with pytest.raises(RecoveryError, match="not a good signature by"):
        verify_detached("gpg", str(home), stranger, manifest)
    document = json.loads(open(manifest).read())
    document["tpm_mode"] = "hardware"
    with open(manifest, "w") as handle:
        json.dump(document, handle)
    with pytest.raises(RecoveryError, match="not a good signature"):
        verify_detached("gpg", str(home), signer, manifest)

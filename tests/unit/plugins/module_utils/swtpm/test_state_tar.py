"""state_tree and state_tar: faithful round trips (owners, modes, links) and refusals."""

import io
import os
import tarfile

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common import state_tree
from ansible_collections.vaultops.recovery.plugins.module_utils.swtpm import state_tar
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

NOBODY = 65534


def build_state(root):
    """A state directory like swtpm's, plus a subdirectory, a contained link and odd owners/modes."""
    root.mkdir(mode=0o750)
    os.chmod(str(root), 0o750)
    (root / ".lock").write_bytes(b"")
    (root / "tpm2-00.permall").write_bytes(os.urandom(1315))
    (root / "tpm2-00.volatilestate").write_bytes(os.urandom(200))
    sub = root / "sub dir ✓"
    sub.mkdir()
    (sub / "nested").write_bytes(b"n" * 10)
    os.symlink("../tpm2-00.permall", str(sub / "link"))
    for path, mode in ((root / ".lock", 0o640), (root / "tpm2-00.permall", 0o640),
                       (root / "tpm2-00.volatilestate", 0o600), (sub / "nested", 0o400), (sub, 0o500)):
        os.chmod(str(path), mode)
    os.chown(str(root / "tpm2-00.permall"), NOBODY, NOBODY)
    os.chown(str(sub / "link"), 4321, 4321, follow_symlinks=False)
    return root


def tar_bytes(root, compression="gzip"):
    out = io.BytesIO()
    entries, skipped = state_tar.write_tree(str(root), out, compression)
    return out.getvalue(), entries, skipped


@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_round_trip_preserves_content_modes_owners_links(tmp_path, compression):
    src = build_state(tmp_path / "state")
    data, entries, skipped = tar_bytes(src, compression)
    assert skipped == []
    archive = tmp_path / "a.tar"
    archive.write_bytes(data)
    assert [e["path"] for e in entries][:1] == ["."]
    assert state_tree.differences(state_tree.inventory(str(src))[0], entries) == []

    read = state_tar.read_entries(str(archive))
    state_tar.compare_with_manifest(read, entries, "a.tar")

    staging = tmp_path / "staging"
    staging.mkdir()
    assert state_tar.extract(str(archive), str(staging), entries, by_name=False) == []
    restored = state_tree.inventory(str(staging))[0]
    assert state_tree.differences(restored, entries, by_name=False) == []
    assert (staging / "tpm2-00.permall").read_bytes() == (src / "tpm2-00.permall").read_bytes()
    assert os.stat(str(staging)).st_mode & 0o7777 == 0o750
    assert os.stat(str(staging / "sub dir ✓")).st_mode & 0o7777 == 0o500
    assert os.stat(str(staging / "tpm2-00.permall")).st_uid == NOBODY
    assert os.readlink(str(staging / "sub dir ✓" / "link")) == "../tpm2-00.permall"
    assert os.lstat(str(staging / "sub dir ✓" / "link")).st_uid == 4321
    assert os.stat(str(staging / "tpm2-00.permall")).st_mtime == int(os.stat(str(src / "tpm2-00.permall")).st_mtime)


def test_tar_is_standard_and_carries_numeric_owners(tmp_path):
    src = build_state(tmp_path / "state")
    data = tar_bytes(src)[0]
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = dict((m.name, m) for m in tar.getmembers())
    assert members["tpm2-00.permall"].uid == NOBODY
    assert members["tpm2-00.permall"].mode == 0o640
    assert members["sub dir ✓/link"].issym()


def test_manifest_entries_never_hold_contents(tmp_path):
    src = build_state(tmp_path / "state")
    secret = b"PLANTED-content-marker"
    (src / "tpm2-00.volatilestate").write_bytes(secret)
    entries = tar_bytes(src)[1]
    assert secret.decode() not in repr(entries)


def test_sockets_and_fifos_are_skipped_and_reported(tmp_path):
    src = build_state(tmp_path / "state")
    os.mkfifo(str(src / "ctrl.fifo"))
    _data, entries, skipped = tar_bytes(src)
    assert skipped == ["ctrl.fifo"]
    assert "ctrl.fifo" not in [e["path"] for e in entries]


def test_a_link_out_of_the_state_is_refused_when_archiving(tmp_path):
    src = build_state(tmp_path / "state")
    os.symlink("/etc/passwd", str(src / "evil"))
    with pytest.raises(RecoveryError, match="outside the state directory"):
        tar_bytes(src)


def test_by_name_owner_mapping(tmp_path):
    entry = dict(path="x", type="file", uid=12345, gid=12345, user="root", group="root")
    assert state_tree.resolve_owner(entry, by_name=True) == (0, 0)
    assert state_tree.resolve_owner(entry, by_name=False) == (12345, 12345)
    unknown = dict(entry, user="no-such-user-x", group="no-such-group-x")
    assert state_tree.resolve_owner(unknown, by_name=True) == (12345, 12345)


def test_extract_remaps_owner_by_name_and_reports_it(tmp_path):
    src = build_state(tmp_path / "state")
    data, entries, _skipped = tar_bytes(src, "none")
    archive = tmp_path / "a.tar"
    # Same archive, but pretend the archiving host's "root" had uid 777.
    with tarfile.open(str(archive), "w", format=tarfile.PAX_FORMAT) as tar, \
            tarfile.open(fileobj=io.BytesIO(data)) as orig:
        for m in orig.getmembers():
            if m.name == "tpm2-00.volatilestate":
                m.uid, m.uname = 777, "root"
            tar.addfile(m, orig.extractfile(m) if m.isreg() else None)
    for e in entries:
        if e["path"] == "tpm2-00.volatilestate":
            e["uid"] = 777
    staging = tmp_path / "s"
    staging.mkdir()
    remapped = state_tar.extract(str(archive), str(staging), entries, by_name=True)
    assert remapped == [dict(path="tpm2-00.volatilestate", uid=0, gid=0, archived_uid=777, archived_gid=0)]
    assert os.stat(str(staging / "tpm2-00.volatilestate")).st_uid == 0


def test_differences_name_paths_and_fields_only(tmp_path):
    src = build_state(tmp_path / "state")
    before = state_tree.inventory(str(src))[0]
    (src / "tpm2-00.volatilestate").write_bytes(b"changed")
    os.chmod(str(src / ".lock"), 0o600)
    (src / "extra").write_bytes(b"")
    after = state_tree.inventory(str(src))[0]
    found = state_tree.differences(after, before)
    assert "unexpected extra" in found
    assert "tpm2-00.volatilestate differs (size, sha256)" in found
    assert ".lock differs (mode)" in found


def test_require_state_dir(tmp_path):
    with pytest.raises(RecoveryError, match="does not exist") as caught:
        state_tree.require_state_dir(str(tmp_path / "missing"))
    assert "is swtpm in use" in caught.value.fix and "state_dir" in caught.value.fix
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".lock").write_bytes(b"")
    with pytest.raises(RecoveryError, match="holds no TPM state"):
        state_tree.require_state_dir(str(empty))
    (empty / "tpm2-00.permall").write_bytes(b"x")
    state_tree.require_state_dir(str(empty))


def test_corrupt_and_non_tar_archives_are_one_clear_error(tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"\x1f\x8b" + os.urandom(300))
    with pytest.raises(RecoveryError, match="not a readable tar archive|cannot be read to the end"):
        state_tar.read_entries(str(junk))


def test_extract_refuses_a_member_not_in_the_manifest(tmp_path):
    src = build_state(tmp_path / "state")
    data, entries, _skipped = tar_bytes(src)
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(data)
    staging = tmp_path / "s"
    staging.mkdir()
    with pytest.raises(RecoveryError, match="changed after it was verified"):
        state_tar.extract(str(archive), str(staging), [e for e in entries if e["path"] != ".lock"])

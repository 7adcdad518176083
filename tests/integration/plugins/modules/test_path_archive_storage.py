"""path_archive names a full or read-only file system (ENOSPC, EROFS) and leaves the existing trees as they were."""

import fcntl
import os
import shutil

import pytest

MODULE = "vaultops.recovery.path_archive"
FIX = "Fix:"

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("zstd"),
                                reason="needs root (mounts, owners) and zstd")

# In a private mount namespace: a small tmpfs at the restore root, holding the trees as they were before.
PREPARE_AND_RUN = (
    'mount -t tmpfs -o size=1m tmpfs "$0" && mkdir -p "$0/etc/vaulthalla" "$0/var/lib/vaulthalla"'
    ' && echo old config > "$0/etc/vaulthalla/keep.txt" && echo old state > "$0/var/lib/vaulthalla/keep.txt"'
    ' && "$@"; rc=$?; (cd "$0" && find . | sort && cat etc/vaulthalla/keep.txt var/lib/vaulthalla/keep.txt)'
    ' > "%s"; exit $rc')


def failed(result, *fragments):
    assert result.get("failed"), result
    for fragment in fragments:
        assert fragment in result["msg"], result["msg"]
    return result["msg"]


def test_full_disk_during_restore_is_named_enospc_and_changes_nothing(ansible, tmp_path):
    root = tmp_path / "root"
    for rel in ("etc/vaulthalla", "var/lib/vaulthalla"):
        (root / rel).mkdir(parents=True)
    (root / "etc/vaulthalla/config.yaml").write_text("database: vaulthalla\n")
    (root / "var/lib/vaulthalla/big.bin").write_bytes(os.urandom(3 * 1024 * 1024))  # 3 MiB into a 1 MiB volume
    backups = tmp_path / "backups"
    backups.mkdir()
    made = ansible.run(MODULE, dict(paths=[str(root / "etc/vaulthalla"), str(root / "var/lib/vaulthalla")],
                                    root=str(root), dest_dir=str(backups), prefix="full"), name="archive")
    assert made["changed"] and not made.get("failed"), made

    listing = tmp_path / "after.txt"
    wrapper = ["unshare", "-m", "--", "sh", "-c", PREPARE_AND_RUN % listing, str(root)]
    result = ansible.run(MODULE, dict(state="restore", path=made["path"]), name="restore-full", wrapper=wrapper)
    msg = failed(result, "is full (ENOSPC", str(root / "var/lib"), "Nothing was changed", FIX)
    assert "Wrote only" not in msg.split(FIX)[0], msg
    assert listing.read_text().splitlines() == [
        ".", "./etc", "./etc/vaulthalla", "./etc/vaulthalla/keep.txt", "./var", "./var/lib",
        "./var/lib/vaulthalla", "./var/lib/vaulthalla/keep.txt", "old config", "old state"]


def test_the_next_archive_removes_a_killed_runs_partial_but_not_a_live_one(ansible, tmp_path):
    root = tmp_path / "root"
    (root / "etc/vaulthalla").mkdir(parents=True)
    (root / "etc/vaulthalla/config.yaml").write_text("database: vaulthalla\n")
    dest = tmp_path / "backups"
    dest.mkdir()
    stale = dest / ".host-config-20261121-101500.tar.zst.k3j9x_2a.partial"
    stale.write_bytes(b"half an archive of sealed keys")
    live = dest / ".host-config-20261121-101501.tar.zst.q8m2zz01.partial"
    live.write_bytes(b"being written by a run that is alive")
    with open(str(live), "rb") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)  # what a live writer holds
        args = dict(paths=[str(root / "etc/vaulthalla")], root=str(root), dest_dir=str(dest), prefix="next")
        planned = ansible.run(MODULE, args, check_mode=True, name="plan")
        assert planned["removed_stale_partials"] == [stale.name] and stale.exists()
        made = ansible.run(MODULE, args, name="archive")
        assert made["changed"] and not made.get("failed"), made
        assert made["removed_stale_partials"] == [stale.name]
    assert sorted(p.name for p in dest.iterdir()) == sorted(
        [live.name, os.path.basename(made["path"]), os.path.basename(made["manifest"])])

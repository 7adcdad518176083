"""Partials of killed runs are swept by the next run; partials of live runs are never touched."""

import fcntl
import os
import time

from ansible_collections.vaultops.recovery.plugins.module_utils.common import atomic_file
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import (
    AtomicFile, PartialDir, stale_partials, sweep_stale_partials)

KILLED_FILE = ".wallet-backup-20261121-101500.dump.k3j9x_2a.partial"
KILLED_DIR = ".wallet-backup-20261121-101500.dir.q8m2zz01.partial"


def leave_killed_run_behind(directory):
    """What a SIGKILLed writer leaves: a partial file and a partial directory nobody holds."""
    with open(os.path.join(directory, KILLED_FILE), "wb") as handle:
        handle.write(b"half a dump")
    os.makedirs(os.path.join(directory, KILLED_DIR, "archive"))
    with open(os.path.join(directory, KILLED_DIR, "archive", "toc.dat"), "wb") as handle:
        handle.write(b"toc")


def test_stale_partials_are_removed_and_reported(tmp_path):
    leave_killed_run_behind(str(tmp_path))
    assert stale_partials(str(tmp_path)) == [KILLED_DIR, KILLED_FILE]  # what check mode reports
    assert sorted(os.listdir(str(tmp_path))) == [KILLED_DIR, KILLED_FILE], "reporting changes nothing"
    assert sweep_stale_partials(str(tmp_path)) == [KILLED_DIR, KILLED_FILE]
    assert os.listdir(str(tmp_path)) == []


def test_partials_held_by_a_live_run_are_never_removed(tmp_path):
    leave_killed_run_behind(str(tmp_path))
    with AtomicFile(str(tmp_path / "live.dump")) as live_file, PartialDir(str(tmp_path), "live.dir") as live_dir:
        live_file.write(b"being written")
        assert sweep_stale_partials(str(tmp_path)) == [KILLED_DIR, KILLED_FILE]
        assert stale_partials(str(tmp_path)) == []
        assert sorted(os.listdir(str(tmp_path))) == sorted(
            [os.path.basename(live_file.temp_path), os.path.basename(live_dir.path)])
        live_file.commit()
    assert os.listdir(str(tmp_path)) == ["live.dump"]


def test_a_partial_locked_by_another_process_is_kept(tmp_path):
    path = str(tmp_path / KILLED_FILE)
    open(path, "wb").close()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the other run: holds the lock until told to stop
        fd = os.open(path, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.close(reader)
        os.write(writer, b"x")
        time.sleep(30)  # killed by the test long before
        os._exit(0)
    os.close(writer)
    os.read(reader, 1)
    try:
        assert sweep_stale_partials(str(tmp_path)) == []
        assert os.path.exists(path)
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    # The lock died with its holder: now it is stale.
    assert sweep_stale_partials(str(tmp_path)) == [KILLED_FILE]


def test_only_our_hidden_partial_names_are_swept(tmp_path):
    keep = ["wallet.dump", "wallet.dump.partial", ".wallet.dump.partial", ".wallet.dump.TOO_SHORT.partial",
            ".wallet.dump.ABCDEFGH.partial", "x.k3j9x_2a.partial"]
    for name in keep:
        open(os.path.join(str(tmp_path), name), "wb").close()
    os.symlink("/etc/passwd", os.path.join(str(tmp_path), ".link.k3j9x_2a.partial"))
    assert sweep_stale_partials(str(tmp_path)) == []
    assert sorted(os.listdir(str(tmp_path))) == sorted(keep + [".link.k3j9x_2a.partial"])


def test_a_writer_whose_new_partial_was_swept_before_its_lock_takes_another(tmp_path, monkeypatch):
    made = []
    real_mkstemp = atomic_file.tempfile.mkstemp

    def mkstemp_swept_once(**kwargs):
        fd, path = real_mkstemp(**kwargs)
        made.append(path)
        if len(made) == 1:
            sweep_stale_partials(str(tmp_path))  # another run sweeps in the instant before our flock
        return fd, path

    monkeypatch.setattr(atomic_file.tempfile, "mkstemp", mkstemp_swept_once)
    fd, path = atomic_file.new_partial_file(str(tmp_path), "a.dump")
    try:
        assert len(made) == 2 and path == made[1] and os.path.exists(path)
        assert os.fstat(fd).st_nlink == 1
    finally:
        os.close(fd)

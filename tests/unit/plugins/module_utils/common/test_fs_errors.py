"""Full and read-only file systems are named as such, with the directory, by every writer."""

import errno
import os

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common import atomic_file, fs_errors
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import check_writable_directory
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError


@pytest.mark.parametrize("stderr, state", [
    ("tar: var/lib/vaulthalla/big.bin: Wrote only 7168 of 10240 bytes", "is full (ENOSPC"),
    ("pg_dump: error: could not write to output file: No space left on device", "is full (ENOSPC"),
    ("tar: etc: Cannot mkdir: Read-only file system", "is mounted read-only (EROFS"),
    ("gzip: stdout: Disk quota exceeded", "disk quota (EDQUOT"),
])
def test_tool_messages_are_classified(stderr, state):
    error = fs_errors.from_stderr(stderr, "/srv/restore", "extracting x failed", "Nothing was changed.")
    assert state in error.message and "/srv/restore" in error.message and "Nothing was changed." in error.message
    assert "Wrote only" not in error.message, "the tool's symptom is replaced by its cause"
    assert error.fix


def test_other_failures_are_left_to_the_caller():
    assert fs_errors.from_stderr("tar: Cannot change ownership", "/x", "a", "b") is None
    assert fs_errors.from_oserror(OSError(errno.EACCES, "Permission denied"), "/x", "a", "b") is None


def test_read_only_fix_says_permissions_do_not_help():
    error = fs_errors.from_oserror(OSError(errno.EROFS, "Read-only file system"), "/mnt/ro", "Cannot create x",
                                   "Nothing was written.")
    assert "read-only (EROFS" in str(error) and "remount" in error.fix and "become do not help" in error.fix


class _ReadOnly(object):
    f_flag = os.ST_RDONLY


def test_read_only_destination_is_named_before_the_permission_check(tmp_path, monkeypatch):
    monkeypatch.setattr(fs_errors.os, "statvfs", lambda _path: _ReadOnly())
    monkeypatch.setattr(atomic_file.os, "access", lambda *_args: False)  # what access(W_OK) says on a ro mount
    with pytest.raises(RecoveryError) as info:
        check_writable_directory(str(tmp_path))
    assert "read-only (EROFS" in str(info.value) and str(tmp_path) in str(info.value)
    assert "not writable by the user" not in str(info.value)


def test_a_full_disk_while_writing_names_enospc_and_the_directory(tmp_path, monkeypatch):
    def full(_fd, _data):
        raise OSError(errno.ENOSPC, "No space left on device")
    out = atomic_file.AtomicFile(str(tmp_path / "a.dump"))
    monkeypatch.setattr(atomic_file.os, "write", full)
    with pytest.raises(RecoveryError) as info:
        with out:
            out.write(b"x")
    assert "is full (ENOSPC" in str(info.value) and str(tmp_path) in str(info.value)
    assert os.listdir(str(tmp_path)) == []

import errno
import hashlib
import os

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common import atomic_file
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import (
    AtomicFile, check_writable_directory, sha256_tree, write_json_atomic)
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError


def partials(directory):
    return [name for name in os.listdir(directory) if name.endswith(".partial")]


def test_commit_publishes_with_mode_and_streamed_checksum(tmp_path):
    target = tmp_path / "a.dump"
    data = os.urandom(3 * 1024 * 1024 + 7)
    with AtomicFile(str(target)) as out:
        out.write(data[:1000])
        assert not target.exists(), "nothing may be visible before commit"
        out.write(data[1000:])
        out.commit()
    assert target.read_bytes() == data
    assert out.sha256 == hashlib.sha256(data).hexdigest()
    assert out.size == len(data)
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert partials(tmp_path) == []


def test_exception_discards_partial_file(tmp_path):
    target = tmp_path / "b.dump"
    with pytest.raises(ValueError):
        with AtomicFile(str(target)) as out:
            out.write(b"half")
            raise ValueError("boom")
    assert not target.exists()
    assert partials(tmp_path) == []


def test_never_overwrites_existing_file(tmp_path):
    target = tmp_path / "c.dump"
    target.write_bytes(b"precious")
    with pytest.raises(RecoveryError, match="already exists"):
        with AtomicFile(str(target)) as out:
            out.write(b"new")
            out.commit()
    assert target.read_bytes() == b"precious"
    assert partials(tmp_path) == []


def test_disk_full_is_one_clear_error_and_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "d.dump"
    real_write = os.write
    calls = {"n": 0}

    def failing_write(fd, data):
        calls["n"] += 1
        if calls["n"] > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(atomic_file.os, "write", failing_write)
    with pytest.raises(RecoveryError) as info:
        with AtomicFile(str(target)) as out:
            out.write(b"x" * 10)
            out.write(b"y" * 10)
    assert "No space left" in str(info.value)
    assert "Fix:" in str(info.value)
    monkeypatch.undo()
    assert not target.exists()
    assert partials(tmp_path) == []


def test_write_json_atomic_and_tree(tmp_path):
    write_json_atomic(str(tmp_path / "m.json"), {"b": 1, "a": [1, 2]})
    assert (tmp_path / "m.json").read_text().startswith("{\n  \"a\"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x").write_bytes(b"abc")
    tree = sha256_tree(str(tmp_path / "sub"))
    assert tree == {"x": {"sha256": hashlib.sha256(b"abc").hexdigest(), "size": 3}}


def test_check_writable_directory(tmp_path, monkeypatch):
    with pytest.raises(RecoveryError, match="does not exist.*Fix: create it"):
        check_writable_directory(str(tmp_path / "missing"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(RecoveryError, match="is not a directory"):
        check_writable_directory(str(tmp_path / "file"))
    monkeypatch.setattr(atomic_file.os, "access", lambda path, mode: False)
    with pytest.raises(RecoveryError, match="not writable"):
        check_writable_directory(str(tmp_path))

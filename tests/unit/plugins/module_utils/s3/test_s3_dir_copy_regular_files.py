"""A directory copy holds regular files only: bodies are never read through links, FIFOs or devices."""

import hashlib
import os

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.regular_file import (
    kind_of, not_regular, open_below, require_regular, sha256_below)
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_dir_copy import DirectoryCopyReader
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_object_path import storage_path

OUTSIDE = b"secret content from outside the copy"


def _entry(key, body):
    return dict(key=key, version_id="v1", path=storage_path(key, "v1"), size=len(body),
                sha256=hashlib.sha256(body).hexdigest())


@pytest.fixture
def copy(tmp_path):
    """A copy directory with one good body, and a file outside it whose digest an edited index could carry."""
    root = tmp_path / "copy"
    good = _entry("good", b"good body")
    target = root.joinpath(*good["path"].split("/"))
    target.parent.mkdir(parents=True)
    target.write_bytes(b"good body")
    outside = tmp_path / "outside"
    outside.write_bytes(OUTSIDE)
    return root, good, outside


def _place_link(root, entry, outside):
    path = root.joinpath(*entry["path"].split("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(str(outside), str(path))
    return path


def test_a_regular_body_is_read(copy):
    root, good, _outside = copy
    reader = DirectoryCopyReader(str(root))
    assert reader.check(good) is None
    assert reader.strays([good]) == []
    with reader.open_body(good) as body:
        assert body.read() == b"good body"


def test_a_linked_body_is_refused_even_when_the_index_matches_its_target(copy):
    root, good, outside = copy
    linked = _entry("linked", OUTSIDE)  # the index edited to the outside file's size and digest
    _place_link(root, linked, outside)
    reader = DirectoryCopyReader(str(root))
    problem = reader.check(linked)
    assert problem and "is a symbolic link, not a regular file" in problem and linked["path"] in problem
    assert any(linked["path"] + " is a symbolic link" in stray for stray in reader.strays([good, linked]))
    with pytest.raises(RecoveryError, match="symbolic link"):
        reader.open_body(linked)


def test_a_linked_parent_directory_is_refused(copy, tmp_path):
    root, good, outside = copy
    elsewhere = tmp_path / "elsewhere"
    entry = _entry("through-dir", OUTSIDE)
    fan_out = entry["path"].split("/")[1]
    elsewhere.mkdir()
    elsewhere.joinpath(entry["path"].split("/")[2]).write_bytes(OUTSIDE)
    os.symlink(str(elsewhere), str(root / "objects" / fan_out))
    reader = DirectoryCopyReader(str(root))
    problem = reader.check(entry)
    assert problem and "objects/%s is a symbolic link" % fan_out in problem
    assert "objects/%s is a symbolic link, not a regular file" % fan_out in reader.strays([good, entry])
    with pytest.raises(RecoveryError, match="symbolic link"):
        reader.open_body(entry)


def test_fifo_and_directory_in_place_of_a_body_are_refused_without_blocking(copy):
    root, good, _outside = copy
    fifo, directory = _entry("fifo", b""), _entry("dir", b"")
    for entry in (fifo, directory):
        root.joinpath(*entry["path"].split("/")).parent.mkdir(exist_ok=True)
    os.mkfifo(str(root.joinpath(*fifo["path"].split("/"))))
    root.joinpath(*directory["path"].split("/")).mkdir()
    reader = DirectoryCopyReader(str(root))
    assert "is a FIFO, not a regular file" in reader.check(fifo)
    assert "is a directory, not a regular file" in reader.check(directory)
    strays = reader.strays([good, fifo, directory])
    assert fifo["path"] + " is a FIFO, not a regular file" in strays
    assert directory["path"] + " is a directory, not a regular file" in strays


def test_objects_itself_must_be_a_directory(copy, tmp_path):
    root, good, _outside = copy
    os.rename(str(root / "objects"), str(tmp_path / "moved"))
    os.symlink(str(tmp_path / "moved"), str(root / "objects"))
    reader = DirectoryCopyReader(str(root))
    assert reader.strays([good]) == ["objects is a symbolic link, not a directory"]
    assert "objects is a symbolic link" in reader.check(good)


def test_a_linked_index_is_refused(copy):
    root, _good, outside = copy
    os.symlink(str(outside), str(root / "index.json"))
    with pytest.raises(RecoveryError, match="index.json is a symbolic link"):
        open_below(str(root), "index.json")


def test_kinds_and_require_regular(tmp_path):
    plain, link = tmp_path / "plain", tmp_path / "link"
    plain.write_bytes(b"x")
    os.symlink(str(plain), str(link))
    assert not_regular(str(plain)) is None and not_regular(str(tmp_path / "missing")) is None
    assert not_regular(str(link)) == "%s is a symbolic link, not a regular file" % link
    assert kind_of(os.lstat("/dev/null").st_mode) == "a character device"
    with pytest.raises(RecoveryError) as caught:
        require_regular(str(tmp_path))
    assert "is a directory" in caught.value.message and "regular files only" in caught.value.fix
    assert sha256_below(str(tmp_path), "plain") == (hashlib.sha256(b"x").hexdigest(), 1)

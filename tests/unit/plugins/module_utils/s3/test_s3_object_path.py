"""Storage paths of a directory copy: keys are never paths, and an index cannot point outside the copy."""

import os

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_object_path import checked_path, storage_path

HOSTILE_KEYS = ["../../etc/passwd", "/etc/shadow", "a/../../b", ".", "..", "", "x\x00y", "dir/", "a\nb",
                "quote\"'", "ü✓🔐", "\\windows\\path", "~root", "-rf"]


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_every_key_maps_to_a_fixed_shape_path(key):
    path = storage_path(key, "v1")
    parts = path.split("/")
    assert parts[0] == "objects" and len(parts) == 3
    assert len(parts[1]) == 2 and len(parts[2]) == 64 and parts[2].startswith(parts[1])
    assert set(parts[2]) <= set("0123456789abcdef")


def test_paths_are_stable_and_distinct():
    assert storage_path("k", "v") == storage_path("k", "v")
    paths = {storage_path(key, version) for key in ("a", "ab", "b") for version in ("c", "bc", "null", None)}
    assert len(paths) == 12
    # Length prefixes: moving a character between key and version changes the path.
    assert storage_path("ab", "c") != storage_path("a", "bc")
    assert storage_path("k", None) != storage_path("k", "null")


def test_checked_path_accepts_only_what_storage_path_makes(tmp_path):
    root = str(tmp_path)
    good = storage_path("k", "v")
    assert checked_path(root, good, "k", "v") == os.path.join(root, *good.split("/"))
    for bad in ["../x", "/etc/passwd", "objects/../../x", "objects/aa/" + "b" * 64, "objects/" + "a" * 64,
                good + "/..", None, 7, good.upper()]:
        with pytest.raises(RecoveryError, match="not a path this module writes"):
            checked_path(root, bad)
    with pytest.raises(RecoveryError, match="not where it belongs"):
        checked_path(root, good, "other", "v")

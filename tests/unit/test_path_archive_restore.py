"""path_restorer in-process: owner mapping, the staged-tree check, and rollback when a step fails midway."""

import json
import os
import shutil

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils import (
    dir_swap, path_archiver, path_restorer, path_tar)
from ansible_collections.vaultops.recovery.plugins.module_utils.errors import RecoveryError

pytestmark = pytest.mark.skipif(not shutil.which("zstd"), reason="needs zstd")


def tools():
    return path_tar.Tools(shutil.which)


def snapshot(root):
    """{relative path: (type, mode, uid, gid, content or link target)} of everything below root."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if os.path.islink(path):
                body = os.readlink(path)
            elif os.path.isdir(path):
                body = None
            else:
                with open(path, "rb") as handle:
                    body = handle.read()
            found[os.path.relpath(path, root)] = (st.st_mode, st.st_uid, st.st_gid, body)
    return found


@pytest.fixture
def archived(tmp_path):
    root = tmp_path / "root"
    for rel in ("etc/vh", "var/lib/vh/.sealed_psql.blob"):
        (root / rel).mkdir(parents=True)
    (root / "etc/vh/config.yaml").write_text("database:\n  host: localhost\n")
    (root / "var/lib/vh/.sealed_psql.blob/psql.priv").write_bytes(os.urandom(64))
    os.chmod(str(root / "var/lib/vh/.sealed_psql.blob"), 0o700)
    dest = tmp_path / "dest"
    dest.mkdir()
    params = dict(paths=[str(root / "etc/vh"), str(root / "var/lib/vh")], root=str(root), dest_dir=str(dest),
                  compressor="zstd", compress_level=None, threads=0, exclude=[], prefix="unit")
    result = path_archiver.archive(tools(), params, False)
    (root / "etc/vh/config.yaml").write_text("changed after the backup\n")
    (root / "var/lib/vh/new-file").write_text("also new\n")
    return dict(root=str(root), path=result["path"], before=snapshot(str(root)))


def restore_params(archived, **extra):
    params = dict(path=archived["path"], manifest=None, root=None, owners="numeric", keep_safety_copy=True)
    params.update(extra)
    return params


def test_owner_mapping():
    manifest = dict(owners=dict(users={"4242": "nobody", "0": "root", "77": "no-such-user-here"},
                                groups={"4242": "nogroup"}))
    uids, gids = path_restorer.owner_mapping(manifest, True)
    assert uids == {4242: 65534} and gids == {4242: 65534}
    assert path_restorer.owner_mapping(manifest, False) == ({}, {})


def test_staged_differences(tmp_path):
    staging = tmp_path / "s"
    staging.mkdir()
    (staging / "f").write_text("abc")
    os.chmod(str(staging / "f"), 0o600)
    os.symlink("f", str(staging / "l"))
    st = os.stat(str(staging))
    mtime = "1970-01-01 00:00:00"
    members = {".": dict(type="dir", mode="%04o" % (st.st_mode & 0o7777), uid=0, gid=0, size=0, mtime=mtime),
               "f": dict(type="file", mode="0644", uid=0, gid=0, size=4, mtime=mtime),
               "l": dict(type="symlink", mode="0777", uid=0, gid=0, size=0, mtime=mtime, target="g"),
               "gone": dict(type="file", mode="0644", uid=0, gid=0, size=0, mtime=mtime)}
    found = path_restorer.staged_differences(str(staging), members, {}, {})
    assert "'.' differs (mtime)" in found
    assert "'f' differs (mode, size, mtime)" in found
    assert "'l' differs (link target)" in found
    assert "missing 'gone'" in found


def test_restore_replaces_both_paths_and_keeps_safety_copies(archived):
    result = path_restorer.restore(tools(), restore_params(archived), False)
    assert result["changed"] and len(result["safety_copies"]) == 2
    with open(os.path.join(archived["root"], "etc/vh/config.yaml")) as handle:
        assert handle.read() == "database:\n  host: localhost\n"
    assert not os.path.exists(os.path.join(archived["root"], "var/lib/vh/new-file"))
    assert os.path.exists(os.path.join(result["safety_copies"][1], "new-file"))


def test_failure_while_staging_the_second_path_changes_nothing(archived, monkeypatch):
    real = path_restorer.run_pipeline
    calls = []

    def failing(stages, **kwargs):
        calls.append(stages)
        if len(calls) == 2:
            raise path_restorer.StageFailure(stages[-1], 2, "tar: simulated: No space left on device\n")
        return real(stages, **kwargs)

    monkeypatch.setattr(path_restorer, "run_pipeline", failing)
    with pytest.raises(RecoveryError) as caught:
        path_restorer.restore(tools(), restore_params(archived), False)
    assert "var/lib/vh" in str(caught.value) and "Nothing was changed" in str(caught.value)
    assert "free space" in str(caught.value)
    assert snapshot(archived["root"]) == archived["before"]  # no staging directory left either


def test_failed_swap_rolls_back_the_paths_already_swapped(archived, monkeypatch):
    real = dir_swap.swap_in
    calls = []

    def failing(staging, target, safety_base):
        calls.append(target)
        if len(calls) == 2:
            raise RecoveryError("moving %s aside failed: Operation not permitted." % target)
        return real(staging, target, safety_base)

    monkeypatch.setattr(dir_swap, "swap_in", failing)
    with pytest.raises(RecoveryError) as caught:
        path_restorer.restore(tools(), restore_params(archived), False)
    message = str(caught.value)
    assert "already restored were put back" in message and "The host is as it was" in message
    assert snapshot(archived["root"]) == archived["before"]


def test_failed_rollback_names_the_safety_copies(archived, monkeypatch):
    real = dir_swap.swap_in
    calls = []

    def failing(staging, target, safety_base):
        calls.append(target)
        if len(calls) == 2:
            raise RecoveryError("simulated")
        return real(staging, target, safety_base)

    def broken_roll_back(target, safety, discard):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(dir_swap, "swap_in", failing)
    monkeypatch.setattr(dir_swap, "roll_back", broken_roll_back)
    with pytest.raises(RecoveryError) as caught:
        path_restorer.restore(tools(), restore_params(archived), False)
    assert "mixed state" in str(caught.value) and ".pre-restore-" in str(caught.value)


def test_archive_rewritten_during_restore_is_noticed(archived, monkeypatch):
    real = path_restorer.run_pipeline

    def extract_then_touch(stages, **kwargs):
        output = real(stages, **kwargs)
        os.utime(archived["path"], (1, 1))
        return output

    monkeypatch.setattr(path_restorer, "run_pipeline", extract_then_touch)
    with pytest.raises(RecoveryError, match="changed while it was restored"):
        path_restorer.restore(tools(), restore_params(archived), False)
    assert snapshot(archived["root"]) == archived["before"]


def test_restore_into_another_root_and_without_safety_copy(archived, tmp_path):
    other = tmp_path / "elsewhere"
    (other / "etc").mkdir(parents=True)
    (other / "var/lib").mkdir(parents=True)
    result = path_restorer.restore(tools(), restore_params(archived, root=str(other), keep_safety_copy=False), False)
    assert result["safety_copies"] == [] and [target["existed"] for target in result["targets"]] == [False, False]
    assert (other / "var/lib/vh/.sealed_psql.blob/psql.priv").exists()
    assert sorted(os.listdir(str(other / "etc"))) == ["vh"]


def test_targets_are_checked_before_anything(archived, tmp_path):
    root = archived["root"]
    shutil.rmtree(os.path.join(root, "etc/vh"))
    os.symlink("/tmp", os.path.join(root, "etc/vh"))
    with pytest.raises(RecoveryError, match="symbolic link"):
        path_restorer.restore(tools(), restore_params(archived), False)
    os.unlink(os.path.join(root, "etc/vh"))
    open(os.path.join(root, "etc/vh"), "w").close()
    with pytest.raises(RecoveryError, match="not a directory"):
        path_restorer.restore(tools(), restore_params(archived), False)
    with pytest.raises(RecoveryError, match="root .* is not an existing directory"):
        path_restorer.restore(tools(), restore_params(archived, root=str(tmp_path / "missing")), False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(RecoveryError, match="parent directory"):
        path_restorer.restore(tools(), restore_params(archived, root=str(tmp_path / "empty")), False)
    assert os.listdir(str(tmp_path / "empty")) == []


def test_owners_by_name_maps_ids_that_differ_here(tmp_path):
    """An ID that had a name on the source host gets this host's ID for that name."""
    root = tmp_path / "root"
    (root / "state/sub").mkdir(parents=True)
    (root / "state/sub/key.priv").write_bytes(b"k")
    for path in ("state/sub/key.priv", "state/sub"):
        os.chown(str(root / path), 4242, 4343)
    dest = tmp_path / "dest"
    dest.mkdir()
    made = path_archiver.archive(tools(), dict(paths=[str(root / "state")], root=str(root), dest_dir=str(dest),
                                               compressor="none", exclude=[], prefix="owners"), False)
    with open(made["manifest"]) as handle:
        manifest = json.load(handle)
    assert manifest["owners"]["users"].get("4242") is None  # no name for 4242 on this host
    manifest["owners"] = dict(users={"4242": "nobody"}, groups={"4343": "nogroup"})
    with open(made["manifest"], "w") as handle:
        json.dump(manifest, handle)
    numeric = path_restorer.restore(tools(), dict(path=made["path"], owners="numeric"), False)
    assert numeric["owners_remapped"] == dict(users={}, groups={}, entries=0)
    assert os.stat(str(root / "state/sub/key.priv")).st_uid == 4242
    mapped = path_restorer.restore(tools(), dict(path=made["path"], owners="by_name", keep_safety_copy=False), False)
    assert mapped["owners_remapped"] == dict(users={"4242": 65534}, groups={"4343": 65534}, entries=2)
    for path in ("state/sub/key.priv", "state/sub"):
        st = os.stat(str(root / path))
        assert (st.st_uid, st.st_gid) == (65534, 65534)

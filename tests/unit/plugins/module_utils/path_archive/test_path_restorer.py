"""path_restorer in-process: owner mapping, the staged-tree check, and rollback when a step fails midway."""

import hashlib
import json
import os
import shutil
import stat
import subprocess

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common import dir_swap
from ansible_collections.vaultops.recovery.plugins.module_utils.path_archive import path_archiver, path_restorer, path_tar, path_verifier
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

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


def make_archive(tmp_path, compressor):
    root = tmp_path / "root"
    for rel in ("etc/vh", "var/lib/vh/.sealed_psql.blob"):
        (root / rel).mkdir(parents=True)
    (root / "etc/vh/config.yaml").write_text("database:\n  host: localhost\n")
    blob = os.urandom(64)
    (root / "var/lib/vh/.sealed_psql.blob/psql.priv").write_bytes(blob)
    (root / "var/lib/vh/bodies.bin").write_bytes(os.urandom(256 * 1024))
    os.chmod(str(root / "var/lib/vh/.sealed_psql.blob"), 0o700)
    dest = tmp_path / "dest"
    dest.mkdir()
    params = dict(paths=[str(root / "etc/vh"), str(root / "var/lib/vh")], root=str(root), dest_dir=str(dest),
                  compressor=compressor, compress_level=None, threads=0, exclude=[], prefix="unit")
    result = path_archiver.archive(tools(), params, False)
    (root / "etc/vh/config.yaml").write_text("changed after the backup\n")
    (root / "var/lib/vh/new-file").write_text("also new\n")
    return dict(root=str(root), path=result["path"], before=snapshot(str(root)), blob=blob)


@pytest.fixture
def archived(tmp_path):
    return make_archive(tmp_path, "zstd")


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
    """The one tar run stages both paths, then fails (a full disk at the end): staging goes, nothing else moves."""
    real = path_restorer.run_pipeline

    def failing(stages, **kwargs):
        real(stages, **kwargs)
        staged = [name for name in os.listdir(os.path.join(archived["root"], "var/lib")) if ".restore-" in name]
        assert staged, "both paths should be staged before the failure"
        raise path_restorer.StageFailure(stages[-1], 2, "tar: simulated: No space left on device\n")

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


def _manifest_of(archived):
    with open(archived["path"] + ".manifest.json") as handle:
        return json.load(handle)


def _write_manifest(archived, manifest):
    with open(archived["path"] + ".manifest.json", "w") as handle:
        json.dump(manifest, handle)


def _rewrite_archive(archived, change):
    with open(archived["path"], "rb") as handle:
        data = bytearray(handle.read())
    data = change(data)
    with open(archived["path"], "wb") as handle:
        handle.write(data)
    return bytes(data)


def _staging_left(root):
    return [os.path.join(parent, name) for parent in ("etc", "var/lib")
            for name in os.listdir(os.path.join(root, parent)) if ".restore-" in name]


@pytest.fixture
def counted_reads(monkeypatch):
    """Every pipeline the restorer runs; a separate hashing or listing pass fails the test."""
    real = path_restorer.run_pipeline
    runs = []

    def counting(stages, **kwargs):
        runs.append(stages)
        return real(stages, **kwargs)

    def no_second_pass(*_args, **_kwargs):
        raise AssertionError("the archive was read a second time")

    monkeypatch.setattr(path_restorer, "run_pipeline", counting)
    monkeypatch.setattr(path_verifier, "sha256_file", no_second_pass)
    monkeypatch.setattr(path_verifier, "list_archive", no_second_pass)
    return runs


def test_multiple_targets_are_restored_in_one_pass(archived, counted_reads):
    result = path_restorer.restore(tools(), restore_params(archived), False)
    assert len(counted_reads) == 1
    zstd, tar = counted_reads[0]
    assert zstd[-1] == "-c"  # zstd reads what Python feeds it, not the file
    placements = [arg for arg in tar if arg.startswith(("--directory=", "--add-file="))]
    assert [arg for arg in placements if arg.startswith("--add-file=")] == ["--add-file=etc/vh",
                                                                            "--add-file=var/lib/vh"]
    for target, directory in zip(("etc/vh", "var/lib/vh"), placements[::2]):
        assert os.path.dirname(directory[len("--directory="):]) == os.path.dirname(
            os.path.join(archived["root"], target))  # each path is staged beside itself
    with open(archived["path"], "rb") as handle:
        assert result["sha256"] == hashlib.sha256(handle.read()).hexdigest()
    assert result["member_count"] == len(_manifest_of(archived)["members"])
    assert [target["path"] for target in result["targets"]] == [
        os.path.join(archived["root"], rel) for rel in ("etc/vh", "var/lib/vh")]
    with open(os.path.join(archived["root"], "var/lib/vh/.sealed_psql.blob/psql.priv"), "rb") as handle:
        assert handle.read() == archived["blob"]
    assert stat.S_IMODE(os.stat(os.path.join(archived["root"], "var/lib/vh/.sealed_psql.blob")).st_mode) == 0o700
    assert _staging_left(archived["root"]) == []


@pytest.mark.parametrize("compressor", ["zstd", "none"])
def test_flipped_byte_is_caught_and_targets_stay(tmp_path, compressor):
    """With compressor none tar extracts the damaged bytes without complaint: only the SHA-256 at the end sees it."""
    archived = make_archive(tmp_path, compressor)

    def flip(data):
        data[len(data) // 2] ^= 0x01
        return data

    _rewrite_archive(archived, flip)
    with pytest.raises(RecoveryError, match="fails its checksum .*corrupt. Nothing was changed"):
        path_restorer.restore(tools(), restore_params(archived), False)
    assert snapshot(archived["root"]) == archived["before"]
    assert _staging_left(archived["root"]) == []


def test_truncated_archive_is_refused_before_it_is_read(archived, counted_reads):
    _rewrite_archive(archived, lambda data: data[:len(data) - 100])
    with pytest.raises(RecoveryError, match="truncated or was changed. Nothing was changed"):
        path_restorer.restore(tools(), restore_params(archived), False)
    assert counted_reads == []
    assert snapshot(archived["root"]) == archived["before"]


def test_truncated_archive_with_an_agreeing_manifest_is_caught_by_zstd(archived):
    data = _rewrite_archive(archived, lambda data: data[:len(data) // 2])
    _write_manifest(archived, dict(_manifest_of(archived), size=len(data), sha256=hashlib.sha256(data).hexdigest()))
    with pytest.raises(RecoveryError, match="cannot be read to the end by zstd .*corrupt or truncated"):
        path_restorer.restore(tools(), restore_params(archived), False)
    assert snapshot(archived["root"]) == archived["before"]
    assert _staging_left(archived["root"]) == []


@pytest.mark.parametrize("change, expected", [
    ("mode", "'var/lib/vh/.sealed_psql.blob/psql.priv' differs (mode)"),
    ("drop", "unexpected 'var/lib/vh/.sealed_psql.blob/psql.priv'"),
    ("add", "missing 'var/lib/vh/lost.state'"),
])
def test_listing_of_the_extracting_tar_must_match_the_manifest(archived, change, expected):
    """The digest matches (same archive) but the manifest's members do not: tar's own -vv listing tells."""
    manifest = _manifest_of(archived)
    members = manifest["members"]
    index = [member["path"] for member in members].index("var/lib/vh/.sealed_psql.blob/psql.priv")
    if change == "mode":
        members[index] = dict(members[index], mode="0600" if members[index]["mode"] != "0600" else "0640")
    elif change == "drop":
        del members[index]
    else:
        members.append(dict(members[index], path="var/lib/vh/lost.state"))
    manifest["member_count"] = len(members)
    _write_manifest(archived, manifest)
    with pytest.raises(RecoveryError) as caught:
        path_restorer.restore(tools(), restore_params(archived), False)
    assert "does not match its manifest" in str(caught.value) and expected in str(caught.value)
    assert "Nothing was changed" in str(caught.value)
    assert snapshot(archived["root"]) == archived["before"]
    assert _staging_left(archived["root"]) == []


def test_archive_member_outside_the_paths_is_not_extracted(archived, tmp_path):
    """A member of no archived path (appended, with a manifest that records the new digest) is skipped by tar."""
    plain = str(tmp_path / "plain.tar")
    with open(plain, "wb") as handle:
        subprocess.run(["zstd", "-q", "-d", "-c", archived["path"]], stdout=handle, check=True)
    (tmp_path / "planted").mkdir()
    (tmp_path / "planted/etc").mkdir()
    (tmp_path / "planted/etc/planted").write_text("planted\n")
    subprocess.run(["tar", "--append", "--file=%s" % plain, "--directory=%s" % (tmp_path / "planted"), "etc/planted"],
                   check=True)
    data = subprocess.run(["zstd", "-q", "-c", plain], stdout=subprocess.PIPE, check=True).stdout
    with open(archived["path"], "wb") as handle:
        handle.write(data)
    _write_manifest(archived, dict(_manifest_of(archived), size=len(data), sha256=hashlib.sha256(data).hexdigest()))
    path_restorer.restore(tools(), restore_params(archived), False)
    assert not os.path.exists(os.path.join(archived["root"], "etc/planted"))
    assert _staging_left(archived["root"]) == []

"""path_archive through ansible-playbook on real temporary trees: round trip, refusals, failures that change nothing.

Every task runs through the `ansible` fixture (the real executor). Trees live
below a temporary root, stored relative to it like ``tar -C /``. Nothing
waits by sleeping: the "file changed while read" case is made deterministic
by a compressor wrapper that changes a file while tar is blocked inside it.
"""

import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.path_archive import path_manifest, path_tar, path_verifier
MODULE = "vaultops.recovery.path_archive"
ODD_NAMES = ["with space.yaml", 'quote "double" and \'single\'.txt', "unicode ✓ été.json", "-dash", "tab\there"]

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("zstd"),
                                reason="needs root (owners) and zstd")


def snapshot(root, rels=("etc/vaulthalla", "var/lib/vaulthalla")):
    """{relative path: (type, mode, uid, gid, sha256 or link target, mtime)} for every entry of the trees."""
    found = {}
    for rel in rels:
        top = os.path.join(root, rel)
        if not os.path.lexists(top):
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            for path in [dirpath] + [os.path.join(dirpath, name) for name in dirnames + filenames]:
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    body = os.readlink(path)
                elif stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as handle:
                        body = hashlib.sha256(handle.read()).hexdigest()
                else:
                    body = None
                found[os.path.relpath(path, root)] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid,
                                                      st.st_gid, body, int(st.st_mtime))
    return found


def make_tree(root):
    etc = os.path.join(root, "etc/vaulthalla")
    state = os.path.join(root, "var/lib/vaulthalla")
    os.makedirs(etc)
    os.makedirs(state)
    with open(os.path.join(etc, "config.yaml"), "w") as handle:
        handle.write("database:\n  host: localhost\n  port: 5432\n  name: vaulthalla\n" * 20)
    for index, name in enumerate(ODD_NAMES):
        with open(os.path.join(etc, name), "wb") as handle:
            handle.write(os.urandom(100 + index))
    os.chmod(os.path.join(etc, "config.yaml"), 0o640)
    for key in ("psql", "master", "vault_master"):
        blob = os.path.join(state, ".sealed_%s.blob" % key)
        os.mkdir(blob, 0o700)
        for suffix in ("priv", "pub"):
            path = os.path.join(blob, "%s.%s" % (key, suffix))
            with open(path, "wb") as handle:
                handle.write(os.urandom(256))
            os.chmod(path, 0o600)
            os.chown(path, 65534, 65534)
        os.chown(blob, 65534, 65534)
    os.makedirs(os.path.join(state, "vaults/local 1/bodies"))
    with open(os.path.join(state, "vaults/local 1/bodies/ab12.enc"), "wb") as handle:
        handle.write(os.urandom(300000))
    os.chmod(os.path.join(state, "vaults"), 0o700)
    os.symlink(".sealed_psql.blob/psql.pub", os.path.join(state, "current psql key"))
    os.utime(os.path.join(etc, "config.yaml"), (1700000000, 1700000000))


@pytest.fixture
def tree(tmp_path):
    root = str(tmp_path / "root")
    dest = str(tmp_path / "backups")
    os.makedirs(dest)
    make_tree(root)
    return dict(root=root, dest=dest, paths=[os.path.join(root, "etc/vaulthalla"),
                                             os.path.join(root, "var/lib/vaulthalla")])


def archive_args(tree, **extra):
    args = dict(paths=tree["paths"], root=tree["root"], dest_dir=tree["dest"], prefix="itest")
    args.update(extra)
    return args


def failed(result, *fragments):
    assert result.get("failed"), result
    for fragment in fragments:
        assert fragment in result["msg"], result["msg"]
    assert "Fix:" in result["msg"], result["msg"]
    return result["msg"]


def standard_listing(path):
    """`zstd -dc x | tar -tvf -` with nothing from this collection."""
    zstd = subprocess.Popen(["zstd", "-dc", path], stdout=subprocess.PIPE)
    listing = subprocess.run(["tar", "-tvf", "-"], stdin=zstd.stdout, stdout=subprocess.PIPE, check=True)
    zstd.stdout.close()
    assert zstd.wait() == 0
    return listing.stdout.decode("utf-8", "replace")


def test_round_trip_check_mode_verify_wipe_restore(ansible, tree, tmp_path):
    before = snapshot(tree["root"])
    planned = ansible.run(MODULE, archive_args(tree), check_mode=True, name="archive-check")
    assert planned["changed"] and not planned.get("failed"), planned
    assert os.listdir(tree["dest"]) == []
    assert planned["file_count"] == len(ODD_NAMES) + 1 + 6 + 1
    assert planned["sealed_blobs"] == ["var/lib/vaulthalla/.sealed_%s.blob" % key
                                       for key in ("master", "psql", "vault_master")]
    assert "would archive" in planned["plan"]

    made = ansible.run(MODULE, archive_args(tree), name="archive")
    assert made["changed"] and not made.get("failed"), made
    assert (made["member_count"], made["file_count"], made["total_bytes"]) == (
        planned["member_count"], planned["file_count"], planned["total_bytes"])
    assert made["sealed_blobs"] == planned["sealed_blobs"]
    assert made["path"].endswith(".tar.zst") and os.path.basename(made["path"]).startswith("itest-config-state-")
    with open(made["path"], "rb") as handle:
        data = handle.read()
    assert hashlib.sha256(data).hexdigest() == made["sha256"] and len(data) == made["size"]
    for path in (made["path"], made["manifest"]):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sorted(os.listdir(tree["dest"])) == sorted(os.path.basename(p) for p in (made["path"], made["manifest"]))
    with open(made["manifest"]) as handle:
        manifest = json.load(handle)
    names = set(member["path"] for member in manifest["members"])
    assert "var/lib/vaulthalla/.sealed_psql.blob/psql.priv" in names
    assert "etc/vaulthalla/" + ODD_NAMES[1] in names
    priv = [m for m in manifest["members"] if m["path"].endswith("psql.priv")][0]
    assert (priv["mode"], priv["uid"], priv["gid"], priv["size"]) == ("0600", 65534, 65534, 256)
    assert manifest["owners"]["users"]["65534"] == "nobody"

    listing = standard_listing(made["path"])
    assert ".sealed_vault_master.blob/vault_master.priv" in listing and "current psql key ->" in listing

    verified = ansible.run(MODULE, dict(state="verify", path=made["path"]), name="verify")
    assert not verified["changed"] and verified["sha256"] == made["sha256"], verified
    assert verified["member_count"] == made["member_count"]

    for rel in ("etc/vaulthalla", "var/lib/vaulthalla"):
        shutil.rmtree(os.path.join(tree["root"], rel))
    planned = ansible.run(MODULE, dict(state="restore", path=made["path"]), check_mode=True, name="restore-check")
    assert planned["changed"] and "would verify" in planned["plan"], planned
    assert [target["existed"] for target in planned["targets"]] == [False, False]
    assert snapshot(tree["root"]) == {}

    restored = ansible.run(MODULE, dict(state="restore", path=made["path"]), name="restore")
    assert restored["changed"] and not restored.get("failed"), restored
    assert restored["safety_copies"] == []
    assert snapshot(tree["root"]) == before

    # Restoring over the live trees keeps them as safety copies, and the result is the same tree again.
    with open(os.path.join(tree["root"], "etc/vaulthalla/config.yaml"), "a") as handle:
        handle.write("# local edit\n")
    again = ansible.run(MODULE, dict(state="restore", path=made["path"]), name="restore-over")
    assert len(again["safety_copies"]) == 2, again
    assert snapshot(tree["root"]) == before
    with open(os.path.join(again["safety_copies"][0], "config.yaml")) as handle:
        assert handle.read().endswith("# local edit\n")

    # The standard tools alone restore the same tree.
    other = str(tmp_path / "plain-tools")
    os.makedirs(other)
    zstd = subprocess.Popen(["zstd", "-dc", made["path"]], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-C", other, "-xpf", "-"], stdin=zstd.stdout, check=True)
    zstd.stdout.close()
    assert zstd.wait() == 0
    assert snapshot(other) == before


def test_gzip_compressor_and_existing_name(ansible, tree):
    args = archive_args(tree, compressor="gzip", name_pattern="{prefix}-fixed.tgz")
    made = ansible.run(MODULE, args, name="gzip")
    assert made["path"].endswith("itest-fixed.tgz") and not made.get("failed"), made
    subprocess.run(["tar", "-tzf", made["path"]], check=True, stdout=subprocess.DEVNULL)
    assert ansible.run(MODULE, dict(state="verify", path=made["path"]), name="verify-gzip")["sha256"] == made["sha256"]
    again = ansible.run(MODULE, args, name="gzip-again")
    failed(again, "already exists; it was left untouched")
    assert len(os.listdir(tree["dest"])) == 2


def test_corrupt_and_truncated_archives_are_refused_before_touching(ansible, tree):
    made = ansible.run(MODULE, archive_args(tree), name="archive")
    with open(os.path.join(tree["root"], "etc/vaulthalla/config.yaml"), "a") as handle:
        handle.write("# edited after the backup\n")
    before = snapshot(tree["root"])
    with open(made["path"], "rb") as handle:
        good = handle.read()

    flipped = bytearray(good)
    flipped[len(flipped) // 2] ^= 0x01
    with open(made["path"], "wb") as handle:
        handle.write(flipped)
    failed(ansible.run(MODULE, dict(state="verify", path=made["path"]), name="verify-flipped"),
           "fails its checksum", "corrupt")
    failed(ansible.run(MODULE, dict(state="restore", path=made["path"]), name="restore-flipped"), "fails its checksum")
    assert snapshot(tree["root"]) == before

    # The same damage with a manifest that agrees (bit rot before the manifest was copied): zstd's checksum catches it.
    with open(made["manifest"]) as handle:
        manifest = json.load(handle)
    forged = dict(manifest, sha256=hashlib.sha256(bytes(flipped)).hexdigest())
    with open(made["manifest"], "w") as handle:
        json.dump(forged, handle)
    failed(ansible.run(MODULE, dict(state="restore", path=made["path"]), name="restore-forged"),
           "cannot be read to the end", "corrupt or truncated")
    assert snapshot(tree["root"]) == before

    with open(made["manifest"], "w") as handle:
        json.dump(manifest, handle)
    with open(made["path"], "wb") as handle:
        handle.write(good[:len(good) - 1000])
    failed(ansible.run(MODULE, dict(state="restore", path=made["path"]), name="restore-truncated"),
           "truncated", "Nothing was changed")
    assert snapshot(tree["root"]) == before
    assert not [name for name in os.listdir(os.path.join(tree["root"], "var/lib")) if name != "vaulthalla"]


def test_restore_failure_midway_leaves_the_old_trees(ansible, tree):
    made = ansible.run(MODULE, archive_args(tree), name="archive")
    os.unlink(os.path.join(tree["root"], "etc/vaulthalla/config.yaml"))
    with open(os.path.join(tree["root"], "var/lib/vaulthalla/newer.state"), "w") as handle:
        handle.write("state written after the backup\n")
    before = snapshot(tree["root"])
    second = os.path.join(tree["root"], "var/lib/vaulthalla")
    # An immutable directory cannot be renamed, even by root: the second swap fails after the first succeeded.
    if subprocess.run(["chattr", "+i", second], stderr=subprocess.DEVNULL, check=False).returncode != 0:
        pytest.skip("chattr +i is not supported here")
    try:
        result = ansible.run(MODULE, dict(state="restore", path=made["path"]), name="restore-immutable")
    finally:
        subprocess.run(["chattr", "-i", second], check=True)
    failed(result, "restoring %s failed" % second, "already restored were put back", "The host is as it was")
    assert snapshot(tree["root"]) == before
    for parent in ("etc", "var/lib"):
        leftovers = [name for name in os.listdir(os.path.join(tree["root"], parent)) if name != "vaulthalla"]
        assert leftovers == [], leftovers


def _crafted_archive(tree, tmp_path):
    """A zstd tar with a symbolic link out of its path, and a manifest that matches it exactly."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        directory = tarfile.TarInfo("var/lib/vaulthalla")
        directory.type, directory.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(directory)
        link = tarfile.TarInfo("var/lib/vaulthalla/escape")
        link.type, link.linkname = tarfile.SYMTYPE, "../../../../../etc"
        tar.addfile(link)
        body = b"root::0:0::/root:/bin/sh\n"
        member = tarfile.TarInfo("var/lib/vaulthalla/escape/passwd")
        member.size = len(body)
        tar.addfile(member, io.BytesIO(body))
    path = str(tmp_path / "crafted.tar.zst")
    with open(path, "wb") as handle:
        handle.write(subprocess.run(["zstd", "-q", "-c"], input=raw.getvalue(), stdout=subprocess.PIPE,
                                    check=True).stdout)
    tools = path_tar.Tools(shutil.which)
    entries = path_verifier.list_archive(tools, path, "zstd")
    request = dict(root=tree["root"], rel_paths=["var/lib/vaulthalla"], compressor="zstd", level=3, xattrs=False,
                   one_file_system=False, exclude=[])
    with open(path, "rb") as handle:
        data = handle.read()
    manifest = path_manifest.build("crafted.tar.zst", request, entries, len(data), hashlib.sha256(data).hexdigest(),
                                   "evil", {}, "s", "c", 0)
    with open(path + ".manifest.json", "w") as handle:
        json.dump(manifest, handle)
    return path


def test_unsafe_members_are_refused_before_touching(ansible, tree, tmp_path):
    before = snapshot(tree["root"])
    path = _crafted_archive(tree, tmp_path)
    for state in ("verify", "restore"):
        failed(ansible.run(MODULE, dict(state=state, path=path), name=state + "-crafted"),
               "unsafe member", "leaves /var/lib/vaulthalla", "Nothing was changed")
    assert snapshot(tree["root"]) == before


def test_refusals_before_anything_is_written(ansible, tree, tmp_path):
    missing = os.path.join(tree["root"], "etc/vaulthalla-typo")
    failed(ansible.run(MODULE, archive_args(tree, paths=[missing]), name="missing-path"),
           "path %s does not exist. Nothing was written" % missing)
    failed(ansible.run(MODULE, archive_args(tree, dest_dir=str(tmp_path / "no-such-dir")), name="missing-dest"),
           "does not exist")
    os.mkfifo(os.path.join(tree["root"], "var/lib/vaulthalla/control.fifo"))
    failed(ansible.run(MODULE, archive_args(tree), name="fifo"), "control.fifo", "fifo", "no archive was published",
           "exclude")
    assert os.listdir(tree["dest"]) == []
    excluded = ansible.run(MODULE, archive_args(tree, exclude=["*.fifo"]), name="excluded")
    assert not excluded.get("failed") and excluded["changed"], excluded


def test_missing_zstd_is_named(ansible, tree, tmp_path):
    bin_dir = tmp_path / "bin-without-zstd"
    bin_dir.mkdir()
    # Everything Ansible and the module need from /usr/bin, except zstd.
    for tool in os.listdir("/usr/bin"):
        if not tool.startswith("zstd"):
            os.symlink(os.path.join("/usr/bin", tool), str(bin_dir / tool))
    result = ansible.run(MODULE, archive_args(tree), name="no-zstd", wrapper=["env", "PATH=%s" % bin_dir])
    failed(result, "zstd was not found", "apt-get install zstd")
    assert os.listdir(tree["dest"]) == []


FAKE_ZSTD = r"""#!{python}
# Reads 4 MiB of the tar stream (tar is then blocked inside the big file), changes that file, then compresses
# everything with the real zstd.
import os, subprocess, sys
first = b""
while len(first) < 4 * 1024 * 1024:
    chunk = os.read(0, 4 * 1024 * 1024 - len(first))
    if not chunk:
        break
    first += chunk
with open({victim!r}, "ab") as handle:
    handle.write(b"appended while tar was reading")
real = subprocess.Popen([{zstd!r}] + sys.argv[1:], stdin=subprocess.PIPE)
real.stdin.write(first)
while True:
    chunk = os.read(0, 1 << 20)
    if not chunk:
        break
    real.stdin.write(chunk)
real.stdin.close()
sys.exit(real.wait())
"""


def test_file_changed_while_archived_fails_and_publishes_nothing(ansible, tree, tmp_path):
    victim = os.path.join(tree["root"], "var/lib/vaulthalla/vaults/local 1/bodies/big.enc")
    with open(victim, "wb") as handle:
        handle.write(os.urandom(24 * 1024 * 1024))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "zstd"
    fake.write_text(FAKE_ZSTD.format(python=sys.executable, victim=victim, zstd=shutil.which("zstd")))
    fake.chmod(0o755)
    result = ansible.run(MODULE, archive_args(tree), name="changed",
                         wrapper=["env", "PATH=%s:%s" % (bin_dir, os.environ["PATH"])])
    failed(result, "file changed as we read it", "consistent point in time", "nothing was published",
           "systemctl stop vaulthalla.service")
    assert os.listdir(tree["dest"]) == []

"""path_tar and path_archiver: the commands, names and requests are built as documented."""

import datetime
import os

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.path_archive import path_archiver, path_tar
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

MOMENT = datetime.datetime(2026, 11, 21, 10, 15, 0, tzinfo=datetime.timezone.utc)


class FakeTools(object):
    def path(self, name):
        return "/usr/bin/" + name


def params(**overrides):
    p = dict(paths=["/etc/vaulthalla", "/var/lib/vaulthalla"], root=None, dest_dir="/backup", compressor="zstd",
             compress_level=None, threads=0, exclude=[], one_file_system=False, xattrs=False, name_pattern=None,
             prefix="vh1")
    p.update(overrides)
    return p


def test_create_argv_options_before_names():
    argv = path_tar.create_argv("tar", "/", ["etc/vaulthalla", "var/lib/vaulthalla"], "/tmp/idx",
                                exclude=["*.tmp", "var/lib/vaulthalla/cache"], one_file_system=True, xattrs=True)
    assert argv[0] == "tar" and argv[-3:] == ["--", "etc/vaulthalla", "var/lib/vaulthalla"]
    options = argv[1:argv.index("--")]
    for expected in ("--create", "--file=-", "--directory=/", "--format=posix", "--numeric-owner", "--sort=name",
                     "--hard-dereference", "--no-unquote", "--index-file=/tmp/idx", "--full-time",
                     "--quoting-style=c", "--one-file-system", "--xattrs", "--exclude=*.tmp",
                     "--exclude=var/lib/vaulthalla/cache", "-vv"):
        assert expected in options
    assert "--pax-option=delete=atime,delete=ctime" in options


def test_create_argv_defaults_leave_out_optional_flags():
    argv = path_tar.create_argv("tar", "/", ["-dash"], "/tmp/idx", archive=os.devnull)
    assert "--file=/dev/null" in argv and argv[-2:] == ["--", "-dash"]
    assert not [arg for arg in argv if arg.startswith(("--exclude", "--xattrs", "--one-file-system"))]


@pytest.mark.parametrize("compressor, level, threads, expected", [
    ("zstd", 3, 0, ["/usr/bin/zstd", "-q", "-c", "-T0", "-3"]),
    ("zstd", 19, 2, ["/usr/bin/zstd", "-q", "-c", "-T2", "-19"]),
    ("gzip", 6, 0, ["/usr/bin/gzip", "-c", "-n", "-6"]),
    ("none", None, 0, None),
])
def test_compress_argv(compressor, level, threads, expected):
    assert path_tar.compress_argv(FakeTools(), compressor, level, threads) == expected


def test_reader_stages():
    tar = ["/usr/bin/tar", "--list"]
    assert path_tar.reader_stages(FakeTools(), "zstd", "/b/x.tar.zst", tar) == [
        ["/usr/bin/zstd", "-q", "-d", "-c", "--", "/b/x.tar.zst"], tar + ["--file=-"]]
    assert path_tar.reader_stages(FakeTools(), "gzip", "/b/x.tar.gz", tar, tail=["--", "a"]) == [
        ["/usr/bin/gzip", "-d", "-c", "--", "/b/x.tar.gz"], tar + ["--file=-", "--", "a"]]
    assert path_tar.reader_stages(FakeTools(), "none", "/b/x.tar", tar) == [tar + ["--file=/b/x.tar"]]


def test_reader_stages_from_stdin():
    """archive None: the caller feeds the archive (restore hashes it on the way), so every stage reads stdin."""
    tar = ["/usr/bin/tar", "--extract"]
    zstd_first = path_tar.reader_stages(FakeTools(), "zstd", None, tar)
    assert zstd_first == [["/usr/bin/zstd", "-q", "-d", "-c"], tar + ["--file=-"]]
    assert path_tar.reader_stages(FakeTools(), "gzip", None, tar)[0] == ["/usr/bin/gzip", "-d", "-c"]
    assert path_tar.reader_stages(FakeTools(), "none", None, tar, tail=["x"]) == [tar + ["--file=-", "x"]]


def test_list_and_extract_argv():
    assert path_tar.list_argv("tar") == ["tar", "--list", "-v", "--numeric-owner", "--full-time", "--quoting-style=c"]
    argv = path_tar.extract_argv("tar")
    for expected in ("--extract", "-vv", "--numeric-owner", "--full-time", "--quoting-style=c",
                     "--same-permissions", "--same-owner", "--no-unquote", "--no-wildcards"):
        assert expected in argv
    assert not [arg for arg in argv if arg.startswith(("--strip-components", "--transform", "--absolute-names",
                                                       "--xattrs"))]
    assert "--xattrs" in path_tar.extract_argv("tar", xattrs=True)
    # Each path's members go below its own directory; --add-file keeps a leading '-' a name.
    assert path_tar.extract_members([("/etc/.vaulthalla.restore-a", "etc/vaulthalla"),
                                     ("/var/lib/.vaulthalla.restore-b", "var/lib/-dash")]) == [
        "--directory=/etc/.vaulthalla.restore-a", "--add-file=etc/vaulthalla",
        "--directory=/var/lib/.vaulthalla.restore-b", "--add-file=var/lib/-dash"]


@pytest.mark.parametrize("compressor, level, expected", [
    ("zstd", None, 3), ("zstd", 1, 1), ("zstd", 19, 19), ("gzip", None, 6), ("gzip", 9, 9), ("none", 5, None)])
def test_level_for(compressor, level, expected):
    assert path_tar.level_for(compressor, level) == expected


@pytest.mark.parametrize("compressor, level", [("zstd", 0), ("zstd", 20), ("gzip", 10), ("gzip", 0)])
def test_level_for_rejects(compressor, level):
    with pytest.raises(RecoveryError, match="out of range"):
        path_tar.level_for(compressor, level)


def test_changed_while_read():
    assert path_tar.changed_while_read("tar: var/lib/vh/x: file changed as we read it\n")
    assert path_tar.changed_while_read("tar: var/lib/vh/x: File removed before we read it")
    assert not path_tar.changed_while_read("tar: x: Cannot open: Permission denied")


def test_stderr_lines_limits():
    text = "\n".join("line %d" % number for number in range(8))
    assert path_tar.stderr_lines(text, limit=2) == "line 0; line 1; and 6 more line(s)"


@pytest.mark.parametrize("pattern, compressor, expected", [
    (None, "zstd", "vh1-config-state-20261121-101500.tar.zst"),
    (None, "gzip", "vh1-config-state-20261121-101500.tar.gz"),
    (None, "none", "vh1-config-state-20261121-101500.tar"),
    ("{prefix}-%Y.tzst", "zstd", "vh1-2026.tzst"),
    ("{hostname}-100%%", "zstd", "vh1-100%"),
])
def test_archive_name(pattern, compressor, expected):
    assert path_archiver.archive_name(pattern, "vh1", compressor, MOMENT) == expected


def test_archive_name_keeps_percent_in_prefix_literal():
    assert path_archiver.archive_name("{prefix}.tar", "a%Yb", "none", MOMENT) == "a%Yb.tar"


@pytest.mark.parametrize("pattern", ["sub/{prefix}", "..", "."])
def test_archive_name_rejects(pattern):
    with pytest.raises(RecoveryError, match="not a file name"):
        path_archiver.archive_name(pattern, "vh1", "zstd", MOMENT)


def test_build_request():
    request = path_archiver.build_request(params(exclude=["*.tmp"], compress_level=5, threads=2), hostname="h")
    assert request["root"] == "/" and request["rel_paths"] == ["etc/vaulthalla", "var/lib/vaulthalla"]
    assert request["level"] == 5 and request["threads"] == 2 and request["exclude"] == ["*.tmp"]
    assert request["path"].startswith("/backup/vh1-config-state-") and request["path"].endswith(".tar.zst")
    assert request["manifest"] == request["path"] + ".manifest.json"
    assert path_archiver.build_request(params(prefix=None), hostname="host7")["name"].startswith("host7-")


@pytest.mark.parametrize("overrides, fragment", [
    (dict(threads=-1), "threads"),
    (dict(exclude=[""]), "empty pattern"),
    (dict(paths=[]), "paths is empty"),
    (dict(paths=["relative/dir"]), "not absolute"),
    (dict(paths=["/srv/x"], root="/etc"), "not below root"),
    (dict(paths=["/"]), "not below root"),
    (dict(paths=["/var/lib", "/var/lib/vaulthalla"]), "one contains the other"),
    (dict(paths=["/etc/vaulthalla", "/etc/vaulthalla/"]), "one contains the other"),
    (dict(compressor="gzip", compress_level=12), "out of range"),
])
def test_build_request_rejects(overrides, fragment):
    with pytest.raises(RecoveryError) as caught:
        path_archiver.build_request(params(**overrides), hostname="h")
    assert fragment in str(caught.value) and "Fix:" in str(caught.value)


def test_precheck_refuses_before_writing(tmp_path):
    root = tmp_path / "root"
    (root / "data").mkdir(parents=True)
    (root / "file").write_text("x")
    os.symlink("data", str(root / "link"))
    dest = tmp_path / "dest"
    dest.mkdir()

    def check(**overrides):
        overrides.setdefault("dest_dir", str(dest))
        request = path_archiver.build_request(params(root=str(root), **overrides), hostname="h")
        with pytest.raises(RecoveryError) as caught:
            path_archiver.precheck(request)
        return str(caught.value)

    assert "does not exist. Nothing was written" in check(paths=[str(root / "missing")])
    assert "symbolic link" in check(paths=[str(root / "link")])
    assert "not a directory" in check(paths=[str(root / "file")])
    assert "dest_dir" in check(paths=[str(root / "data")], dest_dir=str(tmp_path / "nowhere"))
    inner = root / "data" / "backups"
    inner.mkdir()
    assert "contain itself" in check(paths=[str(root / "data")], dest_dir=str(inner))
    request = path_archiver.build_request(params(root=str(root), dest_dir=str(dest), paths=[str(root / "data")]),
                                          hostname="h")
    open(request["path"], "w").close()
    with pytest.raises(RecoveryError, match="already exists"):
        path_archiver.precheck(request)
    assert os.listdir(str(dest)) == [os.path.basename(request["path"])]


def test_tools_require_gnu_tar_and_name_the_package(tmp_path):
    fake_tar = tmp_path / "tar"
    fake_tar.write_text("#!/bin/sh\necho 'bsdtar 3.6.2'\n")
    fake_tar.chmod(0o755)
    tools = path_tar.Tools(lambda name: str(fake_tar) if name == "tar" else None)
    with pytest.raises(RecoveryError, match="not GNU tar"):
        tools.path("tar")
    with pytest.raises(RecoveryError) as caught:
        tools.path("zstd")
    assert "apt-get install zstd" in str(caught.value)

"""path_listing: GNU tar's long listing parsed exactly, odd names included."""

import os
import subprocess

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.path_archive import path_listing, path_tar
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

ODD_NAMES = [
    "plain.txt",
    "with space.txt",
    'quote "double" and \'single\'',
    "unicode ✓ été ü",
    "new\nline",
    "tab\there",
    "back\\slash",
    "arrow -> not a link",
    " link to fake",
    "-starts-with-dash",
    "latin1-\udce9",  # a non-UTF-8 byte (0xE9), as os.listdir returns it
]


@pytest.mark.parametrize("line, expected", [
    ('drwxr-xr-x 0/0               0 2026-11-21 06:34:38.427123428 "etc/vh/"',
     dict(path="etc/vh", type="dir", mode="0755", uid=0, gid=0, size=0, mtime="2026-11-21 06:34:38.427123428")),
    ('-rw------- 65534/65534       2 2026-11-21 06:34:38 "var/lib/vh/.sealed_psql.blob/psql.priv"',
     dict(path="var/lib/vh/.sealed_psql.blob/psql.priv", type="file", mode="0600", uid=65534, gid=65534, size=2,
          mtime="2026-11-21 06:34:38")),
    ('lrwxrwxrwx 0/0               0 2026-11-21 06:34:38.4 "var/lib/vh/link -> x" -> ".sealed_psql.blob/psql.priv"',
     dict(path="var/lib/vh/link -> x", type="symlink", mode="0777", uid=0, gid=0, size=0,
          mtime="2026-11-21 06:34:38.4", target=".sealed_psql.blob/psql.priv")),
    ('hrwsr-xr-x 0/0               0 2026-11-21 06:34:42.3 "d/a" link to "d/b"',
     dict(path="d/a", type="hardlink", mode="4755", uid=0, gid=0, size=0, mtime="2026-11-21 06:34:42.3",
          target="d/b")),
    ('crw-r--r-- 0/0             1,3 2026-11-21 06:34:42.3 "d/null"',
     dict(path="d/null", type="device", mode="0644", uid=0, gid=0, size=0, mtime="2026-11-21 06:34:42.3")),
    ('brw-rw---- 0/6             8,0 2026-11-21 06:34:42 "d/sda"',
     dict(path="d/sda", type="device", mode="0660", uid=0, gid=6, size=0, mtime="2026-11-21 06:34:42")),
    ('prw-r--r-- 0/0               0 2026-11-21 06:34:38 "var/lib/vh/fifo"',
     dict(path="var/lib/vh/fifo", type="fifo", mode="0644", uid=0, gid=0, size=0, mtime="2026-11-21 06:34:38")),
    ('drwxrwsr-T 1/2               0 2026-11-21 06:34:38 "shared"',
     dict(path="shared", type="dir", mode="3774", uid=1, gid=2, size=0, mtime="2026-11-21 06:34:38")),
    ('-rw-r--r--* 0/0              0 2026-11-21 06:35:30 "f2"',
     dict(path="f2", type="file", mode="0644", uid=0, gid=0, size=0, mtime="2026-11-21 06:35:30", xattrs=True)),
    ('-rw-r--r--  0/0              5 2026-11-21 06:35:30 "etc/vh/with space \\"q\\" \\303\\274.txt"',
     dict(path='etc/vh/with space "q" ü.txt', type="file", mode="0644", uid=0, gid=0, size=5,
          mtime="2026-11-21 06:35:30")),
    ('-rw-r--r-- 0/0               0 1970-01-01 00:00:00 "/abs"',
     dict(path="/abs", type="file", mode="0644", uid=0, gid=0, size=0, mtime="1970-01-01 00:00:00")),
])
def test_parse_line(line, expected):
    assert path_listing.parse_line(line) == expected


def test_unknown_type_is_kept_as_other():
    entry = path_listing.parse_line('Crw-r--r-- 0/0               4 2026-11-21 06:34:38 "contiguous"')
    assert entry["type"] == "other" and entry["tar_type"] == "C"


@pytest.mark.parametrize("line", [
    "tar: Removing leading `/' from member names",
    'drwxr-xr-x 0/0 0 2026-11-21 06:34 "no seconds"',
    'drwxr-xr-x root/root 0 2026-11-21 06:34:38 "names instead of numbers"',
    '-rw-r--r-- 0/0 1 2026-11-21 06:34:38 unquoted',
    '-rw-r--r-- 0/0 1 2026-11-21 06:34:38 "unterminated',
    '-rw-r--r-- 0/0 1 2026-11-21 06:34:38 "a" -> "file with a target"',
    'lrwxrwxrwx 0/0 0 2026-11-21 06:34:38 "link without target"',
    '-rw-r--r-- 0/0 1 2026-11-21 06:34:38 "bad escape \\q"',
    '-rw-r--r-- 0/0 1 2026-11-21 06:34:38 "trailing" junk',
])
def test_parse_line_rejects(line):
    with pytest.raises(ValueError):
        path_listing.parse_line(line)


def test_parse_listing_skips_detail_lines_and_names_the_bad_line():
    text = ('-rw-r--r--* 0/0 0 2026-11-21 06:35:30 "f2"\n  x: 1 user.k\n\n'
            'drwxr-xr-x 0/0 0 2026-11-21 06:35:30 "d/"\n')
    assert [entry["path"] for entry in path_listing.parse_listing(text, "x")] == ["f2", "d"]
    with pytest.raises(RecoveryError) as caught:
        path_listing.parse_listing(text + "garbage\n", "some.tar")
    assert "some.tar" in str(caught.value) and "line 5" in str(caught.value) and "Fix:" in str(caught.value)


@pytest.mark.parametrize("name", ODD_NAMES)
def test_quote_round_trips(name):
    quoted = path_listing.quote(name)
    assert path_listing.unquote_at(quoted, 0) == (name, len(quoted))


def test_mode_bits():
    assert path_listing.parse_line('-rwSr-S--T 0/0 0 2026-11-21 06:34:38 "x"')["mode"] == "7640"
    assert path_listing.parse_line('-rwsr-s--t 0/0 0 2026-11-21 06:34:38 "x"')["mode"] == "7751"
    assert path_listing.parse_line('---------- 0/0 0 2026-11-21 06:34:38 "x"')["mode"] == "0000"


def test_mtime_ns():
    assert path_listing.mtime_ns("1970-01-01 00:00:01") == 1000000000
    assert path_listing.mtime_ns("2026-11-21 06:34:38.5") == 1795242878500000000
    assert path_listing.mtime_ns("2026-11-21 06:34:38.427123428") % 1000000000 == 427123428


def test_summary():
    entries = [dict(type="dir", size=0), dict(type="file", size=5), dict(type="file", size=7),
               dict(type="symlink", size=0)]
    assert path_listing.summary(entries) == (4, 2, 12)


def test_real_gnu_tar_listing_matches_the_tree(tmp_path):
    """What tar -cvv writes to --index-file parses back to the names and metadata on disk."""
    tree = tmp_path / "root" / "data"
    tree.mkdir(parents=True)
    for index, name in enumerate(ODD_NAMES):
        path = os.path.join(str(tree).encode(), name.encode("utf-8", "surrogateescape"))
        with open(path, "wb") as handle:
            handle.write(b"x" * index)
        os.chmod(path, 0o600 if index % 2 else 0o640)
    os.mkdir(str(tree / ".sealed_psql.blob"), 0o700)
    (tree / ".sealed_psql.blob" / "psql.priv").write_bytes(b"secret")
    os.symlink(".sealed_psql.blob/psql.priv", str(tree / "a link"))
    index_file = str(tmp_path / "listing")
    argv = path_tar.create_argv("tar", str(tmp_path / "root"), ["data"], index_file, archive=os.devnull)
    subprocess.run(argv, check=True, env=path_tar.tar_env())
    with open(index_file, "rb") as handle:
        entries = path_listing.parse_listing(handle.read().decode("utf-8", "surrogateescape"), "t")
    by_path = dict((entry["path"], entry) for entry in entries)
    expected = {"data", "data/.sealed_psql.blob", "data/.sealed_psql.blob/psql.priv", "data/a link"}
    expected |= set("data/" + name for name in ODD_NAMES)
    assert set(by_path) == expected
    for index, name in enumerate(ODD_NAMES):
        entry = by_path["data/" + name]
        assert (entry["type"], entry["size"], entry["mode"]) == ("file", index, "0600" if index % 2 else "0640")
    assert by_path["data/a link"]["target"] == ".sealed_psql.blob/psql.priv"
    assert by_path["data/.sealed_psql.blob"]["mode"] == "0700"
    st = os.stat(str(tree / "plain.txt"))
    assert path_listing.mtime_ns(by_path["data/plain.txt"]["mtime"]) == st.st_mtime_ns

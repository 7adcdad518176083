"""tar_safety: every member that could write outside the tree, or create a device, is refused."""

import io
import tarfile

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.tar_safety import (
    check_members, link_stays_inside, normalize_name)
from support.tar_members import member


@pytest.mark.parametrize("name, expected", [
    ("tpm2-00.permall", "tpm2-00.permall"),
    ("./tpm2-00.permall", "tpm2-00.permall"),
    (".", "."),
    ("./", "."),
    ("sub//dir/./x", "sub/dir/x"),
    ("/etc/passwd", None),
    ("../x", None),
    ("sub/../../x", None),
    ("sub/../x", None),  # even a '..' that stays inside is refused: our writer never produces one
    ("", None),
])
def test_normalize_name(name, expected):
    assert normalize_name(name) == expected


@pytest.mark.parametrize("name, target, inside", [
    ("link", "tpm2-00.permall", True),
    ("sub/link", "../tpm2-00.permall", True),
    ("sub/link", "../../etc/shadow", False),
    ("link", "../x", False),
    ("link", "/etc/shadow", False),
    ("a/b/link", "../../c", True),
    ("a/b/link", "x/../../../..", False),
    ("link", "", False),
])
def test_link_stays_inside(name, target, inside):
    assert link_stays_inside(name, target) is inside


def test_safe_members_pass_in_order():
    members = [member(".", tarfile.DIRTYPE), member("sub", tarfile.DIRTYPE), member("sub/f"),
               member("link", tarfile.SYMTYPE, "sub/f")]
    assert [name for name, _m in check_members(members, "a.tar")] == [".", "sub", "sub/f", "link"]


@pytest.mark.parametrize("bad, fragment", [
    (member("/etc/cron.d/evil"), "absolute path or '..'"),
    (member("../evil"), "absolute path or '..'"),
    (member("x", tarfile.LNKTYPE, "/etc/shadow"), "hard link"),
    (member("x", tarfile.LNKTYPE, "tpm2-00.permall"), "hard link"),
    (member("dev", tarfile.CHRTYPE), "device"),
    (member("dev", tarfile.BLKTYPE), "device"),
    (member("pipe", tarfile.FIFOTYPE), "fifo"),
    (member("esc", tarfile.SYMTYPE, "/etc"), "leaves the directory"),
    (member("esc", tarfile.SYMTYPE, "../../etc"), "leaves the directory"),
    (member("suid", mode=0o4755), "set-user/group-ID"),
    (member("sgid", mode=0o2755), "set-user/group-ID"),
    (member("."), "root of the tree must be a directory"),
])
def test_unsafe_member_is_refused_and_named(bad, fragment):
    with pytest.raises(RecoveryError) as caught:
        check_members([member(".", tarfile.DIRTYPE), member("ok"), bad], "evil.tar")
    assert fragment in caught.value.message
    assert "Nothing was extracted" in caught.value.message
    assert caught.value.fix


def test_duplicate_names_are_refused():
    with pytest.raises(RecoveryError, match="appears twice"):
        check_members([member("a"), member("./a")], "dup.tar")


def test_members_reached_through_a_link_are_refused():
    members = [member("d", tarfile.DIRTYPE), member("link", tarfile.SYMTYPE, "d"), member("link/x")]
    with pytest.raises(RecoveryError, match="reached through the symbolic link 'link'"):
        check_members(members, "via.tar")


def test_every_problem_is_listed_once_with_a_count():
    members = [member("/a%d" % n) for n in range(8)]
    with pytest.raises(RecoveryError) as caught:
        check_members(members, "many.tar")
    assert "8 unsafe member(s)" in caught.value.message
    assert "and 3 more" in caught.value.message


def test_real_tarfile_members(tmp_path):
    """The checks read what tarfile itself parses from a crafted archive."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.addfile(member("fine"), io.BytesIO(b""))
        evil = member("../../../tmp/evil")
        evil.size = 4
        tar.addfile(evil, io.BytesIO(b"boom"))
    buffer.seek(0)
    with tarfile.open(fileobj=buffer) as tar:
        with pytest.raises(RecoveryError, match="tmp/evil"):
            check_members(tar.getmembers(), "crafted.tar")

"""machine_identity: reading machine-id, the recorded digest, and the host-change decision."""

import hashlib
import hmac
import subprocess

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common import machine_identity as mi
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

ID_A = "3d1219c7c4c5404aaa1f6d2a48adfda4"
ID_B = "0123456789abcdef0123456789abcdef"


def write(tmp_path, text, name="machine-id"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_reads_a_valid_machine_id(tmp_path):
    assert mi.read_machine_id(write(tmp_path, ID_A + "\n")) == ID_A


@pytest.mark.parametrize("text, fragment", [
    ("", "empty or uninitialized"),
    ("uninitialized\n", "empty or uninitialized"),
    ("not-an-id\n", "32 lowercase hexadecimal"),
    (ID_A.upper() + "\n", "32 lowercase hexadecimal"),
])
def test_bad_machine_id_is_one_clear_error(tmp_path, text, fragment):
    with pytest.raises(RecoveryError) as caught:
        mi.read_machine_id(write(tmp_path, text))
    assert fragment in caught.value.message
    assert "systemd-machine-id-setup" in caught.value.fix


def test_missing_machine_id(tmp_path):
    with pytest.raises(RecoveryError, match="cannot read the machine identity"):
        mi.read_machine_id(str(tmp_path / "nope"))


def test_digest_hides_the_id_and_is_stable():
    digest = mi.machine_id_digest(ID_A)
    assert ID_A not in digest
    assert digest == mi.machine_id_digest(ID_A)
    assert digest != mi.machine_id_digest(ID_B)
    assert digest == hmac.new(ID_A.encode(), b"vaultops.recovery swtpm_archive", hashlib.sha256).hexdigest()


def test_digest_matches_the_documented_openssl_command(tmp_path):
    out = subprocess.run(["openssl", "dgst", "-sha256", "-hmac", ID_A], input=b"vaultops.recovery swtpm_archive",
                         capture_output=True, check=True).stdout.decode()
    assert out.strip().endswith(mi.machine_id_digest(ID_A))


def test_local_identity_records_the_problem_instead_of_failing(tmp_path):
    identity = mi.local_identity(str(tmp_path / "absent"))
    assert identity["machine_id_digest"] is None
    assert "cannot read" in identity["machine_id_error"]
    assert identity["hostname"]


@pytest.mark.parametrize("source, target, relation", [
    ("a" * 64, "a" * 64, mi.SAME),
    ("a" * 64, "b" * 64, mi.DIFFERENT),
    (None, "b" * 64, mi.UNKNOWN),
    ("a" * 64, None, mi.UNKNOWN),
    (None, None, mi.UNKNOWN),
])
def test_compare(source, target, relation):
    assert mi.compare(source, target) == relation


def test_refusal_for_another_host_explains_why_it_is_sensitive():
    source = dict(hostname="old-host", machine_id_digest="a" * 64)
    target = dict(hostname="new-host", machine_id_digest="b" * 64, machine_id_error=None)
    exc = mi.host_change_refusal(mi.DIFFERENT, source, target, "/b/x.tar.gz")
    text = str(exc)
    for fragment in ("old-host", "new-host", "different machine", "secrets", "unseal", "Vaulthalla",
                     "deliberate, recorded decision", "Nothing was changed", "allow_host_change: true"):
        assert fragment in text
    assert exc.facts == {"host_change": True}


def test_refusal_when_identity_is_unknown_says_which_side():
    source = dict(hostname="old-host", machine_id_digest=None)
    target = dict(hostname="new-host", machine_id_digest="b" * 64, machine_id_error=None)
    text = str(mi.host_change_refusal(mi.UNKNOWN, source, target, "/b/x.tar.gz"))
    assert "archive records no machine identity" in text
    assert "cannot prove" in text

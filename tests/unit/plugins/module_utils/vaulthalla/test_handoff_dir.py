"""vh_export's hand-off directory: what the daemon user wrote is taken over only when it is a regular file."""

import os
import stat

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.openpgp import openpgp_proof
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla.handoff_dir import HandoffDir
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import RunAs

ARMORED = b"-----BEGIN PGP MESSAGE-----\n\nhF4D\n-----END PGP MESSAGE-----\n"


class Sink(object):
    def __init__(self):
        self.data = b""

    def write(self, chunk):
        self.data += chunk


def me():
    import pwd
    return RunAs(pwd.getpwuid(os.getuid()).pw_name)


def refuse_plaintext(head, read_all):
    openpgp_proof.sniff_head(head, "vault keys", "x.json.gpg", read_all)


def test_private_directory_is_0700_owned_by_the_user_and_removed(tmp_path):
    with HandoffDir(str(tmp_path), me()) as handoff:
        info = os.stat(handoff.path)
        assert stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.getuid()
        assert os.path.dirname(handoff.path) == str(tmp_path)
        path = handoff.path
    assert not os.path.exists(path)


def test_file_is_streamed_into_the_sink_and_removed(tmp_path):
    sink = Sink()
    with HandoffDir(str(tmp_path), me()) as handoff:
        with open(handoff.file_path("a.gpg"), "wb") as handle:
            handle.write(ARMORED)
        handoff.take_over("a.gpg", sink, inspect=refuse_plaintext)
        assert not os.path.exists(handoff.file_path("a.gpg"))
    assert sink.data == ARMORED


def test_plaintext_never_reaches_the_sink(tmp_path):
    sink = Sink()
    with HandoffDir(str(tmp_path), me()) as handoff:
        with open(handoff.file_path("a.gpg"), "wb") as handle:
            handle.write(b'"c2VjcmV0"\n')
        with pytest.raises(RecoveryError) as info:
            handoff.take_over("a.gpg", sink, inspect=refuse_plaintext)
    assert info.value.facts["problem"] == "plaintext" and sink.data == b""


def test_symlink_fifo_and_missing_file_are_refused(tmp_path):
    secret = tmp_path / "elsewhere"
    secret.write_bytes(ARMORED)
    with HandoffDir(str(tmp_path), me()) as handoff:
        os.symlink(str(secret), handoff.file_path("link.gpg"))
        os.mkfifo(handoff.file_path("fifo.gpg"))
        for name, problem in (("link.gpg", "not_regular"), ("fifo.gpg", "not_regular"), ("gone.gpg", "output_missing")):
            with pytest.raises(RecoveryError) as info:
                handoff.take_over(name, Sink(), missing_hint=" hint.")
            assert info.value.facts["problem"] == problem


def test_missing_parent_is_refused(tmp_path):
    with pytest.raises(RecoveryError):
        with HandoffDir(str(tmp_path / "nope"), me()):
            pass

"""The password reaches the client programs through an anonymous file a killed run cannot leave behind."""

import os
import stat
import tempfile

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.pg_connection import (
    PgConnection, check_password, password_file)
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import run, run_pipeline

SECRET = "PLANTED-unit-pw:with\\odd"
SHOWN = "PLANTED-unit-pw"  # the part of SECRET before its escaped colon


def params(**extra):
    base = dict(login_host="db", port=5432, login_user="u", login_password=None, login_unix_socket=None,
                ssl_mode="prefer", ca_cert=None, ssl_cert=None, ssl_key=None, connect_timeout=10, os_user=None)
    base.update(extra)
    return base


def files_holding(root, secret):
    found = []
    for dirpath, _dirs, filenames in os.walk(root):
        for name in filenames:
            path = os.path.join(dirpath, name)
            try:
                with open(path, "rb") as handle:
                    if secret.encode() in handle.read():
                        found.append(path)
            except OSError:
                pass
    return found


def test_password_file_is_a_nameless_private_regular_file():
    fd = password_file(SECRET)
    try:
        st = os.fstat(fd)
        # libpq's rules for a password file: a regular file without group/other bits.
        assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
        assert st.st_nlink == 0, "no name in any directory, so nothing survives the process"
        with open("/dev/fd/%d" % fd) as handle:  # a reopen starts at offset 0, as libpq's does
            assert handle.read() == "*:*:*:*:PLANTED-unit-pw\\:with\\\\odd\n"
    finally:
        os.close(fd)


def test_connection_writes_no_file_and_children_read_the_password(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    with PgConnection(params(login_password=SECRET), lambda name: name) as conn:
        env = conn.env("db")
        assert env["PGPASSFILE"] == "/dev/fd/%d" % conn.pass_fds[0]
        assert files_holding(str(tmp_path), SECRET) == []
        rc, out, _err = run(["cat", env["PGPASSFILE"]], env=env, pass_fds=conn.pass_fds)
        assert rc == 0 and SHOWN in out
        piped = run_pipeline([["cat", env["PGPASSFILE"]], ["cat"]], env=env, pass_fds=conn.pass_fds)
        assert SHOWN.encode() in piped
        # A child not handed the descriptor cannot read it (it is close-on-exec everywhere else).
        assert run(["cat", env["PGPASSFILE"]], env=env)[0] != 0
        fd = conn.pass_fds[0]
    with pytest.raises(OSError):
        os.fstat(fd)  # closed with the connection
    assert os.listdir(str(tmp_path)) == []


def test_without_a_password_the_file_is_empty_so_no_pgpass_of_the_host_answers():
    with PgConnection(params(), lambda name: name) as conn:
        with open(conn.env()["PGPASSFILE"]) as handle:
            assert handle.read() == ""


@pytest.mark.parametrize("password", ["line1\nline2", "trailing\n", "cr\r"])
def test_a_password_with_a_line_break_is_refused_before_any_connection(password):
    with pytest.raises(RecoveryError) as info:
        check_password(password)
    assert "cannot carry a newline" in str(info.value) and "Fix:" in str(info.value)
    assert password not in str(info.value)
    # PgConnection refuses it on entry, before a client program ever runs.
    with pytest.raises(RecoveryError, match="libpq's password file"):
        with PgConnection(params(login_password=password), lambda name: pytest.fail("no program may run")):
            pass


def test_ordinary_passwords_pass():
    check_password(None)
    check_password("")
    check_password("p:w\\d 'x' ✓")


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping to another OS user needs root")
def test_os_user_reads_the_password_file_it_was_given():
    from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import RunAs
    with PgConnection(params(login_password=SECRET, os_user="nobody"), lambda name: name) as conn:
        env = conn.env()
        rc, out, err = run(["cat", env["PGPASSFILE"]], env=env, run_as=RunAs("nobody"), pass_fds=conn.pass_fds)
        assert rc == 0, err
        assert out.startswith("*:*:*:*:PLANTED")

"""Password files that versions before the memfd left behind when killed are removed, and only those."""

import os
import subprocess
import sys

from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.pg_connection import remove_legacy_password_files

PLANTED = "PLANTED-legacy-pw"


def legacy_dir(tmp_path, name="vaultops-pg-abc123", extra=None):
    directory = tmp_path / name
    directory.mkdir(mode=0o700)
    passfile = directory / "pgpass"
    passfile.write_text("*:*:*:*:%s\n" % PLANTED)
    passfile.chmod(0o600)
    for other in extra or ():
        (directory / other).write_text("x")
    return directory


def test_a_killed_runs_password_file_is_removed(tmp_path):
    left = legacy_dir(tmp_path)
    assert remove_legacy_password_files(str(tmp_path)) == [str(left)]
    assert not left.exists()


def test_a_password_file_a_live_process_uses_is_kept(tmp_path):
    left = legacy_dir(tmp_path)
    env = dict(os.environ, PGPASSFILE=str(left / "pgpass"))
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], env=env)
    try:
        assert remove_legacy_password_files(str(tmp_path)) == []
        assert (left / "pgpass").read_text().startswith("*:*:*:*:")
    finally:
        holder.kill()
        holder.wait()
    assert remove_legacy_password_files(str(tmp_path)) == [str(left)]


def test_anything_else_is_left_alone(tmp_path):
    cluster = legacy_dir(tmp_path, "vaultops-pg-cluster", extra=["postmaster.pid"])  # more than a password file
    other = legacy_dir(tmp_path, "someone-else-pg")  # not our prefix
    linked = tmp_path / "vaultops-pg-link"
    linked.symlink_to(other)
    assert remove_legacy_password_files(str(tmp_path)) == []
    assert (cluster / "pgpass").exists() and (other / "pgpass").exists() and linked.is_symlink()

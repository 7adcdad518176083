"""Class 4 of the audit: a killed run leaves no secret behind, and the next run sweeps its partial.

Also the pg_backup promises about a password with a newline, a lone manifest,
a read-only destination and a full disk, each against real PostgreSQL.
"""

import os
import signal
import stat
import time
import uuid

import pytest

from test_pg_backup_faults import bulky_db, dump_args, failed, find_pg_dump

SHARED_FIXTURES = (bulky_db,)  # the ~40 MB database of the fault tests, found by pytest under this module's name

MODULE = "vaultops.recovery.pg_backup"
FIX = "Fix:"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (mounts, os_user)")


@pytest.fixture
def planted_role(pg_cluster):
    """A superuser with a password used nowhere else, so a find proves where this very run put it."""
    name = "dumper_%s" % uuid.uuid4().hex[:8]
    password = "PLANTED-%s" % uuid.uuid4().hex
    pg_cluster.psql("CREATE ROLE :\"n\" LOGIN SUPERUSER PASSWORD :'p';", variables={"n": name, "p": password})
    yield name, password
    pg_cluster.psql('DROP ROLE IF EXISTS :"n";', variables={"n": name}, check=False)


def role_args(cluster, role, database, directory, **extra):
    return dump_args(cluster, database, directory, login_user=role[0], login_password=role[1], **extra)


def temp_roots():
    roots = {"/tmp", "/var/tmp", "/dev/shm", os.path.expanduser("~/.ansible/tmp")}
    if os.environ.get("TMPDIR"):
        roots.add(os.environ["TMPDIR"])
    return sorted(root for root in roots if os.path.isdir(root))


def files_holding(secret, roots, playbook):
    """Every small file under roots whose bytes contain secret (a password file is tiny), but the test's playbook."""
    found = []
    needle = secret.encode()
    for root in roots:
        for dirpath, _dirs, filenames in os.walk(root):
            for name in filenames:
                path = os.path.join(dirpath, name)
                try:
                    info = os.lstat(path)
                    # regular files only: opening a FIFO another test left in /tmp would block for ever
                    if path == playbook or not stat.S_ISREG(info.st_mode) or info.st_size > 1 << 20:
                        continue
                    with open(path, "rb") as handle:
                        if needle in handle.read():
                            found.append(path)
                except OSError:
                    continue
    return found


def parent_of(pid):
    with open("/proc/%d/status" % pid) as handle:
        for line in handle:
            if line.startswith("PPid:"):
                return int(line.split()[1])
    raise AssertionError("no parent for %d" % pid)


def wait_gone(pid, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if not os.path.exists("/proc/%d" % pid):
            return
        time.sleep(0.1)
    raise AssertionError("process %d still runs" % pid)


def test_killed_worker_leaves_no_password_and_the_next_run_sweeps_its_partial(
        ansible, pg_cluster, bulky_db, backup_dir, planted_role):
    args = role_args(pg_cluster, planted_role, bulky_db, backup_dir, compress_level=9, name_pattern="bulky.dump")
    proc = ansible.start(MODULE, args, name="killed")
    dumper = None
    deadline = time.time() + 60
    while dumper is None and time.time() < deadline and proc.poll() is None:
        if [name for name in os.listdir(str(backup_dir)) if name.endswith(".partial")
                and os.path.getsize(os.path.join(str(backup_dir), name)) > 0]:
            dumper = find_pg_dump(bulky_db)
    assert dumper, "pg_dump was never seen writing"
    worker = parent_of(dumper)  # the module's own python process, which holds the password file
    os.kill(worker, signal.SIGKILL)
    wait_gone(dumper)
    result = ansible.finish(proc)
    assert result.get("failed"), result
    leftovers = os.listdir(str(backup_dir))
    assert len(leftovers) == 1 and leftovers[0].endswith(".partial"), leftovers

    assert files_holding(planted_role[1], temp_roots() + [str(backup_dir)], proc.files["yml"]) == [], \
        "the password outlived the killed run"

    again = ansible.run(MODULE, args, name="next")
    assert again["changed"] and not again.get("failed"), again
    assert again["removed_stale_partials"] == leftovers
    assert sorted(os.listdir(str(backup_dir))) == ["bulky.dump", "bulky.dump.manifest.json"]
    assert planted_role[1] not in ansible.everything_printed()


@needs_root
def test_password_auth_as_os_user_reads_the_memory_file(ansible, pg_cluster, rich_db, backup_dir, planted_role):
    # pg_dump runs as postgres and must reopen /dev/fd/N itself: the file is handed over owned by that user.
    result = ansible.run(MODULE, role_args(pg_cluster, planted_role, rich_db.name, backup_dir, os_user="postgres"),
                         name="as-postgres")
    assert result["changed"] and not result.get("failed"), result
    assert result["removed_stale_partials"] == []
    assert planted_role[1] not in ansible.everything_printed()


def test_password_with_a_newline_is_refused_before_connecting(ansible, pg_cluster, rich_db, backup_dir):
    args = dump_args(pg_cluster, rich_db.name, backup_dir, login_password="PLANTED-two\nlines")
    failed(ansible.run(MODULE, args, name="newline"), "cannot carry a newline", "login_password", FIX)
    assert "password authentication failed" not in ansible.everything_printed()
    assert os.listdir(str(backup_dir)) == []


def test_a_lone_manifest_at_the_target_name_is_refused_and_nothing_is_published(ansible, pg_cluster, rich_db,
                                                                                backup_dir):
    manifest = backup_dir / "fixed.dump.manifest.json"
    manifest.write_text('{"kept": true}\n')
    result = ansible.run(MODULE, dump_args(pg_cluster, rich_db.name, backup_dir, name_pattern="fixed.dump"))
    failed(result, str(manifest), "already exists", "nothing was written", FIX)
    assert os.listdir(str(backup_dir)) == ["fixed.dump.manifest.json"], "no archive may be published"
    assert manifest.read_text() == '{"kept": true}\n'


def mounted(path, options, listing):
    """Run the ansible-playbook in a private mount namespace with a tmpfs at path; list it afterwards."""
    return ["unshare", "-m", "--", "sh", "-c",
            'mount -t tmpfs -o %s tmpfs "$0" && "$@"; rc=$?; ls -A "$0" > "%s"; exit $rc' % (options, listing),
            str(path)]


@needs_root
def test_read_only_destination_is_named_as_such(ansible, pg_cluster, rich_db, tmp_path):
    target = tmp_path / "read only"
    target.mkdir()
    listing = tmp_path / "listing.txt"
    result = ansible.run(MODULE, dump_args(pg_cluster, rich_db.name, target), name="ro",
                         wrapper=mounted(target, "ro", listing))
    msg = failed(result, "read-only (EROFS", str(target), "remount", FIX)
    assert "become" not in msg.split(FIX)[0] and "not writable by the user" not in msg
    assert listing.read_text() == ""


@needs_root
def test_full_disk_during_the_dump_is_named_enospc(ansible, pg_cluster, bulky_db, tmp_path):
    small = tmp_path / "small volume"
    small.mkdir()
    listing = tmp_path / "listing.txt"
    result = ansible.run(MODULE, dump_args(pg_cluster, bulky_db, small), name="full",
                         wrapper=mounted(small, "size=1m", listing))
    failed(result, "is full (ENOSPC", str(small), "Nothing was published", FIX)
    assert listing.read_text() == "", "nothing may be left on the full volume"

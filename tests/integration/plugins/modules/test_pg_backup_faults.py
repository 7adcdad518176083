"""Every bad input gets one clear error naming the fix, and leaves existing data as it was."""

import glob
import json
import os
import time

import pytest

MODULE = "vaultops.recovery.pg_backup"
FIX = "Fix:"


@pytest.fixture(scope="module")
def bulky_db(pg_cluster):
    """~40 MB of random bytes: big enough to be caught mid-dump or to fill a small volume."""
    name = "bulky ✓"
    pg_cluster.psql('CREATE DATABASE :"n";', variables={"n": name})
    pg_cluster.psql("CREATE TABLE body (id int PRIMARY KEY, data bytea);"
                    "INSERT INTO body SELECT g, decode(string_agg(md5(random()::text), ''), 'hex')"
                    " FROM generate_series(1, 40000) g, generate_series(1, 64) k GROUP BY g;", name)
    yield name
    # Module scope, and test_pg_backup_secrets shares it: the next module creates it anew.
    pg_cluster.psql('DROP DATABASE :"n" WITH (FORCE);', variables={"n": name})


def failed(result, *fragments):
    assert result.get("failed"), result
    for fragment in fragments:
        assert fragment in result["msg"], result["msg"]
    return result["msg"]


def dump_args(cluster, database, backup_dir, **extra):
    args = dict(cluster.tcp_params(), database=database, dest_dir=str(backup_dir))
    args.update(extra)
    return args


def no_secret(ansible, cluster):
    assert cluster.superuser_password not in ansible.everything_printed()


def test_wrong_password(ansible, pg_cluster, rich_db, backup_dir):
    result = ansible.run(MODULE, dump_args(pg_cluster, rich_db.name, backup_dir, login_password="Wrong-PLANTED-pw"))
    failed(result, "password authentication failed", "login_password", FIX)
    assert os.listdir(str(backup_dir)) == []
    assert "Wrong-PLANTED-pw" not in ansible.everything_printed()


def test_unreachable_host(ansible, pg_cluster, rich_db, backup_dir):
    from support.pg_cluster import free_port
    result = ansible.run(MODULE, dump_args(pg_cluster, rich_db.name, backup_dir, port=free_port(), connect_timeout=3))
    failed(result, "cannot reach PostgreSQL", "login_host and port", FIX)
    assert os.listdir(str(backup_dir)) == []
    no_secret(ansible, pg_cluster)


def test_missing_database(ansible, pg_cluster, backup_dir):
    result = ansible.run(MODULE, dump_args(pg_cluster, "no such db 'x'", backup_dir))
    failed(result, "database no such db 'x' does not exist", FIX)
    assert os.listdir(str(backup_dir)) == []


def test_missing_destination_directory(ansible, pg_cluster, rich_db, backup_dir):
    result = ansible.run(MODULE, dump_args(pg_cluster, rich_db.name, backup_dir / "nope"))
    failed(result, "does not exist", "create it", FIX)
    assert os.listdir(str(backup_dir)) == []


def test_existing_file_at_target_name_is_never_overwritten(ansible, pg_cluster, rich_db, backup_dir):
    args = dump_args(pg_cluster, rich_db.name, backup_dir, name_pattern="fixed name 'x'.dump")
    first = ansible.run(MODULE, args, name="first")
    assert first["changed"]
    with open(first["path"], "rb") as handle:
        original = handle.read()
    second = ansible.run(MODULE, args, name="second")
    failed(second, "already exists", "name_pattern", FIX)
    with open(first["path"], "rb") as handle:
        assert handle.read() == original
    assert sorted(os.listdir(str(backup_dir))) == ["fixed name 'x'.dump", "fixed name 'x'.dump.manifest.json"]


def test_flipped_byte_fails_verify_and_restore_before_the_target_is_touched(ansible, pg_cluster, rich_db, backup_dir,
                                                                            new_db_name):
    dumped = ansible.run(MODULE, dump_args(pg_cluster, rich_db.name, backup_dir), name="dump")
    with open(dumped["path"], "r+b") as handle:
        handle.seek(dumped["size"] // 2)
        byte = handle.read(1)
        handle.seek(dumped["size"] // 2)
        handle.write(bytes([byte[0] ^ 0x40]))
    failed(ansible.run(MODULE, dict(state="verify", path=dumped["path"]), name="verify"), "fails its checksum", FIX)

    pg_cluster.psql("CREATE TABLE billing.marker (x int); INSERT INTO billing.marker VALUES (42);", rich_db.name)
    before = rich_db.facts()
    in_place = ansible.run(MODULE, dict(pg_cluster.tcp_params(), state="restore", path=dumped["path"]),
                           name="restore-in-place")
    failed(in_place, "fails its checksum", "must not be restored")
    assert rich_db.facts() == before
    redirected = ansible.run(MODULE, dict(pg_cluster.tcp_params(), state="restore", path=dumped["path"],
                                          database=new_db_name, create_database=True), name="restore-new")
    failed(redirected, "fails its checksum")
    assert pg_cluster.psql("SELECT count(*) FROM pg_database WHERE datname = :'n'", variables={"n": new_db_name}) == "0"
    no_secret(ansible, pg_cluster)


def test_truncated_archive_and_missing_manifest(ansible, pg_cluster, rich_db, backup_dir):
    dumped = ansible.run(MODULE, dump_args(pg_cluster, rich_db.name, backup_dir), name="dump")
    with open(dumped["path"], "r+b") as handle:
        handle.truncate(dumped["size"] - 100)
    failed(ansible.run(MODULE, dict(state="verify", path=dumped["path"]), name="truncated"), "truncated", FIX)
    os.unlink(dumped["manifest"])
    failed(ansible.run(MODULE, dict(state="verify", path=dumped["path"]), name="no-manifest"), "has no manifest",
           "incomplete", FIX)


def test_archive_from_newer_pg_dump_is_refused_naming_the_client_to_install(ansible, pg_cluster, rich_db, backup_dir):
    dumped = ansible.run(MODULE, dump_args(pg_cluster, rich_db.name, backup_dir), name="dump")
    with open(dumped["manifest"]) as handle:
        manifest = json.load(handle)
    manifest["pg_dump_version"] = "pg_dump (PostgreSQL) 99.1"
    with open(dumped["manifest"], "w") as handle:
        json.dump(manifest, handle)
    before = rich_db.facts()
    result = ansible.run(MODULE, dict(pg_cluster.tcp_params(), state="restore", path=dumped["path"]), name="restore")
    failed(result, "pg_dump 99.1", "postgresql-client-99", "pg_bin_dir")
    assert rich_db.facts() == before


def test_sigkill_mid_dump_leaves_no_complete_looking_artifact(ansible, pg_cluster, bulky_db, backup_dir):
    proc = ansible.start(MODULE, dump_args(pg_cluster, bulky_db, backup_dir, compress_level=9), name="killed")
    victim = None
    deadline = time.time() + 60
    while victim is None and time.time() < deadline and proc.poll() is None:
        partial = [p for p in glob.glob(os.path.join(str(backup_dir), ".*.partial")) if os.path.getsize(p) > 0]
        if partial:
            victim = find_pg_dump(bulky_db)
    assert victim, "pg_dump was never seen writing"
    os.kill(victim, 9)
    result = ansible.finish(proc)
    failed(result, "killed by SIGKILL", "nothing was published")
    assert os.listdir(str(backup_dir)) == [], "no archive, no manifest, no partial file"
    no_secret(ansible, pg_cluster)


def find_pg_dump(database):
    marker = ("PGDATABASE=%s" % database).encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % pid, "rb") as handle:
                if handle.read().strip() != b"pg_dump":
                    continue
            with open("/proc/%s/environ" % pid, "rb") as handle:
                if marker in handle.read().split(b"\0"):
                    return int(pid)
        except OSError:
            continue
    return None


def test_disk_full_is_clear_and_publishes_nothing(ansible, pg_cluster, bulky_db, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    small = tmp_path / "small volume"
    small.mkdir()
    listing = tmp_path / "listing.txt"
    # A private mount namespace: the 1 MiB tmpfs exists only for this ansible-playbook run.
    wrapper = ["unshare", "-m", "--", "sh", "-c",
               'mount -t tmpfs -o size=1m tmpfs "$0" && "$@"; rc=$?; ls -A "$0" > "$LISTING"; exit $rc',
               str(small)]
    os.environ["LISTING"] = str(listing)
    try:
        result = ansible.run(MODULE, dump_args(pg_cluster, bulky_db, small), name="full", wrapper=wrapper)
    finally:
        del os.environ["LISTING"]
    failed(result, "No space left", "free space", FIX)
    assert listing.read_text() == "", "nothing may be left on the full volume"
    no_secret(ansible, pg_cluster)

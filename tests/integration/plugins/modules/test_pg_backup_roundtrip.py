"""pg_backup against a real PostgreSQL 15: every round trip proves schema and data equal."""

import json
import os
import stat

import pytest

MODULE = "vaultops.recovery.pg_backup"


def assert_no_secret(ansible, cluster):
    assert cluster.superuser_password not in ansible.everything_printed()


def dump(ansible, cluster, db, backup_dir, peer=False, **extra):
    connection = dict(login_unix_socket=cluster.sockdir, port=cluster.port, os_user="postgres") if peer \
        else cluster.tcp_params()
    args = dict(connection, database=db.name, dest_dir=str(backup_dir))
    args.update(extra)
    result = ansible.run(MODULE, args, name="dump")
    assert not result.get("failed"), result.get("msg")
    return result


@pytest.mark.parametrize("mode", [
    dict(),
    dict(compressor="zstd", restore_jobs=2),
    dict(compressor="zstd", restore_jobs=1),
    dict(format="directory", jobs=2, restore_jobs=2),
], ids=["custom-gzip", "zstd-parallel-restore", "zstd-streamed-restore", "directory-jobs2"])
def test_redirected_round_trip_preserves_schema_and_data(ansible, pg_cluster, rich_db, backup_dir, new_db_name, mode):
    mode = dict(mode)
    restore_jobs = mode.pop("restore_jobs", 1)
    before_facts, before_schema = rich_db.facts(), rich_db.schema()

    result = dump(ansible, pg_cluster, rich_db, backup_dir, **mode)
    path = result["path"]
    assert os.path.dirname(path) == str(backup_dir)
    assert os.path.basename(path).startswith(rich_db.name + "-backup-")
    assert stat.S_IMODE(os.stat(path).st_mode) in (0o600, 0o700)
    with open(result["manifest"]) as handle:
        manifest = json.load(handle)
    assert manifest["sha256"] == result["sha256"] and manifest["size"] == result["archive_size"]
    assert manifest["database"] == rich_db.name
    assert manifest["server_version"].startswith("15.")
    assert "PostgreSQL" in manifest["pg_dump_version"]
    assert manifest["object_count"] > 20
    assert manifest["started_at"] <= manifest["finished_at"]

    verified = ansible.run(MODULE, dict(state="verify", path=path), name="verify")
    assert verified["changed"] is False and verified["sha256"] == result["sha256"]

    restored = ansible.run(MODULE, dict(pg_cluster.tcp_params(), state="restore", path=path, database=new_db_name,
                                        create_database=True, jobs=restore_jobs,
                                        restore_session_settings={"maintenance_work_mem": "64MB"}), name="restore")
    assert restored["changed"] and restored["created_database"], restored.get("msg")
    assert rich_db.facts(new_db_name) == before_facts
    assert rich_db.schema(new_db_name) == before_schema
    assert_no_secret(ansible, pg_cluster)


def test_in_place_restore_brings_back_a_dropped_table(ansible, pg_cluster, rich_db, backup_dir):
    before = rich_db.facts()
    result = dump(ansible, pg_cluster, rich_db, backup_dir)
    pg_cluster.psql('DROP TABLE "audit trail"."journal ✓ été"; DELETE FROM billing.invoice WHERE id < 100;', rich_db.name)
    assert rich_db.facts() != before
    restored = ansible.run(MODULE, dict(pg_cluster.tcp_params(), state="restore", path=result["path"]), name="restore")
    assert restored["database"] == rich_db.name and restored["created_database"] is False
    assert rich_db.facts() == before
    assert_no_secret(ansible, pg_cluster)


def test_peer_auth_as_postgres_writes_root_owned_archive(ansible, pg_cluster, rich_db, backup_dir):
    if os.geteuid() != 0:
        pytest.skip("peer authentication as another OS user needs root")
    result = dump(ansible, pg_cluster, rich_db, backup_dir, peer=True)
    info = os.stat(result["path"])
    assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (0, 0o600)
    restored = ansible.run(MODULE, dict(state="restore", path=result["path"], database="peer copy ✓",
                                        create_database=True, login_unix_socket=pg_cluster.sockdir,
                                        port=pg_cluster.port, os_user="postgres"), name="restore")
    assert restored["changed"], restored.get("msg")
    assert rich_db.facts("peer copy ✓") == rich_db.facts()


def test_check_mode_reports_and_changes_nothing(ansible, pg_cluster, rich_db, backup_dir, new_db_name):
    planned = ansible.run(MODULE, dict(pg_cluster.tcp_params(), database=rich_db.name, dest_dir=str(backup_dir)),
                          check_mode=True, name="dump-check")
    assert planned["changed"] and planned["path"].startswith(str(backup_dir))
    assert "would dump database" in planned["plan"]
    assert os.listdir(str(backup_dir)) == []

    result = dump(ansible, pg_cluster, rich_db, backup_dir)
    planned = ansible.run(MODULE, dict(pg_cluster.tcp_params(), state="restore", path=result["path"],
                                       database=new_db_name, create_database=True), check_mode=True,
                          name="restore-check")
    assert planned["changed"] and "would create the database and restore" in planned["plan"]
    assert pg_cluster.psql("SELECT count(*) FROM pg_database WHERE datname = :'n'", variables={"n": new_db_name}) == "0"
    assert_no_secret(ansible, pg_cluster)


def test_peer_auth_zstd_restore_needs_no_access_to_the_backup_directory(ansible, pg_cluster, rich_db, backup_dir):
    if os.geteuid() != 0:
        pytest.skip("peer authentication as another OS user needs root")
    assert stat.S_IMODE(os.stat(os.path.dirname(str(backup_dir))).st_mode) & 0o077 == 0, "a root-only parent"
    result = dump(ansible, pg_cluster, rich_db, backup_dir, peer=True, compressor="zstd")
    restored = ansible.run(MODULE, dict(state="restore", path=result["path"], database="peer zstd ✓",
                                        create_database=True, login_unix_socket=pg_cluster.sockdir,
                                        port=pg_cluster.port, os_user="postgres"), name="restore")
    assert restored["changed"], restored.get("msg")
    assert rich_db.facts("peer zstd ✓") == rich_db.facts()

    parallel = ansible.run(MODULE, dict(state="restore", path=result["path"], database="peer zstd ✓", jobs=2,
                                        replace="database",
                                        login_unix_socket=pg_cluster.sockdir, port=pg_cluster.port,
                                        os_user="postgres"), name="restore-parallel")
    assert parallel.get("failed") and "OS user postgres cannot unpack" in parallel["msg"], parallel
    assert "Fix:" in parallel["msg"]

    directory = ansible.run(MODULE, dict(database=rich_db.name, dest_dir=str(backup_dir), format="directory",
                                         login_unix_socket=pg_cluster.sockdir, port=pg_cluster.port,
                                         os_user="postgres"), name="dump-directory")
    assert directory.get("failed") and "OS user postgres cannot write a directory-format dump" in directory["msg"]
    assert sorted(os.listdir(str(backup_dir))) == sorted([os.path.basename(result["path"]),
                                                          os.path.basename(result["manifest"])])


def test_restore_owned_by_a_new_role_without_a_second_hash(ansible, pg_cluster, rich_db, backup_dir, new_db_name):
    """owner: the role is created (LOGIN, no password) and owns the new database; verify_checksum: false skips
    the SHA-256 pass and says so (checksum_verified), the size and table of contents are still checked."""
    owner = "vault owner ✓ \"quoted\""
    result = dump(ansible, pg_cluster, rich_db, backup_dir, compressor="zstd")
    planned = ansible.run(MODULE, dict(pg_cluster.tcp_params(), state="restore", path=result["path"],
                                       database=new_db_name, create_database=True, owner=owner),
                          check_mode=True, name="restore-owner-check")
    assert planned["created_owner_role"] is True
    assert "would create the role %s and create the database owned by %s and restore" % (owner, owner) in planned["plan"]
    assert pg_cluster.psql("SELECT count(*) FROM pg_roles WHERE rolname = :'r'", variables={"r": owner}) == "0"

    restored = ansible.run(MODULE, dict(pg_cluster.tcp_params(), state="restore", path=result["path"],
                                        database=new_db_name, create_database=True, owner=owner,
                                        verify_checksum=False), name="restore-owner")
    assert restored["created_database"] and restored["created_owner_role"], restored.get("msg")
    assert restored["checksum_verified"] is False and restored["sha256"] == result["sha256"]
    assert pg_cluster.psql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :'n'",
                           variables={"n": new_db_name}) == owner
    assert pg_cluster.psql("SELECT rolcanlogin::text || ' ' || (rolpassword IS NULL)::text FROM pg_authid"
                           " WHERE rolname = :'r'", variables={"r": owner}) == "true true"
    assert rich_db.facts(new_db_name) == rich_db.facts()

    # An existing database keeps its owner; a missing owner role is still created (the dump's ALTER OWNER needs it).
    again = ansible.run(MODULE, dict(pg_cluster.tcp_params(), state="restore", path=result["path"],
                                     database=new_db_name, owner="owner two"), name="restore-existing")
    assert again["created_database"] is False and again["created_owner_role"] is True, again.get("msg")
    assert pg_cluster.psql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :'n'",
                           variables={"n": new_db_name}) == owner
    assert pg_cluster.psql("SELECT count(*) FROM pg_roles WHERE rolname = 'owner two'") == "1"
    assert_no_secret(ansible, pg_cluster)

"""pg_backup restore is all or nothing: a failure leaves the target as it was and drops what the run created."""

import hashlib
import itertools
import json
import os
import shutil
import subprocess
import time

import pytest

MODULE = "vaultops.recovery.pg_backup"
ROWS = 20000
_counter = itertools.count()


class OwnedDb(object):
    """A database whose main table belongs to its own role, with database-level grants, settings and a comment."""

    def __init__(self, cluster):
        n = next(_counter)
        self.cluster = cluster
        self.name = "aon %d ✓ 'db'" % n
        self.owner = "tbl owner %d ✓" % n
        self.reader = "reader %d" % n
        cluster.psql('CREATE ROLE :"o"; CREATE ROLE :"r";', variables={"o": self.owner, "r": self.reader})
        cluster.psql('CREATE DATABASE :"n";', variables={"n": self.name})
        cluster.psql('REVOKE CONNECT ON DATABASE :"n" FROM PUBLIC; GRANT CONNECT ON DATABASE :"n" TO :"r";'
                     ' ALTER DATABASE :"n" SET work_mem = \'7MB\'; COMMENT ON DATABASE :"n" IS \'vault ✓\';',
                     variables={"n": self.name, "r": self.reader})
        cluster.psql("CREATE TABLE t (id int PRIMARY KEY, v text);"
                     " INSERT INTO t SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, %d) g;"
                     ' ALTER TABLE t OWNER TO :"o"; GRANT SELECT ON t TO :"r";' % ROWS,
                     self.name, variables={"o": self.owner, "r": self.reader})

    def sql(self, statement, **variables):
        return self.cluster.psql(statement, self.name, variables=variables)

    def rows(self):
        return int(self.sql("SELECT count(*) FROM t"))

    def database_facts(self):
        """What a database carries outside an archive: owner, grants, settings, comment."""
        return self.cluster.psql(
            "SELECT pg_get_userbyid(datdba), datacl::text, shobj_description(oid, 'pg_database'),"
            " (SELECT setconfig::text FROM pg_db_role_setting WHERE setdatabase = d.oid AND setrole = 0)"
            " FROM pg_database d WHERE datname = :'n'", variables={"n": self.name})


def databases_like(cluster, fragment):
    return cluster.psql("SELECT count(*) FROM pg_database WHERE strpos(datname, :'f') > 0", variables={"f": fragment})


def role_count(cluster, role):
    return cluster.psql("SELECT count(*) FROM pg_roles WHERE rolname = :'r'", variables={"r": role})


@pytest.fixture
def owned_db(pg_cluster):
    return OwnedDb(pg_cluster)


def dump(ansible, cluster, db, backup_dir, **extra):
    result = ansible.run(MODULE, dict(cluster.tcp_params(), database=db.name, dest_dir=str(backup_dir), **extra),
                         name="dump")
    assert not result.get("failed"), result.get("msg")
    return result


def restore(ansible, cluster, path, name="restore", check_mode=False, **extra):
    return ansible.run(MODULE, dict(cluster.tcp_params(), state="restore", path=path, **extra), name=name,
                       check_mode=check_mode)


def damage_and_reseal(dumped):
    """Zero bytes inside the table's data and write the new digest into the manifest: verify passes."""
    with open(dumped["path"], "r+b") as handle:
        handle.seek(dumped["size"] * 2 // 3)
        handle.write(b"\0" * 64)
    with open(dumped["path"], "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    with open(dumped["manifest"]) as handle:
        manifest = json.load(handle)
    manifest["sha256"] = digest
    with open(dumped["manifest"], "w") as handle:
        json.dump(manifest, handle)


def failed(result, *fragments):
    assert result.get("failed"), result
    for fragment in fragments:
        assert fragment in result["msg"], result["msg"]
    return result["msg"]


def test_missing_owner_role_is_refused_before_the_target_is_touched(ansible, pg_cluster, owned_db, backup_dir):
    dumped = dump(ansible, pg_cluster, owned_db, backup_dir)
    # The owner role is gone on the target (its table now belongs to postgres): the archive still names it.
    owned_db.sql('REASSIGN OWNED BY :"o" TO postgres', o=owned_db.owner)
    pg_cluster.psql('DROP ROLE :"o"', variables={"o": owned_db.owner})

    planned = restore(ansible, pg_cluster, dumped["path"], name="check", check_mode=True)
    failed(planned, owned_db.owner, "do not exist", "Fix:")
    assert planned["missing_roles"] == [owned_db.owner]

    result = restore(ansible, pg_cluster, dumped["path"])
    msg = failed(result, "roles that do not exist", '%s (owner)' % owned_db.owner, "no_owner", "Fix:")
    assert "check login_user" not in msg
    assert result["changed"] is False and result["missing_roles"] == [owned_db.owner]
    assert owned_db.rows() == ROWS

    # no_owner: the connecting login owns the objects, and nothing else is missing.
    done = restore(ansible, pg_cluster, dumped["path"], name="no-owner", no_owner=True)
    assert done["changed"] and done["mechanism"] == "transaction" and done["missing_roles"] == [], done.get("msg")
    assert owned_db.rows() == ROWS


def test_archive_damaged_inside_a_valid_digest_rolls_back(ansible, pg_cluster, owned_db, backup_dir):
    dumped = dump(ansible, pg_cluster, owned_db, backup_dir)
    damage_and_reseal(dumped)
    assert not ansible.run(MODULE, dict(state="verify", path=dumped["path"]), name="verify").get("failed")
    owned_db.sql("DELETE FROM t WHERE id <= 10")

    result = restore(ansible, pg_cluster, dumped["path"])
    msg = failed(result, "damaged", "Fix:", "another backup", "before it was sealed", "Target: unchanged")
    assert "cannot reach" not in msg
    assert result["changed"] is False
    assert result["target_state"].startswith("unchanged: the restore ran in one transaction")
    assert owned_db.rows() == ROWS - 10


def test_parallel_in_place_is_refused_or_swapped_whole(ansible, pg_cluster, owned_db, backup_dir):
    dumped = dump(ansible, pg_cluster, owned_db, backup_dir)
    owned_db.sql("DELETE FROM t WHERE id <= 10")

    refused = restore(ansible, pg_cluster, dumped["path"], name="objects-jobs2", jobs=2)
    failed(refused, "jobs: 2 cannot restore", "replace: database", "Fix:")
    assert owned_db.rows() == ROWS - 10

    copies = backup_dir / "damaged copy"
    copies.mkdir()
    damaged = dict(dumped, path=str(copies / os.path.basename(dumped["path"])),
                   manifest=str(copies / os.path.basename(dumped["manifest"])))
    for key in ("path", "manifest"):
        shutil.copyfile(dumped[key], damaged[key])
    damage_and_reseal(damaged)
    failing = restore(ansible, pg_cluster, damaged["path"], name="swap-damaged", replace="database", jobs=2,
                      database=owned_db.name)
    failed(failing, "damaged", "Fix:")
    assert failing["changed"] is False and "scratch database" in failing["target_state"]
    assert owned_db.rows() == ROWS - 10
    assert databases_like(pg_cluster, ".vaultops-") == "0", "no scratch database may be left behind"

    done = restore(ansible, pg_cluster, dumped["path"], name="swap", replace="database", jobs=2)
    assert done["changed"] and done["mechanism"] == "swap", done.get("msg")
    assert owned_db.rows() == ROWS
    assert databases_like(pg_cluster, ".vaultops-") == "0"


def test_exact_copy_removes_objects_not_in_the_archive_and_keeps_database_properties(ansible, pg_cluster, owned_db,
                                                                                     backup_dir):
    dumped = dump(ansible, pg_cluster, owned_db, backup_dir)
    owned_db.sql("CREATE TABLE added_later (x int); INSERT INTO added_later VALUES (1); DELETE FROM t WHERE id <= 10")
    before = owned_db.database_facts()
    assert "7MB" in before and "vault ✓" in before and owned_db.reader in before

    objects = restore(ansible, pg_cluster, dumped["path"], name="objects")
    assert objects["mechanism"] == "transaction", objects.get("msg")
    assert owned_db.rows() == ROWS
    assert owned_db.sql("SELECT count(*) FROM added_later") == "1", "--clean leaves objects not in the archive"

    # Another session on the target: refused before anything is created, naming it.
    env = dict(pg_cluster.env(), PGAPPNAME="vaulthalla-web", PGDATABASE=owned_db.name)
    argv = ["runuser", "-u", "postgres", "--", "psql", "-X", "-c", "SELECT pg_sleep(60)"]
    holder = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _attempt in range(50):
            if pg_cluster.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'vaulthalla-web'") == "1":
                break
            time.sleep(0.1)
        busy = restore(ansible, pg_cluster, dumped["path"], name="busy", replace="database")
        failed(busy, "1 other session(s)", "vaulthalla-web", "stop the services", "Nothing was changed")
    finally:
        pg_cluster.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'vaulthalla-web'")
        holder.wait()
    assert owned_db.sql("SELECT count(*) FROM added_later") == "1"

    exact = restore(ansible, pg_cluster, dumped["path"], name="exact", replace="database")
    assert exact["changed"] and exact["mechanism"] == "swap", exact.get("msg")
    assert owned_db.sql("SELECT count(*) FROM pg_class WHERE relname = 'added_later'") == "0"
    assert owned_db.rows() == ROWS
    assert owned_db.database_facts() == before
    assert owned_db.sql("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 't'") == owned_db.owner
    assert databases_like(pg_cluster, ".vaultops-") == "0"


def test_bad_session_setting_is_named_and_nothing_created_is_left(ansible, pg_cluster, owned_db, backup_dir,
                                                                  new_db_name):
    dumped = dump(ansible, pg_cluster, owned_db, backup_dir)
    role = "new owner %d" % next(_counter)
    result = restore(ansible, pg_cluster, dumped["path"], database=new_db_name, create_database=True, owner=role,
                     restore_session_settings={"work_mem": "lots"})
    msg = failed(result, "invalid value for parameter", "work_mem", "restore_session_settings", "Fix:")
    assert "cannot reach" not in msg and "login_host" not in msg
    assert databases_like(pg_cluster, new_db_name) == "0" and role_count(pg_cluster, role) == "0"

    # A failure after the database and the role were created drops both again.
    damage_and_reseal(dumped)
    result = restore(ansible, pg_cluster, dumped["path"], name="created-then-failed", database=new_db_name,
                     create_database=True, owner=role)
    failed(result, "damaged", "does not exist, as before the run", "dropped what it had created")
    assert result["changed"] is False
    assert databases_like(pg_cluster, new_db_name) == "0" and role_count(pg_cluster, role) == "0"

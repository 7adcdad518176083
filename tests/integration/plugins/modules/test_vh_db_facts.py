"""vh_db_facts against a real PostgreSQL with the lab's Vaulthalla schema, through ansible-playbook."""

import glob
import hashlib
import itertools
import os
import re

import pytest

from support.collection import REPO

MODULE = "vaultops.recovery.vh_db_facts"
SCHEMA_FILES = sorted(glob.glob(os.path.join(REPO, "lab", "vaulthalla", "rootfs",
                                             "usr", "share", "vaulthalla", "psql", "*.sql")))
PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$PLANTED-pw-hash-6d1f0c"
SHARE_TOKENS = ["9f86d081884c7d659a2feaa0c55ad015", "60303ae22b998861bce3b28f33eec1be"]
SEED = r"""
INSERT INTO users (name, email, password_hash, linux_uid, role) VALUES
  ('admin', 'admin@example.org', :'pw', 0, 'super_admin'),
  ('alice', 'alice@example.org', :'pw', NULL, 'user'),
  ('bob "the" builder', NULL, NULL, NULL, 'user');
INSERT INTO groups (name, description) VALUES ('ops', 'operators'), ('finance ✓', NULL);
INSERT INTO group_members (group_id, user_id) SELECT g.id, u.id FROM groups g, users u WHERE g.name = 'ops';
INSERT INTO vault (type, name, owner_id, mount_point) VALUES
  ('local', 'docs', 1, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), ('s3', 'archive', 2, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb');
INSERT INTO vault_role (name, permissions) VALUES ('reader', '{read}'), ('editor', '{read,write}');
INSERT INTO share_link (token_hash, vault_id, root_path) SELECT t, 1, '/shared' FROM unnest(:'tokens'::text[]) t;
INSERT INTO s3_price_budget_policy (scope, provider_key, vault_id, mode, max_run_cost, max_daily_cost, max_monthly_cost)
VALUES ('global', NULL, NULL, 'enforce', NULL, 25, 500),
       ('provider', 'r2', NULL, 'warn', 1.5, NULL, NULL),
       ('vault', NULL, 2, 'report', NULL, 3.25, NULL);
"""
CHECK_NAMES = ["row_counts", "records_users", "records_groups", "records_vault_role", "records_share_link",
               "s3_price_budget_policy"]
_counter = itertools.count()


@pytest.fixture
def vh_db(pg_cluster):
    """A fresh Vaulthalla database (the lab's schema files, applied as the daemon does), with a quoted name."""
    name = "vaulthalla %d 'x' ✓" % next(_counter)
    pg_cluster.psql('CREATE DATABASE :"n";', variables={"n": name})
    for path in SCHEMA_FILES:
        with open(path) as handle:
            pg_cluster.psql(handle.read(), name)
    pg_cluster.psql(SEED, name, variables={"pw": PASSWORD_HASH, "tokens": "{%s}" % ",".join(SHARE_TOKENS)})
    return name


def collect(ansible, cluster, database, check_mode=False, name="facts", **extra):
    args = dict(cluster.tcp_params(), database=database)
    args.update(extra)
    return ansible.run(MODULE, args, check_mode=check_mode, name=name)


def assert_no_secret(ansible, cluster):
    printed = ansible.everything_printed()
    assert PASSWORD_HASH not in printed and "PLANTED-pw-hash" not in printed
    assert cluster.superuser_password not in printed


def by_name(result):
    return dict((check["name"], check) for check in result["checks"])


def test_facts_are_exact_and_digests_are_computed_on_the_server(ansible, pg_cluster, vh_db):
    result = collect(ansible, pg_cluster, vh_db)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False and "checks" not in result
    assert result["database"] == vh_db and result["server_version"].startswith("15.")
    assert result["server_version_num"] >= 150000
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", result["collected_at"])

    tables = pg_cluster.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", vh_db).splitlines()
    expected_counts = dict((t, int(pg_cluster.psql('SELECT count(*) FROM :"t"', vh_db, variables={"t": t})))
                           for t in tables)
    assert result["row_counts"] == expected_counts
    assert (expected_counts["users"], expected_counts["share_link"], expected_counts["group_members"]) == (3, 2, 3)

    records = result["records"]
    assert sorted(records) == ["groups", "s3_price_budget_policy", "share_link", "users", "vault_role"]
    assert sorted(records["users"]) == ["admin", "alice", 'bob "the" builder']
    assert sorted(records["groups"]) == ["finance ✓", "ops"]
    assert sorted(records["vault_role"]) == ["editor", "reader"]
    assert sorted(records["share_link"]) == sorted(SHARE_TOKENS)
    assert sorted(records["s3_price_budget_policy"]) == ["1", "2", "3"]
    # The digest is sha256 over the row's JSON with the time zone pinned to UTC.
    row_json = pg_cluster.psql("SET TimeZone = 'UTC'; SELECT row_to_json(u)::text FROM users u WHERE name = 'alice'",
                               vh_db)
    assert PASSWORD_HASH in row_json
    assert records["users"]["alice"] == hashlib.sha256(row_json.encode("utf-8")).hexdigest()

    assert result["s3_price_budget_policy"] == [
        {"id": 1, "scope": "global", "provider_key": None, "vault_id": None, "mode": "enforce",
         "max_run_cost": None, "max_daily_cost": "25.00000000", "max_monthly_cost": "500.00000000"},
        {"id": 2, "scope": "provider", "provider_key": "r2", "vault_id": None, "mode": "warn",
         "max_run_cost": "1.50000000", "max_daily_cost": None, "max_monthly_cost": None},
        {"id": 3, "scope": "vault", "provider_key": None, "vault_id": 2, "mode": "report",
         "max_run_cost": None, "max_daily_cost": "3.25000000", "max_monthly_cost": None},
    ]
    assert_no_secret(ansible, pg_cluster)


def test_a_copy_on_a_server_with_other_session_settings_compares_equal(ansible, pg_cluster, vh_db):
    recorded = collect(ansible, pg_cluster, vh_db, name="record")
    copy_name = vh_db + " copy"
    pg_cluster.psql('CREATE DATABASE :"c" TEMPLATE :"s";', variables={"c": copy_name, "s": vh_db})
    # Settings that change how row_to_json renders timestamps and floats: the module pins them.
    pg_cluster.psql("ALTER DATABASE :\"c\" SET TimeZone = 'Asia/Kolkata'; ALTER DATABASE :\"c\" SET "
                    "extra_float_digits = -3; ALTER DATABASE :\"c\" SET DateStyle = 'SQL, DMY'",
                    variables={"c": copy_name})
    result = collect(ansible, pg_cluster, copy_name, name="compare", expected=recorded)
    assert not result.get("failed"), result.get("msg")
    assert [check["name"] for check in result["checks"]] == CHECK_NAMES
    assert all(check["passed"] for check in result["checks"]), result["checks"]
    assert by_name(result)["row_counts"]["detail"].startswith("15 tables, ")
    assert by_name(result)["s3_price_budget_policy"]["detail"] == "3 policies equal"
    assert result["records"] == recorded["records"]
    assert_no_secret(ansible, pg_cluster)


def test_changed_user_missing_share_and_policy_change_are_reported(ansible, pg_cluster, vh_db):
    recorded = collect(ansible, pg_cluster, vh_db, name="record")
    pg_cluster.psql("UPDATE users SET email = 'alice@evil.example' WHERE name = 'alice';"
                    "DELETE FROM share_link WHERE token_hash = :'t';"
                    "UPDATE s3_price_budget_policy SET mode = 'off' WHERE scope = 'global';"
                    "UPDATE s3_price_budget_policy SET is_active = false WHERE scope = 'vault';",
                    vh_db, variables={"t": SHARE_TOKENS[1]})

    reported = collect(ansible, pg_cluster, vh_db, name="drill", expected=recorded, fail_on_mismatch=False)
    assert not reported.get("failed"), reported.get("msg")
    checks = by_name(reported)
    assert checks["records_users"] == dict(name="records_users", passed=False, detail='1 differ: "alice"')
    assert checks["records_share_link"]["detail"] == '1 missing: "%s"' % SHARE_TOKENS[1]
    assert checks["row_counts"]["detail"] == '"share_link": 2 expected, 1 found'
    assert checks["s3_price_budget_policy"]["detail"] == \
        'id 1 (global): mode "enforce" -> "off"; id 3 (vault 2): other columns differ'
    assert [name for name in CHECK_NAMES if checks[name]["passed"]] == ["records_groups", "records_vault_role"]

    failed = collect(ansible, pg_cluster, vh_db, name="strict", expected=recorded)
    assert failed.get("failed")
    assert failed["msg"].startswith("The database %s differs from the expected facts: row_counts (" % vh_db)
    assert 'records_users (1 differ: "alice")' in failed["msg"]
    assert failed["checks"] == reported["checks"] and failed["row_counts"]["share_link"] == 1
    printed = ansible.everything_printed()
    assert "alice@evil.example" not in printed and "alice@example.org" not in printed
    assert_no_secret(ansible, pg_cluster)


def test_check_mode_returns_the_same_facts(ansible, pg_cluster, vh_db):
    normal = collect(ansible, pg_cluster, vh_db, name="normal")
    checked = collect(ansible, pg_cluster, vh_db, check_mode=True, name="check", expected=normal)
    assert checked["changed"] is False
    for key in ("row_counts", "records", "s3_price_budget_policy", "database"):
        assert checked[key] == normal[key]
    assert all(check["passed"] for check in checked["checks"])


def test_schemas_and_tables_with_spaces_and_quotes(ansible, pg_cluster, vh_db):
    pg_cluster.psql('CREATE SCHEMA "odd ✓ schema";'
                    'CREATE TABLE "odd ✓ schema"."we""ird tab\'le" ("key col" text PRIMARY KEY, "sec ret" text);'
                    'INSERT INTO "odd ✓ schema"."we""ird tab\'le" VALUES (\'k "1"\', :\'pw\'), (\'k2\', NULL);'
                    'CREATE TABLE "odd ✓ schema".users (id int);', vh_db, variables={"pw": PASSWORD_HASH})
    tables = {"we\"ird tab'le": "key col", "users": "name"}
    result = collect(ansible, pg_cluster, vh_db, schemas=["public", "odd ✓ schema"], record_tables=tables)
    assert not result.get("failed"), result.get("msg")
    assert result["row_counts"]["odd ✓ schema.we\"ird tab'le"] == 2
    assert result["row_counts"]["odd ✓ schema.users"] == 0 and result["row_counts"]["users"] == 3
    assert sorted(result["records"]["we\"ird tab'le"]) == ["k \"1\"", "k2"]
    # users resolves to the first schema listed that has it
    assert sorted(result["records"]["users"]) == ["admin", "alice", 'bob "the" builder']
    assert_no_secret(ansible, pg_cluster)


@pytest.mark.parametrize("extra, message", [
    (dict(record_tables={"users": "name", "user_groups": "name"}),
     'option record_tables: table "user_groups" is not in schema public of database'),
    (dict(record_tables={"users": "nmae"}), 'option record_tables: table "users" has no column "nmae"'),
    (dict(record_tables={"users": "role"}), 'key column of table "users" does not identify its rows'),
    (dict(schemas=["public", "vh"]), 'option schemas: schema "vh" does not exist'),
    (dict(database="postgres"), "the cost policy table s3_price_budget_policy is not found"),
])
def test_a_missing_table_or_column_names_the_option(ansible, pg_cluster, vh_db, extra, message):
    args = dict(database=vh_db)
    args.update(extra)
    result = collect(ansible, pg_cluster, name="bad", **args)
    assert result.get("failed") and message in result["msg"], result.get("msg")
    assert "Fix:" in result["msg"]
    assert "row_counts" not in result


def test_peer_authentication_as_postgres(ansible, pg_cluster, vh_db):
    if os.geteuid() != 0:
        pytest.skip("peer authentication as another OS user needs root")
    result = ansible.run(MODULE, dict(database=vh_db, login_unix_socket=pg_cluster.sockdir, port=pg_cluster.port,
                                      os_user="postgres"), name="peer")
    assert not result.get("failed"), result.get("msg")
    assert result["row_counts"]["users"] == 3


def test_a_wrong_password_is_one_clear_message(ansible, pg_cluster, vh_db):
    result = ansible.run(MODULE, dict(pg_cluster.tcp_params(login_password="wrong-PLANTED-pw"), database=vh_db),
                         name="wrong")
    assert result.get("failed")
    assert "password authentication failed for user postgres" in result["msg"] and "Fix:" in result["msg"]
    assert "wrong-PLANTED-pw" not in ansible.everything_printed()

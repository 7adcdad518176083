"""The decisions of an all-or-nothing restore: mechanism, argv, names, roles, error meaning, final state."""

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.postgres import pg_restore_rules as rules
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError


@pytest.mark.parametrize("exists, replace, jobs, single, expected", [
    (False, "objects", 4, None, "create"),
    (False, "database", 1, None, "create"),
    (True, "objects", 1, None, "transaction"),
    (True, "objects", 1, True, "transaction"),
    (True, "database", 4, None, "swap"),
    (True, "database", 1, False, "swap"),
])
def test_mechanism_keeps_every_restore_all_or_nothing(exists, replace, jobs, single, expected):
    assert rules.choose_mechanism("vault", exists, replace, jobs, single) == expected


def test_parallel_or_non_transactional_in_place_restore_is_refused_with_the_reason():
    with pytest.raises(RecoveryError, match="parallel workers each commit") as refused:
        rules.choose_mechanism("vault", True, "objects", 2)
    assert "replace: database" in str(refused.value) and "Nothing was changed" in str(refused.value)
    with pytest.raises(RecoveryError, match="single_transaction: false is refused"):
        rules.choose_mechanism("vault", True, "objects", 1, False)


def test_restore_argv():
    assert rules.restore_argv("pg_restore", "dbname='x'", 1, True, True, False, True) == [
        "pg_restore", "--no-password", "--dbname=dbname='x'", "--jobs=1", "--clean", "--if-exists",
        "--single-transaction"]
    assert rules.restore_argv("pg_restore", "d", 3, False, False, True, True)[3:] == [
        "--jobs=3", "--no-owner", "--exit-on-error"]
    assert "--exit-on-error" not in rules.restore_argv("pg_restore", "d", 1, False, False, False, False)


def test_scratch_names_fit_63_bytes_without_splitting_a_character():
    assert rules.scratch_name("vault", 42) == "vault.vaultops-restore-42"
    assert rules.scratch_name("vault", 42, "previous") == "vault.vaultops-previous-42"
    long_name = rules.scratch_name("é" * 40, 123456)
    # 63 bytes minus the 24-byte suffix leaves 39: 19 two-byte characters, never half of the 20th.
    assert long_name == "é" * 19 + ".vaultops-restore-123456"


SCHEMA = '''
ALTER TABLE public.t OWNER TO app_owner;
ALTER TABLE "odd ""schema"""."x TO y" OWNER TO "tbl owner ✓";
ALTER LARGE OBJECT 16400 OWNER TO postgres;
GRANT SELECT ON TABLE public."a TO b" TO app_reader;
GRANT ALL ON SCHEMA s TO "Mixed", app_reader WITH GRANT OPTION;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
REVOKE USAGE ON SCHEMA s FROM old_role;
ALTER DEFAULT PRIVILEGES FOR ROLE deployer IN SCHEMA s GRANT SELECT ON TABLES TO PUBLIC;
    -- a function body line: ALTER TABLE x OWNER TO not_a_role;
'''


def test_roles_named_by_the_archive_sql():
    assert rules.roles_in_sql(SCHEMA) == {
        "app_owner": {"owner"}, "tbl owner ✓": {"owner"}, "postgres": {"owner"},
        "app_reader": {"grant"}, "Mixed": {"grant"}, "old_role": {"grant"}, "deployer": {"default privileges"}}


def test_missing_roles_leave_out_existing_ones_and_the_role_the_run_creates():
    needed = {"app_owner": {"owner"}, "app_reader": {"grant"}, "postgres": {"owner"}, "new": {"owner"}}
    missing = rules.missing_roles(needed, {"postgres"}, created="new")
    assert missing == [("app_owner", ["owner"]), ("app_reader", ["grant"])]
    error = rules.missing_roles_error(missing, "db:5432")
    assert "app_owner (owner), app_reader (grant)" in str(error) and "no_owner: true" in str(error)
    assert error.facts["missing_roles"] == ["app_owner", "app_reader"]


def test_sessions_error_names_count_and_applications():
    error = str(rules.sessions_error("vault", 2, "vaulthalla-web, psql"))
    assert "2 other session(s)" in error and "vaulthalla-web, psql" in error and "stop the services" in error


@pytest.mark.parametrize("stderr, expected, fix", [
    ('pg_restore: error: could not execute query: ERROR:  role "app owner" does not exist\n'
     'Command was: ALTER TABLE public.t OWNER TO "app owner";',
     'the role app owner, which does not exist', "no_owner: true"),
    ('pg_restore: error: connection to server on socket "/s/.s.PGSQL.5432" failed: FATAL:  invalid value for'
     ' parameter "work_mem": "lots"', 'invalid value for parameter "work_mem": "lots"', "restore_session_settings"),
    ('psql: error: FATAL:  unrecognized configuration parameter "wrok_mem"', 'unrecognized configuration parameter',
     "restore_session_settings"),
    ("pg_restore: error: could not uncompress data: incorrect data check", "content is damaged",
     "before it was sealed"),
    ("/tmp/x.zst : Decoding error (36) : Restored data doesn't match checksum", "content is damaged",
     "another backup"),
    ('pg_restore: error: COPY failed for table "t": ERROR:  extra data after last expected column\n'
     'CONTEXT:  COPY t, line 4634', "COPY failed for table", "another backup"),
    ("pg_restore: error: could not execute query: ERROR:  out of shared memory\n"
     "HINT:  You might need to increase max_locks_per_transaction.", "out of lock slots",
     "max_locks_per_transaction"),
    ('ERROR:  database "vault" is being accessed by other users\nDETAIL:  There is 1 other session using the'
     ' database.', "another session connected", "stop the services"),
])
def test_restore_failures_name_the_real_cause(stderr, expected, fix):
    message, advice = rules.classify_restore_failure(stderr)
    assert expected in message and fix in advice


def test_connection_failures_are_left_to_the_connection_rules():
    assert rules.classify_restore_failure(
        'pg_restore: error: connection to server at "db" failed: FATAL:  role "nobody" does not exist') is None
    assert rules.classify_restore_failure("something else") is None


def test_first_error_keeps_the_statement():
    assert rules.first_error("pg_restore: warning: x\npg_restore: error: boom\nCommand was: DROP x;\n") == \
        "pg_restore: error: boom (Command was: DROP x;)"
    assert rules.first_error("") == "no message"


def test_failure_state_says_what_is_left_and_sets_changed():
    state, changed = rules.failure_state("transaction", "vault", [("role", "o")], [])
    assert state.startswith("unchanged: the restore ran in one transaction") and "(role o)" in state
    assert changed is False
    state, changed = rules.failure_state("swap", "vault", [], [("database", "vault.vaultops-restore-1")])
    assert "could NOT drop" in state and "vault.vaultops-restore-1" in state and changed is True
    state, changed = rules.failure_state("create", "vault", [("database", "vault")], [])
    assert "does not exist, as before the run" in state and changed is False
    state, changed = rules.failure_state("create", "vault", [], [("database", "vault")])
    assert "left with a partial restore" in state and changed is True

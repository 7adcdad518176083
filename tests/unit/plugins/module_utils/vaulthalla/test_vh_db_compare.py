"""vh_db_facts: psql output parsing, option checks and the comparison with recorded facts."""

import copy
import json

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla import vh_db_compare, vh_db_facts
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

TABLES = dict(vh_db_facts.DEFAULT_RECORD_TABLES)
POLICY = [
    {"id": 1, "scope": "global", "provider_key": None, "vault_id": None, "mode": "enforce",
     "max_run_cost": None, "max_daily_cost": "25.00000000", "max_monthly_cost": "500.00000000"},
    {"id": 2, "scope": "vault", "provider_key": None, "vault_id": 7, "mode": "warn",
     "max_run_cost": "1.50000000", "max_daily_cost": None, "max_monthly_cost": None},
]


def facts():
    return {
        "row_counts": {"users": 2, "groups": 1, "vault_role": 1, "share_link": 2, "s3_price_budget_policy": 2,
                       "audit trail.journal": 5},
        "records": {
            "users": {"alice": "a" * 64, "bob": "b" * 64},
            "groups": {"ops": "c" * 64},
            "vault_role": {"reader": "d" * 64},
            "share_link": {"tok1": "e" * 64, "tok2": "f" * 64},
            "s3_price_budget_policy": {"1": "1" * 64, "2": "2" * 64},
        },
        "s3_price_budget_policy": copy.deepcopy(POLICY),
        "server_version": "15.20", "server_version_num": 150020, "database": "vaulthalla",
        "collected_at": "2026-11-21T10:15:00Z",
    }


def by_name(checks):
    return dict((check["name"], check) for check in checks)


# -- comparison --

def test_equal_facts_pass_every_named_check_in_order():
    checks = vh_db_compare.compare(facts(), facts(), TABLES)
    assert [check["name"] for check in checks] == [
        "row_counts", "records_users", "records_groups", "records_vault_role", "records_share_link",
        "s3_price_budget_policy"]
    assert all(check["passed"] for check in checks), checks
    assert by_name(checks)["row_counts"]["detail"] == "6 tables, 13 rows, all counts equal"
    assert by_name(checks)["records_users"]["detail"] == "2 records equal"
    assert by_name(checks)["s3_price_budget_policy"]["detail"] == "2 policies equal"
    assert vh_db_compare.failed_summary(checks) == ""


def test_a_whole_registered_result_is_accepted_as_expected():
    recorded = dict(facts(), changed=False, failed=False, invocation={"module_args": {}}, checks=[])
    assert all(check["passed"] for check in vh_db_compare.compare(recorded, facts(), TABLES))


def test_changed_missing_and_extra_records_are_named_by_key_only():
    actual = facts()
    actual["records"]["users"]["alice"] = "9" * 64
    del actual["records"]["share_link"]["tok2"]
    actual["records"]["groups"]["intruders"] = "0" * 64
    checks = by_name(vh_db_compare.compare(facts(), actual, TABLES))
    assert checks["records_users"] == dict(name="records_users", passed=False, detail='1 differ: "alice"')
    assert checks["records_share_link"]["detail"] == '1 missing: "tok2"'
    assert checks["records_groups"]["detail"] == '1 extra: "intruders"'
    assert checks["records_vault_role"]["passed"]
    assert "9" * 64 not in json.dumps(checks) and "a" * 64 not in json.dumps(checks)


def test_row_count_details_name_tables_and_both_counts():
    actual = facts()
    actual["row_counts"]["share_link"] = 1
    actual["row_counts"]["new_table"] = 0
    del actual["row_counts"]["audit trail.journal"]
    check = vh_db_compare.compare(facts(), actual, TABLES)[0]
    assert check == dict(name="row_counts", passed=False, detail='"share_link": 2 expected, 1 found; '
                         'missing tables: "audit trail.journal"; extra tables: "new_table"')


def test_recorded_counts_that_went_through_templating_as_text_still_compare():
    recorded = facts()
    recorded["row_counts"] = dict((table, str(count)) for table, count in recorded["row_counts"].items())
    assert vh_db_compare.compare(recorded, facts(), TABLES)[0]["passed"]


def test_policy_changes_name_the_policy_and_the_columns():
    actual = facts()
    actual["s3_price_budget_policy"][0]["mode"] = "report"
    actual["s3_price_budget_policy"][0]["max_daily_cost"] = "30.00000000"
    actual["s3_price_budget_policy"].pop(1)
    actual["s3_price_budget_policy"].append(dict(POLICY[0], id=3, scope="provider", provider_key="r2"))
    check = vh_db_compare.compare(facts(), actual, TABLES)[-1]
    assert check["name"] == "s3_price_budget_policy" and not check["passed"]
    assert check["detail"] == ('id 1 (global): mode "enforce" -> "report", max_daily_cost "25.00000000" -> '
                               '"30.00000000"; id 2 (vault 7) missing; id 3 (provider r2) extra')


def test_policy_digest_catches_a_column_the_report_does_not_show():
    actual = facts()
    actual["records"]["s3_price_budget_policy"]["2"] = "f" * 64  # e.g. is_active flipped
    check = vh_db_compare.compare(facts(), actual, TABLES)[-1]
    assert check == dict(name="s3_price_budget_policy", passed=False, detail="id 2 (vault 7): other columns differ")
    without_digests = dict((t, k) for t, k in TABLES.items() if t != "s3_price_budget_policy")
    assert vh_db_compare.compare(facts(), actual, without_digests)[-1]["passed"]


def test_policy_ids_and_costs_compare_as_text():
    recorded = facts()
    for row in recorded["s3_price_budget_policy"]:
        row["id"] = str(row["id"])
    assert vh_db_compare.compare(recorded, facts(), TABLES)[-1]["passed"]


def test_a_table_missing_from_the_recorded_facts_fails_its_check():
    recorded = facts()
    del recorded["records"]["vault_role"]
    del recorded["s3_price_budget_policy"]
    checks = by_name(vh_db_compare.compare(recorded, facts(), TABLES))
    assert checks["records_vault_role"] == dict(
        name="records_vault_role", passed=False, detail="the expected facts have no records of table vault_role")
    assert not checks["s3_price_budget_policy"]["passed"]
    assert "records_vault_role (the expected facts have no records" in vh_db_compare.failed_summary(checks.values())


def test_long_lists_are_cut_with_a_count():
    actual = facts()
    actual["records"]["users"] = dict(("user%02d" % n, "0" * 64) for n in range(25))
    detail = by_name(vh_db_compare.compare(facts(), actual, TABLES))["records_users"]["detail"]
    assert detail.startswith('2 missing: "alice", "bob"; 25 extra: "user00", ')
    assert detail.endswith('"user09" and 15 more')


@pytest.mark.parametrize("expected, message", [
    ({}, "holds none of row_counts"),
    ("row_counts", "holds none of row_counts"),
    ({"row_counts": [1]}, "row_counts must be a mapping, not list"),
    ({"s3_price_budget_policy": {"id": 1}}, "s3_price_budget_policy must be a list"),
    ({"records": {"users": ["alice"]}}, "records must map tables"),
    ({"s3_price_budget_policy": [{"mode": "off"}]}, "rows with an id"),
])
def test_malformed_expected_is_refused_naming_the_option(expected, message):
    with pytest.raises(RecoveryError, match=message) as caught:
        vh_db_compare.compare(expected, facts(), TABLES)
    assert "option expected" in str(caught.value) and "Fix:" in str(caught.value)


# -- options and psql output --

@pytest.mark.parametrize("schemas, tables, message", [
    ([], TABLES, "schemas must list at least one schema"),
    ([""], TABLES, "schemas must list at least one schema"),
    (["public"], {"users": ""}, 'the entry for "users" is ""'),
    (["public"], {"users": None}, 'the entry for "users" is null'),
    (["public"], {"users": ["name"]}, "record_tables maps each table"),
])
def test_malformed_options_are_refused_before_connecting(schemas, tables, message):
    with pytest.raises(RecoveryError, match=message):
        vh_db_facts.collect(None, "vaulthalla", schemas, tables)


class FakeConnection(object):
    def __init__(self, lines):
        self.lines = lines
        self.calls = []

    def psql(self, sql, database, variables=None, action="query"):
        self.calls.append((sql, database, variables))
        return self.lines


def line(**item):
    return json.dumps(item)


SERVER = line(kind="server", server_version="15.20", server_version_num=150020, database="vh 'x'",
              collected_at="2026-11-21T10:15:00Z")


def records(table, digests, rows=None, null_keys=0, distinct=None):
    rows = len(digests) if rows is None else rows
    return line(kind="records", table=table, schema="public", rows=rows, null_keys=null_keys,
                distinct_keys=len(digests) if distinct is None else distinct, digests=digests)


def test_names_reach_psql_only_as_variables():
    tables = {'we"ird tab\'le': "key col", "users": "name"}
    conn = FakeConnection([SERVER, records("users", {}), records('we"ird tab\'le', {"k": "0" * 64})])
    result = vh_db_facts.collect(conn, "vh 'x'", ["public", "odd schema"], tables)
    sql, database, variables = conn.calls[0]
    assert sql == vh_db_facts.COLLECT_SQL and database == "vh 'x'"
    assert json.loads(variables["record_tables"]) == tables
    assert json.loads(variables["schemas"]) == ["public", "odd schema"]
    assert variables["policy_table"] == "s3_price_budget_policy"
    assert list(result["records"]) == ['we"ird tab\'le', "users"]  # the option's order
    assert result["server_version"] == "15.20" and result["database"] == "vh 'x'"


def test_output_is_parsed_into_sorted_facts_and_schema_qualified_counts():
    lines = [SERVER,
             line(kind="count", schema="public", table="users", rows=2),
             line(kind="count", schema="audit trail", table="journal", rows=5),
             line(kind="count", schema="public", table="groups", rows=0),
             records("users", {"bob": "b" * 64, "alice": "a" * 64}),
             line(kind="policy", rows=POLICY)]
    result = vh_db_facts.parse_output(lines, "vaulthalla", ["public", "audit trail"])
    assert result["row_counts"] == {"audit trail.journal": 5, "groups": 0, "users": 2}
    assert list(result["row_counts"]) == ["audit trail.journal", "groups", "users"]
    assert list(result["records"]["users"]) == ["alice", "bob"]
    assert result["s3_price_budget_policy"] == POLICY
    assert result["collected_at"] == "2026-11-21T10:15:00Z"


def test_every_configuration_problem_is_reported_in_one_message():
    lines = [SERVER,
             line(kind="problem", problem="missing_schema", schema="nope"),
             line(kind="problem", problem="missing_table", purpose="records", table="usres"),
             line(kind="problem", problem="missing_columns", purpose="records", table="groups", columns=["nmae"])]
    with pytest.raises(RecoveryError) as caught:
        vh_db_facts.parse_output(lines, "vaulthalla", ["public", "nope"])
    message = str(caught.value)
    assert 'option schemas: schema "nope" does not exist in database vaulthalla' in message
    assert 'option record_tables: table "usres" is not in schemas public, nope of database vaulthalla' in message
    assert 'option record_tables: table "groups" has no column "nmae"' in message
    assert message.count("Fix:") == 1 and "correct the table name in record_tables" in message


def test_a_missing_policy_table_says_this_is_not_the_vaulthalla_database():
    lines = [SERVER, line(kind="problem", problem="missing_table", purpose="policy", table="s3_price_budget_policy")]
    with pytest.raises(RecoveryError, match="cost policy table s3_price_budget_policy is not found in schema public "
                                            "of database postgres. Fix: point database"):
        vh_db_facts.parse_output(lines, "postgres", ["public"])
    lines = [SERVER, line(kind="problem", problem="missing_columns", purpose="policy", table="s3_price_budget_policy",
                          columns=["mode", "max_run_cost"])]
    with pytest.raises(RecoveryError, match="columns mode, max_run_cost of table s3_price_budget_policy are not found"):
        vh_db_facts.parse_output(lines, "vaulthalla", ["public"])


@pytest.mark.parametrize("block, detail", [
    (records("groups", {"ops": "0" * 64}, rows=3, distinct=1), "3 rows, 0 with a NULL key, 2 repeated keys"),
    (records("groups", {"ops": "0" * 64}, rows=2, null_keys=1), "2 rows, 1 with a NULL key, 0 repeated keys"),
])
def test_a_key_that_does_not_identify_rows_is_refused(block, detail):
    with pytest.raises(RecoveryError) as caught:
        vh_db_facts.parse_output([SERVER, block], "vaulthalla", ["public"])
    assert 'option record_tables: key column of table "groups" does not identify its rows (%s)' % detail \
        in str(caught.value)
    assert "choose a unique, NOT NULL column" in str(caught.value)


def test_a_public_table_named_like_a_qualified_one_is_refused():
    lines = [SERVER, line(kind="count", schema="public", table="a.b", rows=1),
             line(kind="count", schema="a", table="b", rows=2)]
    with pytest.raises(RecoveryError, match='two tables are both named "a.b"'):
        vh_db_facts.parse_output(lines, "vaulthalla", ["public", "a"])

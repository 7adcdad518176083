# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare Vaulthalla database facts with the facts recorded at backup time, as named checks.

Each check is {name, passed, detail}. Details name tables, record keys (user,
group and role names, share token hashes, policy ids) and policy state, which
are not secret; they never carry other column values, since only digests of
those are known.
"""

import json

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla.vh_db_facts import POLICY_COLUMNS, POLICY_TABLE

# A detail names at most this many items per kind, then says how many more there are.
SHOWN = 10
_FACT_KEYS = ("row_counts", "records", POLICY_TABLE)


def _names(items):
    items = sorted(items)
    shown = ", ".join(json.dumps(item, ensure_ascii=False) for item in items[:SHOWN])
    if len(items) > SHOWN:
        shown += " and %d more" % (len(items) - SHOWN)
    return shown


def _check(name, problems, equal_detail):
    return dict(name=name, passed=not problems, detail="; ".join(problems) if problems else equal_detail)


def _record_problems(expected, actual):
    """Which keys of two {key: sha256} dicts differ, are missing or are extra."""
    kinds = (("differ", set(key for key in set(expected) & set(actual) if expected[key] != actual[key])),
             ("missing", set(expected) - set(actual)),
             ("extra", set(actual) - set(expected)))
    return ["%d %s: %s" % (len(keys), kind, _names(keys)) for kind, keys in kinds if keys]


def validate_expected(expected):
    """expected must look like a previous vh_db_facts result (extra keys, like changed or checks, are ignored)."""
    if not isinstance(expected, dict) or not any(key in expected for key in _FACT_KEYS):
        raise RecoveryError("option expected holds none of row_counts, records, s3_price_budget_policy.",
                            fix="pass a previous vh_db_facts result (for example the db_facts recorded in the "
                                "recovery set's manifest.json).")
    shapes = (("row_counts", dict), ("records", dict), (POLICY_TABLE, list))
    for key, kind in shapes:
        if key in expected and not isinstance(expected[key], kind):
            raise RecoveryError("option expected: %s must be a %s, not %s." % (
                key, "mapping" if kind is dict else "list", type(expected[key]).__name__),
                fix="pass a previous vh_db_facts result unchanged.")
    if not all(isinstance(digests, dict) for digests in expected.get("records", {}).values()) or \
            not all(isinstance(row, dict) and "id" in row for row in expected.get(POLICY_TABLE, [])):
        raise RecoveryError("option expected: records must map tables to {key: sha256} and "
                            "s3_price_budget_policy must list rows with an id.",
                            fix="pass a previous vh_db_facts result unchanged.")


def compare_row_counts(expected, actual):
    if "row_counts" not in expected:
        return _check("row_counts", ["the expected facts have no row_counts"], "")
    wanted = dict((table, _as_int(count)) for table, count in expected["row_counts"].items())
    missing = set(wanted) - set(actual)
    extra = set(actual) - set(wanted)
    problems = ["%s: %s expected, %d found" % (json.dumps(table, ensure_ascii=False), wanted[table], actual[table])
                for table in sorted(set(wanted) & set(actual)) if wanted[table] != actual[table]]
    if missing:
        problems.append("missing tables: %s" % _names(missing))
    if extra:
        problems.append("extra tables: %s" % _names(extra))
    return _check("row_counts", problems, "%d tables, %d rows, all counts equal" % (len(actual), sum(actual.values())))


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def compare_records(table, expected, actual):
    recorded = expected.get("records", {}).get(table)
    if recorded is None:
        return _check("records_%s" % table, ["the expected facts have no records of table %s" % table], "")
    problems = _record_problems(recorded, actual["records"][table])
    return _check("records_%s" % table, problems, "%d records equal" % len(recorded))


def _id_order(key):
    """Numeric ids in numeric order (as text, "10" sorts after "9")."""
    return len(key), key


def _policy_label(row):
    if row.get("scope") == "provider":
        return "id %s (provider %s)" % (row["id"], row.get("provider_key"))
    if row.get("scope") == "vault":
        return "id %s (vault %s)" % (row["id"], row.get("vault_id"))
    return "id %s (%s)" % (row["id"], row.get("scope"))


def _policy_text(value):
    return None if value is None else str(value)


def _policy_changes(wanted, found):
    """'column "old" -> "new"' for each shown column that differs between two policy rows."""
    changes = []
    for column in POLICY_COLUMNS:
        before, after = _policy_text(wanted.get(column)), _policy_text(found.get(column))
        if before != after:
            changes.append("%s %s -> %s" % (column, json.dumps(before), json.dumps(after)))
    return changes


def compare_policy(expected, actual, with_digests):
    """Policy rows by id: which differ, in which columns; plus the full-row digests when they were collected."""
    if POLICY_TABLE not in expected:
        return _check(POLICY_TABLE, ["the expected facts have no s3_price_budget_policy rows"], "")
    wanted = dict((str(row["id"]), row) for row in expected[POLICY_TABLE])
    found = dict((str(row["id"]), row) for row in actual[POLICY_TABLE])
    recorded = expected.get("records", {}).get(POLICY_TABLE) if with_digests else None
    digests = actual["records"].get(POLICY_TABLE, {})
    problems = []
    for key in sorted(set(wanted) & set(found), key=_id_order):
        changes = _policy_changes(wanted[key], found[key])
        if not changes and recorded is not None and recorded.get(key) != digests.get(key):
            changes = ["other columns differ"]  # is_active, currency, ...: only their digest is compared
        if changes:
            problems.append("%s: %s" % (_policy_label(wanted[key]), ", ".join(changes)))
    problems += ["%s missing" % _policy_label(wanted[key]) for key in sorted(set(wanted) - set(found), key=_id_order)]
    problems += ["%s extra" % _policy_label(found[key]) for key in sorted(set(found) - set(wanted), key=_id_order)]
    return _check(POLICY_TABLE, problems, "%d policies equal" % len(wanted))


def compare(expected, actual, record_tables):
    """The named checks, in a fixed order: row_counts, records_<table> per record table, s3_price_budget_policy.

    The policy table's record digests are folded into the s3_price_budget_policy check, so a change in a
    column the report does not show (for example is_active) still fails it.
    """
    validate_expected(expected)
    checks = [compare_row_counts(expected, actual["row_counts"])]
    checks += [compare_records(table, expected, actual) for table in record_tables if table != POLICY_TABLE]
    checks.append(compare_policy(expected, actual, POLICY_TABLE in record_tables))
    return checks


def failed_summary(checks):
    """One line naming each failed check and its detail, for the task's failure message."""
    return "; ".join("%s (%s)" % (check["name"], check["detail"]) for check in checks if not check["passed"])

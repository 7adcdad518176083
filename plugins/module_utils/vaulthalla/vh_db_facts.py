# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collect the facts a Vaulthalla restore drill compares: row counts, record digests, cost policy state.

Everything is read in ONE psql session inside one READ ONLY, REPEATABLE READ
transaction, so counts, digests and policy rows describe the same snapshot.
Table names come from the catalog and are quoted by the server (format %I)
and run through psql's \\gexec; option values reach SQL only as psql
variables (:'name'), never by string concatenation.

A record digest is sha256(convert_to(row_to_json(row)::text, 'UTF8')),
computed by the server: only the key column's value and the digest leave it,
so password hashes and other column values never reach the module's output.
"""

import json

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

DEFAULT_SCHEMAS = ["public"]
DEFAULT_RECORD_TABLES = {
    "users": "name",
    "groups": "name",
    "vault_role": "name",
    "share_link": "token_hash",
    "s3_price_budget_policy": "id",
}
POLICY_TABLE = "s3_price_budget_policy"
# Policy state shown in reports (not secret). Costs are returned as the server's text, exact.
POLICY_COLUMNS = ["id", "scope", "provider_key", "vault_id", "mode", "max_run_cost", "max_daily_cost",
                  "max_monthly_cost"]

# row_to_json renders timestamptz in the session time zone, intervals in IntervalStyle and floats
# per extra_float_digits: pin them, so a digest depends on the data and not on the server's settings.
_SNAPSHOT = r"""
BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;
SET LOCAL TimeZone = 'UTC';
SET LOCAL DateStyle = 'ISO, YMD';
SET LOCAL IntervalStyle = 'postgres';
SET LOCAL extra_float_digits = 1;
SET LOCAL bytea_output = 'hex';
SELECT jsonb_build_object('kind', 'server', 'server_version', current_setting('server_version'),
       'server_version_num', current_setting('server_version_num')::int, 'database', current_database(),
       'collected_at', to_char(now(), 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
"""

_PROBLEM = "format('SELECT %L', jsonb_build_object('kind', 'problem', {fields})::text)"

# Every statement below is generated from the catalog and run by \gexec in the same transaction.
# Each prints one jsonb value: its text form never holds a raw newline (json_agg's does), so one line = one item.
_GENERATE = r"""
WITH schema_order AS (
    SELECT s.name, s.position FROM json_array_elements_text(:'schemas'::json) WITH ORDINALITY AS s(name, position)
), wanted AS (
    SELECT r.key AS tbl, r.value AS keycol, 'records' AS purpose FROM json_each_text(:'record_tables'::json) AS r
    UNION ALL SELECT :'policy_table', NULL, 'policy'
), resolved AS (
    SELECT DISTINCT ON (w.purpose, w.tbl) w.purpose, w.tbl, w.keycol, n.nspname, c.oid AS relid
    FROM wanted w
    JOIN pg_class c ON c.relname = w.tbl AND c.relkind IN ('r', 'p')
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN schema_order s ON s.name = n.nspname
    ORDER BY w.purpose, w.tbl, s.position
), missing_columns AS (
    SELECT r.purpose, r.tbl, jsonb_agg(col.name ORDER BY col.position) AS columns
    FROM resolved r
    CROSS JOIN LATERAL (
        SELECT x.name, x.position FROM json_array_elements_text(
            CASE WHEN r.purpose = 'policy' THEN :'policy_columns'::json ELSE json_build_array(r.keycol) END
        ) WITH ORDINALITY AS x(name, position)) col
    WHERE NOT EXISTS (SELECT FROM pg_attribute a
                      WHERE a.attrelid = r.relid AND a.attname = col.name AND a.attnum > 0 AND NOT a.attisdropped)
    GROUP BY r.purpose, r.tbl
)
SELECT statement FROM (
    SELECT 1 AS step, s.position AS position, NULL AS tbl,
           """ + _PROBLEM.format(fields="'problem', 'missing_schema', 'schema', s.name") + r""" AS statement
    FROM schema_order s WHERE NOT EXISTS (SELECT FROM pg_namespace n WHERE n.nspname = s.name)
  UNION ALL
    SELECT 2, NULL, w.tbl,
           """ + _PROBLEM.format(fields="'problem', 'missing_table', 'purpose', w.purpose, 'table', w.tbl") + r"""
    FROM wanted w WHERE NOT EXISTS (SELECT FROM resolved r WHERE r.purpose = w.purpose AND r.tbl = w.tbl)
  UNION ALL
    SELECT 3, NULL, m.tbl,
           """ + _PROBLEM.format(fields="'problem', 'missing_columns', 'purpose', m.purpose, 'table', m.tbl, "
                                        "'columns', m.columns") + r"""
    FROM missing_columns m
  UNION ALL
    SELECT 4, NULL, n.nspname || '.' || c.relname,
           format('SELECT jsonb_build_object(''kind'', ''count'', ''schema'', %L, ''table'', %L, ''rows'', count(*))'
                  ' FROM %I.%I', n.nspname, c.relname, n.nspname, c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN schema_order s ON s.name = n.nspname
    WHERE c.relkind = 'r'
  UNION ALL
    SELECT 5, NULL, r.tbl,
           format($q$SELECT jsonb_build_object('kind', 'records', 'table', %L, 'schema', %L, 'rows', count(*),
                      'null_keys', count(*) FILTER (WHERE t.%I IS NULL),
                      'distinct_keys', count(DISTINCT t.%I::text),
                      'digests', coalesce(jsonb_object_agg(t.%I::text,
                          encode(sha256(convert_to(row_to_json(t.*)::text, 'UTF8')), 'hex'))
                          FILTER (WHERE t.%I IS NOT NULL), '{}'::jsonb))
                      FROM %I.%I AS t$q$,
                  r.tbl, r.nspname, r.keycol, r.keycol, r.keycol, r.keycol, r.nspname, r.tbl)
    FROM resolved r WHERE r.purpose = 'records'
      AND NOT EXISTS (SELECT FROM missing_columns m WHERE m.purpose = r.purpose AND m.tbl = r.tbl)
  UNION ALL
    SELECT 6, NULL, r.tbl,
           format($q$SELECT jsonb_build_object('kind', 'policy', 'rows', coalesce(jsonb_agg(p ORDER BY p.id), '[]'::jsonb))
                      FROM (SELECT id, scope, provider_key, vault_id, mode, max_run_cost::text AS max_run_cost,
                                   max_daily_cost::text AS max_daily_cost, max_monthly_cost::text AS max_monthly_cost
                            FROM %I.%I) AS p$q$, r.nspname, r.tbl)
    FROM resolved r WHERE r.purpose = 'policy'
      AND NOT EXISTS (SELECT FROM missing_columns m WHERE m.purpose = r.purpose AND m.tbl = r.tbl)
) AS generated
ORDER BY step, position, tbl
\gexec
COMMIT;
"""

COLLECT_SQL = _SNAPSHOT + _GENERATE


def validate_options(schemas, record_tables):
    """Refuse malformed schemas/record_tables before connecting (one message, with the fix)."""
    if not schemas or not all(isinstance(name, str) and name for name in schemas):
        raise RecoveryError("schemas must list at least one schema name.",
                            fix="set schemas, for example [public] (the default).")
    for table, column in (record_tables or {}).items():
        if not table or not isinstance(column, str) or not column:
            raise RecoveryError(
                "record_tables maps each table to its key column; the entry for %s is %s." % (
                    json.dumps(table), json.dumps(column)),
                fix="give every table a column name that identifies its rows, for example {users: name}.")


def row_count_name(schema, table):
    """Tables of schema public are named alone; others as schema.table."""
    return table if schema == "public" else "%s.%s" % (schema, table)


def _describe_problem(problem, database, schemas):
    where = "schema%s %s of database %s" % ("s" if len(schemas) > 1 else "", ", ".join(schemas), database)
    kind = problem["problem"]
    if kind == "missing_schema":
        return ("option schemas: schema %s does not exist in database %s" % (json.dumps(problem["schema"]), database),
                "name existing schemas in schemas (Vaulthalla uses public).")
    if problem["purpose"] == "policy":
        what = "table %s" % problem["table"] if kind == "missing_table" else \
            "columns %s of table %s" % (", ".join(problem["columns"]), problem["table"])
        return ("the cost policy %s %s not found in %s" % (what, "is" if kind == "missing_table" else "are", where),
                "point database (and schemas) at the Vaulthalla database.")
    if kind == "missing_table":
        return ("option record_tables: table %s is not in %s" % (json.dumps(problem["table"]), where),
                "correct the table name in record_tables, or add its schema to schemas.")
    message = "option record_tables: table %s has no column %s" % (json.dumps(problem["table"]),
                                                                   json.dumps(problem["columns"][0]))
    return (message, "name an existing column that identifies the rows of that table in record_tables.")


def _raise_for(problems):
    messages = [message for message, _fix in problems]
    fixes = []
    for _message, fix in problems:
        if fix not in fixes:
            fixes.append(fix)
    raise RecoveryError("Cannot collect the Vaulthalla database facts: %s." % "; ".join(messages),
                        fix="; ".join(fix.rstrip(".") for fix in fixes) + ".")


def _digests(block):
    """A record table's digests; a key that is NULL or repeated makes the comparison meaningless."""
    duplicates = block["rows"] - block["null_keys"] - block["distinct_keys"]
    if block["null_keys"] or duplicates:
        return None, ("option record_tables: key column of table %s does not identify its rows "
                      "(%d rows, %d with a NULL key, %d repeated keys)" % (
                          json.dumps(block["table"]), block["rows"], block["null_keys"], duplicates),
                      "choose a unique, NOT NULL column of that table as its key in record_tables.")
    return dict(sorted(block["digests"].items())), None


def parse_output(lines, database, schemas):
    """psql's output (one JSON object per line) -> the facts dict; raises for configuration problems."""
    facts = dict(row_counts={}, records={}, s3_price_budget_policy=[])
    problems = []
    for line in lines:
        item = json.loads(line)
        kind = item.pop("kind")
        if kind == "server":
            facts.update(item)
        elif kind == "problem":
            problems.append(_describe_problem(item, database, schemas))
        elif kind == "count":
            name = row_count_name(item["schema"], item["table"])
            if name in facts["row_counts"]:
                problems.append(("two tables are both named %s in row_counts" % json.dumps(name),
                                 "collect the schemas separately (one schemas list each)."))
            facts["row_counts"][name] = item["rows"]
        elif kind == "records":
            digests, problem = _digests(item)
            if problem:
                problems.append(problem)
            facts["records"][item["table"]] = digests
        elif kind == "policy":
            # jsonb sorts keys by length; give the report the table's column order back
            facts["s3_price_budget_policy"] = [dict((column, row[column]) for column in POLICY_COLUMNS)
                                               for row in item["rows"]]
    if problems:
        _raise_for(problems)
    facts["row_counts"] = dict(sorted(facts["row_counts"].items()))
    return facts


def collect(conn, database, schemas, record_tables):
    """Read the facts of database through conn (a PgConnection inside its 'with' block)."""
    validate_options(schemas, record_tables)
    variables = {
        "schemas": json.dumps(list(schemas)),
        "record_tables": json.dumps(dict(record_tables)),
        "policy_table": POLICY_TABLE,
        "policy_columns": json.dumps(POLICY_COLUMNS),
    }
    lines = conn.psql(COLLECT_SQL, database, variables=variables, action="read the Vaulthalla database facts")
    facts = parse_output(lines, database, list(schemas))
    # Keep the caller's table order (the checks follow it).
    facts["records"] = {table: facts["records"][table] for table in record_tables}
    return facts

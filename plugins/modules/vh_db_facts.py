#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: vh_db_facts
short_description: Row counts, record digests and cost policy state of a Vaulthalla database, and their comparison
version_added: "0.1.0"
description:
  - Reads the facts a restore drill compares with those recorded at backup time, all in one
    C(READ ONLY, REPEATABLE READ) transaction, so they describe one consistent snapshot.
  - The exact row count of every ordinary table in O(schemas).
  - For each table in O(record_tables), a digest per record, its key column's value mapped to the SHA-256 of
    C(row_to_json(row)::text) in UTF-8.
  - The cost-control policy rows of C(s3_price_budget_policy).
  - The digests are computed by the server, so no column value other than the key (a password hash, for example)
    ever leaves it. The session's time zone and output styles are pinned, so equal data gives equal digests on
    another server with other settings.
  - With O(expected) (the facts of an earlier run, as recorded in a recovery set), it also returns RV(checks), one
    named check per fact, whose details name the tables, keys or policies that differ, are missing or are extra.
  - Needs PostgreSQL 11 or later (C(sha256())) and C(psql) on the host that runs the task.
author:
  - vaultops.recovery contributors (@vaultops)
extends_documentation_fragment:
  - vaultops.recovery.postgres
  - ansible.builtin.action_common_attributes
  - vaultops.recovery.attributes
  - vaultops.recovery.attributes.read_only
options:
  database:
    description: The Vaulthalla database.
    type: str
    default: vaulthalla
    aliases: [db]
  schemas:
    description:
      - Schemas whose ordinary tables are counted, and where O(record_tables) and C(s3_price_budget_policy) are
        looked up, in this order.
      - In RV(row_counts) tables of schema C(public) are named alone, others as C(schema.table).
    type: list
    elements: str
    default: [public]
  record_tables:
    description:
      - Tables whose records are digested, each mapped to the column that identifies a record (unique, not null).
      - The key's value is returned with each digest, so choose a column that is not secret.
      - A table or key column that does not exist, or a key that is NULL or repeated, fails the task naming it.
    type: dict
    default:
      users: name
      groups: name
      vault_role: name
      share_link: token_hash
      s3_price_budget_policy: id
  expected:
    description:
      - Facts recorded earlier (a previous result of this module; keys other than RV(row_counts), RV(records) and
        RV(s3_price_budget_policy) are ignored). When given, RV(checks) is returned.
      - A table missing from the recorded facts fails that table's check.
    type: dict
  fail_on_mismatch:
    description:
      - With O(expected), fail the task when any check fails (the facts and RV(checks) are still returned).
      - Set it to V(false) in a restore drill, which reports every check instead of stopping at the first failure.
    type: bool
    default: true
  pg_bin_dir:
    description: Directory with the PostgreSQL client programs to use instead of those on C(PATH).
    type: path
notes:
  - Table and column names with spaces, quotes or unicode are quoted by the server (C(format('%I'))).
seealso:
  - module: vaultops.recovery.pg_backup
"""

EXAMPLES = r"""
- name: Record the database facts on the Vaulthalla host at backup time (peer authentication as postgres)
  vaultops.recovery.vh_db_facts:
    os_user: postgres
  become: true
  register: vh_db

- name: After a restore, compare with the facts recorded at backup time and report every check
  vaultops.recovery.vh_db_facts:
    os_user: postgres
    expected: "{{ recorded_db_facts }}"  # the vh_db result above, as saved in the recovery set
    fail_on_mismatch: false
  become: true
  register: vh_db_check

- name: Show the checks that failed
  ansible.builtin.debug:
    msg: "{{ vh_db_check.checks | rejectattr('passed') | list }}"

- name: A remote database server over TCP, with an extra record table
  vaultops.recovery.vh_db_facts:
    login_host: db.example.internal
    login_user: vaulthalla
    login_password: "{{ vault_vaulthalla_db_password }}"
    ssl_mode: verify-full
    record_tables:
      users: name
      groups: name
      vault_role: name
      share_link: token_hash
      s3_price_budget_policy: id
      vault: name
"""

RETURN = r"""
row_counts:
  description: Exact row count of every ordinary table in O(schemas).
  returned: success
  type: dict
  sample: {"users": 4, "groups": 2, "share_link": 3, "s3_price_budget_policy": 2, "vault": 3}
records:
  description: Per table of O(record_tables), each record's key mapped to the SHA-256 (hex) of its row as JSON.
  returned: success
  type: dict
  sample: {"users": {"alice": "6f1ed002ab5595859014ebf0951522d9..."}, "s3_price_budget_policy": {"1": "0c5b..."}}
s3_price_budget_policy:
  description:
    - The cost-control policies, ordered by id. Costs are the server's exact text (C(NUMERIC(20,8))), or null.
  returned: success
  type: list
  elements: dict
  sample:
    - {"id": 1, "scope": "global", "provider_key": null, "vault_id": null, "mode": "enforce",
       "max_run_cost": null, "max_daily_cost": "25.00000000", "max_monthly_cost": "500.00000000"}
server_version:
  description: The server's version string.
  returned: success
  type: str
  sample: 15.20 (Debian 15.20-0+deb12u1)
server_version_num:
  description: The server's version as a number.
  returned: success
  type: int
  sample: 150020
database:
  description: The database read.
  returned: success
  type: str
  sample: vaulthalla
collected_at:
  description: Start of the snapshot's transaction, in UTC (server clock).
  returned: success
  type: str
  sample: "2026-11-21T10:15:00Z"
checks:
  description:
    - One entry per comparison, in this order, C(row_counts), C(records_<table>) for each table of O(record_tables)
      except C(s3_price_budget_policy), and C(s3_price_budget_policy) (its rows by id, and its record digests when
      that table is in O(record_tables)).
    - C(detail) names what differs, is missing or is extra (tables with both counts, keys, policy ids with the
      changed policy columns), or summarises what is equal.
  returned: when O(expected) is given
  type: list
  elements: dict
  sample:
    - {"name": "row_counts", "passed": false, "detail": "\"share_link\": 3 expected, 2 found"}
    - {"name": "records_users", "passed": false, "detail": "1 differ: \"alice\""}
    - {"name": "records_share_link", "passed": false, "detail": "1 missing: \"9f86d081884c7d65...\""}
    - {"name": "s3_price_budget_policy", "passed": true, "detail": "2 policies equal"}
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla import vh_db_compare, vh_db_facts
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.client_tools import ClientTools
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.vaultops_module import run_module
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.pg_connection import (
    PgConnection, postgres_connection_argument_spec)


def argument_spec():
    spec = postgres_connection_argument_spec()
    spec.update(
        database=dict(type="str", default="vaulthalla", aliases=["db"]),
        schemas=dict(type="list", elements="str", default=list(vh_db_facts.DEFAULT_SCHEMAS)),
        record_tables=dict(type="dict", default=dict(vh_db_facts.DEFAULT_RECORD_TABLES)),
        expected=dict(type="dict"),
        fail_on_mismatch=dict(type="bool", default=True),
        pg_bin_dir=dict(type="path"),
    )
    return spec


def run(module):
    p = module.params
    tools = ClientTools(module.get_bin_path, p["pg_bin_dir"])
    if p["expected"] is not None:
        vh_db_compare.validate_expected(p["expected"])
    with PgConnection(p, tools.path) as conn:
        result = vh_db_facts.collect(conn, p["database"], p["schemas"], p["record_tables"])
    result["changed"] = False
    if p["expected"] is not None:
        result["checks"] = vh_db_compare.compare(p["expected"], result, p["record_tables"])
        failed = vh_db_compare.failed_summary(result["checks"])
        if failed and p["fail_on_mismatch"]:
            raise RecoveryError("The database %s differs from the expected facts: %s." % (p["database"], failed),
                                **result)
    return result


def main():
    run_module(run, argument_spec(), mutually_exclusive=[("login_host", "login_unix_socket")])


if __name__ == "__main__":
    main()

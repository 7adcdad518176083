# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reads behind module iv_checks: a namespace's pods, the wallet's health and accounts, and the count of
pending operations in the database. Each returns data or raises a RecoveryError naming the cause and the fix;
the decisions on the data are in iv_checks.py.
"""

import json

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import iv_checks

try:
    from kubernetes import client as k8s_client
except ImportError:
    k8s_client = None  # the module checks connection.HAS_KUBERNETES first and fails with missing_required_lib

ACCOUNTS_PATH = "/api/v2/accounts"
HEALTH_PATH = "/health"
ACCOUNTS_PAGE_SIZE = 500


def namespace_pods(connection, namespace, selector=None):
    """Every pod of the namespace (matching selector when given) as the API returns it, like kubectl get pods."""
    core = k8s_client.CoreV1Api(connection.api_client)
    response = connection.call(
        "list the pods of namespace %s%s" % (namespace, " matching %s" % selector if selector else ""),
        core.list_namespaced_pod, namespace, label_selector=selector or "", _preload_content=False)
    return json.loads(response.data).get("items") or []


def wallet_health(api):
    """{status_code, status} of GET /health; any HTTP status is an answer (a 503 is an unhealthy wallet)."""
    status, body = api.get(HEALTH_PATH, ok_statuses=tuple(range(200, 300)) + tuple(range(500, 600)))
    return iv_checks.health_facts(status, body)


def wallet_accounts(api, page_size=ACCOUNTS_PAGE_SIZE):
    """(count, how) of GET /api/v2/accounts (its total, else paged by limit/offset)."""
    def fetch_page(limit, offset):
        return api.get(ACCOUNTS_PATH, {"limit": limit, "offset": offset})[1]
    return iv_checks.count_accounts(fetch_page, page_size)


def pending_operations(conn, database, sql):
    """(count, detail): the one integer sql returns, or (None, why) when the table it reads does not exist."""
    text = sql.strip().rstrip(";") + ";\n"
    try:
        rows = conn.psql(text, database, action="count pending operations")
    except RecoveryError as exc:
        if iv_checks.missing_relation(exc):
            return None, "not counted: %s" % exc.message
        raise
    return iv_checks.parse_count(rows, sql), "counted by pending_operations_sql in database %s" % database

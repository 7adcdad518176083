# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The seed's Step 5 "Verify restoration" as decisions: pods healthy, the wallet's /health, the accounts count.

A check is ``{"name", "passed", "detail"}``, the shape module drill_report's ``checks`` option takes. The checks
run in the order of CHECK_NAMES. No I/O of its own (count_accounts calls the caller's fetch_page, CheckRound the
caller's run_checks), each rule with a unit test in
tests/unit/plugins/module_utils/institutional_vault/test_iv_checks.py.
"""

import re

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import pod_readiness

PODS_READY, WALLET_HEALTH, ACCOUNTS_COUNT = "pods_ready", "wallet_health", "accounts_count"
POLICY_NODES_READY = "policy_nodes_ready"
CHECK_NAMES = (PODS_READY, POLICY_NODES_READY, WALLET_HEALTH, ACCOUNTS_COUNT)
DEFAULT_CHECKS = (PODS_READY, WALLET_HEALTH, ACCOUNTS_COUNT)  # policy_nodes_ready when asked for
# the option each check cannot run without
CHECK_INPUTS = {PODS_READY: "namespace", POLICY_NODES_READY: "namespace", WALLET_HEALTH: "wallet_url",
                ACCOUNTS_COUNT: "wallet_url"}
HEALTHY_STATUSES = ("ok", "healthy")
DEFAULT_POLICY_NODES = ("policy-node0", "policy-node1", "policy-node2")
MAX_ACCOUNT_PAGES = 10000  # a wallet that ignores offset must not page forever


def check(name, passed, detail):
    return {"name": name, "passed": bool(passed), "detail": detail}


def select_checks(requested, inputs):
    """The checks to run, in CHECK_NAMES order. Omitted: every check of DEFAULT_CHECKS whose input option is set (inputs maps option
    name to value). A requested check without its input, or nothing to check at all, is refused."""
    if requested:
        missing = ["%s needs %s" % (name, CHECK_INPUTS[name]) for name in CHECK_NAMES
                   if name in requested and not inputs.get(CHECK_INPUTS[name])]
        if missing:
            raise RecoveryError("checks asks for what the options do not allow: %s. Nothing was checked."
                                % "; ".join(missing),
                                fix="give the options named, or leave those checks out of checks.")
        return [name for name in CHECK_NAMES if name in requested]
    selected = [name for name in DEFAULT_CHECKS if inputs.get(CHECK_INPUTS[name])]
    if not selected:
        raise RecoveryError("nothing to check: neither namespace nor wallet_url is given. Nothing was checked.",
                            fix="give namespace (the pods) and/or wallet_url (health and accounts).")
    return selected


def pod_rows(pods):
    """[{name, phase, ready, reason}] of pods as the API returns them, in the order listed."""
    rows = []
    for pod in pods:
        state, reason = pod_readiness.classify_pod(pod)
        rows.append({"name": pod_readiness.pod_name(pod), "phase": (pod.get("status") or {}).get("phase") or "Unknown",
                     "ready": state == pod_readiness.READY, "reason": reason})
    return rows


def pods_check(namespace, rows, selector=None):
    """Every pod Ready and none terminating; an empty list fails. Pods of phase Succeeded (a completed Job, such as
    a migration hook) are done, not unhealthy: they are listed but do not fail the check."""
    where = "namespace %s%s" % (namespace, " matching %s" % selector if selector else "")
    if not rows:
        return check(PODS_READY, False, "no pods in %s" % where)
    bad = ["%s (%s)" % (row["name"], row["reason"]) for row in rows
           if not row["ready"] and row["phase"] != "Succeeded"]
    ready = [row for row in rows if row["ready"]]
    if bad:
        detail = "%d of %d pods in %s not Ready: %s" % (len(bad), len(rows), where, ", ".join(bad))
        return check(PODS_READY, False, detail)
    if not ready:
        return check(PODS_READY, False, "no running pods in %s, only completed ones" % where)
    done = len(rows) - len(ready)
    return check(PODS_READY, True, "%d pods Ready in %s%s" % (
        len(ready), where, " (%d completed)" % done if done else ""))


def policy_nodes_check(nodes, rows):
    """Every policy node has a pod and all its pods are Ready: a node that is Ready has decrypted its key share
    with its EMP, so this proves the EMPs fit the restored data. A node's pods are those named <node>-..."""
    problems = []
    for node in nodes:
        own = [row for row in rows if row["name"].startswith(node + "-")]
        if not own:
            problems.append("%s has no pod" % node)
        problems += ["%s (%s)" % (row["name"], row["reason"]) for row in own if not row["ready"]]
    if problems:
        return check(POLICY_NODES_READY, False, "not every policy node is Ready: %s" % ", ".join(problems))
    return check(POLICY_NODES_READY, True, "%s Ready: their key shares decrypt with their EMPs" % ", ".join(nodes))


def health_facts(status_code, body):
    """{status_code, status}: the HTTP status and the body's "status" field (None when absent or not JSON)."""
    status = body.get("status") if isinstance(body, dict) else None
    return {"status_code": status_code, "status": status if isinstance(status, str) else None}


def health_check(url, facts):
    """HTTP 200 and a body status of ok or healthy (any case)."""
    status = facts["status"]
    good = facts["status_code"] == 200 and isinstance(status, str) and status.lower() in HEALTHY_STATUSES
    shown = "status %r" % status if status is not None else "no JSON status field in the body"
    if good:
        return check(WALLET_HEALTH, True, "%s: HTTP 200, %s" % (url, shown))
    return check(WALLET_HEALTH, False, "%s: HTTP %s, %s (healthy is HTTP 200 with status %s)" % (
        url, facts["status_code"], shown, " or ".join(HEALTHY_STATUSES)))


def count_accounts(fetch_page, page_size):
    """(count, how): ``total`` of the first page when the wallet sends one, else the accounts of every page.

    fetch_page(limit, offset) returns the parsed body {"accounts": [...], "total": N?}. A page shorter than
    page_size (or longer: the wallet ignores limit) is the last; a page that repeats the previous one means the
    wallet ignores offset, and the count cannot be trusted.
    """
    offset, pages, previous = 0, 0, None
    while True:
        body = fetch_page(page_size, offset)
        accounts = body.get("accounts") if isinstance(body, dict) else None
        if not isinstance(accounts, list):
            raise RecoveryError("the accounts answer has no \"accounts\" list (keys: %s)." % (
                ", ".join(sorted(body)) if isinstance(body, dict) else type(body).__name__),
                fix="check that wallet_url is the wallet's base URL (GET <wallet_url>/api/v2/accounts).")
        total = body.get("total")
        if pages == 0 and isinstance(total, int) and not isinstance(total, bool):
            return total, "total"
        pages += 1
        if previous is not None and accounts and accounts == previous:
            raise RecoveryError("the wallet answered the same page of accounts for offset %d as before: it ignores"
                                " offset, so the accounts cannot be counted." % offset,
                                fix="leave out accounts_count, or use a wallet version that pages by limit/offset"
                                    " or returns total.")
        offset += len(accounts)
        if len(accounts) != page_size or pages >= MAX_ACCOUNT_PAGES:
            return offset, "counted over %d page(s)" % pages
        previous = accounts


def accounts_check(total, how, expected):
    """Equal to expected_accounts when given; without it the check reports the count and passes because the API
    answered (it proves account data is readable, not that it is complete)."""
    source = "" if how == "total" else " (%s)" % how
    if expected is None:
        return check(ACCOUNTS_COUNT, True, "%d accounts%s; no expected_accounts to compare with" % (total, source))
    if total == expected:
        return check(ACCOUNTS_COUNT, True, "%d accounts%s, as expected" % (total, source))
    diff = total - expected
    return check(ACCOUNTS_COUNT, False, "%d accounts%s, %d expected: %d %s" % (
        total, source, expected, abs(diff), "more" if diff > 0 else "missing"))


def error_check(name, error):
    """A check that failed because its data could not be read; the detail is the error with its Fix."""
    return check(name, False, "%s" % error)


def summary(checks):
    """(passed, failed_checks): passed when at least one check ran and all passed."""
    failed = [item["name"] for item in checks if not item["passed"]]
    return bool(checks) and not failed, failed


def failed_checks_error(checks, facts=None):
    """The error of fail_on_failed_check: every failed check with its detail; facts go with it."""
    failed = [item for item in checks if not item["passed"]]
    return RecoveryError("restoration not verified: %d of %d checks failed: %s." % (
        len(failed), len(checks), "; ".join("%s: %s" % (item["name"], item["detail"]) for item in failed)),
        fix="see each check's detail; leave fail_on_failed_check false to get the checks without failing.",
        **(facts or {}))


def parse_count(rows, sql):
    """The one integer pending_operations_sql returns (psql -A -t rows)."""
    if len(rows) == 1 and re.match(r"^\d+$", rows[0].strip()):
        return int(rows[0].strip())
    raise RecoveryError("pending_operations_sql returned %d row(s) %r, not one count." % (len(rows), rows[:3]),
                        fix="give a query that returns one integer, such as %r." % sql)


def missing_relation(error_text):
    """True when the query failed only because a table does not exist (PostgreSQL 42P01)."""
    return bool(re.search(r'relation "[^"]*" does not exist', "%s" % error_text))


class CheckRound(object):
    """A waiter probe (common/waiter.wait_until): each call runs every check once through run_checks(); done when
    all passed. The last round stays in .last, the number of rounds in .rounds."""

    def __init__(self, run_checks):
        self.run_checks = run_checks
        self.last = None
        self.rounds = 0

    def __call__(self):
        self.last = self.run_checks()
        self.rounds += 1
        passed, failed = summary(self.last["checks"])
        if passed:
            return True, "all checks passed", self.last
        return False, "failed: %s" % "; ".join("%s (%s)" % (item["name"], item["detail"])
                                               for item in self.last["checks"] if item["name"] in failed), None

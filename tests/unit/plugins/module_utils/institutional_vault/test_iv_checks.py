"""The restoration checks' rules: which checks run, pods Ready, wallet health, accounts count and paging, the
failure message, the pending-operations count, and the waiter probe (a fake clock)."""

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.waiter import wait_until
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import iv_checks as ic
from support.fake_clock import FakeClock


def pod(name, ready=True, terminating=False, phase="Running", waiting=None):
    metadata = {"name": name}
    if terminating:
        metadata["deletionTimestamp"] = "2026-12-07T02:00:00Z"
    state = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    return {"metadata": metadata, "status": {
        "phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        "containerStatuses": [{"name": "app", "ready": ready, "state": state}]}}


# -- which checks run --

def test_without_checks_every_check_with_its_input_runs_in_order():
    assert ic.select_checks(None, {"namespace": "iv", "wallet_url": "https://w"}) == list(ic.DEFAULT_CHECKS)
    assert ic.select_checks(None, {"namespace": "iv"}) == ["pods_ready"]
    assert ic.select_checks(None, {"wallet_url": "https://w"}) == ["wallet_health", "accounts_count"]


def test_asked_checks_run_in_the_fixed_order():
    assert ic.select_checks(["accounts_count", "pods_ready"], {"namespace": "iv", "wallet_url": "https://w"}) == [
        "pods_ready", "accounts_count"]


def test_an_asked_check_without_its_input_is_refused_naming_the_option():
    with pytest.raises(RecoveryError) as err:
        ic.select_checks(["pods_ready", "wallet_health"], {"namespace": None, "wallet_url": None})
    assert "pods_ready needs namespace; wallet_health needs wallet_url" in str(err.value)


def test_nothing_to_check_is_refused():
    with pytest.raises(RecoveryError) as err:
        ic.select_checks(None, {})
    assert "neither namespace nor wallet_url" in str(err.value)


# -- pods --

def test_an_empty_pod_list_fails_naming_the_namespace():
    assert ic.pods_check("iv-prod", []) == {"name": "pods_ready", "passed": False, "detail": "no pods in namespace iv-prod"}
    assert ic.pods_check("iv-prod", [], "app=wallet")["detail"] == "no pods in namespace iv-prod matching app=wallet"


def test_all_pods_ready_pass():
    rows = ic.pod_rows([pod("wallet-a"), pod("nats-0")])
    assert rows[0] == {"name": "wallet-a", "phase": "Running", "ready": True, "reason": "ready"}
    assert ic.pods_check("iv", rows) == {"name": "pods_ready", "passed": True, "detail": "2 pods Ready in namespace iv"}


def test_a_pod_not_ready_or_terminating_fails_naming_it_and_its_reason():
    rows = ic.pod_rows([pod("wallet-a"), pod("policy-node1-x", ready=False, waiting="CrashLoopBackOff"),
                        pod("nats-0", terminating=True)])
    result = ic.pods_check("iv", rows)
    assert result["passed"] is False
    assert result["detail"] == ("2 of 3 pods in namespace iv not Ready: policy-node1-x (container app"
                                " CrashLoopBackOff), nats-0 (terminating)")


def test_a_completed_job_pod_does_not_fail_the_check_but_only_completed_pods_do():
    done = pod("migrate-x", ready=False, phase="Succeeded")
    assert ic.pods_check("iv", ic.pod_rows([pod("wallet-a"), done])) == {
        "name": "pods_ready", "passed": True, "detail": "1 pods Ready in namespace iv (1 completed)"}
    assert ic.pods_check("iv", ic.pod_rows([done]))["passed"] is False


# -- health --

def test_health_passes_on_200_with_status_ok_or_healthy():
    assert ic.health_check("u", ic.health_facts(200, {"status": "ok"}))["passed"]
    assert ic.health_check("u", ic.health_facts(200, {"status": "Healthy"}))["passed"]
    assert ic.health_facts(200, {"status": "ok", "database": "up"}) == {"status_code": 200, "status": "ok"}


def test_health_fails_on_another_status_code_or_body():
    failed = ic.health_check("https://w/health", ic.health_facts(503, {"status": "degraded"}))
    assert failed == {"name": "wallet_health", "passed": False, "detail": (
        "https://w/health: HTTP 503, status 'degraded' (healthy is HTTP 200 with status ok or healthy)")}
    assert not ic.health_check("u", ic.health_facts(200, {"status": "starting"}))["passed"]
    no_json = ic.health_check("u", ic.health_facts(200, None))
    assert not no_json["passed"] and "no JSON status field" in no_json["detail"]


# -- accounts --

def pager(accounts, total=True, ignore_paging=False):
    calls = []

    def fetch_page(limit, offset):
        calls.append((limit, offset))
        page = accounts if ignore_paging else accounts[offset:offset + limit]
        return dict({"accounts": page}, **({"total": len(accounts)} if total else {}))
    return fetch_page, calls


def test_the_count_is_total_when_the_wallet_sends_it():
    fetch, calls = pager(list(range(7)))
    assert ic.count_accounts(fetch, 3) == (7, "total") and calls == [(3, 0)]


def test_without_total_every_page_is_counted():
    fetch, calls = pager(list(range(7)), total=False)
    assert ic.count_accounts(fetch, 3) == (7, "counted over 3 page(s)")
    assert calls == [(3, 0), (3, 3), (3, 6)]
    fetch, calls = pager(list(range(6)), total=False)
    assert ic.count_accounts(fetch, 3) == (6, "counted over 3 page(s)")  # the last, empty page ends it
    fetch, calls = pager([], total=False)
    assert ic.count_accounts(fetch, 3) == (0, "counted over 1 page(s)")


def test_a_wallet_that_ignores_limit_is_counted_from_its_one_page():
    fetch, calls = pager(list(range(7)), total=False, ignore_paging=True)
    assert ic.count_accounts(fetch, 3) == (7, "counted over 1 page(s)")


def test_a_wallet_that_ignores_offset_is_refused():
    fetch, calls = pager(list(range(3)), total=False, ignore_paging=True)
    with pytest.raises(RecoveryError) as err:
        ic.count_accounts(fetch, 3)
    assert "ignores offset" in str(err.value)


def test_an_answer_without_an_accounts_list_names_wallet_url():
    with pytest.raises(RecoveryError) as err:
        ic.count_accounts(lambda limit, offset: {"items": []}, 3)
    assert 'no "accounts" list (keys: items)' in str(err.value) and "wallet_url" in str(err.value)


def test_accounts_equal_to_expected_pass_and_a_difference_fails_saying_how_many():
    assert ic.accounts_check(10, "total", 10) == {"name": "accounts_count", "passed": True,
                                                  "detail": "10 accounts, as expected"}
    assert ic.accounts_check(8, "total", 10)["detail"] == "8 accounts, 10 expected: 2 missing"
    assert ic.accounts_check(12, "counted over 1 page(s)", 10) == {
        "name": "accounts_count", "passed": False, "detail": "12 accounts (counted over 1 page(s)), 10 expected: 2 more"}


def test_without_expected_the_count_is_reported_and_passes():
    assert ic.accounts_check(0, "total", None) == {
        "name": "accounts_count", "passed": True, "detail": "0 accounts; no expected_accounts to compare with"}


# -- results --

def test_an_error_check_carries_the_message_and_the_fix():
    result = ic.error_check("wallet_health", RecoveryError("GET u: refused.", fix="check wallet_url."))
    assert result == {"name": "wallet_health", "passed": False, "detail": "GET u: refused. Fix: check wallet_url."}


def test_summary_needs_at_least_one_check_and_all_passed():
    assert ic.summary([]) == (False, [])
    assert ic.summary([ic.check("a", True, ""), ic.check("b", False, "")]) == (False, ["b"])
    assert ic.summary([ic.check("a", True, "")]) == (True, [])


def test_the_failure_names_every_failed_check_with_its_detail():
    err = ic.failed_checks_error([ic.check("pods_ready", False, "no pods in namespace iv"),
                                  ic.check("wallet_health", True, "ok"),
                                  ic.check("accounts_count", False, "8 accounts, 10 expected: 2 missing")],
                                 {"passed": False})
    assert ("2 of 3 checks failed: pods_ready: no pods in namespace iv; accounts_count: 8 accounts, 10 expected:"
            " 2 missing.") in str(err)
    assert err.facts == {"passed": False}


def test_the_pending_count_is_one_integer():
    assert ic.parse_count(["4"], "SELECT 1") == 4
    with pytest.raises(RecoveryError):
        ic.parse_count(["1", "2"], "SELECT count(*) FROM t")
    with pytest.raises(RecoveryError):
        ic.parse_count(["x"], "SELECT count(*) FROM t")


def test_a_missing_table_is_recognised():
    assert ic.missing_relation('ERROR:  relation "pending_operations" does not exist\nLINE 1: ...')
    assert not ic.missing_relation('FATAL:  database "wallet" does not exist')


def test_the_probe_rechecks_until_all_pass_and_keeps_the_last_round():
    rounds = iter([[ic.check("pods_ready", False, "no pods in namespace iv")], [ic.check("pods_ready", True, "1")]])
    probe = ic.CheckRound(lambda: {"checks": next(rounds)})
    clock = FakeClock()
    value = wait_until(probe, "checks", 30, "wait_timeout", 2, clock=clock.clock, sleep=clock.sleep)
    assert value["checks"][0]["passed"] and probe.rounds == 2 and clock.sleeps == [2]


def test_the_probe_times_out_with_the_failed_checks_as_last_state():
    probe = ic.CheckRound(lambda: {"checks": [ic.check("pods_ready", False, "no pods in namespace iv")]})
    clock = FakeClock()
    with pytest.raises(RecoveryError) as err:
        wait_until(probe, "checks", 5, "wait_timeout", 2, clock=clock.clock, sleep=clock.sleep)
    assert "pods_ready (no pods in namespace iv)" in str(err.value) and probe.rounds == 4
    assert probe.last["checks"][0]["passed"] is False


def test_policy_nodes_ready_needs_a_ready_pod_for_every_node():
    rows = [{"name": "policy-node0-7d9c-abcde", "ready": True, "reason": "Ready"},
            {"name": "policy-node1-7d9c-fghij", "ready": False, "reason": "CrashLoopBackOff"},
            {"name": "wallet-1-x", "ready": True, "reason": "Ready"}]
    decided = ic.policy_nodes_check(["policy-node0", "policy-node1", "policy-node2"], rows)
    assert decided["passed"] is False
    assert "policy-node1-7d9c-fghij (CrashLoopBackOff)" in decided["detail"]
    assert "policy-node2 has no pod" in decided["detail"]
    rows[1]["ready"] = True
    rows.append({"name": "policy-node2-1-k", "ready": True, "reason": "Ready"})
    assert ic.policy_nodes_check(["policy-node0", "policy-node1", "policy-node2"], rows)["passed"] is True

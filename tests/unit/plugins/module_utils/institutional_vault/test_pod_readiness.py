"""Pods gone / Ready, judged on the pods; the waits proven with a fake clock; the error naming tiers and pod."""

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import pod_readiness as pr
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.waiter import wait_until
from support.fake_clock import FakeClock


def pod(name, ready=True, terminating=False, phase="Running", containers=None, conditions=None):
    metadata = {"name": name}
    if terminating:
        metadata["deletionTimestamp"] = "2026-12-07T02:00:00Z"
    if containers is None:
        containers = [{"name": "app", "ready": ready, "state": {"running": {}}}]
    if conditions is None:
        conditions = [{"type": "Ready", "status": "True" if ready else "False"}]
    return {"metadata": metadata, "status": {"phase": phase, "conditions": conditions,
                                             "containerStatuses": containers}}


def crashing(name):
    return pod(name, ready=False, containers=[{"name": "policy-node", "ready": False, "restartCount": 4, "state": {
        "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 1m20s restarting failed container"}}}])


def test_a_pod_with_deletion_timestamp_is_terminating_even_if_it_still_reports_ready():
    assert pr.classify_pod(pod("wallet-a", terminating=True)) == (pr.TERMINATING, "terminating")


def test_ready_needs_the_ready_condition_and_every_container_ready():
    assert pr.classify_pod(pod("wallet-a"))[0] == pr.READY
    half = pod("wallet-a", containers=[{"name": "app", "ready": True}, {"name": "sidecar", "ready": False}])
    assert pr.classify_pod(half) == (pr.NOT_READY, "container sidecar running but not ready (readiness probe"
                                                   " failing)")
    no_condition = pod("wallet-a", conditions=[])
    assert pr.classify_pod(no_condition) == (pr.NOT_READY, "phase Running, no Ready condition yet")


def test_not_ready_reason_names_a_waiting_container():
    assert pr.classify_pod(crashing("policy-node1-0")) == (
        pr.NOT_READY, "container policy-node CrashLoopBackOff: back-off 1m20s restarting failed container,"
                      " 4 restarts")


def test_not_ready_reason_names_a_terminated_container_and_its_exit_code():
    dead = pod("nats-0", ready=False, containers=[{"name": "nats", "ready": False, "state": {
        "terminated": {"reason": "Error", "exitCode": 1}}}])
    assert pr.classify_pod(dead)[1] == "container nats Error (exit code 1)"


def test_not_ready_reason_names_a_failed_phase():
    evicted = pod("wallet-a", ready=False, phase="Failed", containers=[])
    evicted["status"]["reason"] = "Evicted"
    assert pr.classify_pod(evicted)[1] == "phase Failed: Evicted"


def test_not_ready_reason_names_an_unschedulable_pod():
    pending = pod("wallet-a", ready=False, phase="Pending", containers=[], conditions=[
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes are available"}])
    assert pr.classify_pod(pending)[1] == "not scheduled: Unschedulable (0/3 nodes are available)"


def test_classify_pods_sorts_the_list():
    result = pr.classify_pods([pod("a"), pod("b", terminating=True), crashing("c")])
    assert result["ready"] == ["a"] and result["terminating"] == ["b"] and result["not_ready"][0][0] == "c"


def test_a_tier_is_gone_only_when_no_pod_is_left_terminating_ones_included():
    assert pr.tier_gone([])
    assert not pr.tier_gone([pod("wallet-a", terminating=True)])


def test_an_empty_pod_list_is_not_ready_when_pods_are_expected():
    assert not pr.tier_ready([], 1)


def test_ready_needs_the_expected_count_all_ready_and_none_terminating():
    assert pr.tier_ready([pod("a"), pod("b")], 2)
    assert not pr.tier_ready([pod("a")], 2)
    assert not pr.tier_ready([pod("a"), crashing("b")], 1)
    assert not pr.tier_ready([pod("a"), pod("old", terminating=True)], 1)


def test_a_workload_kept_at_0_is_up_when_no_pod_runs():
    assert pr.tier_ready([], 0)
    assert pr.tier_ready([pod("a", terminating=True)], 0)
    assert not pr.tier_ready([pod("a")], 0)


WALLET = {"name": "wallet", "kind": "Deployment", "namespace": "iv", "selector": "app=wallet", "target_replicas": 2}


class TerminatingPods(object):
    """A Deployment scaled to 0: status.replicas is 0 at once, but the pods stay Terminating until `gone_at`."""

    def __init__(self, fake, gone_at):
        self.fake, self.gone_at = fake, gone_at
        self.deployment = {"status": {}}  # omitempty: replicas 0 is absent, as the API writes it
        self.calls = []

    def list_pods(self, workload):
        self.calls.append(self.fake.now)
        if self.fake.now >= self.gone_at:
            return []
        return [pod("wallet-7f9-a", terminating=True), pod("wallet-7f9-b", terminating=True)]


def test_stop_waits_until_the_pods_are_gone_not_until_status_replicas_is_0():
    fake = FakeClock()
    api = TerminatingPods(fake, gone_at=1045.0)
    assert api.deployment["status"].get("replicas", 0) == 0  # what a k8s_scale wait would stop at
    probe = pr.PodsGoneProbe("wallet", [WALLET], api.list_pods)
    value = wait_until(probe, "stop of tier wallet", 300, "stop_timeout", 10, clock=fake.clock, sleep=fake.sleep)
    assert value == {"tier": "wallet", "pods_left": []}
    assert api.calls == [1000.0, 1010.0, 1020.0, 1030.0, 1040.0, 1050.0]  # polled until empty, no real sleep
    assert fake.now == 1050.0


def test_stop_timeout_names_the_pods_still_terminating():
    fake = FakeClock()
    api = TerminatingPods(fake, gone_at=float("inf"))
    probe = pr.PodsGoneProbe("wallet", [WALLET], api.list_pods)
    with pytest.raises(RecoveryError) as caught:
        wait_until(probe, "stop of tier wallet", 60, "stop_timeout", 10, clock=fake.clock, sleep=fake.sleep)
    assert ("did not finish within 60 seconds (last state: tier wallet: 2 pod(s) left: wallet-7f9-a (terminating),"
            " wallet-7f9-b (terminating))") in str(caught.value)
    assert "raise stop_timeout" in caught.value.fix and fake.now == 1060.0
    assert probe.blocking_pod() == ("wallet-7f9-a", "terminating")


class StartingPods(object):
    """Pods of a scaled-back tier: none listed at first, then starting, then Ready (or crashing for ever)."""

    def __init__(self, fake, script):
        self.fake, self.script = fake, script

    def list_pods(self, workload):
        pods = []
        for since, make in self.script:
            if self.fake.now >= since:
                pods = make()
        return pods


def test_start_waits_past_an_empty_list_until_every_pod_is_ready():
    fake = FakeClock()
    api = StartingPods(fake, [(1010.0, lambda: [pod("wallet-a", ready=False), pod("wallet-b", ready=False)]),
                              (1030.0, lambda: [pod("wallet-a"), pod("wallet-b", ready=False)]),
                              (1040.0, lambda: [pod("wallet-a"), pod("wallet-b")])])
    probe = pr.PodsReadyProbe("wallet", [WALLET], api.list_pods)
    states = []

    def watched():
        result = probe()
        states.append(result[1])
        return result
    value = wait_until(watched, "start of tier wallet", 300, "start_timeout", 10, clock=fake.clock, sleep=fake.sleep)
    assert value == {"tier": "wallet", "workloads": {"wallet": {"expected": 2, "ready": 2}}}
    assert states[0] == "tier wallet: wallet: no pods match app=wallet yet"
    assert states[-1] == "tier wallet: all pods Ready" and fake.now == 1040.0


def test_start_timeout_names_the_pod_that_is_not_ready():
    fake = FakeClock()
    node = dict(WALLET, name="policy-node1", selector="app=policy-node1", target_replicas=1)
    api = StartingPods(fake, [(1000.0, lambda: [crashing("policy-node1-5c7")])])
    probe = pr.PodsReadyProbe("policy-nodes", [node], api.list_pods)
    with pytest.raises(RecoveryError) as caught:
        wait_until(probe, "start of tier policy-nodes", 120, "start_timeout", 15, clock=fake.clock, sleep=fake.sleep)
    assert "last state: tier policy-nodes: policy-node1: 0 of 1 Ready, policy-node1-5c7 not Ready (container" \
           " policy-node CrashLoopBackOff" in str(caught.value)
    assert fake.now == 1120.0 and probe.blocking_pod()[0] == "policy-node1-5c7"


def test_start_timeout_with_nothing_matching_says_so():
    fake = FakeClock()
    probe = pr.PodsReadyProbe("wallet", [WALLET], lambda workload: [])
    with pytest.raises(RecoveryError, match=r"last state: tier wallet: wallet: no pods match app=wallet yet"):
        wait_until(probe, "start of tier wallet", 30, "start_timeout", 10, clock=fake.clock, sleep=fake.sleep)
    assert probe.blocking_pod() is None


def test_start_failure_names_the_tiers_down_the_pod_and_its_last_log_lines():
    log = "\n".join("line %d" % i for i in range(30)) + "\nFATAL: cannot decrypt key share with the EMP\n"
    error = pr.tier_failure_error("start", "policy-nodes", ["wallet"], "tier policy-nodes: ...",
                                  ("policy-node1-5c7", "container policy-node CrashLoopBackOff"), log,
                                  timeout_option="start_timeout")
    text = str(error)
    assert "the start did not complete at tier policy-nodes" in text and "Tiers still down: wallet." in text
    assert "Pod policy-node1-5c7 is not Ready: container policy-node CrashLoopBackOff." in text
    assert "Last 20 log line(s) of policy-node1-5c7:\nline 11\n" in text and "line 10\n" not in text
    assert text.index("FATAL: cannot decrypt key share") < text.index("Fix:")
    assert "continues at tier policy-nodes" in error.fix and "raise start_timeout" in error.fix
    assert error.facts["tiers_down"] == ["wallet"] and error.facts["pod"] == "policy-node1-5c7"


def test_stop_failure_names_the_tiers_already_stopped_and_the_pod_still_there():
    error = pr.tier_failure_error("stop", "policy-nodes", ["wallet"], "tier policy-nodes: 1 pod(s) left: ...",
                                  ("policy-node0-1", "terminating"))
    text = str(error)
    assert "the stop did not complete at tier policy-nodes" in text and "Tiers already stopped: wallet;" in text
    assert "Pod policy-node0-1 is still there: terminating." in text
    assert "continues at tier policy-nodes" in error.fix and error.facts["log_lines"] == []

"""Tiers of an ordered stop/start: validation, order, recorded replicas, the plan and where a rerun continues."""

import copy

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import service_tiers as tiers_mod
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

KEY = tiers_mod.DEFAULT_ANNOTATION_KEY
NS = "iv-prod"


def seed():
    return tiers_mod.check_tiers(tiers_mod.SEED_STOP_TIERS, namespace=NS)


def workload(name, kind="Deployment", replicas=1, annotation=None):
    metadata = {"name": name, "namespace": NS}
    if annotation is not None:
        metadata["annotations"] = {KEY: annotation}
    return {"kind": kind, "metadata": metadata, "spec": {"replicas": replicas}}


def ready_pod(name):
    return {"metadata": {"name": name}, "status": {"phase": "Running", "conditions": [
        {"type": "Ready", "status": "True"}], "containerStatuses": [{"name": "c", "ready": True}]}}


def objects_for(checked, **replicas):
    """The workloads as the API returns them; replicas by name (default 1), annotations via (n, "text")."""
    found = {}
    for tier in checked:
        for w in tier["workloads"]:
            value = replicas.get(w["name"].replace("-", "_"), 1)
            count, note = value if isinstance(value, tuple) else (value, None)
            found[tiers_mod.workload_key(w)] = workload(w["name"], w["kind"], count, note)
    return found


def test_seed_order_is_wallet_then_policy_nodes_together_then_nats():
    checked = seed()
    assert [t["name"] for t in checked] == ["wallet", "policy-nodes", "nats"]
    assert [w["name"] for w in checked[1]["workloads"]] == ["policy-node0", "policy-node1", "policy-node2"]
    assert checked[2]["workloads"][0]["kind"] == "StatefulSet"
    assert all(w["namespace"] == NS for t in checked for w in t["workloads"])
    assert "namespace" not in tiers_mod.SEED_STOP_TIERS[0]["workloads"][0]  # the default is not modified


def test_start_order_is_the_stop_order_reversed():
    checked = seed()
    assert [t["name"] for t in tiers_mod.start_tiers(checked)] == ["nats", "policy-nodes", "wallet"]
    assert [t["name"] for t in checked] == ["wallet", "policy-nodes", "nats"]


@pytest.mark.parametrize("tiers", [[], None, {"name": "wallet"}])
def test_no_tiers_is_refused(tiers):
    with pytest.raises(RecoveryError, match="tiers is empty") as caught:
        tiers_mod.check_tiers(tiers)
    assert "seed's order" in caught.value.fix


@pytest.mark.parametrize("change, expected", [
    (lambda t: t[1]["workloads"][2].update(kind="deployment"),
     "tiers[1] (policy-nodes) workloads[2] (policy-node2) has kind 'deployment', not Deployment or StatefulSet"),
    (lambda t: t[0]["workloads"][0].pop("name"), "tiers[0] (wallet) workloads[0] has no name"),
    (lambda t: t[2]["workloads"][0].update(selector=""), "tiers[2] (nats) workloads[0] (nats) has no label selector"),
    (lambda t: t[2]["workloads"][0].update(selector={}), "workloads[0] (nats) has no label selector"),
    (lambda t: t[0].update(workloads=[]), "tiers[0] (wallet) has no workloads"),
    (lambda t: t[0].pop("name"), "tiers[0] has no name"),
    (lambda t: t[2].update(name="wallet"), "tiers[2] (wallet): tier name wallet is used twice"),
    (lambda t: t[1]["workloads"].append("policy-node3"), "tiers[1] (policy-nodes) workloads[3] is not a mapping"),
])
def test_a_bad_entry_is_named(change, expected):
    tiers = copy.deepcopy(tiers_mod.SEED_STOP_TIERS)
    change(tiers)
    with pytest.raises(RecoveryError) as caught:
        tiers_mod.check_tiers(tiers, namespace=NS)
    assert expected in str(caught.value) and "Nothing was changed" in str(caught.value)
    assert "tiers variable" in caught.value.fix


def test_namespace_is_required_when_no_default_is_given():
    with pytest.raises(RecoveryError, match=r"tiers\[0\] \(wallet\) workloads\[0\] \(wallet\) has no namespace"):
        tiers_mod.check_tiers(tiers_mod.SEED_STOP_TIERS)


def test_every_bad_entry_is_reported_at_once():
    tiers = copy.deepcopy(tiers_mod.SEED_STOP_TIERS)
    tiers[0]["workloads"][0]["kind"] = "Pod"
    tiers[2]["workloads"][0]["selector"] = None
    with pytest.raises(RecoveryError) as caught:
        tiers_mod.check_tiers(tiers, namespace=NS)
    assert len(caught.value.facts["problems"]) == 2


def test_a_workload_twice_is_refused():
    tiers = copy.deepcopy(tiers_mod.SEED_STOP_TIERS)
    tiers[2]["workloads"].append(dict(tiers[0]["workloads"][0], selector="app=other"))
    with pytest.raises(RecoveryError, match=r"tiers\[2\] \(nats\) workloads\[1\] \(wallet\): iv-prod/Deployment/wallet"
                                            r" is already in tiers\[0\] \(wallet\) workloads\[0\] \(wallet\)"):
        tiers_mod.check_tiers(tiers, namespace=NS)


def test_one_selector_for_two_workloads_is_refused():
    tiers = copy.deepcopy(tiers_mod.SEED_STOP_TIERS)
    tiers[2]["workloads"][0]["selector"] = "app.kubernetes.io/name=wallet"
    with pytest.raises(RecoveryError, match="is also the selector of tiers\\[0\\]"):
        tiers_mod.check_tiers(tiers, namespace=NS)


def test_a_selector_mapping_becomes_the_label_selector_text():
    checked = tiers_mod.check_tiers([{"name": "t", "workloads": [
        {"name": "w", "kind": "StatefulSet", "namespace": "n", "selector": {"tier": "b", "app": "w"}}]}])
    assert checked[0]["workloads"][0]["selector"] == "app=w,tier=b"


def test_record_uses_spec_replicas():
    assert tiers_mod.replicas_to_record(workload("wallet", replicas=3), KEY) == 3


def test_record_after_an_interrupted_stop_uses_the_annotation_written_before_scaling():
    # this run (or an earlier one) wrote 3 and scaled to 0: recording 0 now would leave wallet stopped for good
    assert tiers_mod.replicas_to_record(workload("wallet", replicas=0, annotation="3"), KEY) == 3


def test_record_of_a_workload_already_at_0_is_0():
    assert tiers_mod.replicas_to_record(workload("wallet", replicas=0), KEY) == 0


def test_record_ignores_an_old_annotation_on_a_running_workload():
    assert tiers_mod.replicas_to_record(workload("wallet", replicas=2, annotation="5"), KEY) == 2


@pytest.mark.parametrize("bad", ["three", "-1", "1.5", ""])
def test_record_refuses_an_annotation_that_is_not_a_count(bad):
    with pytest.raises(RecoveryError, match="not a replica count") as caught:
        tiers_mod.replicas_to_record(workload("wallet", replicas=0, annotation=bad), KEY)
    assert KEY in str(caught.value)


def test_record_refuses_an_object_without_spec_replicas():
    with pytest.raises(RecoveryError, match="has no spec.replicas"):
        tiers_mod.replicas_to_record({"kind": "Deployment", "metadata": {"name": "w"}, "spec": {}}, KEY)


def test_restore_prefers_the_annotation():
    state = {"recorded": {"iv-prod/Deployment/wallet": 5}}
    assert tiers_mod.replicas_to_restore(workload("wallet", replicas=0, annotation="2"), state, KEY) == 2


def test_restore_falls_back_to_the_run_state_file():
    state = {"recorded": {"iv-prod/Deployment/wallet": 2}}
    assert tiers_mod.replicas_to_restore(workload("wallet", replicas=0), state, KEY) == 2


def test_restore_keeps_a_workload_that_was_at_0_at_0():
    assert tiers_mod.replicas_to_restore(workload("wallet", replicas=0, annotation="0"), None, KEY) == 0


def test_restore_never_guesses_a_count():
    with pytest.raises(RecoveryError, match="never guesses") as caught:
        tiers_mod.replicas_to_restore(workload("wallet", replicas=0), {"recorded": {}}, KEY)
    assert "kubectl annotate -n iv-prod deployment/wallet %s=<replicas>" % KEY in caught.value.fix
    assert caught.value.facts["workload"] == "iv-prod/Deployment/wallet"


def test_restore_refuses_a_run_state_count_that_is_not_a_number():
    with pytest.raises(RecoveryError, match="run-state file's count"):
        tiers_mod.replicas_to_restore(workload("wallet", replicas=0), {"recorded": {
            "iv-prod/Deployment/wallet": True}}, KEY)


def test_stop_plan_lists_tiers_current_and_recorded_replicas():
    checked = seed()
    plan = tiers_mod.stop_plan(checked, objects_for(checked, wallet=2, policy_node1=0), {}, KEY)
    assert plan["order"] == ["wallet", "policy-nodes", "nats"] and plan["action"] == "stop"
    wallet = plan["tiers"][0]["workloads"][0]
    assert (wallet["current_replicas"], wallet["recorded_replicas"], wallet["annotate"]) == (2, 2, True)
    node1 = plan["tiers"][1]["workloads"][1]
    assert (node1["current_replicas"], node1["recorded_replicas"]) == (0, 0)  # stays at 0 after the start
    assert plan["pending_tiers"] == ["wallet", "policy-nodes", "nats"] and plan["resume_from"] is None
    assert tiers_mod.recorded_replicas(plan)["iv-prod/Deployment/wallet"] == 2


def test_stop_plan_resumes_after_the_tiers_already_stopped():
    checked = seed()
    objects = objects_for(checked, wallet=(0, "2"), policy_node0=(0, "1"), policy_node1=(0, "1"),
                          policy_node2=(0, "1"), nats=3)
    pods = {"iv-prod/Deployment/policy-node2": [ready_pod("policy-node2-abc")]}  # a pod still there
    plan = tiers_mod.stop_plan(checked, objects, pods, KEY)
    assert plan["done_tiers"] == ["wallet"] and plan["resume_from"] == "policy-nodes"
    assert plan["tiers"][0]["workloads"][0]["recorded_replicas"] == 2  # not the 0 this run scaled it to
    assert plan["tiers"][0]["workloads"][0]["annotate"] is False


def test_stop_plan_refuses_missing_workloads_together():
    checked = seed()
    objects = objects_for(checked)
    objects["iv-prod/Deployment/wallet"] = None
    del objects["iv-prod/StatefulSet/nats"]
    with pytest.raises(RecoveryError, match="workloads not found: iv-prod/Deployment/wallet,"
                                            " iv-prod/StatefulSet/nats"):
        tiers_mod.stop_plan(checked, objects, {}, KEY)


def test_start_plan_brings_back_the_recorded_counts_in_reverse_order():
    checked = seed()
    objects = objects_for(checked, wallet=(0, "2"), policy_node0=(0, "1"), policy_node1=(0, "0"),
                          policy_node2=0, nats=(0, "3"))
    state = {"recorded": {"iv-prod/Deployment/policy-node2": 1}}
    plan = tiers_mod.start_plan(checked, objects, {}, state, KEY)
    assert plan["order"] == ["nats", "policy-nodes", "wallet"] and plan["action"] == "start"
    targets = dict((w["name"], w["target_replicas"]) for t in plan["tiers"] for w in t["workloads"])
    assert targets == {"nats": 3, "policy-node0": 1, "policy-node1": 0, "policy-node2": 1, "wallet": 2}
    assert plan["pending_tiers"] == ["nats", "policy-nodes", "wallet"]


def test_start_plan_resumes_after_the_tiers_already_up():
    checked = seed()
    objects = objects_for(checked, wallet=(0, "2"), policy_node0=(1, "1"), policy_node1=(1, "1"),
                          policy_node2=(1, "1"), nats=(3, "3"))
    pods = {"iv-prod/StatefulSet/nats": [ready_pod("nats-%d" % i) for i in range(3)],
            "iv-prod/Deployment/policy-node0": [ready_pod("policy-node0-a")],
            "iv-prod/Deployment/policy-node1": [ready_pod("policy-node1-a")],
            "iv-prod/Deployment/policy-node2": []}  # scaled back, no pod yet: not done
    plan = tiers_mod.start_plan(checked, objects, pods, None, KEY)
    assert plan["done_tiers"] == ["nats"] and plan["resume_from"] == "policy-nodes"


def test_start_plan_leaves_a_running_workload_with_nothing_recorded_as_it_is():
    checked = seed()
    objects = objects_for(checked, wallet=(0, "2"), policy_node0=(0, "1"), policy_node1=(0, "1"),
                          policy_node2=(0, "1"), nats=3)
    plan = tiers_mod.start_plan(checked, objects, {}, None, KEY)
    nats = plan["tiers"][0]["workloads"][0]
    assert (nats["recorded_replicas"], nats["target_replicas"]) == (None, 3)


def test_start_plan_refuses_every_unrecorded_stopped_workload_before_starting_any():
    checked = seed()
    objects = objects_for(checked, wallet=0, policy_node0=(0, "1"), policy_node1=(0, "1"), policy_node2=0,
                          nats=(0, "3"))
    with pytest.raises(RecoveryError) as caught:
        tiers_mod.start_plan(checked, objects, {}, {"recorded": {}}, KEY)
    assert ("2 workloads have no usable recorded replica count, and a start never guesses one:"
            " iv-prod/Deployment/policy-node2 (no annotation, no run-state entry); iv-prod/Deployment/wallet (no"
            " annotation, no run-state entry). Nothing was changed.") in str(caught.value)
    assert KEY + "=<replicas>" in caught.value.fix
    assert caught.value.facts["workloads"] == ["iv-prod/Deployment/policy-node2", "iv-prod/Deployment/wallet"]


def test_tiers_down_after_a_failed_stop_are_those_before_it():
    assert tiers_mod.tiers_down("stop", ["wallet", "policy-nodes", "nats"], "policy-nodes") == (
        ["wallet"], "policy-nodes")


def test_tiers_down_after_a_failed_start_are_those_not_started_yet():
    assert tiers_mod.tiers_down("start", ["nats", "policy-nodes", "wallet"], "policy-nodes") == (
        ["wallet"], "policy-nodes")


def test_start_plan_refuses_a_recorded_count_that_is_not_a_number_even_on_a_running_workload():
    checked = seed()
    objects = objects_for(checked, wallet=(2, "two"), policy_node0=(0, "1"), policy_node1=(0, "1"),
                          policy_node2=(0, "1"), nats=(0, "3"))
    with pytest.raises(RecoveryError, match="'two', not a replica count") as caught:
        tiers_mod.start_plan(checked, objects, {}, None, KEY)
    assert caught.value.facts["workload"] == "iv-prod/Deployment/wallet"


def test_check_mode_prints_order_and_replicas_per_workload():
    checked = seed()
    stop = tiers_mod.plan_text(tiers_mod.stop_plan(checked, objects_for(checked, wallet=(0, "2")), {}, KEY))
    assert stop[0] == "stop in this order: wallet -> policy-nodes -> nats (replica counts recorded in annotation %s)" \
        % KEY
    assert stop[1:3] == [
        "1. tier wallet (done, skipped)",
        "   Deployment iv-prod/wallet: 0 replicas now, records 2, scales to 0 and waits until its 0 pod(s) are gone"]
    start = tiers_mod.plan_text(tiers_mod.start_plan(checked, objects_for(
        checked, wallet=(0, "2"), policy_node0=(0, "1"), policy_node1=(0, "1"), policy_node2=(0, "1"), nats=3),
        {}, None, KEY))
    assert start[0].startswith("start in this order: nats -> policy-nodes -> wallet")
    assert start[2] == "   StatefulSet iv-prod/nats: running with 3 replicas, nothing recorded: left as it is"
    assert start[-1] == "   Deployment iv-prod/wallet: 0 replicas now, recorded 2, scales to 2 and waits until they" \
                        " are Ready"

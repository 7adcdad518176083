"""The ordered stop and start carried out against an in-memory cluster on a fake clock: order, waits, counts,
run-state file, resume and the failure facts."""

import json
import os
import stat

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import service_runner as sr
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import service_tiers as st
from support.fake_clock import FakeClock

KEY = st.DEFAULT_ANNOTATION_KEY


class FakeCluster(object):
    """Workloads whose pods take `terminate` fake seconds to go and `ready_after` to become Ready."""

    def __init__(self, clock, replicas, terminate=3.0, ready_after=2.0, never_ready=()):
        self.clock, self.terminate, self.ready_after, self.never_ready = clock, terminate, ready_after, set(never_ready)
        self.objects, self.pod_sets, self.events = {}, {}, []
        for key, count in replicas.items():
            namespace, kind, name = key.split("/")
            self.objects[key] = {"kind": kind, "metadata": {"name": name, "namespace": namespace, "annotations": {}},
                                 "spec": {"replicas": count}}
            self.pod_sets[key] = [{"name": "%s-%d" % (name, i), "since": -100.0, "gone_at": None} for i in range(count)]

    @staticmethod
    def key(workload):
        return st.workload_key(workload)

    def read(self, workload):
        found = self.objects.get(self.key(workload))
        return json.loads(json.dumps(found)) if found else None

    def pods(self, workload):
        key, now, listed = self.key(workload), self.clock.now, []
        self.pod_sets[key] = [p for p in self.pod_sets[key] if p["gone_at"] is None or p["gone_at"] > now]
        for p in self.pod_sets[key]:
            ready = p["gone_at"] is None and now - p["since"] >= self.ready_after and workload["name"] not in self.never_ready
            metadata = {"name": p["name"]}
            if p["gone_at"] is not None:
                metadata["deletionTimestamp"] = "2026-12-07T00:00:00Z"
            listed.append({"metadata": metadata, "status": {
                "phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                "containerStatuses": [{"name": "app", "ready": ready, "state": {"running": {}}}]}})
        return listed

    def scale(self, workload, replicas):
        key, now = self.key(workload), self.clock.now
        self.events.append(("scale", workload["name"], replicas, now))
        self.objects[key]["spec"]["replicas"] = replicas
        alive = [p for p in self.pod_sets[key] if p["gone_at"] is None]
        for p in alive[replicas:]:
            p["gone_at"] = now + self.terminate
        for i in range(len(alive), replicas):
            self.pod_sets[key].append({"name": "%s-new%d" % (workload["name"], i), "since": now, "gone_at": None})

    def annotate(self, workload, key, value):
        self.events.append(("annotate", workload["name"], value, self.clock.now))
        self.objects[self.key(workload)]["metadata"]["annotations"][key] = value

    def pod_log(self, namespace, pod, lines):
        return ["%s: cannot decrypt key share with the Encryptor Master Password" % pod]


REPLICAS = {"ns/Deployment/wallet": 2, "ns/Deployment/policy-node0": 1, "ns/Deployment/policy-node1": 1,
            "ns/Deployment/policy-node2": 0, "ns/StatefulSet/nats": 3}
OPTIONS = {"stop_timeout": 30, "start_timeout": 30, "poll_interval": 1.0, "timeout_option": "stop_timeout"}


def tiers():
    return st.check_tiers(st.SEED_STOP_TIERS, "ns")


def run(cluster, clock, action, path, options=None):
    options = options or OPTIONS
    objects, pods = sr.read_cluster(cluster, tiers())
    run_state = sr.load_run_state(path)
    if action == "stop":
        plan = st.stop_plan(tiers(), objects, pods)
    else:
        plan = st.start_plan(tiers(), objects, pods, run_state)
    runner = sr.TierRun(cluster, plan, options, path, run_state, clock=clock.clock, sleep=clock.sleep)
    getattr(runner, action)()
    return runner


@pytest.fixture
def setup(tmp_path):
    clock = FakeClock()
    return clock, FakeCluster(clock, REPLICAS), str(tmp_path / "state" / "services-ns.json")


def test_stop_waits_for_each_tiers_pods_to_be_gone_before_the_next_tier(setup):
    clock, cluster, path = setup
    runner = run(cluster, clock, "stop", path)
    scales = [(name, at) for verb, name, _n, at in cluster.events if verb == "scale"]
    assert [name for name, _at in scales] == ["wallet", "policy-node0", "policy-node1", "nats"]
    wallet_at, node_at, nats_at = scales[0][1], scales[1][1], scales[3][1]
    assert node_at - wallet_at >= cluster.terminate and nats_at - node_at >= cluster.terminate
    assert [t["tier"] for t in runner.tier_seconds] == ["wallet", "policy-nodes", "nats"]
    assert all(t["seconds"] >= cluster.terminate for t in runner.tier_seconds) and runner.changed


def test_stop_records_every_count_in_annotations_and_the_run_state_file_before_scaling(setup):
    clock, cluster, path = setup
    run(cluster, clock, "stop", path)
    first_scale = next(i for i, e in enumerate(cluster.events) if e[0] == "scale")
    wallet_annotation = next(i for i, e in enumerate(cluster.events) if e[:2] == ("annotate", "wallet"))
    assert wallet_annotation < first_scale
    assert cluster.objects["ns/Deployment/policy-node2"]["metadata"]["annotations"][KEY] == "0"
    assert cluster.objects["ns/StatefulSet/nats"]["metadata"]["annotations"][KEY] == "3"
    document = json.load(open(path))
    assert document["recorded"] == REPLICAS and document["completed"] is True and document["last_action"] == "stop"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_start_brings_back_exactly_the_recorded_counts_in_reverse_order(setup):
    clock, cluster, path = setup
    run(cluster, clock, "stop", path)
    cluster.events = []
    runner = run(cluster, clock, "start", path, dict(OPTIONS, timeout_option="start_timeout"))
    assert [(e[1], e[2]) for e in cluster.events if e[0] == "scale"] == [
        ("nats", 3), ("policy-node0", 1), ("policy-node1", 1), ("wallet", 2)]
    assert dict((k, o["spec"]["replicas"]) for k, o in cluster.objects.items()) == REPLICAS
    assert [t["tier"] for t in runner.tier_seconds] == ["nats", "policy-nodes", "wallet"]


def test_a_second_stop_changes_nothing(setup):
    clock, cluster, path = setup
    run(cluster, clock, "stop", path)
    cluster.events = []
    runner = run(cluster, clock, "stop", path)
    assert cluster.events == [] and not runner.changed
    assert all(t["skipped"] for t in runner.tier_seconds)


def test_a_tier_that_never_gets_ready_fails_naming_tiers_down_pod_and_log_and_a_rerun_continues(setup):
    clock, cluster, path = setup
    run(cluster, clock, "stop", path)
    cluster.never_ready = {"policy-node1"}
    cluster.events = []
    options = dict(OPTIONS, timeout_option="start_timeout")
    with pytest.raises(RecoveryError) as caught:
        run(cluster, clock, "start", path, options)
    facts = caught.value.facts
    assert facts["failed_tier"] == "policy-nodes" and facts["tiers_down"] == ["wallet"] and facts["changed"] is True
    assert facts["pod"].startswith("policy-node1") and "cannot decrypt key share" in str(caught.value)
    assert "wallet" not in [e[1] for e in cluster.events if e[0] == "scale"]
    assert json.load(open(path))["failed_tier"] == "policy-nodes"
    cluster.never_ready = set()
    cluster.events = []
    runner = run(cluster, clock, "start", path, options)
    assert [e[1] for e in cluster.events if e[0] == "scale"] == ["wallet"]
    assert [t["skipped"] for t in runner.tier_seconds] == [True, True, False]  # nats up, the nodes Ready again
    assert cluster.objects["ns/Deployment/wallet"]["spec"]["replicas"] == 2


def test_a_stop_whose_pods_do_not_go_fails_with_the_tiers_already_down(setup):
    clock, cluster, path = setup
    cluster.terminate = 1000.0
    with pytest.raises(RecoveryError) as caught:
        run(cluster, clock, "stop", path)
    assert caught.value.facts["failed_tier"] == "wallet" and caught.value.facts["tiers_down"] == []
    assert "raise stop_timeout" in caught.value.fix and caught.value.facts["changed"] is True
    assert [e[1] for e in cluster.events if e[0] == "scale"] == ["wallet"]


def test_a_start_reads_the_run_state_file_when_an_annotation_was_lost(setup):
    clock, cluster, path = setup
    run(cluster, clock, "stop", path)
    del cluster.objects["ns/StatefulSet/nats"]["metadata"]["annotations"][KEY]
    run(cluster, clock, "start", path, dict(OPTIONS, timeout_option="start_timeout"))
    assert cluster.objects["ns/StatefulSet/nats"]["spec"]["replicas"] == 3


def test_a_run_state_file_that_is_not_ours_is_refused(tmp_path):
    path = tmp_path / "services-ns.json"
    path.write_text('{"recorded": [1]}')
    with pytest.raises(RecoveryError) as caught:
        sr.load_run_state(str(path))
    assert "not a run-state file" in str(caught.value)
    path.write_text('{"format": 1, "recorded"')
    with pytest.raises(RecoveryError) as caught:
        sr.load_run_state(str(path))
    assert "cannot be read" in str(caught.value)
    assert sr.load_run_state(str(tmp_path / "missing.json")) == {}


def test_an_api_failure_after_a_change_says_changed_and_which_tiers_are_down(setup):
    clock, cluster, path = setup
    real_scale = cluster.scale

    def scale(workload, replicas):
        if workload["name"] == "nats":
            raise RecoveryError("scale StatefulSet ns/nats to 0: forbidden (403).", fix="grant the verb.", status=403)
        real_scale(workload, replicas)
    cluster.scale = scale
    with pytest.raises(RecoveryError) as caught:
        run(cluster, clock, "stop", path)
    facts = caught.value.facts
    assert facts["changed"] is True and facts["failed_tier"] == "nats" and facts["status"] == 403
    assert facts["tiers_down"] == ["wallet", "policy-nodes"]
    assert "tiers down: wallet, policy-nodes" in str(caught.value) and "continues at tier nats" in str(caught.value)
    assert json.load(open(path))["failed_tier"] == "nats"

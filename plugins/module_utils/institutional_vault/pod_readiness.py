# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a tier's pods are gone (stop) or Ready (start), judged on the pods themselves.

The workload's status is not enough: a Deployment's status.replicas drops to 0 while its pods are still
Terminating, and a list that matches nothing is not "all Ready". The probes are shaped for
common/waiter.wait_until: each call lists the pods (through the caller's list_pods) and returns
(done, state_text, value); the last listing stays on the probe so that a failure can name the pod that is not
Ready. Pods are dicts as the API returns them.

No I/O of its own (the probes call the caller's list_pods), each rule with a unit test in
tests/unit/plugins/module_utils/institutional_vault/test_pod_readiness.py.
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

TERMINATING, READY, NOT_READY = "terminating", "ready", "not ready"
LOG_LINES = 20  # the last lines of a pod's log quoted in an error


def pod_name(pod):
    return (pod.get("metadata") or {}).get("name") or "(unnamed pod)"


def _container_reason(status):
    """Why one container is not ready, from its state (waiting / terminated / running but failing its probe)."""
    state = status.get("state") or {}
    name = status.get("name", "?")
    restarts = status.get("restartCount") or 0
    suffix = ", %d restarts" % restarts if restarts else ""
    for kind in ("waiting", "terminated"):
        if state.get(kind):
            detail = state[kind]
            text = detail.get("reason") or kind
            if kind == "terminated" and detail.get("exitCode") is not None:
                text += " (exit code %s)" % detail["exitCode"]
            if detail.get("message"):
                text += ": %s" % detail["message"]
            return "container %s %s%s" % (name, text, suffix)
    return "container %s running but not ready (readiness probe failing)%s" % (name, suffix)


def classify_pod(pod):
    """(TERMINATING | READY | NOT_READY, reason). Ready means the Ready condition is True and every container is
    ready; a pod with deletionTimestamp is terminating whatever it still reports."""
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return TERMINATING, "terminating"
    status = pod.get("status") or {}
    conditions = dict((c.get("type"), c) for c in status.get("conditions") or [])
    containers = status.get("containerStatuses") or []
    ready_condition = conditions.get("Ready") or {}
    if ready_condition.get("status") == "True" and containers and all(c.get("ready") for c in containers):
        return READY, "ready"
    phase = status.get("phase") or "Unknown"
    if phase in ("Failed", "Succeeded"):
        # a finished pod never becomes Ready again; its controller replaces it
        return NOT_READY, "phase %s%s" % (phase, ": %s" % status["reason"] if status.get("reason") else "")
    for container in containers:
        if not container.get("ready"):
            return NOT_READY, _container_reason(container)
    scheduled = conditions.get("PodScheduled") or {}
    if scheduled.get("status") == "False":
        return NOT_READY, "not scheduled: %s%s" % (
            scheduled.get("reason") or "?", " (%s)" % scheduled["message"] if scheduled.get("message") else "")
    if ready_condition.get("status") == "False" and ready_condition.get("reason"):
        return NOT_READY, "Ready is False: %s%s" % (
            ready_condition["reason"], " (%s)" % ready_condition["message"] if ready_condition.get("message") else "")
    return NOT_READY, "phase %s, no Ready condition yet" % phase


def classify_pods(pods):
    """{"terminating": [names], "ready": [names], "not_ready": [[name, reason]]}, in the order listed."""
    result = {"terminating": [], "ready": [], "not_ready": []}
    for pod in pods:
        state, reason = classify_pod(pod)
        if state == TERMINATING:
            result["terminating"].append(pod_name(pod))
        elif state == READY:
            result["ready"].append(pod_name(pod))
        else:
            result["not_ready"].append([pod_name(pod), reason])
    return result


def tier_gone(pods):
    """A stopped workload's pods are gone: the list by its selector is empty (terminating pods still count)."""
    return not pods


def tier_ready(pods, expected_count):
    """A started workload is up: at least expected_count pods, every one Ready, none terminating.

    An empty list is NOT ready when pods are expected (k8s_info's wait returns [] for "nothing matched" without
    failing). A workload kept at 0 is up when no pod runs (terminating ones are on their way out).
    """
    classified = classify_pods(pods)
    if expected_count == 0:
        return not classified["ready"] and not classified["not_ready"]
    return (bool(pods) and not classified["terminating"] and not classified["not_ready"]
            and len(classified["ready"]) >= expected_count)


class _TierProbe(object):
    """Lists every workload's pods on each call; keeps the last listing in .last ([(workload, pods)])."""

    def __init__(self, tier_name, workloads, list_pods):
        self.tier_name, self.workloads, self.list_pods = tier_name, workloads, list_pods
        self.last = []

    def _list(self):
        self.last = [(workload, list(self.list_pods(workload) or [])) for workload in self.workloads]
        return self.last

    def blocking_pod(self):
        """(name, reason) of the first pod in the last listing that keeps the tier from being done, or None."""
        for _workload, pods in self.last:
            for pod in pods:
                if self._blocks(pod):
                    return pod_name(pod), classify_pod(pod)[1]
        return None


class PodsGoneProbe(_TierProbe):
    """Done when no workload of the tier has a pod left (terminating or not)."""

    @staticmethod
    def _blocks(pod):
        return True  # any pod left, Ready or not

    def __call__(self):
        left = []
        for workload, pods in self._list():
            for pod in pods:
                state, reason = classify_pod(pod)
                left.append("%s (%s)" % (pod_name(pod), TERMINATING if state == TERMINATING else reason))
        if not left:
            return True, "tier %s: no pods left" % self.tier_name, {"tier": self.tier_name, "pods_left": []}
        return False, "tier %s: %d pod(s) left: %s" % (self.tier_name, len(left), ", ".join(left)), None


class PodsReadyProbe(_TierProbe):
    """Done when every workload of the tier has its target_replicas pods Ready (tier_ready).

    workloads are start_plan rows: each carries its selector and target_replicas.
    """

    @staticmethod
    def _blocks(pod):
        return classify_pod(pod)[0] != READY

    def __call__(self):
        waiting, summary = [], {}
        for workload, pods in self._list():
            expected = workload["target_replicas"]
            classified = classify_pods(pods)
            summary[workload["name"]] = {"expected": expected, "ready": len(classified["ready"])}
            if tier_ready(pods, expected):
                continue
            if not pods:
                waiting.append("%s: no pods match %s yet" % (workload["name"], workload["selector"]))
                continue
            parts = ["%d of %d Ready" % (len(classified["ready"]), expected)]
            parts += ["%s not Ready (%s)" % (name, reason) for name, reason in classified["not_ready"]]
            parts += ["%s terminating" % name for name in classified["terminating"]]
            waiting.append("%s: %s" % (workload["name"], ", ".join(parts)))
        if not waiting:
            return True, "tier %s: all pods Ready" % self.tier_name, {"tier": self.tier_name, "workloads": summary}
        return False, "tier %s: %s" % (self.tier_name, "; ".join(waiting)), None


def _log_tail(log_lines):
    if isinstance(log_lines, str):
        log_lines = log_lines.splitlines()
    return [line.rstrip() for line in (log_lines or [])][-LOG_LINES:]


def tier_failure_error(action, failed_tier, down, last_state, pod=None, log_lines=None, timeout_option=None):
    """The error when a stop or start stops at failed_tier: which tiers are down, which pod is not Ready and why,
    with the last lines of its log (fetched by the caller), and where a rerun continues.

    down is service_tiers.tiers_down(...)[0]; pod is the probe's blocking_pod() (name, reason) or None.
    """
    down_text = ", ".join(down) if down else "none"
    if action == "stop":
        message = ("the stop did not complete at tier %s: it is scaled to 0 but its pods are not gone (%s)."
                   " Tiers already stopped: %s; the later tiers still run." % (failed_tier, last_state, down_text))
        fix = ("find out why the pods do not terminate (kubectl -n <namespace> describe pod: finalizers, a long"
               " terminationGracePeriodSeconds, a node that is gone), then run the stop again: it continues at tier"
               " %s and keeps the replica counts recorded before the scaling." % failed_tier)
    else:
        message = ("the start did not complete at tier %s: it is scaled back but not Ready (%s)."
                   " Tiers still down: %s." % (failed_tier, last_state, down_text))
        fix = ("read the pod's log and events; a policy node that never becomes Ready may hold a key share its EMP"
               " does not decrypt. Then run the start again: it continues at tier %s; tiers already up are left as"
               " they are." % failed_tier)
    tail = _log_tail(log_lines)
    if pod:
        message += (" Pod %s is still there: %s." if action == "stop" else " Pod %s is not Ready: %s.") % pod
        if tail:
            message += " Last %d log line(s) of %s:\n%s\n" % (len(tail), pod[0], "\n".join(tail))
    if timeout_option:
        fix += " If the tier is only slow, raise %s." % timeout_option
    return RecoveryError(message, fix=fix, action=action, failed_tier=failed_tier, tiers_down=list(down),
                         pod=pod[0] if pod else None, pod_reason=pod[1] if pod else None, log_lines=tail,
                         last_state=last_state)

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ordered stop and start of Institutional Vault services on Kubernetes: tiers, recorded replicas, the plan.

A tier is a set of workloads stopped (and started) together; the tiers stop in the configured order and start in
the reverse order. Before a workload is scaled to 0 its replica count is written to an annotation on the workload
(and to the run-state file on the controller), so that a start brings exactly that count back and a rerun of an
interrupted stop still knows the real count. Nothing here talks to the cluster: the caller reads the workloads and
their pods and passes them in.

Pure functions (no I/O), each with a unit test in
tests/unit/plugins/module_utils/institutional_vault/test_service_tiers.py; plan_text() is check mode's printout.
"""

import copy
import re

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.pod_readiness import tier_ready

KINDS = ("Deployment", "StatefulSet")
DEFAULT_ANNOTATION_KEY = "vaultops.recovery/replicas-before-stop"

# The seed's stop order: wallet, then the three policy nodes together, then NATS (started in reverse).
# No namespace: it is the environment's, given to check_tiers. The selectors are the Helm chart's usual
# app.kubernetes.io/name label; a deployment with other labels sets its own tiers.
SEED_STOP_TIERS = [
    {"name": "wallet", "workloads": [
        {"name": "wallet", "kind": "Deployment", "selector": "app.kubernetes.io/name=wallet"}]},
    {"name": "policy-nodes", "workloads": [
        {"name": node, "kind": "Deployment", "selector": "app.kubernetes.io/name=%s" % node}
        for node in ("policy-node0", "policy-node1", "policy-node2")]},
    {"name": "nats", "workloads": [
        {"name": "nats", "kind": "StatefulSet", "selector": "app.kubernetes.io/name=nats"}]},
]

_TIERS_FIX = "correct it in the tiers variable (each tier: name, workloads: [{name, kind, namespace, selector}])"


def workload_key(workload):
    """How a workload is named in plans, errors and the run-state file: namespace/Kind/name."""
    return "%s/%s/%s" % (workload["namespace"], workload["kind"], workload["name"])


def _selector_text(selector):
    """A label selector as the API's labelSelector parameter takes it; a mapping becomes k=v pairs, sorted."""
    if isinstance(selector, dict):
        if not selector or not all(isinstance(v, str) and v for v in selector.values()):
            return None
        return ",".join("%s=%s" % (k, selector[k]) for k in sorted(selector))
    if isinstance(selector, str) and selector.strip():
        return selector.strip()
    return None


def _workload_problems(where, workload, namespace):
    """(checked workload or None, [problems]) for one workload entry."""
    if not isinstance(workload, dict):
        return None, ["%s is not a mapping" % where]
    problems = []
    checked = dict(workload)
    if not checked.get("namespace"):
        checked["namespace"] = namespace
    for field in ("name", "namespace"):
        if not isinstance(checked.get(field), str) or not checked[field]:
            problems.append("%s has no %s" % (where, field))
    if checked.get("kind") not in KINDS:
        # exact spelling: it selects the API path (deployments/scale or statefulsets/scale)
        problems.append("%s has kind %r, not Deployment or StatefulSet" % (where, checked.get("kind")))
    selector = _selector_text(checked.get("selector"))
    if selector is None:
        # without a selector the pods cannot be listed, and an empty one would match every pod in the namespace
        problems.append("%s has no label selector" % where)
    checked["selector"] = selector
    return (None if problems else checked), problems


def check_tiers(tiers, namespace=None):
    """The tiers, checked and normalised (namespace filled in, selector as text); every bad entry in one error."""
    if not isinstance(tiers, list) or not tiers:
        raise RecoveryError(
            "tiers is empty or not a list: there is nothing to stop or start.",
            fix="give at least one tier, or leave tiers unset for the seed's order (wallet, policy nodes, nats).")
    problems, checked_tiers, seen_workloads, seen_selectors, seen_tiers = [], [], {}, {}, set()
    for t_index, tier in enumerate(tiers):
        tier_name = tier.get("name") if isinstance(tier, dict) else None
        where_tier = "tiers[%d]%s" % (t_index, " (%s)" % tier_name if tier_name else "")
        if not isinstance(tier, dict):
            problems.append("%s is not a mapping" % where_tier)
            continue
        if not isinstance(tier_name, str) or not tier_name:
            problems.append("%s has no name" % where_tier)  # errors name tiers: "tiers down: wallet, ..."
        elif tier_name in seen_tiers:
            problems.append("%s: tier name %s is used twice" % (where_tier, tier_name))
        seen_tiers.add(tier_name)
        workloads = tier.get("workloads")
        if not isinstance(workloads, list) or not workloads:
            problems.append("%s has no workloads" % where_tier)
            continue
        checked_workloads = []
        for w_index, workload in enumerate(workloads):
            w_name = workload.get("name") if isinstance(workload, dict) else None
            where = "%s workloads[%d]%s" % (where_tier, w_index, " (%s)" % w_name if w_name else "")
            checked, found = _workload_problems(where, workload, namespace)
            problems.extend(found)
            if checked is None:
                continue
            key = workload_key(checked)
            if key in seen_workloads:
                # stopped twice would record 0 the second time
                problems.append("%s: %s is already in %s" % (where, key, seen_workloads[key]))
                continue
            seen_workloads[key] = where
            same_pods = (checked["namespace"], checked["selector"])
            if same_pods in seen_selectors:
                # the same pods would count for both: a stop would wait on the other tier's pods for ever
                problems.append("%s: selector %s in namespace %s is also the selector of %s" % (
                    where, checked["selector"], checked["namespace"], seen_selectors[same_pods]))
                continue
            seen_selectors[same_pods] = where
            checked_workloads.append(checked)
        checked_tiers.append({"name": tier_name, "workloads": checked_workloads})
    if problems:
        raise RecoveryError(
            "tiers: %s. Nothing was changed." % "; ".join(problems),
            fix=_TIERS_FIX + "; kind is spelled Deployment or StatefulSet, namespace may also come from the"
                             " namespace option.", problems=problems)
    return checked_tiers


def start_tiers(stop_tiers):
    """The start order: the stop order reversed (within a tier the workloads start together)."""
    return list(reversed(copy.deepcopy(stop_tiers)))


def _count(value, what, fix, key):
    """A replica count from an annotation (text) or the run-state file (number); anything else is refused."""
    if isinstance(value, bool):
        value = None  # JSON true is not 1
    elif isinstance(value, int) and value >= 0:
        return value
    elif isinstance(value, str) and re.match(r"^[0-9]+$", value.strip()):
        return int(value.strip())
    raise RecoveryError("%s is %r, not a replica count (a whole number, 0 or more). Nothing was changed."
                        % (what, value), fix=fix, workload=key, problem="%s is %r" % (what, value))


def _spec_replicas(workload_object, what):
    replicas = (workload_object.get("spec") or {}).get("replicas")
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        # the API server always fills spec.replicas in; without it we would have to guess
        raise RecoveryError(
            "%s has no spec.replicas in what the API returned (%r)." % (what, replicas),
            fix="read the workload with the apps/v1 API (k8s_info kind: %s) and pass the object as it is."
                % workload_object.get("kind", "Deployment"))
    return replicas


def _annotation(workload_object, annotation_key):
    annotations = (workload_object.get("metadata") or {}).get("annotations") or {}
    return annotations.get(annotation_key)


def _object_name(workload_object):
    metadata = workload_object.get("metadata") or {}
    return "%s %s/%s" % (workload_object.get("kind", "workload"), metadata.get("namespace"), metadata.get("name"))


def _object_key(workload_object):
    metadata = workload_object.get("metadata") or {}
    return "%s/%s/%s" % (metadata.get("namespace"), workload_object.get("kind"), metadata.get("name"))


def replicas_to_record(workload_object, annotation_key):
    """The replica count in effect before the stop, to write to the annotation and the run-state file.

    spec.replicas, except when the workload is at 0 and carries our annotation: then an earlier run wrote the
    annotation and scaled it to 0 and this is a rerun, so the annotation holds the real count (recording 0 would
    leave it stopped after the start). A workload at 0 without the annotation was stopped before us: 0.
    """
    what = _object_name(workload_object)
    replicas = _spec_replicas(workload_object, what)
    recorded = _annotation(workload_object, annotation_key)
    if replicas == 0 and recorded is not None:
        return _count(recorded, "the annotation %s on %s" % (annotation_key, what),
                      "set it to the replica count the workload ran with before the stop (0 to keep it stopped),"
                      " or remove it if the workload was at 0 before the stop.", _object_key(workload_object))
    return replicas


def replicas_to_restore(workload_object, run_state, annotation_key):
    """The replica count a start brings back: the annotation, else the run-state file; never a guess."""
    what, key = _object_name(workload_object), _object_key(workload_object)
    namespace, kind, name = key.split("/", 2)
    fix = ("annotate the workload with the count it ran with before the stop: kubectl annotate -n %s %s/%s"
           " %s=<replicas> (0 keeps it stopped), then run the start again." % (
               namespace, kind.lower(), name, annotation_key))
    recorded = _annotation(workload_object, annotation_key)
    if recorded is not None:
        return _count(recorded, "the annotation %s on %s" % (annotation_key, what), fix, key)
    from_file = ((run_state or {}).get("recorded") or {}).get(key)
    if from_file is not None:
        return _count(from_file, "the run-state file's count for %s" % key, fix, key)
    raise RecoveryError(
        "no replica count is recorded for %s: it has no annotation %s and the run-state file has no entry %s."
        " A start never guesses a count. Nothing was changed." % (what, annotation_key, key),
        fix=fix, workload=key, nothing_recorded=True, problem="no annotation, no run-state entry")


def _object_for(objects, workload, missing):
    found = objects.get(workload_key(workload))
    if found is None:
        missing.append(workload_key(workload))
    return found


def _refuse_missing(missing):
    if missing:
        raise RecoveryError(
            "workloads not found: %s. Nothing was changed." % ", ".join(missing),
            fix="correct name, kind or namespace in the tiers, or remove the workload from them if this"
                " environment does not run it.", missing=missing)


def stop_plan(tiers, objects, pods, annotation_key=DEFAULT_ANNOTATION_KEY):
    """What a stop does, tier by tier, and where a rerun continues; nothing is changed (check mode prints it).

    tiers are checked tiers in stop order; objects maps workload_key to the workload as the API returns it (None
    when it does not exist); pods maps workload_key to its pods (listed by the workload's selector). A tier is
    done when every workload in it is at 0 and its pods are gone.
    """
    missing, planned = [], []
    for tier in tiers:
        rows = []
        for workload in tier["workloads"]:
            found = _object_for(objects, workload, missing)
            if found is None:
                continue
            what = _object_name(found)
            current = _spec_replicas(found, what)
            recorded = replicas_to_record(found, annotation_key)
            rows.append(dict(workload, key=workload_key(workload), current_replicas=current,
                             recorded_replicas=recorded, pods=len(pods.get(workload_key(workload)) or []),
                             # written before scaling, also for a workload already at 0 (the start reads it)
                             annotate=_annotation(found, annotation_key) != str(recorded)))
        planned.append({"name": tier["name"], "workloads": rows,
                        "done": all(r["current_replicas"] == 0 and r["pods"] == 0 for r in rows)})
    _refuse_missing(missing)
    return _summary("stop", planned, annotation_key)


def start_plan(stop_tiers, objects, pods, run_state, annotation_key=DEFAULT_ANNOTATION_KEY):
    """What a start does, tier by tier in reverse stop order, and where a rerun continues; changes nothing.

    Every workload at 0 needs a recorded count (annotation or run-state file); all that lack one are refused
    together before anything starts. A workload already running with nothing recorded was not stopped: it is left
    as it is. A tier is done when every workload in it is at its count and its pods are Ready (tier_ready).
    """
    missing, planned, unrecorded = [], [], []
    for tier in start_tiers(stop_tiers):
        rows = []
        for workload in tier["workloads"]:
            found = _object_for(objects, workload, missing)
            if found is None:
                continue
            current = _spec_replicas(found, _object_name(found))
            try:
                restore = replicas_to_restore(found, run_state, annotation_key)
            except RecoveryError as exc:
                if current == 0 or exc.facts.get("nothing_recorded") is not True:
                    unrecorded.append(exc)
                    continue
                restore = None  # running and never stopped by us: nothing to bring back
            target = current if restore is None else restore
            workload_pods = pods.get(workload_key(workload)) or []
            is_ready = tier_ready(workload_pods, target)
            rows.append(dict(workload, key=workload_key(workload), current_replicas=current,
                             recorded_replicas=restore, target_replicas=target, pods=len(workload_pods),
                             ready=is_ready, done=current == target and is_ready))
        planned.append({"name": tier["name"], "workloads": rows, "done": all(r["done"] for r in rows)})
    _refuse_missing(missing)
    if len(unrecorded) == 1:
        raise unrecorded[0]
    if unrecorded:
        raise RecoveryError(
            "%d workloads have no usable recorded replica count, and a start never guesses one: %s. Nothing was"
            " changed." % (len(unrecorded), "; ".join(
                "%s (%s)" % (e.facts["workload"], e.facts["problem"]) for e in unrecorded)),
            fix="annotate each with the count it ran with before the stop: kubectl annotate -n <namespace>"
                " <kind>/<name> %s=<replicas> (0 keeps it stopped), then run the start again." % annotation_key,
            workloads=[e.facts["workload"] for e in unrecorded])
    return _summary("start", planned, annotation_key)


def _summary(action, planned, annotation_key):
    pending = [t["name"] for t in planned if not t["done"]]
    return {
        "action": action,
        "order": [t["name"] for t in planned],
        "annotation_key": annotation_key,
        "tiers": planned,
        "done_tiers": [t["name"] for t in planned if t["done"]],
        "pending_tiers": pending,
        "resume_from": pending[0] if pending and len(pending) < len(planned) else None,
    }


def recorded_replicas(plan):
    """{workload_key: count} of a stop plan, for the run-state file."""
    return dict((row["key"], row["recorded_replicas"]) for tier in plan["tiers"] for row in tier["workloads"])


def tiers_down(action, order, failed_tier):
    """(down, partly) after a stop or start stopped at failed_tier: the tiers fully down, and the failed tier.

    A stop has scaled failed_tier to 0 (its pods are not gone) after stopping every tier before it; a start has
    scaled failed_tier back (it is not Ready) and not yet started the tiers after it.
    """
    index = order.index(failed_tier)
    if action == "stop":
        return order[:index], failed_tier
    return order[index + 1:], failed_tier


def plan_text(plan):
    """Check mode's printout of a stop or start plan: the order, then one line per workload."""
    lines = ["%s in this order: %s (replica counts recorded in annotation %s)" % (
        plan["action"], " -> ".join(plan["order"]), plan["annotation_key"])]
    for number, tier in enumerate(plan["tiers"], 1):
        lines.append("%d. tier %s%s" % (number, tier["name"], " (done, skipped)" if tier["done"] else ""))
        for row in tier["workloads"]:
            where = "%s %s/%s" % (row["kind"], row["namespace"], row["name"])
            if plan["action"] == "stop":
                what = "%d replicas now, records %d, scales to 0 and waits until its %d pod(s) are gone" % (
                    row["current_replicas"], row["recorded_replicas"], row["pods"])
            elif row["recorded_replicas"] is None:
                what = "running with %d replicas, nothing recorded: left as it is" % row["current_replicas"]
            else:
                what = "%d replicas now, recorded %d, scales to %d and waits until they are Ready" % (
                    row["current_replicas"], row["recorded_replicas"], row["target_replicas"])
            lines.append("   %s: %s" % (where, what))
    return lines

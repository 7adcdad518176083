# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carry out an ordered stop or start of service tiers: record, scale, wait on the pods, tier by tier.

The decisions are service_tiers' (plans, counts) and pod_readiness' (gone, Ready); this file only applies them
in order through a ``workloads`` object (k8s/workloads.Workloads, or a fake in the unit tests) and keeps the
run-state file. Every change is preceded by everything that can be checked: the tiers, that every workload
exists, and every recorded count; a failure after a change carries ``changed=True`` and the tiers left down.
"""

import datetime
import os
import time

from ansible_collections.vaultops.recovery.plugins.module_utils.common import fs_errors
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import replace_json_atomic
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.waiter import wait_until
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import pod_readiness
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import service_tiers

RUN_STATE_FORMAT = 1


def load_run_state(path):
    """The run-state file's content, {} when there is none; a file that is not ours is refused, not ignored."""
    import json
    if not path or not os.path.exists(path):
        return {}
    try:
        with open(path) as handle:
            document = json.load(handle)
    except (OSError, ValueError) as exc:
        raise RecoveryError("the run-state file %s cannot be read (%s). Nothing was changed." % (path, exc),
                            fix="move it away if it is damaged (the annotations on the workloads still hold the"
                                " counts), or point run_state_dir elsewhere.")
    if not isinstance(document, dict) or document.get("format") != RUN_STATE_FORMAT or not isinstance(
            document.get("recorded"), dict):
        raise RecoveryError("%s is not a run-state file of this collection (format %d with recorded counts)."
                            " Nothing was changed." % (path, RUN_STATE_FORMAT),
                            fix="point run_state_dir at a directory of its own, or move the file away.")
    return document


def save_run_state(path, document):
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        replace_json_atomic(path, document)
    except OSError as exc:
        raise fs_errors.from_oserror(exc, os.path.dirname(path), "Cannot write the run-state file %s" % path,
                                     "The workloads were not changed by this write.") or exc


def read_cluster(workloads, tiers):
    """({key: workload object or None}, {key: [pods]}) for every workload of the tiers."""
    objects, pods = {}, {}
    try:
        for tier in tiers:
            for workload in tier["workloads"]:
                key = service_tiers.workload_key(workload)
                objects[key] = workloads.read(workload)
                pods[key] = workloads.pods(workload) if objects[key] is not None else []
    except RecoveryError as exc:
        raise RecoveryError(exc.message + " Nothing was changed.", fix=exc.fix, **exc.facts)
    return objects, pods


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class TierRun(object):
    """One stop or start: applies a plan tier by tier. clock and sleep are parameters for the unit tests."""

    def __init__(self, workloads, plan, options, run_state_path, run_state, clock=time.monotonic, sleep=time.sleep):
        self.workloads, self.plan, self.options = workloads, plan, options
        self.run_state_path, self.run_state = run_state_path, dict(run_state or {})
        self.clock, self.sleep = clock, sleep
        self.changed = False
        self.tier_seconds = []  # [{"tier", "seconds", "skipped"}] in the order run

    def _write_state(self, **fields):
        document = dict(self.run_state, format=RUN_STATE_FORMAT, updated=_now(), **fields)
        save_run_state(self.run_state_path, document)
        self.run_state = document

    def _fail(self, tier, probe, exc, down):
        """The error for a tier that did not finish: the pod in the way, its log, the tiers down."""
        pod = probe.blocking_pod()
        log_lines = []
        if pod:
            namespace = [w["namespace"] for w, pods in probe.last for p in pods if pod_readiness.pod_name(p) == pod[0]]
            log_lines = self.workloads.pod_log(namespace[0], pod[0], pod_readiness.LOG_LINES)
        error = pod_readiness.tier_failure_error(
            self.plan["action"], tier["name"], down, exc.facts.get("last_state", str(exc)), pod=pod,
            log_lines=log_lines, timeout_option=self.options["timeout_option"])
        error.facts.update(changed=self.changed, tier_seconds=self.tier_seconds, run_state_path=self.run_state_path)
        self._write_state(last_action=self.plan["action"], completed=False, failed_tier=tier["name"])
        return error

    def _wait(self, tier, probe, timeout):
        try:
            wait_until(probe, "tier %s" % tier["name"], timeout, self.options["timeout_option"],
                       self.options["poll_interval"], clock=self.clock, sleep=self.sleep)
        except RecoveryError as exc:
            if not exc.facts.get("timed_out"):
                raise
            down, _partly = service_tiers.tiers_down(self.plan["action"], self.plan["order"], tier["name"])
            raise self._fail(tier, probe, exc, down)

    def _interrupted(self, tier, exc):
        """An API failure while changing or watching tier (a 403 on scale, the server gone): what it left."""
        down, _partly = service_tiers.tiers_down(self.plan["action"], self.plan["order"], tier["name"])
        self._write_state(last_action=self.plan["action"], completed=False, failed_tier=tier["name"])
        facts = dict(exc.facts, changed=self.changed, failed_tier=tier["name"], tiers_down=down,
                     tier_seconds=self.tier_seconds, run_state_path=self.run_state_path)
        return RecoveryError(
            "%s The %s stopped at tier %s; tiers down: %s. Run it again once the cause is fixed: it continues at"
            " tier %s." % (exc.message, self.plan["action"], tier["name"], ", ".join(down) or "none", tier["name"]),
            fix=exc.fix, **facts)

    def _run_tiers(self, change_tier, probe_class, timeout):
        """Each tier not yet done: change_tier(tier), then wait on its pods with probe_class before the next."""
        for tier in self.plan["tiers"]:
            if tier["done"]:
                self.tier_seconds.append({"tier": tier["name"], "seconds": 0.0, "skipped": True})
                continue
            started = self.clock()
            try:
                change_tier(tier)
                self._wait(tier, probe_class(tier["name"], tier["workloads"], self.workloads.pods), timeout)
            except RecoveryError as exc:
                if "failed_tier" in exc.facts:
                    raise
                raise self._interrupted(tier, exc)
            self.tier_seconds.append({"tier": tier["name"], "seconds": round(self.clock() - started, 3),
                                      "skipped": False})

    def _stop_tier(self, tier):
        for row in tier["workloads"]:
            if row["annotate"]:
                self.workloads.annotate(row, self.plan["annotation_key"], str(row["recorded_replicas"]))
                self.changed = True
            if row["current_replicas"] != 0:
                self.workloads.scale(row, 0)
                self.changed = True

    def _start_tier(self, tier):
        for row in tier["workloads"]:
            if row["current_replicas"] != row["target_replicas"]:
                self.workloads.scale(row, row["target_replicas"])
                self.changed = True

    def stop(self):
        recorded = service_tiers.recorded_replicas(self.plan)
        # the counts reach the controller's file before the first workload is touched
        self._write_state(recorded=dict(self.run_state.get("recorded") or {}, **recorded), last_action="stop",
                          completed=False, failed_tier=None)
        self._run_tiers(self._stop_tier, pod_readiness.PodsGoneProbe, self.options["stop_timeout"])
        self._write_state(last_action="stop", completed=True, failed_tier=None)

    def start(self):
        self._write_state(last_action="start", completed=False, failed_tier=None)
        self._run_tiers(self._start_tier, pod_readiness.PodsReadyProbe, self.options["start_timeout"])
        self._write_state(last_action="start", completed=True, failed_tier=None)

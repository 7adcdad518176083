#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: service_tiers
short_description: Stop or start an environment's services on Kubernetes in tiers, waiting on the pods themselves
version_added: "0.1.0"
description:
  - Stops (O(state=stopped)) the tiers of workloads in the given order, or starts them (O(state=started)) in the
    reverse order - for Institutional Vault, the seed's wallet, then policy-node0 to policy-node2 together, then
    nats.
  - "Stopping a tier: the replica count of each workload is written to the annotation O(annotation_key) on the
    workload and to the run-state file on the controller, the workload is scaled to 0 through its C(scale)
    subresource, and the next tier waits until every pod matching the workload's selector is gone - terminating
    pods included, for Deployments and StatefulSets alike (kubernetes.core.k8s_scale returns while a Deployment's
    pods are still Terminating)."
  - "Starting a tier: each workload is scaled back to the count recorded at the stop (the annotation, else the
    run-state file; never a guessed 1; a workload at 0 before the stop stays at 0), and the next tier waits until
    all its pods are Ready and at least that many pods exist (an empty list is not Ready)."
  - Before the first change everything is checked - the tiers, that every workload exists, that every workload to
    start has a recorded count - and every problem is named at once.
  - A tier that does not finish within O(stop_timeout) or O(start_timeout) fails the task with the tiers left
    down, the pod in the way and the last lines of its log. Run the same task again to continue - tiers already
    done are skipped.
  - Check mode reads the cluster and returns the plan (RV(plan_text)) without changing anything.
author:
  - vaultops.recovery contributors (@vaultops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vaultops.recovery.attributes
  - vaultops.recovery.k8s_connection
attributes:
  check_mode:
    details:
      - Reads the workloads and their pods and returns the plan; nothing is annotated, scaled or written.
  idempotent:
    description: Whether running the module twice with the same arguments changes nothing the second time.
    support: full
    details:
      - A stop of stopped tiers, or a start of tiers already at their counts and Ready, changes nothing.
options:
  state:
    description:
      - V(stopped) stops the tiers in the order given; V(started) starts them in the reverse order.
    type: str
    choices: [stopped, started]
    required: true
  namespace:
    description: The environment's namespace; the namespace of every workload that does not name its own.
    type: str
    required: true
  tiers:
    description:
      - The tiers in STOP order. Each is C(name) and C(workloads), a list of C(name), C(kind) (C(Deployment) or
        C(StatefulSet)), C(selector) (the label selector of its pods, as text C(k=v,k2=v2) or a mapping) and
        optionally C(namespace).
      - Omitted, the seed's order - wallet; policy-node0, policy-node1 and policy-node2; nats (a StatefulSet) - with
        the selectors C(app.kubernetes.io/name=<name>).
    type: list
    elements: dict
  stop_timeout:
    description: Seconds a tier's pods may take to be gone after it is scaled to 0.
    type: int
    default: 300
  start_timeout:
    description: Seconds a tier's pods may take to be Ready after it is scaled back.
    type: int
    default: 600
  poll_interval:
    description: Seconds between two listings of a tier's pods while waiting.
    type: float
    default: 2.0
  annotation_key:
    description: The annotation that holds a workload's replica count from before the stop.
    type: str
    default: vaultops.recovery/replicas-before-stop
  run_state_dir:
    description:
      - Directory on the host that runs the module for the run-state file (C(services-<namespace>-<server>.json),
        mode 0600), the second record of the replica counts after the annotations.
      - The annotations are the record a start reads first, so an execution environment that loses this
        directory between jobs (AWX) loses nothing as long as the workloads keep their annotations.
    type: path
    default: ~/.vaultops/run-state
notes:
  - The annotations stay on the workloads after a start; the next stop overwrites them.
seealso:
  - module: kubernetes.core.k8s_scale
  - module: kubernetes.core.k8s_info
"""

EXAMPLES = r"""
- name: Stop Institutional Vault (wallet, policy nodes, nats), each tier gone before the next
  vaultops.recovery.service_tiers:
    state: stopped
    namespace: iv-prod
    kubeconfig: /etc/vaultops/prod.kubeconfig
    stop_timeout: 600

- name: Start it again in reverse order, each tier Ready before the next
  vaultops.recovery.service_tiers:
    state: started
    namespace: iv-prod
    kubeconfig: /etc/vaultops/prod.kubeconfig

- name: The vendor's newer order, with the approval service and the orchestrator
  vaultops.recovery.service_tiers:
    state: stopped
    namespace: iv-prod
    tiers:
      - {name: wallet, workloads: [{name: wallet, kind: Deployment, selector: app.kubernetes.io/name=wallet}]}
      - name: front
        workloads:
          - {name: approval-service, kind: Deployment, selector: app.kubernetes.io/name=approval-service}
          - {name: orchestrator, kind: Deployment, selector: app.kubernetes.io/name=orchestrator}
      - name: policy-nodes
        workloads:
          - {name: policy-node0, kind: Deployment, selector: app.kubernetes.io/name=policy-node0}
          - {name: policy-node1, kind: Deployment, selector: app.kubernetes.io/name=policy-node1}
          - {name: policy-node2, kind: Deployment, selector: app.kubernetes.io/name=policy-node2}
      - {name: nats, workloads: [{name: nats, kind: StatefulSet, selector: app.kubernetes.io/name=nats}]}
"""

RETURN = r"""
state:
  description: The state asked for.
  returned: always
  type: str
  sample: stopped
api_server:
  description: The API server the module talked to.
  returned: always
  type: str
  sample: https://10.0.0.1:6443
plan:
  description:
    - The plan as read before any change - C(action), C(order) (tier names in the order run), C(tiers) (each with
      C(name), C(done) and C(workloads), one row per workload with C(key), C(current_replicas),
      C(recorded_replicas) and for a start C(target_replicas) and C(ready)), C(done_tiers), C(pending_tiers) and
      C(resume_from) (the tier a rerun continues at, or null).
  returned: always
  type: dict
plan_text:
  description: The plan in words, one line per tier and workload (what check mode prints).
  returned: always
  type: list
  elements: str
tier_seconds:
  description: Seconds each tier took, in the order run; C(skipped) is true for a tier already done.
  returned: when not in check mode
  type: list
  elements: dict
  sample: [{"tier": "wallet", "seconds": 4.2, "skipped": false}]
recorded_replicas:
  description: The replica count of each workload (namespace/Kind/name) before the stop, or to start with.
  returned: always
  type: dict
  sample: {"iv-prod/Deployment/wallet": 2, "iv-prod/StatefulSet/nats": 3}
run_state_path:
  description: The run-state file on the host that ran the module.
  returned: always
  type: str
failed_tier:
  description: On failure, the tier that did not finish.
  returned: failure
  type: str
tiers_down:
  description: On failure, the tiers that are down (stopped and not started again).
  returned: failure
  type: list
  elements: str
pod:
  description: On failure, the pod that is still there (stop) or not Ready (start).
  returned: failure
  type: str
log_lines:
  description: On failure, the last lines of that pod's log.
  returned: failure
  type: list
  elements: str
"""

import hashlib
import os

from ansible_collections.vaultops.recovery.plugins.module_utils.common.vaultops_module import run_module
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import service_runner
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import service_tiers
from ansible_collections.vaultops.recovery.plugins.module_utils.k8s import connection as k8s_connection
from ansible_collections.vaultops.recovery.plugins.module_utils.k8s.workloads import Workloads


def argument_spec():
    spec = k8s_connection.k8s_argument_spec()
    spec.update(
        state=dict(type="str", choices=["stopped", "started"], required=True),
        namespace=dict(type="str", required=True),
        tiers=dict(type="list", elements="dict"),
        stop_timeout=dict(type="int", default=300),
        start_timeout=dict(type="int", default=600),
        poll_interval=dict(type="float", default=2.0),
        annotation_key=dict(type="str", default=service_tiers.DEFAULT_ANNOTATION_KEY, no_log=False),
        run_state_dir=dict(type="path", default="~/.vaultops/run-state"),
    )
    return spec


def run(module):
    p = module.params
    module.require_library("kubernetes", k8s_connection.HAS_KUBERNETES, k8s_connection.KUBERNETES_IMPORT_ERROR)
    tiers = service_tiers.check_tiers(p["tiers"] or service_tiers.SEED_STOP_TIERS, p["namespace"])
    connection = k8s_connection.K8sConnection(p)
    workloads = Workloads(connection)
    server_tag = hashlib.sha256(connection.server.encode("utf-8")).hexdigest()[:8]
    run_state_path = os.path.join(p["run_state_dir"], "services-%s-%s.json" % (p["namespace"], server_tag))
    run_state = service_runner.load_run_state(run_state_path)
    objects, pods = service_runner.read_cluster(workloads, tiers)
    if p["state"] == "stopped":
        plan = service_tiers.stop_plan(tiers, objects, pods, p["annotation_key"])
        recorded = service_tiers.recorded_replicas(plan)
    else:
        plan = service_tiers.start_plan(tiers, objects, pods, run_state, p["annotation_key"])
        recorded = dict((row["key"], row["recorded_replicas"]) for tier in plan["tiers"] for row in tier["workloads"])
    result = dict(state=p["state"], api_server=connection.server, plan=plan, plan_text=service_tiers.plan_text(plan),
                  recorded_replicas=recorded, run_state_path=run_state_path, changed=bool(plan["pending_tiers"]))
    if module.check_mode:
        return result
    options = dict(stop_timeout=p["stop_timeout"], start_timeout=p["start_timeout"],
                   poll_interval=p["poll_interval"],
                   timeout_option="stop_timeout" if p["state"] == "stopped" else "start_timeout")
    tier_run = service_runner.TierRun(workloads, plan, options, run_state_path, run_state)
    if p["state"] == "stopped":
        tier_run.stop()
    else:
        tier_run.start()
    result.update(changed=tier_run.changed, tier_seconds=tier_run.tier_seconds)
    return result


def main():
    run_module(run, argument_spec(), timed=True)


if __name__ == "__main__":
    main()

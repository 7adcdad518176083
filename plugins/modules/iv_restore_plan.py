#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: iv_restore_plan
short_description: Decide an Institutional Vault restore or drill from its recovery set, before anything changes
version_added: "0.3.0"
description:
  - Reads the C(manifest.json) of an Institutional Vault recovery set (taken by the role
    vaultops.recovery.institutional_vault_backup) on the controller and returns what the set recorded at backup time
    (the restore point, the accounts count, the pending operations, the EMP digests, the dump or snapshot), the
    database the restore writes, the steps in the seed's order, and the data-loss window with the seed's warnings
    stated as facts of this run. Changes nothing. The cryptographic check of the set's files is
    M(vaultops.recovery.recovery_set)'s.
  - B(Refusals) (one error naming the fix; nothing is changed) - a set of another product or without its recorded
    facts; a snapshot set on the other cloud; a redirected target that is the environment's own database; a
    carry-over from the environment being restored; for a drill, a namespace or database that is production's.
  - B(Production guard) - an environment marked O(production) needs O(confirm_environment) equal to its name.
    Without it the plan is returned with RV(proceed=false) and the reason; the caller prints the plan and stops
    before the first change. A wrong name fails.
author:
  - vaultops.recovery contributors (@vaultops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vaultops.recovery.attributes
attributes:
  check_mode:
    details: Reads the manifest and decides in check mode as in a normal run.
  diff_mode:
    support: none
  idempotent:
    description: Reads only.
    support: full
options:
  operation:
    description: V(restore) plans restore.yml's steps; V(drill) plans a drill into a scratch namespace and database.
    type: str
    default: restore
    choices: [restore, drill]
  set_dir:
    description: The recovery set directory on the controller.
    type: path
    required: true
  environment:
    description: The environment restored into (inventory C(institutional_vault_environment)).
    type: str
    required: true
  namespace:
    description: Its Kubernetes namespace.
    type: str
    required: true
  provider:
    description: Where its database runs.
    type: str
    required: true
    choices: [aws, azure, self_managed]
  production:
    description: Whether the environment is production (inventory C(institutional_vault_production)).
    type: bool
    default: false
  databases:
    description:
      - The environment's databases by role, each C(host), C(port), C(name), C(user). C(source) is the
        environment's own database; a redirected restore writes O(target_database).
    type: dict
    required: true
  target:
    description: V(in_place) restores into the environment's own database; V(redirected) into O(target_database).
    type: str
    default: in_place
    choices: [in_place, redirected]
  target_database:
    description: Key in O(databases) of the redirected target.
    type: str
    default: target
  carry_over_emp:
    description:
      - An environment migration - the environment whose EMP secrets are carried over unchanged to this one. Its
        EMPs, not the target's, must then equal the set's digests.
    type: str
    default: ""
  carry_over_namespace:
    description: The namespace of the O(carry_over_emp) environment's secrets; defaults to O(namespace).
    type: str
  confirm_environment:
    description: The name of the environment, to confirm a destructive run against production.
    type: str
    default: ""
  safety_backup:
    description: Whether the plan includes the safety backup of the database being replaced.
    type: bool
    default: true
  drill_namespace:
    description: For O(operation=drill), the scratch namespace (never O(namespace)).
    type: str
    default: ""
  drill_database:
    description: For O(operation=drill), the scratch database C(host), C(port), C(name), C(user) (never production's).
    type: dict
    default: {}
  now:
    description: The current UTC time for the data-loss window (C(2026-12-07T05:00:00Z)); defaults to the clock.
    type: str
"""

EXAMPLES = r"""
- name: Plan a redirected restore of a set
  vaultops.recovery.iv_restore_plan:
    set_dir: /srv/recovery-sets/prod-20261207T040000Z
    environment: prod
    namespace: ivault
    provider: aws
    production: true
    confirm_environment: "{{ institutional_vault_confirm_environment | default('') }}"
    databases:
      source: {host: iv-prod.abc.eu-west-1.rds.amazonaws.com, port: 5432, name: ivault, user: iv_app}
      target: {host: iv-prod-restored.abc.eu-west-1.rds.amazonaws.com, port: 5432, name: ivault, user: iv_app}
    target: redirected
  register: plan

- name: Plan a drill into a scratch namespace and database
  vaultops.recovery.iv_restore_plan:
    operation: drill
    set_dir: /srv/recovery-sets/prod-20261207T040000Z
    environment: prod
    namespace: ivault
    provider: aws
    databases: {source: {host: iv-prod.abc.eu-west-1.rds.amazonaws.com, name: ivault}}
    drill_namespace: ivault-drill
    drill_database: {host: drill.internal, port: 5432, name: ivault_drill, user: iv_app}
"""

RETURN = r"""
proceed:
  description: Whether a restore may change the environment (false - production without confirmation).
  returned: operation restore
  type: bool
reason:
  description: Why it may or may not proceed.
  returned: operation restore
  type: str
recorded:
  description: What the set recorded - environment, namespace, provider, method, backup_time, accounts_count,
    pending_operations, emp_digests, database, dump, snapshot.
  returned: always
  type: dict
target_database:
  description: The database the restore or drill writes (C(host), C(port), C(name), C(user), C(key)).
  returned: always
  type: dict
mode:
  description: V(in_place) or V(redirected).
  returned: operation restore
  type: str
rewrite_secrets:
  description: Whether the db-info secrets are pointed at the restored database.
  returned: operation restore
  type: bool
emp_check:
  description: Whose EMPs must equal the set's digests (C(environment), C(namespace)) and whether they are carried over.
  returned: operation restore
  type: dict
cross_environment:
  description: Whether the set comes from another environment.
  returned: operation restore
  type: bool
restore_point:
  description: The backup time, which becomes the data's point in time.
  returned: always
  type: str
  sample: "2026-12-07T04:00:00Z"
loss_window:
  description: The time between the restore point and now, whose transactions are lost.
  returned: operation restore
  type: str
  sample: 2 h 5 min
loss_window_seconds:
  description: The same in seconds.
  returned: operation restore
  type: int
data_loss_warnings:
  description: The seed's warnings as facts of this run, with the recorded pending operations count.
  returned: operation restore
  type: list
  elements: str
steps:
  description: The steps in order.
  returned: always
  type: list
  elements: str
plan_text:
  description: The steps as numbered lines.
  returned: always
  type: str
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.common.vaultops_module import run_module
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import restore_plan
from ansible_collections.vaultops.recovery.plugins.module_utils.recovery_set import recovery_set


def argument_spec():
    return dict(
        operation=dict(type="str", default="restore", choices=["restore", "drill"]),
        set_dir=dict(type="path", required=True),
        environment=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        provider=dict(type="str", required=True, choices=["aws", "azure", "self_managed"]),
        production=dict(type="bool", default=False),
        databases=dict(type="dict", required=True),
        target=dict(type="str", default="in_place", choices=["in_place", "redirected"]),
        target_database=dict(type="str", default="target"),
        carry_over_emp=dict(type="str", default=""),
        carry_over_namespace=dict(type="str"),
        confirm_environment=dict(type="str", default=""),
        safety_backup=dict(type="bool", default=True),
        drill_namespace=dict(type="str", default=""),
        drill_database=dict(type="dict", default={}),
        now=dict(type="str"),
    )


def decide(module):
    p = module.params
    manifest = recovery_set.load_set_manifest(p["set_dir"])
    now = restore_plan.utc_text(p["now"], "now") if p["now"] else restore_plan.utc_now()
    inventory = dict((name, p[name]) for name in ("environment", "namespace", "provider", "production", "databases"))
    if p["operation"] == "drill":
        drill = {"namespace": p["drill_namespace"], "database": p["drill_database"]}
        plan = restore_plan.drill_plan(manifest, p["set_dir"], inventory, drill, now)
    else:
        options = dict((name, p[name]) for name in ("target", "target_database", "carry_over_emp",
                                                    "carry_over_namespace", "confirm_environment", "safety_backup"))
        plan = restore_plan.restore_plan(manifest, p["set_dir"], inventory, options, now)
    return dict(changed=False, plan_text=restore_plan.plan_text(plan), **plan)


def main():
    run_module(decide, argument_spec())


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: managed_snapshot
short_description: Snapshot and restore the managed PostgreSQL of Institutional Vault (Amazon RDS, Azure flexible server)
version_added: "0.2.0"
description:
  - The managed-database paths of the Institutional Vault backup and restore procedure, for Amazon RDS for
    PostgreSQL (O(provider=aws)) and Azure Database for PostgreSQL flexible server (O(provider=azure)).
  - O(state=snapshot) takes a backup before a disruptive operation such as a wallet upgrade. On AWS a manual snapshot
    (as C(aws rds create-db-snapshot)) tagged with C(purpose=<purpose>); on Azure an on-demand backup, after checking
    that automatic backups with point-in-time restore are enabled. The name comes from O(name_pattern) with the UTC
    time, or is O(snapshot_name); the task waits until the snapshot is available (up to O(wait_timeout)) and returns
    its name, id and timestamp so the playbook can record them.
  - O(state=restore) restores the snapshot O(snapshot_name). On AWS to O(target), a new instance, or - when O(target)
    is left out or equals O(instance) - to the same instance name. The existing instance is then first renamed to
    O(replaced_name_pattern) (never deleted), so the restored one takes over its name and endpoint. When any step
    after that rename fails (the restore call, the wait, a restored instance that fails), the module deletes what it
    restored under the name, renames the old instance back, waits until it is available under its name again and
    fails with C(changed=true) and C(rolled_back=true); if the way back fails too, the message says where the old
    instance is and the commands that put it back. The restored instance gets the subnet group, security groups,
    parameter group, class, Multi-AZ, public access and port of the instance it replaces (or of the snapshot's
    instance), so it lands in the same network; O(restore_options) overrides them. On Azure a point-in-time restore
    at the backup's completion time to the new server O(target).
  - O(state=point_in_time) restores O(instance) to O(restore_time) (AWS - the latest restorable time when left out)
    as O(target), with the same rules.
  - O(state=verify) checks that point-in-time restore is possible (backup retention, earliest or latest restore
    point) and fails clearly when it is not. It changes nothing.
  - Restored instances and servers are tagged C(vaultops-restored-from) and C(vaultops-restore-time); a run whose
    target already carries the same tags changes nothing. A target that exists without them is an error, and
    nothing is touched.
  - Every restore returns the restored endpoint (RV(target_host), RV(target_port)) for the services' C(DB_HOST)
    (see M(vaultops.recovery.db_info_secret) for a redirected restore).
author:
  - vaultops.recovery contributors (@vaultops)
extends_documentation_fragment:
  - vaultops.recovery.aws_connection
  - vaultops.recovery.azure_connection
  - ansible.builtin.action_common_attributes
  - vaultops.recovery.attributes
attributes:
  check_mode:
    details:
      - Reads the instance, snapshot and target, runs the same checks as a real run (O(restore_options) against the
        RDS API, the subnet, parameter and option groups exist) and reports in RV(plan) what would be taken,
        renamed or restored; it changes nothing.
options:
  provider:
    description:
      - V(aws) for Amazon RDS for PostgreSQL (boto3, the O(access_key) group of options).
      - V(azure) for Azure Database for PostgreSQL flexible server (the O(tenant_id) group of options).
    type: str
    required: true
    choices: [aws, azure]
  state:
    description:
      - V(snapshot) takes a snapshot (AWS) or on-demand backup (Azure) of O(instance).
      - V(restore) restores the snapshot or backup O(snapshot_name).
      - V(point_in_time) restores O(instance) to O(restore_time).
      - V(verify) checks that point-in-time restore of O(instance) is possible and reports its window.
    type: str
    default: snapshot
    choices: [snapshot, restore, point_in_time, verify]
  instance:
    description:
      - The database - the RDS DB instance identifier, or the name of the Azure flexible server.
      - For O(state=restore) on AWS it is the instance to replace when O(target) is left out; on Azure the
        server whose backup O(snapshot_name) is.
    type: str
    required: true
    aliases: [db_instance_identifier, server_name]
  resource_group:
    description:
      - Resource group of the flexible server (and of the restored server). Required with O(provider=azure).
    type: str
  snapshot_name:
    description:
      - Name of the snapshot or backup. Required for O(state=restore).
      - For O(state=snapshot) it overrides O(name_pattern); a snapshot of that name that already exists for
        O(instance) is reported and not taken again, so pass the name a first run returned to make reruns no-ops.
    type: str
  name_pattern:
    description:
      - Name of a new snapshot or backup when O(snapshot_name) is not given. C({instance}) and C({purpose}) are
        replaced, then C(strftime) codes by the UTC time. The result must be letters, digits and single hyphens,
        starting with a letter, at most 63 characters.
    type: str
    default: "{instance}-{purpose}-%Y%m%d-%H%M%S"
  purpose:
    description:
      - Why the snapshot is taken; it becomes the C(purpose) tag (AWS snapshots, restored instances and servers).
    type: str
    default: pre-upgrade
  tags:
    description:
      - More tags for AWS snapshots and restored AWS instances or Azure servers.
    type: dict
  target:
    description:
      - Name of the restored instance or server.
      - AWS - defaults to O(instance), which is then renamed first (see O(replaced_name_pattern)).
      - Azure - required for O(state=restore) and O(state=point_in_time), and must differ from O(instance) (Azure
        restores only to a new server).
    type: str
  replaced_name_pattern:
    description:
      - New name of the AWS instance that a restore to its own name replaces, as for O(name_pattern). That instance
        is renamed (tagged C(vaultops-replaced-by)), never deleted; delete it once the restore is proven.
    type: str
    default: "{instance}-replaced-%Y%m%d-%H%M%S"
  restore_time:
    description:
      - Point in time to restore to for O(state=point_in_time), ISO 8601 (for example C(2026-11-21T10:15:00Z); no zone
        means UTC). It must lie within the restorable window that O(state=verify) reports.
      - AWS - defaults to the latest restorable time. Azure - required.
    type: str
  restore_options:
    description:
      - AWS only. More parameters of the RDS restore call, with the API's names (for example C(DBInstanceClass),
        C(DBSubnetGroupName), C(VpcSecurityGroupIds), C(MultiAZ)); they override what is taken from the replaced or
        original instance.
      - Checked before anything changes (in check mode too) against the RDS API's model of
        C(RestoreDBInstanceFromDBSnapshot) or C(RestoreDBInstanceToPointInTime) in botocore - names (a misspelt one
        fails, naming the closest valid name), value types - and that a C(DBSubnetGroupName),
        C(DBParameterGroupName) or C(OptionGroupName) exists. Parameters the module sets itself (the identifiers,
        C(RestoreTime), C(UseLatestRestorableTime), C(Tags)) are refused; use O(target), O(restore_time) and O(tags).
      - The values are never shown (no_log), so secrets such as C(TdeCredentialPassword) may be passed; the keys
        are shown in RV(plan). Ansible masks these values wherever they would appear in output (a group name in an
        error reads C(********)); the messages name the key instead.
    type: dict
  wait:
    description:
      - Wait until the snapshot, backup or restored instance is available. Without waiting, a restore returns before
        the endpoint exists; renaming an instance always waits.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for each of those before the task fails. The operation itself goes on in the cloud; a rerun
        with the same names picks it up.
    type: int
    default: 3600
  wait_interval:
    description:
      - Seconds between two checks while waiting (AWS); on Azure the long-running operation's own polling applies
        (see O(polling_interval)), this is the longest step between two deadline checks.
    type: float
    default: 15
notes:
  - AWS needs the IAM actions rds:DescribeDBInstances, rds:DescribeDBSnapshots, rds:CreateDBSnapshot,
    rds:AddTagsToResource, rds:ListTagsForResource, rds:ModifyDBInstance, rds:RestoreDBInstanceFromDBSnapshot and
    rds:RestoreDBInstanceToPointInTime, rds:DescribeDBSubnetGroups, rds:DescribeDBParameterGroups,
    rds:DescribeOptionGroups; and for the rollback of a failed restore to the same name rds:RemoveTagsFromResource and
    rds:DeleteDBInstance (only ever for an instance this run restored).
  - Azure needs a role with Microsoft.DBforPostgreSQL/flexibleServers read and write and
    flexibleServers/backups read and write (for example Contributor on the resource group).
  - Azure restores keep the source's location, version and sizing; the new server's firewall, private DNS and
    administrators must be checked before the services are pointed at it.
  - Stop the services (wallet, policy nodes, nats) before a restore, as the procedure says; this module does not.
requirements:
  - azure-mgmt-postgresqlflexibleservers >= 3.0.0 on the managed host for O(provider=azure)
seealso:
  - module: vaultops.recovery.db_info_secret
  - module: vaultops.recovery.pg_backup
"""

EXAMPLES = r"""
- name: Take a pre-upgrade snapshot of the RDS instance (credentials from the host's profile or role)
  vaultops.recovery.managed_snapshot:
    provider: aws
    region: eu-central-1
    instance: iv-prod-wallet-db
    purpose: pre-upgrade
  register: pre_upgrade

- name: Record the snapshot name and time
  ansible.builtin.debug:
    msg: "{{ pre_upgrade.snapshot_name }} taken at {{ pre_upgrade.snapshot_time }}"

- name: Roll back - restore the snapshot to the same instance name (the old instance is renamed, kept)
  vaultops.recovery.managed_snapshot:
    provider: aws
    region: eu-central-1
    state: restore
    instance: iv-prod-wallet-db
    snapshot_name: "{{ pre_upgrade.snapshot_name }}"
  register: rollback

- name: Restore the instance to a point in time as a new instance
  vaultops.recovery.managed_snapshot:
    provider: aws
    region: eu-central-1
    state: point_in_time
    instance: iv-prod-wallet-db
    target: iv-prod-wallet-db-pitr
    restore_time: "2026-11-21T10:15:00Z"
    wait_timeout: 5400

- name: Check that the Azure flexible server has point-in-time restore (fails when not)
  vaultops.recovery.managed_snapshot:
    provider: azure
    state: verify
    subscription_id: "{{ azure_subscription_id }}"
    resource_group: iv-prod
    instance: iv-prod-pg

- name: Take an on-demand backup of the Azure flexible server (service principal from AZURE_* on the host)
  vaultops.recovery.managed_snapshot:
    provider: azure
    subscription_id: "{{ azure_subscription_id }}"
    resource_group: iv-prod
    instance: iv-prod-pg
  register: azure_backup

- name: Restore that backup to a new server and get its host name
  vaultops.recovery.managed_snapshot:
    provider: azure
    state: restore
    subscription_id: "{{ azure_subscription_id }}"
    resource_group: iv-prod
    instance: iv-prod-pg
    snapshot_name: "{{ azure_backup.snapshot_name }}"
    target: iv-prod-pg-restored
  register: restored

- name: Use the restored server as DB_HOST
  ansible.builtin.debug:
    msg: "DB_HOST={{ restored.target_host }}"
"""

RETURN = r"""
provider:
  description: V(aws) or V(azure).
  returned: always
  type: str
state:
  description: The O(state) that ran.
  returned: always
  type: str
instance:
  description: The source instance or server.
  returned: always
  type: str
  sample: iv-prod-wallet-db
instance_id:
  description: Azure resource id of the source server.
  returned: O(provider=azure), O(state=snapshot) and O(state=verify)
  type: str
snapshot_name:
  description: Name of the snapshot or backup taken or restored.
  returned: O(state=snapshot) and O(state=restore)
  type: str
  sample: iv-prod-wallet-db-pre-upgrade-20261121-101500
snapshot_id:
  description: ARN of the RDS snapshot, or Azure resource id of the backup.
  returned: O(state=snapshot) and O(state=restore), not in check mode for a new snapshot
  type: str
snapshot_time:
  description: When the snapshot was taken (RDS) or the backup completed (Azure), ISO 8601 UTC. The time to record.
  returned: O(state=snapshot) and O(state=restore), not in check mode for a new snapshot
  type: str
  sample: "2026-11-21T10:15:02.512000Z"
snapshot_status:
  description: Status of the snapshot (C(available) on AWS, C(Succeeded) on Azure).
  returned: O(state=snapshot) and O(state=restore), not in check mode for a new snapshot
  type: str
snapshot_type:
  description: Azure backup type (C(Full) for automatic, C(Customer On-Demand)).
  returned: O(provider=azure), O(state=snapshot) and O(state=restore)
  type: str
target:
  description: Name of the restored instance or server.
  returned: O(state=restore) and O(state=point_in_time)
  type: str
target_host:
  description: Host name of the restored database (RDS endpoint address, Azure fully qualified domain name).
  returned: O(state=restore) and O(state=point_in_time) when waited for (or already there)
  type: str
  sample: iv-prod-wallet-db.abcdefghij.eu-central-1.rds.amazonaws.com
target_port:
  description: Port of the restored database.
  returned: O(state=restore) and O(state=point_in_time) when waited for
  type: int
  sample: 5432
target_id:
  description: ARN of the restored RDS instance or Azure resource id of the restored server.
  returned: O(state=restore) and O(state=point_in_time) when waited for
  type: str
target_status:
  description: Status of the restored instance or server.
  returned: O(state=restore) and O(state=point_in_time), not in check mode
  type: str
replaced_instance:
  description: New name of the AWS instance that the restore replaced (renamed, not deleted).
  returned: AWS restores to the instance's own name
  type: str
  sample: iv-prod-wallet-db-replaced-20261121-103000
restore_time:
  description: Point in time restored to (ISO 8601 UTC; V(latest) for the AWS latest restorable time; the snapshot's
    time for a snapshot restore).
  returned: O(state=restore) and O(state=point_in_time)
  type: str
backup_retention_days:
  description: Days of automatic backups kept.
  returned: O(state=verify), and O(state=snapshot) on Azure
  type: int
earliest_restore_time:
  description: Earliest point-in-time restore point of the Azure server (ISO 8601 UTC).
  returned: O(provider=azure), O(state=verify) and O(state=snapshot)
  type: str
latest_restore_time:
  description: Latest restorable time of the RDS instance (ISO 8601 UTC).
  returned: O(provider=aws), O(state=verify)
  type: str
geo_redundant_backup:
  description: Whether the Azure server's backups are geo-redundant (C(Enabled) or C(Disabled)).
  returned: O(provider=azure), O(state=verify) and O(state=snapshot)
  type: str
plan:
  description: In check mode, what the task would do.
  returned: check mode, when something would change
  type: str
rolled_back:
  description: On a failed AWS restore to the instance's own name after the old instance was renamed - V(true) when
    it was renamed back and is available under its name again, V(false) when that failed too (then the message
    says where it is and how to put it back). C(changed) is V(true) in both cases.
  returned: failure after the rename
  type: bool
duration:
  description: Seconds the task took.
  returned: success
  type: float
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.cloud.aws_client import (
    BOTO3_IMPORT_ERROR, HAS_BOTO3, aws_argument_spec)
from ansible_collections.vaultops.recovery.plugins.module_utils.cloud.azure_client import (
    AZURE_IMPORT_ERROR, HAS_AZURE, azure_argument_spec)
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.flexible_server import (
    FLEXIBLE_IMPORT_ERROR, HAS_FLEXIBLE, FlexibleServerBackups)
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.rds_snapshot import RdsSnapshots
from ansible_collections.vaultops.recovery.plugins.module_utils.common.vaultops_module import run_module

OPERATIONS = {
    "aws": {"snapshot": "take_snapshot", "restore": "restore_snapshot", "point_in_time": "restore_point_in_time",
            "verify": "verify"},
    "azure": {"snapshot": "take_backup", "restore": "restore_backup", "point_in_time": "restore_point_in_time",
              "verify": "verify"},
}


def argument_spec():
    spec = aws_argument_spec()
    spec.update(azure_argument_spec())
    spec.update(
        provider=dict(type="str", required=True, choices=["aws", "azure"]),
        state=dict(type="str", default="snapshot", choices=["snapshot", "restore", "point_in_time", "verify"]),
        instance=dict(type="str", required=True, aliases=["db_instance_identifier", "server_name"]),
        resource_group=dict(type="str"),
        snapshot_name=dict(type="str"),
        name_pattern=dict(type="str", default="{instance}-{purpose}-%Y%m%d-%H%M%S"),
        purpose=dict(type="str", default="pre-upgrade"),
        tags=dict(type="dict"),
        target=dict(type="str"),
        replaced_name_pattern=dict(type="str", default="{instance}-replaced-%Y%m%d-%H%M%S"),
        restore_time=dict(type="str"),
        # Values may be secrets (TdeCredentialPassword): never echoed, the keys are.
        restore_options=dict(type="dict", no_log=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=3600),
        wait_interval=dict(type="float", default=15),
    )
    return spec


def check_params(params):
    """Combinations AnsibleModule cannot express; returns an error message or None."""
    if params["wait_timeout"] < 1:
        return "wait_timeout must be at least 1 second."
    if params["wait_interval"] <= 0:
        return "wait_interval must be more than 0 seconds."
    if params["provider"] == "azure" and params.get("restore_options"):
        return "restore_options applies to provider=aws only; an Azure restore keeps the source server's settings."
    return None


def missing_library(provider):
    if provider == "aws" and not HAS_BOTO3:
        return "boto3", BOTO3_IMPORT_ERROR
    if provider == "azure" and not HAS_AZURE:
        return "azure-identity", AZURE_IMPORT_ERROR
    if provider == "azure" and not HAS_FLEXIBLE:
        return "azure-mgmt-postgresqlflexibleservers>=3.0.0", FLEXIBLE_IMPORT_ERROR
    return None, None


def run(module):
    params = module.params
    library, error = missing_library(params["provider"])
    if library:
        module.require_library(library, False, error)
    problem = check_params(params)
    if problem:
        module.fail_json(msg=problem)
    backend = RdsSnapshots if params["provider"] == "aws" else FlexibleServerBackups
    result = getattr(backend(params, module.check_mode), OPERATIONS[params["provider"]][params["state"]])()
    result.update(provider=params["provider"], state=params["state"])
    return result


def main():
    run_module(run, argument_spec(), timed=True,
               required_if=[("state", "restore", ["snapshot_name"]), ("provider", "azure", ["resource_group"])])


if __name__ == "__main__":
    main()

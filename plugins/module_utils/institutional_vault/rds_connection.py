# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The RDS client (through aws_client) and what RDS's own error codes mean in terms of the module's options."""

from ansible_collections.vaultops.recovery.plugins.module_utils.cloud.aws_client import AwsConnection
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

RDS_PERMISSIONS = ("rds:DescribeDBInstances, rds:DescribeDBSnapshots, rds:CreateDBSnapshot, rds:AddTagsToResource,"
                   " rds:ListTagsForResource, rds:ModifyDBInstance, rds:RestoreDBInstanceFromDBSnapshot,"
                   " rds:RestoreDBInstanceToPointInTime, rds:DescribeDBSubnetGroups, rds:DescribeDBParameterGroups,"
                   " rds:DescribeOptionGroups, rds:RemoveTagsFromResource, rds:DeleteDBInstance")


class RdsConnection(AwsConnection):
    def __init__(self, params):
        super(RdsConnection, self).__init__(params, "rds", label="RDS")

    def operation_model(self, operation):
        """botocore's model of an RDS API operation (its parameters and their types)."""
        return self.client.meta.service_model.operation_model(operation)

    def permissions_hint(self, action, where, **context):
        return "use credentials (%s) whose IAM policy allows %s." % (self.credential_options(), RDS_PERMISSIONS)

    def explain_service_error(self, code, status, message, action, where, **context):
        fixes = {
            "DBInstanceNotFound": "check instance (or target) and region.",
            "DBSnapshotNotFound": "check snapshot_name and region.",
            "InvalidDBInstanceState": "wait until the instance is available (see its status in the RDS console),"
                                      " then run again.",
            "InvalidDBSnapshotState": "wait until the snapshot is available, then run again.",
            "SnapshotQuotaExceeded": "delete manual snapshots that are no longer needed, or raise the quota.",
            "DBInstanceAlreadyExists": "choose another target (or replaced_name_pattern).",
            "InvalidRestoreFault": "choose a restore_time within the instance's restorable window.",
            "InvalidParameterValue": "check the option named in the message (restore_time, restore_options).",
            "InvalidParameterCombination": "check restore_options against the message.",
        }
        if code in fixes:
            return RecoveryError("RDS refused to %s%s (%s): %s" % (action, (" " + where) if where else "", code,
                                                                   message), fix=fixes[code])
        return None

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS Secrets Manager behind the db_info_store interface.

A write is put_secret_value: Secrets Manager makes the new version AWSCURRENT
and moves AWSPREVIOUS to the version that was current, so the old content
stays readable and a rollback only moves the AWSCURRENT label back
(update_secret_version_stage). Reads name the stage (AWSCURRENT) or the
version id explicitly, never the implicit default.
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.cloud.aws_client import AwsConnection, error_code
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.db_info_store import Secret, SecretNotFound
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

CURRENT, PREVIOUS = "AWSCURRENT", "AWSPREVIOUS"
_NOT_FOUND = ("ResourceNotFoundException",)


class AwsSecretStore(AwsConnection):
    """Secrets Manager of one region/endpoint; prefix selects a second set of connection options."""

    def __init__(self, params, prefix=""):
        super(AwsSecretStore, self).__init__(params, "secretsmanager", prefix=prefix, label="Secrets Manager")
        self.describe = "AWS Secrets Manager at %s (region %s)" % (self.endpoint, self.region)

    def permissions_hint(self, action, where, **context):
        return ("use credentials (%s) allowed secretsmanager:GetSecretValue and DescribeSecret on the secrets"
                " (and PutSecretValue and UpdateSecretVersionStage to change them), and kms:Decrypt /"
                " kms:GenerateDataKey on their KMS key." % self.credential_options())

    def _call(self, name, action, method, version_id=None, **kwargs):
        try:
            return self.call(action, method, "secret %s" % name, SecretId=name, **kwargs)
        except RecoveryError as exc:
            if error_code(exc) in _NOT_FOUND:
                raise SecretNotFound(name, self.describe, version_id)
            raise

    def get(self, name, version_id=None):
        selector = {"VersionId": version_id} if version_id else {"VersionStage": CURRENT}
        answer = self._call(name, "read", "get_secret_value", version_id, **selector)
        return Secret(name, answer.get("SecretString"), answer["VersionId"])

    def put(self, name, value, current):
        return self._call(name, "write", "put_secret_value", SecretString=value)["VersionId"]

    def previous(self, name, current):
        stages = self._call(name, "describe", "describe_secret").get("VersionIdsToStages") or {}
        return next((version for version, labels in stages.items() if PREVIOUS in labels), None)

    def in_effect(self, current, target):
        return current.version_id == target.version_id

    def reinstate(self, name, target, current):
        # Moving AWSCURRENT away from a version makes Secrets Manager label that version AWSPREVIOUS.
        self._call(name, "move AWSCURRENT back in", "update_secret_version_stage", VersionStage=CURRENT,
                   MoveToVersionId=target.version_id, RemoveFromVersionId=current.version_id)
        return target.version_id

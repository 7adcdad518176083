# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manual snapshots of an RDS for PostgreSQL instance, restores from them and to a point in time.

Idempotent by name: a snapshot that already exists for the instance is not taken again; a restore target that
exists and carries the tags this code puts on what it restores (vaultops-restored-from, vaultops-restore-time) is
left as it is. Restoring to the name of an existing instance first renames that instance (it is never deleted), so
the restored one can take its name and endpoint. The settings a restore cannot read from a snapshot (subnet group,
security groups, parameter group, class, Multi-AZ, public access, port) are taken from the instance being replaced,
or else from the snapshot's original instance, because RDS would otherwise use the default VPC and group.
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import rds_replace, rds_request, snapshot_naming
from ansible_collections.vaultops.recovery.plugins.module_utils.cloud.aws_client import error_code
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.rds_connection import RdsConnection
from ansible_collections.vaultops.recovery.plugins.module_utils.common.waiter import wait_until

TAG_CREATED_BY = "vaultops-created-by"
TAG_RESTORED_FROM = "vaultops-restored-from"
TAG_RESTORE_TIME = "vaultops-restore-time"
TAG_REPLACED_BY = rds_replace.TAG_REPLACED_BY
CREATED_BY = "vaultops.recovery.managed_snapshot"
FROM_SNAPSHOT = "RestoreDBInstanceFromDBSnapshot"
TO_POINT_IN_TIME = "RestoreDBInstanceToPointInTime"
METHODS = {FROM_SNAPSHOT: "restore_db_instance_from_db_snapshot",
           TO_POINT_IN_TIME: "restore_db_instance_to_point_in_time"}
# Parameters the module fills in from its own options; restore_options may not set them.
MODULE_SET_KEYS = ("DBInstanceIdentifier", "DBSnapshotIdentifier", "SourceDBInstanceIdentifier",
                   "TargetDBInstanceIdentifier", "RestoreTime", "UseLatestRestorableTime", "Tags")
_FAILED_STATES = ("failed", "incompatible-restore", "incompatible-parameters", "incompatible-network",
                  "incompatible-option-group", "inaccessible-encryption-credentials", "deleting", "storage-full")


class RdsSnapshots(object):
    """The RDS side of managed_snapshot. `clock`/`sleep` are the waiter's (unit tests replace them)."""

    def __init__(self, params, check_mode, connection=None, **wait_hooks):
        self.params = params
        self.check_mode = check_mode
        self.conn = connection or RdsConnection(params)
        self.wait_hooks = wait_hooks
        self.now = snapshot_naming.utc_now()

    # reading -------------------------------------------------------------------------------------------------
    def _describe_one(self, kind, name):
        """The instance or snapshot (kind "DBInstance" / "DBSnapshot") called name, or None when there is none."""
        method = "describe_db_instances" if kind == "DBInstance" else "describe_db_snapshots"
        try:
            return self.conn.call("describe", method, name, **{kind + "Identifier": name})[kind + "s"][0]
        except RecoveryError as exc:
            if error_code(exc) == kind + "NotFound":
                return None
            raise

    def instance(self, name):
        return self._describe_one("DBInstance", name)

    def snapshot(self, name):
        return self._describe_one("DBSnapshot", name)

    def tags(self, arn):
        answer = self.conn.call("read the tags of", "list_tags_for_resource", arn, ResourceName=arn)
        return dict((tag["Key"], tag["Value"]) for tag in answer.get("TagList", []))

    def require_instance(self, name, option):
        found = self.instance(name)
        if found is None:
            raise RecoveryError("RDS instance %s does not exist in %s." % (name, self.conn.region),
                                fix="check %s and region." % option)
        return found

    # waiting -------------------------------------------------------------------------------------------------
    def _available(self, kind, name):
        """A waiter probe: is the instance or snapshot available? Fails at once on a state that cannot get there."""
        found = self._describe_one(kind, name)
        status = found["DBInstanceStatus" if kind == "DBInstance" else "Status"] if found else "not found yet"
        if status in _FAILED_STATES:
            raise RecoveryError("RDS %s %s is %s." % ("instance" if kind == "DBInstance" else "snapshot", name, status),
                                fix="look at its events in the RDS console; choose another snapshot_name or target"
                                    " if it cannot be repaired.")
        return status == "available", status, found

    def _wait_for(self, kind, name, always=False):
        if not (always or self.params["wait"]):
            return None
        what = "RDS %s %s" % ("instance" if kind == "DBInstance" else "snapshot", name)
        return wait_until(lambda: self._available(kind, name), what, self.params["wait_timeout"], "wait_timeout",
                          self.params["wait_interval"], **self.wait_hooks)

    def wait_snapshot(self, name):
        return self._wait_for("DBSnapshot", name)

    def wait_instance(self, name, always=False):
        return self._wait_for("DBInstance", name, always)

    # results -------------------------------------------------------------------------------------------------
    @staticmethod
    def _snapshot_facts(snap):
        return dict(snapshot_name=snap["DBSnapshotIdentifier"], snapshot_id=snap.get("DBSnapshotArn"),
                    snapshot_status=snap.get("Status"), snapshot_time=snapshot_naming.iso(snap.get("SnapshotCreateTime")),
                    instance=snap.get("DBInstanceIdentifier"))

    @staticmethod
    def _target_facts(inst):
        endpoint = (inst or {}).get("Endpoint") or {}
        return dict(target_status=(inst or {}).get("DBInstanceStatus"), target_host=endpoint.get("Address"),
                    target_port=endpoint.get("Port"), target_id=(inst or {}).get("DBInstanceArn"))

    # snapshot ------------------------------------------------------------------------------------------------
    def take_snapshot(self):
        instance = self.params["instance"]
        self.require_instance(instance, "instance")
        name = snapshot_naming.requested_name(self.params, self.now)
        existing = self.snapshot(name)
        if existing is not None:
            if existing.get("DBInstanceIdentifier") != instance:
                raise RecoveryError("Snapshot %s exists but is of instance %s, not %s." % (
                    name, existing.get("DBInstanceIdentifier"), instance), fix="choose another snapshot_name.")
            snap = self.wait_snapshot(name) or existing
            return dict(self._snapshot_facts(snap), changed=False)
        if self.check_mode:
            return dict(changed=True, snapshot_name=name, instance=instance,
                        plan="would take RDS snapshot %s of instance %s, tagged purpose=%s" % (
                            name, instance, self.params["purpose"]))
        tags = dict(self.params.get("tags") or {}, purpose=self.params["purpose"])
        tags[TAG_CREATED_BY] = CREATED_BY
        snap = self.conn.call("take snapshot", "create_db_snapshot", name, DBSnapshotIdentifier=name,
                              DBInstanceIdentifier=instance, Tags=_tag_list(tags))["DBSnapshot"]
        snap = self.wait_snapshot(name) or snap
        return dict(self._snapshot_facts(snap), changed=True)

    # restore -------------------------------------------------------------------------------------------------
    def _settings_from(self, model):
        """Restore parameters the snapshot does not carry, from the instance being replaced (or the original)."""
        if not model:
            return {}
        settings = dict(DBInstanceClass=model.get("DBInstanceClass"), MultiAZ=model.get("MultiAZ"),
                        PubliclyAccessible=model.get("PubliclyAccessible"),
                        DBSubnetGroupName=(model.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
                        VpcSecurityGroupIds=[group["VpcSecurityGroupId"] for group in model.get("VpcSecurityGroups", [])
                                             if group.get("VpcSecurityGroupId")] or None,
                        DBParameterGroupName=next((group["DBParameterGroupName"] for group in
                                                   model.get("DBParameterGroups", [])), None),
                        Port=(model.get("Endpoint") or {}).get("Port"),
                        CopyTagsToSnapshot=model.get("CopyTagsToSnapshot"),
                        DeletionProtection=model.get("DeletionProtection"))
        return dict((key, value) for key, value in settings.items() if value is not None)

    def _existing_target(self, target, restored_from, restore_time):
        """None when the target is free; the instance when it is already this restore; raises otherwise."""
        found = self.instance(target)
        if found is None:
            return None, None
        tags = self.tags(found["DBInstanceArn"])
        if tags.get(TAG_RESTORED_FROM) == restored_from and tags.get(TAG_RESTORE_TIME) == restore_time:
            return found, None
        if target != self.params["instance"]:
            raise RecoveryError(
                "RDS instance %s exists and was not restored from %s (%s)." % (target, restored_from, restore_time),
                fix="choose another target, or set target to the instance's own name (instance) to replace it"
                    " (the old one is renamed, never deleted).")
        return None, found

    def wait_gone(self, name):
        """Waits until no instance answers under name (renamed away or deleted)."""
        wait_until(lambda: (self.instance(name) is None, "name still in use", None), "Freeing the name %s" % name,
                   self.params["wait_timeout"], "wait_timeout", self.params["wait_interval"], **self.wait_hooks)

    def _replaced_name(self, old):
        """The name `old` will be renamed to; it must be free."""
        new_name = snapshot_naming.render(self.params["replaced_name_pattern"], "replaced_name_pattern", self.now,
                                          instance=old["DBInstanceIdentifier"], purpose=self.params["purpose"])
        if self.instance(new_name) is not None:
            raise RecoveryError("Cannot rename %s to %s: an instance of that name exists." % (
                old["DBInstanceIdentifier"], new_name), fix="change replaced_name_pattern (add %H%M%S).")
        return new_name

    def _check_references(self, request, options):
        """The groups the restored instance will use must exist (inherited parameter and option groups are in use)."""
        lookups = [("DBSubnetGroupName", "describe_db_subnet_groups", "DBSubnetGroups", "DB subnet group")]
        if "DBParameterGroupName" in options:
            lookups.append(("DBParameterGroupName", "describe_db_parameter_groups", "DBParameterGroups",
                            "DB parameter group"))
        if "OptionGroupName" in options:
            lookups.append(("OptionGroupName", "describe_option_groups", "OptionGroupsList", "option group"))
        for key, method, answer_key, what in lookups:
            name = request.get(key)
            if not name:
                continue
            try:
                found = self.conn.call("read the %s" % what, method, name, **{key: name}).get(answer_key)
            except RecoveryError as exc:
                if not (error_code(exc) or "").endswith(("NotFound", "NotFoundFault")):
                    raise
                found = None
            if not found:
                origin = "restore_options" if key in options else "the instance it replaces or was taken from"
                raise RecoveryError("The %s %s (%s, from %s) does not exist in %s." % (
                    what, name, key, origin, self.conn.region),
                    fix="set restore_options %s to an existing %s; nothing was changed." % (key, what))

    def _restore(self, target, restored_from, restore_time, model, request, extra_facts):
        """Restores with the operation and module-set parameters `request(replaced)` gives (replaced: the new name
        of the instance being replaced, or None)."""
        done, replace = self._existing_target(target, restored_from, restore_time)
        facts = dict(extra_facts, target=target, restore_time=restore_time)
        if done is not None:
            done = self.wait_instance(target) or done
            return dict(facts, changed=False, **self._target_facts(done))
        replaced = self._replaced_name(replace) if replace is not None else None
        options = self.params.get("restore_options") or {}
        tags = dict(self.params.get("tags") or {}, purpose=self.params["purpose"])
        tags.update({TAG_CREATED_BY: CREATED_BY, TAG_RESTORED_FROM: restored_from, TAG_RESTORE_TIME: restore_time})
        operation, fixed = request(replaced)
        args = self._settings_from(replace or model)
        args.update(options)
        args.update(fixed, Tags=_tag_list(tags))
        # Everything that can be refused is refused here, before the rename and in check mode alike.
        operation_model = self.conn.operation_model(operation)
        rds_request.check_request(args, operation_model)
        self._check_references(args, options)
        if replaced:
            facts["replaced_instance"] = replaced
        if self.check_mode:
            plan = "would restore %s (%s) to new RDS instance %s" % (restored_from, restore_time, target)
            if replaced:
                plan = "would rename RDS instance %s to %s, then %s" % (target, replaced, plan[6:])
            if options:
                plan += " with restore_options %s" % ", ".join(sorted(options))
            return dict(facts, changed=True, plan=plan)

        def restore():
            started = self.conn.call("restore %s to" % restored_from, METHODS[operation], target, **args)["DBInstance"]
            return self.wait_instance(target) or started
        if replace is None:
            restored = restore()
        else:
            restored = rds_replace.replace_and_restore(
                self, replace, replaced, "%s@%s" % (restored_from, restore_time),
                {TAG_RESTORED_FROM: restored_from, TAG_RESTORE_TIME: restore_time}, restore)
        return dict(facts, changed=True, **self._target_facts(restored))

    def _check_option_keys(self, operation):
        rds_request.check_option_keys(self.params.get("restore_options"), self.conn.operation_model(operation),
                                      MODULE_SET_KEYS)

    def restore_snapshot(self):
        self._check_option_keys(FROM_SNAPSHOT)
        name = snapshot_naming.check(self.params["snapshot_name"], "snapshot_name")
        snap = self.snapshot(name)
        if snap is None:
            raise RecoveryError("RDS snapshot %s does not exist in %s." % (name, self.conn.region),
                                fix="check snapshot_name (the RV(snapshot_name) of the run that took it) and region.")
        if snap.get("Status") != "available" and not self.check_mode:
            snap = self.wait_snapshot(name) or snap
        target = self.params.get("target") or self.params["instance"]
        model = self.instance(snap["DBInstanceIdentifier"]) if snap.get("DBInstanceIdentifier") else None

        return self._restore(target, name, snapshot_naming.iso(snap.get("SnapshotCreateTime")), model,
                             lambda _replaced: (FROM_SNAPSHOT, dict(DBInstanceIdentifier=target,
                                                                    DBSnapshotIdentifier=name)),
                             self._snapshot_facts(snap))

    def restore_point_in_time(self):
        self._check_option_keys(TO_POINT_IN_TIME)
        source_name = self.params["instance"]
        target = self.params.get("target") or source_name
        restore_time = self.params.get("restore_time")
        when = snapshot_naming.parse_time(restore_time, "restore_time") if restore_time else None
        label = snapshot_naming.iso(when) if when else "latest"
        source = self.instance(source_name)
        if source is not None:
            self._check_window(source, when)
        elif target == source_name and self.instance(target) is None:
            raise RecoveryError("RDS instance %s does not exist in %s." % (source_name, self.conn.region),
                                fix="check instance and region.")

        def request(replaced):
            fixed = dict(SourceDBInstanceIdentifier=replaced or source_name, TargetDBInstanceIdentifier=target)
            if when:
                fixed["RestoreTime"] = when
            else:
                fixed["UseLatestRestorableTime"] = True
            return TO_POINT_IN_TIME, fixed
        return self._restore(target, source_name, label, source, request, dict(instance=source_name))

    @staticmethod
    def _check_window(source, when):
        if not source.get("BackupRetentionPeriod"):
            raise RecoveryError("RDS instance %s has automated backups turned off (backup retention 0), so it has no"
                                " point in time to restore." % source["DBInstanceIdentifier"],
                                fix="set a backup retention period on the instance, or restore a snapshot.")
        latest = source.get("LatestRestorableTime")
        if when and latest and when > latest:
            raise RecoveryError("restore_time %s is later than the latest restorable time of %s (%s)." % (
                snapshot_naming.iso(when), source["DBInstanceIdentifier"], snapshot_naming.iso(latest)),
                fix="choose an earlier restore_time, or leave it out for the latest restorable time.")

    def verify(self):
        source = self.require_instance(self.params["instance"], "instance")
        self._check_window(source, None)
        return dict(changed=False, instance=source["DBInstanceIdentifier"],
                    backup_retention_days=source.get("BackupRetentionPeriod"),
                    latest_restore_time=snapshot_naming.iso(source.get("LatestRestorableTime")))


def _tag_list(tags):
    return [dict(Key=str(key), Value=str(value)) for key, value in sorted(tags.items())]

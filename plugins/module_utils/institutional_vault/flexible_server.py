# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backups and point-in-time restores of an Azure Database for PostgreSQL flexible server.

azure-mgmt-rdbms has no backup operations, so this uses azure-mgmt-postgresqlflexibleservers: on-demand backups
through backups_automatic_and_on_demand, and restores as a new server (servers.begin_create_or_update with
create_mode PointInTimeRestore). Azure cannot restore over an existing server, so a restore always makes a new one;
the playbook then points the services at its host name. A restored server carries the tags vaultops-restored-from
and vaultops-restore-time, which make a second run a no-op.
"""

import traceback

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import snapshot_naming
from ansible_collections.vaultops.recovery.plugins.module_utils.cloud.azure_client import AzureConnection, http_status
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.waiter import wait_until

FLEXIBLE_IMPORT_ERROR = None
try:
    from azure.mgmt.postgresqlflexibleservers import PostgreSQLManagementClient
    from azure.mgmt.postgresqlflexibleservers import models
    HAS_FLEXIBLE = True
except ImportError:
    FLEXIBLE_IMPORT_ERROR = traceback.format_exc()
    HAS_FLEXIBLE = False

TAG_RESTORED_FROM = "vaultops-restored-from"
TAG_RESTORE_TIME = "vaultops-restore-time"
TAG_CREATED_BY = "vaultops-created-by"
CREATED_BY = "vaultops.recovery.managed_snapshot"


class FlexibleServerBackups(object):
    """The Azure side of managed_snapshot. `clock`/`sleep` are the waiter's (unit tests replace them)."""

    def __init__(self, params, check_mode, connection=None, client=None, **wait_hooks):
        self.params = params
        self.check_mode = check_mode
        self.conn = connection or AzureConnection(params)
        self.client = client or self.conn.management_client(PostgreSQLManagementClient)
        self.group = params["resource_group"]
        self.wait_hooks = wait_hooks
        self.now = snapshot_naming.utc_now()

    # reading -------------------------------------------------------------------------------------------------
    def server(self, name):
        try:
            return self.conn.call("read flexible server", self.client.servers.get, self.group, name,
                                  where="%s in resource group %s" % (name, self.group))
        except RecoveryError as exc:
            if http_status(exc) == 404 and exc.facts.get("code") == "ResourceNotFound":
                return None
            raise

    def require_server(self, name, option):
        found = self.server(name)
        if found is None:
            raise RecoveryError("Flexible server %s does not exist in resource group %s." % (name, self.group),
                                fix="check %s, resource_group and subscription_id." % option)
        return found

    def backup(self, server, name):
        try:
            return self.conn.call("read backup", self.client.backups_automatic_and_on_demand.get, self.group, server,
                                  name, where="%s of server %s" % (name, server))
        except RecoveryError as exc:
            if http_status(exc) == 404:
                return None
            raise

    def retention(self, server):
        """Backup retention and the earliest restore point; fails when point-in-time restore is not possible."""
        backup = server.backup
        days = backup.backup_retention_days if backup else None
        earliest = backup.earliest_restore_date if backup else None
        if not days or earliest is None:
            raise RecoveryError(
                "Flexible server %s has no point-in-time restore available (backup retention days: %s, earliest"
                " restore point: %s)." % (server.name, days, snapshot_naming.iso(earliest) or "none"),
                fix="set the server's backup retention (Azure portal: Compute + storage > Backups, or az postgres"
                    " flexible-server update --backup-retention 7..35) and wait for its first automatic backup.")
        return dict(backup_retention_days=days, earliest_restore_time=snapshot_naming.iso(earliest),
                    geo_redundant_backup=_text(backup.geo_redundant_backup))

    # waiting -------------------------------------------------------------------------------------------------
    def _finish(self, poller, what):
        """Waits for a long-running operation within wait_timeout; its result, or None when not waiting."""
        if not self.params["wait"]:
            return None
        sleep = self.wait_hooks.get("sleep") or poller.wait
        hooks = dict(self.wait_hooks, sleep=sleep)
        wait_until(lambda: (poller.done(), poller.status(), None), what, self.params["wait_timeout"], "wait_timeout",
                   self.params["wait_interval"], **hooks)
        return self.conn.call("finish", poller.result, where=what)

    # operations ----------------------------------------------------------------------------------------------
    def verify(self):
        server = self.require_server(self.params["instance"], "instance")
        return dict(self.retention(server), changed=False, instance=server.name, instance_id=server.id)

    def take_backup(self):
        server = self.require_server(self.params["instance"], "instance")
        facts = dict(self.retention(server), instance=server.name, instance_id=server.id)
        name = snapshot_naming.requested_name(self.params, self.now)
        existing = self.backup(server.name, name)
        if existing is not None:
            return dict(facts, changed=False, **_backup_facts(existing))
        if self.check_mode:
            return dict(facts, changed=True, snapshot_name=name,
                        plan="would take on-demand backup %s of flexible server %s" % (name, server.name))
        poller = self.conn.call("start on-demand backup", self.client.backups_automatic_and_on_demand.begin_create,
                                self.group, server.name, name, where="%s of server %s" % (name, server.name))
        done = self._finish(poller, "On-demand backup %s of flexible server %s" % (name, server.name))
        facts.update(_backup_facts(done) if done else dict(snapshot_name=name, snapshot_status="InProgress"))
        return dict(facts, changed=True)

    def restore_backup(self):
        source = self.require_server(self.params["instance"], "instance")
        name = snapshot_naming.check(self.params["snapshot_name"], "snapshot_name")
        backup = self.backup(source.name, name)
        if backup is None:
            raise RecoveryError("Backup %s of flexible server %s does not exist." % (name, source.name),
                                fix="check snapshot_name (the RV(snapshot_name) of the run that took it) and instance.")
        when = backup.completed_time
        if when is None:
            raise RecoveryError("Backup %s of flexible server %s has not completed." % (name, source.name),
                                fix="wait for it to complete, then run again.")
        return self._restore(source, when, dict(_backup_facts(backup)))

    def restore_point_in_time(self):
        source = self.require_server(self.params["instance"], "instance")
        if not self.params.get("restore_time"):
            raise RecoveryError("provider=azure with state=point_in_time needs restore_time.",
                                fix="set restore_time (ISO 8601, UTC), or use state=restore with the snapshot_name"
                                    " of an on-demand backup.")
        when = snapshot_naming.parse_time(self.params["restore_time"], "restore_time")
        window = self.retention(source)
        if when < source.backup.earliest_restore_date or when > self.now:
            raise RecoveryError("restore_time %s is outside the restorable window of %s (%s to now)." % (
                snapshot_naming.iso(when), source.name, window["earliest_restore_time"]),
                fix="choose a restore_time within the window.")
        return self._restore(source, when, {})

    def _restore(self, source, when, facts):
        target = self.params.get("target")
        if not target or target == source.name:
            raise RecoveryError("Azure restores a flexible server only to a new server; target is %s." % (
                "not set" if not target else "the source's own name"),
                fix="set target to the name of the new server, then point the services at its host name.")
        target = snapshot_naming.check(target, "target")
        label = snapshot_naming.iso(when)
        facts = dict(facts, instance=source.name, target=target, restore_time=label)
        existing = self.server(target)
        if existing is not None:
            tags = existing.tags or {}
            if tags.get(TAG_RESTORED_FROM) == source.name and tags.get(TAG_RESTORE_TIME) == label:
                return dict(facts, changed=False, **_server_facts(existing))
            raise RecoveryError("Flexible server %s exists and was not restored from %s at %s." % (
                target, source.name, label), fix="choose another target.")
        if self.check_mode:
            return dict(facts, changed=True, plan="would restore flexible server %s at %s to new server %s" % (
                source.name, label, target))
        tags = dict(self.params.get("tags") or {}, purpose=self.params["purpose"])
        tags.update({TAG_CREATED_BY: CREATED_BY, TAG_RESTORED_FROM: source.name, TAG_RESTORE_TIME: label})
        parameters = models.Server(location=source.location, tags=tags, properties=models.ServerProperties(
            create_mode="PointInTimeRestore", source_server_resource_id=source.id, point_in_time_utc=when))
        poller = self.conn.call("start point-in-time restore", self.client.servers.begin_create_or_update, self.group,
                                target, parameters, where="of %s to %s" % (source.name, target))
        done = self._finish(poller, "Point-in-time restore of %s to %s" % (source.name, target))
        facts.update(_server_facts(done) if done else dict(target_status="Creating"))
        return dict(facts, changed=True)


def _backup_facts(backup):
    return dict(snapshot_name=backup.name, snapshot_id=backup.id, snapshot_status="Succeeded",
                snapshot_time=snapshot_naming.iso(backup.completed_time),
                snapshot_type=_text(backup.backup_type))


def _server_facts(server):
    return dict(target_id=server.id, target_host=server.fully_qualified_domain_name, target_port=5432,
                target_status=_text(server.state))


def _text(value):
    """An SDK enum's value (str() of a str-mixin enum is its class-qualified name)."""
    return getattr(value, "value", value)

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate every db-info secret first, then write: an update or a rollback touches all services or none.

plan_update / plan_rollback read every secret and build the new content;
any unusable secret (missing, not JSON, no DB_HOST, no previous version)
stops the run with one error naming every bad secret, before anything is
written. apply() then writes the changes; should a write fail half way,
the secrets already written are put back, so a failure still leaves the
set as it was.
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import db_info_json
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.db_info_store import Secret, SecretNotFound
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError


class ServiceChange(object):
    """What happens to one service's secret. Holds secret values: never return it as such, use result()."""

    def __init__(self, service, secret_name, current, new_value=None, target=None):
        self.service, self.secret_name, self.current = service, secret_name, current
        self.new_value = new_value      # update: the rewritten text
        self.target = target            # rollback: the version to reinstate
        self.before = self.after = None
        self.changed = False
        self.version_after = None
        self.sensitive = []

    def result(self):
        return {"service": self.service, "secret_name": self.secret_name, "changed": self.changed,
                "before": self.before, "after": self.after,
                "version_before": self.current.version_id if self.current else None,
                "version_after": self.version_after if self.changed else (
                    self.current.version_id if self.current else None)}


def _connection_or_none(name, secret):
    try:
        return db_info_json.parse(name, secret.value)
    except RecoveryError:
        return None


def _validated(store, names, build):
    """build(service, name, current Secret) -> ServiceChange for every service; all errors reported together."""
    changes, problems = [], []
    for service, name in names.items():
        try:
            changes.append(build(service, name, store.get(name)))
        except RecoveryError as exc:
            if exc.facts.get("secret") is None:
                raise  # not about one secret (credentials, endpoint): the same for all, say it once
            problems.append(exc)
    if problems:
        if len(problems) == 1:
            raise problems[0]
        raise RecoveryError(
            "%d of %d db-info secrets cannot be used; no secret was changed: %s" % (
                len(problems), len(names), " ".join(exc.message for exc in problems)),
            fix=problems[0].fix, secrets=[exc.facts.get("secret") for exc in problems])
    return changes


def plan_update(store, names, host, port=None, db_name=None):
    """The changes that point every service at host (and port, db_name where given)."""
    def build(service, name, current):
        info = db_info_json.parse(name, current.value)
        change = ServiceChange(service, name, current)
        change.sensitive = info.sensitive_values()
        change.new_value = info.with_connection(host=host, port=port, db_name=db_name)
        change.before = info.connection
        change.after = db_info_json.parse(name, change.new_value).connection
        change.changed = change.new_value != current.value
        return change
    return _validated(store, names, build)


def plan_rollback(store, names, versions=None):
    """The changes that make each service's earlier version current again.

    versions: {service: version id} (what an update returned as version_before); a service not in it goes back
    to the version that was current before its current one.
    """
    versions = versions or {}
    unknown = sorted(set(versions) - set(names))
    if unknown:
        raise RecoveryError("rollback_versions names service(s) %s that are not in services." % ", ".join(unknown),
                            fix="pass the services the update changed, or rollback_versions only for them.")

    def build(service, name, current):
        version_id = versions.get(service) or store.previous(name, current)
        if not version_id:
            raise RecoveryError("Secret %s has no earlier version to roll back to." % name,
                                fix="pass its version id in rollback_versions, or leave the service out.",
                                secret=name)
        try:
            target = store.get(name, version_id)
        except SecretNotFound:
            raise RecoveryError("Secret %s has no version %s." % (name, version_id),
                                fix="pass a version id the update returned (version_before).", secret=name)
        target_info = db_info_json.parse(name, target.value)
        current_info = _connection_or_none(name, current)
        change = ServiceChange(service, name, current, target=target)
        change.sensitive = target_info.sensitive_values() + (current_info.sensitive_values() if current_info else [])
        change.before = current_info.connection if current_info else None
        change.after = target_info.connection
        change.changed = not store.in_effect(current, target)
        return change
    return _validated(store, names, build)


def sensitive_values(changes):
    return [value for change in changes for value in change.sensitive]


def apply(store, changes):
    """Write every change; on a failure put back what was written, then raise."""
    done = []
    for change in changes:
        if not change.changed:
            continue
        try:
            if change.target is not None:
                change.version_after = store.reinstate(change.secret_name, change.target, change.current)
            else:
                change.version_after = store.put(change.secret_name, change.new_value, change.current)
        except RecoveryError as exc:
            undone, stuck = _undo(store, done)
            raise RecoveryError(
                "Writing %s failed (%s). %s" % (change.secret_name, exc.message, _undo_summary(undone, stuck)),
                fix=exc.fix, written_back=undone, not_written_back=stuck)
        done.append(change)
    return changes


def _undo(store, done):
    undone, stuck = [], []
    for change in reversed(done):
        written = Secret(change.secret_name, change.target.value if change.target else change.new_value,
                         change.version_after)
        try:
            store.reinstate(change.secret_name, change.current, written)
            undone.append(change.secret_name)
        except RecoveryError:
            stuck.append(change.secret_name)
    return undone, stuck


def _undo_summary(undone, stuck):
    if stuck:
        return ("Could not put back %s (roll them back with state=rollback); put back: %s."
                % (", ".join(stuck), ", ".join(undone) or "none"))
    if undone:
        return "The secrets already written were put back (%s); the set is as it was." % ", ".join(undone)
    return "Nothing had been written."

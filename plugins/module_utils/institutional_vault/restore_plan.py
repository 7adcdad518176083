# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of an Institutional Vault restore or drill, decided from the set's manifest and the inventory.

What the set recorded at backup time (restore point, accounts, pending operations, EMP digests), which database
is restored into, whether a production run may go on, and the steps in the seed's order. Pure functions (no I/O)
with a unit test per rule in tests/unit/plugins/module_utils/institutional_vault/test_iv_restore_plan.py; the
module iv_restore_plan reads the manifest and calls them.
"""

import datetime
import re

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import restore_guards

PRODUCT = "institutional_vault"
METHODS = ("pg_dump", "aws_snapshot", "azure_backup")
# the method that can restore into each provider's databases (pg_dump restores anywhere)
METHOD_PROVIDER = {"aws_snapshot": "aws", "azure_backup": "azure"}
EMP_NODES = ("policy-node0", "policy-node1", "policy-node2")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def utc_text(value, what):
    """An ISO 8601 UTC time (fractions and +00:00 allowed) as YYYY-MM-DDTHH:MM:SSZ."""
    text = str(value or "").strip()
    match = re.match(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]00:?00)?$", text)
    if not match:
        raise RecoveryError("%s %r is not a UTC time like 2026-12-07T05:00:00Z." % (what, value),
                            fix="the set's manifest.json is damaged or not an Institutional Vault set; take a new"
                                " set with backup.yml.")
    return "%sT%sZ" % (match.group(1), match.group(2))


def recorded_facts(manifest, where):
    """What an Institutional Vault set recorded, checked: a set that lacks any of it cannot be proven by a restore."""
    if manifest.get("product") != PRODUCT:
        raise RecoveryError(
            "%s is not an Institutional Vault recovery set (product: %r)." % (where, manifest.get("product")),
            fix="give the directory of a set taken by backup.yml for group institutional_vault; Vaulthalla sets"
                " are restored by the vaulthalla hosts of restore.yml.")
    method = manifest.get("method")
    if method not in METHODS:
        raise RecoveryError("%s records method %r, not one of %s." % (where, method, ", ".join(METHODS)),
                            fix="take a new set with backup.yml.")
    digests = manifest.get("emp_digests")
    if not isinstance(digests, dict) or not digests or not all(
            isinstance(value, str) and _HEX64.match(value) for value in digests.values()):
        raise RecoveryError(
            "%s records no usable EMP digests (emp_digests must map each policy node to a SHA-256)." % where,
            fix="take a new set with backup.yml: without the digests a restore cannot prove the target's Encryptor"
                " Master Passwords decrypt the key shares.")
    accounts = manifest.get("accounts_count")
    if not isinstance(accounts, int) or isinstance(accounts, bool) or accounts < 0:
        raise RecoveryError("%s records no accounts count (accounts_count: %r)." % (where, accounts),
                            fix="take a new set with backup.yml while the wallet API answers.")
    pending = manifest.get("pending_operations")
    if pending is not None and (not isinstance(pending, int) or isinstance(pending, bool) or pending < 0):
        raise RecoveryError("%s records pending_operations %r, not a count." % (where, pending),
                            fix="take a new set with backup.yml.")
    facts = {
        "environment": manifest.get("environment"), "namespace": manifest.get("namespace"),
        "provider": manifest.get("provider"), "method": method,
        "backup_time": utc_text(manifest.get("backup_time"), "%s backup_time" % where),
        "accounts_count": accounts, "pending_operations": pending, "emp_digests": dict(digests),
        "database": manifest.get("database") or {}, "dump": manifest.get("dump"), "snapshot": manifest.get("snapshot"),
    }
    if method == "pg_dump" and not facts["dump"]:
        raise RecoveryError("%s is a pg_dump set without its dump file name." % where,
                            fix="take a new set with backup.yml.")
    if method != "pg_dump" and not (facts["snapshot"] or {}).get("name"):
        raise RecoveryError("%s is a %s set without the snapshot it names." % (where, method),
                            fix="take a new set with backup.yml.")
    return facts


def method_refusal(method, provider):
    """Why a set of this method cannot be restored on this provider, or None."""
    needed = METHOD_PROVIDER.get(method)
    if needed and provider != needed:
        return ("the set is an %s, which only restores on provider %s, but this environment's provider is %s"
                % (method, needed, provider))
    return None


def restore_target(mode, databases, target_key):
    """The database a restore writes: the environment's own (source) in place, or databases[target_key]."""
    if mode not in ("in_place", "redirected"):
        raise RecoveryError("restore target %r is not in_place or redirected." % mode,
                            fix="set institutional_vault_restore_target to in_place or redirected.")
    key = "source" if mode == "in_place" else target_key
    database = (databases or {}).get(key)
    if not isinstance(database, dict) or not database.get("host") or not database.get("name"):
        raise RecoveryError(
            "institutional_vault_databases has no %r database with host and name, needed for a%s restore."
            % (key, "n in-place" if mode == "in_place" else " redirected"),
            fix="add institutional_vault_databases.%s: {host, port, name, user} to the inventory." % key)
    if mode == "redirected" and _same_database(database, databases.get("source") or {}):
        raise RecoveryError(
            "the redirected target %s is the environment's own database." % _label(database),
            fix="restore in place (institutional_vault_restore_target: in_place), or name another database.")
    return dict(database, key=key)


def _same_database(left, right):
    return (str(left.get("host", "")).lower(), int(left.get("port") or 5432), left.get("name")) == (
        str(right.get("host", "")).lower(), int(right.get("port") or 5432), right.get("name"))


def _label(database):
    return "%s:%s/%s" % (database.get("host"), database.get("port") or 5432, database.get("name"))


def emp_source(recorded, environment, namespace, carry_over_emp, carry_over_namespace=None):
    """Whose EMP secrets must equal the set's digests before anything changes: the target's, or with carry-over
    the source environment's (which are then copied to the target)."""
    if not carry_over_emp:
        return {"carry_over": False, "environment": environment, "namespace": namespace}
    source_namespace = carry_over_namespace or namespace
    if (carry_over_emp, source_namespace) == (environment, namespace):
        raise RecoveryError(
            "carry_over_emp names %s/%s, the environment being restored: there is nothing to carry over."
            % (environment, namespace),
            fix="name the environment the EMPs come from (the set's: %s/%s), or leave carry_over_emp unset."
                % (recorded.get("environment"), recorded.get("namespace")))
    return {"carry_over": True, "environment": carry_over_emp, "namespace": source_namespace}


def restore_steps(method, mode, carry_over, safety_backup):
    """The restore's steps in the seed's order, as text for the plan."""
    proof = ", the dump's table of contents" if method == "pg_dump" else ", the snapshot is available"
    steps = ["verify the recovery set (every SHA-256%s)" % proof,
             "check the Encryptor Master Passwords against the set's digests"]
    if safety_backup:
        steps.append("take a safety backup of the database being replaced")
    steps.append("stop the services in order: wallet, policy-node0..2, nats (each tier's pods gone)")
    restore = {"pg_dump": "restore the dump all-or-nothing", "aws_snapshot": "restore the RDS snapshot",
               "azure_backup": "restore the flexible server to the backup time"}[method]
    steps.append("%s %s" % (restore, "in place" if mode == "in_place" else "into the redirected target"))
    if carry_over:
        steps.append("carry the EMP secrets over from the source environment unchanged, verified by digest")
    if mode == "redirected" or method == "azure_backup":
        steps.append("point DB_HOST of the db-info secrets (orchestrator, policy-node0..2, wallet) at the restored"
                     " database; EMP secrets untouched")
    steps += ["check the EMPs again, then start the services: nats, policy-node0..2, wallet (each tier Ready)",
              "verify: every pod Ready, wallet /health, /api/v2/accounts equals the recorded count",
              "write the restore report (JSON and Markdown)"]
    return steps


def restore_plan(manifest, where, inventory, options, now):
    """The whole plan of a restore. inventory: environment, namespace, provider, production, databases;
    options: target (in_place|redirected), target_database, carry_over_emp, carry_over_namespace,
    confirm_environment, safety_backup."""
    recorded = recorded_facts(manifest, where)
    refusal = method_refusal(recorded["method"], inventory["provider"])
    if refusal:
        raise RecoveryError("%s cannot be restored here: %s." % (where, refusal),
                            fix="restore it with a host of provider %s, or use a pg_dump set."
                                % METHOD_PROVIDER[recorded["method"]])
    guard = restore_guards.production_confirmed(inventory.get("production"), inventory["environment"],
                                                options.get("confirm_environment"))
    target = restore_target(options["target"], inventory.get("databases"), options.get("target_database") or "target")
    emp = emp_source(recorded, inventory["environment"], inventory["namespace"], options.get("carry_over_emp"),
                     options.get("carry_over_namespace"))
    loss = restore_guards.data_loss(recorded["backup_time"], now, recorded["pending_operations"])
    steps = restore_steps(recorded["method"], options["target"], emp["carry_over"], options.get("safety_backup"))
    cross = bool(recorded["environment"]) and recorded["environment"] != inventory["environment"]
    return {
        "proceed": guard["proceed"], "reason": guard["reason"], "mode": options["target"], "recorded": recorded,
        "target_database": target, "emp_check": emp, "cross_environment": cross,
        "rewrite_secrets": options["target"] == "redirected" or recorded["method"] == "azure_backup",
        "steps": steps, "restore_point": loss["restore_point"], "loss_window": loss["loss_window"],
        "loss_window_seconds": loss["loss_window_seconds"], "data_loss_warnings": loss["warnings"],
    }


def drill_plan(manifest, where, inventory, drill, now):
    """The plan of a drill: the set's facts and the scratch target, which is never production.
    drill: namespace and database ({host, port, name, user}) of the scratch target."""
    recorded = recorded_facts(manifest, where)
    if recorded["method"] != "pg_dump":
        raise RecoveryError(
            "%s is a %s set; a drill restores a pg_dump set into a scratch database." % (where, recorded["method"]),
            fix="drill a pg_dump set (backup.yml with institutional_vault_backup_method: pg_dump), or restore the"
                " snapshot to a new instance with restore.yml (redirected) in a non-production environment.")
    production = {"namespace": inventory["namespace"], "database": (inventory.get("databases") or {}).get("source")}
    refusals = restore_guards.drill_target_refusals(drill, production)
    if refusals:
        raise RecoveryError("The drill target is refused: %s. Nothing was changed." % "; ".join(refusals),
                            fix="give the drill its own namespace (institutional_vault_drill_namespace) and database"
                                " (institutional_vault_drill_database), never production's.")
    loss = restore_guards.data_loss(recorded["backup_time"], now, recorded["pending_operations"])
    return {"recorded": recorded, "target_database": dict(drill["database"]), "namespace": drill["namespace"],
            "restore_point": loss["restore_point"], "age": loss["loss_window"],
            "steps": ["verify the recovery set", "check the drill namespace's EMPs against the set's digests",
                      "stop the drill namespace's services", "restore the dump into the scratch database",
                      "point the drill namespace's db-info secrets at the scratch database",
                      "start the drill namespace's services",
                      "prove: accounts count, every policy node Ready, wallet /health",
                      "write the drill report"]}


def plan_text(plan):
    lines = ["%d. %s" % (number, step) for number, step in enumerate(plan["steps"], 1)]
    return "\n".join(lines)


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

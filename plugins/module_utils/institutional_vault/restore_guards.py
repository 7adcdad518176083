# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Guards and facts of an Institutional Vault restore or drill: the production confirmation, a drill target that is
never production, and the restore point's data-loss window with the seed's warnings stated as facts of the run.

Pure functions (no I/O), each with a unit test in
tests/unit/plugins/module_utils/institutional_vault/test_restore_guards.py.
"""

import datetime

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

CONFIRM_OPTION = "institutional_vault_confirm_environment"


def production_confirmed(production, environment, confirmed):
    """{"proceed": bool, "reason": text}: may a destructive run change this environment?

    An environment marked production needs the operator to name it (``confirmed`` == ``environment``); without
    that the run prints its plan and stops before the first change. A wrong name is an error, not a stop: it is
    the sign of an operator aiming at another environment than they think.
    """
    if not environment:
        raise RecoveryError("the environment has no name, so a confirmation cannot name it.",
                            fix="set the inventory variable institutional_vault_environment.")
    if not production:
        return {"proceed": True, "reason": "environment %s is not marked production" % environment}
    if not confirmed:
        return {"proceed": False, "reason": (
            "environment %s is marked production: true; this run only prints the plan. To carry it out, run again"
            " with -e %s=%s." % (environment, CONFIRM_OPTION, environment))}
    if confirmed != environment:
        raise RecoveryError(
            "%s is %r but this run is against environment %r (marked production). Nothing was changed."
            % (CONFIRM_OPTION, confirmed, environment),
            fix="name the environment the inventory selects (-e %s=%s), or correct --limit / the inventory."
                % (CONFIRM_OPTION, environment))
    return {"proceed": True, "reason": "environment %s (production) confirmed by name" % environment}


def _database_key(database):
    return (str(database.get("host") or "").strip().lower(), int(database.get("port") or 5432),
            str(database.get("name") or ""))


def drill_target_refusals(drill, production):
    """Why a drill target is not allowed (a list, empty when it is): it must never be production's namespace or
    database. drill and production are dicts with namespace and database ({host, port, name})."""
    refusals = []
    if drill.get("namespace") and drill.get("namespace") == production.get("namespace"):
        refusals.append("the drill namespace %s is the production namespace" % drill["namespace"])
    drill_db, production_db = drill.get("database") or {}, production.get("database") or {}
    if drill_db and production_db and _database_key(drill_db) == _database_key(production_db):
        refusals.append("the drill database %s:%s/%s is the production database" % _database_key(drill_db))
    if not drill.get("namespace"):
        refusals.append("the drill has no namespace of its own")
    if not drill_db:
        refusals.append("the drill has no database of its own")
    return refusals


def _utc(text, what):
    try:
        moment = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError):
        raise RecoveryError("%s %r is not a UTC time like 2026-12-07T05:00:00Z." % (what, text),
                            fix="pass the time the set recorded (its manifest's created time).")
    return moment.replace(tzinfo=datetime.timezone.utc)


def _duration_text(seconds):
    minutes, _seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [(days, "d"), (hours, "h"), (minutes, "min")]
    text = " ".join("%d %s" % (value, unit) for value, unit in parts if value)
    return text or "less than a minute"


def data_loss(restore_point, now, pending_operations=None):
    """The restore point, the window up to now whose transactions are lost, and the seed's warnings as facts.

    restore_point and now are UTC times (YYYY-MM-DDTHH:MM:SSZ); pending_operations is the count recorded at
    backup time, or None when neither the API nor the database exposed it.
    """
    point, current = _utc(restore_point, "restore_point"), _utc(now, "now")
    if current < point:
        raise RecoveryError("the restore point %s is later than now (%s)." % (restore_point, now),
                            fix="check the controller's clock and the set's recorded time.")
    seconds = int((current - point).total_seconds())
    if pending_operations is None:
        pending = ("operations that were in flight at %s may need to be re-submitted (their count was not"
                   " recorded)" % restore_point)
    else:
        pending = "%d operation(s) were pending at %s and may need to be re-submitted" % (
            pending_operations, restore_point)
    return {
        "restore_point": restore_point,
        "loss_window_seconds": seconds,
        "loss_window": _duration_text(seconds),
        "warnings": [
            "transactions after %s (the last %s) are lost" % (restore_point, _duration_text(seconds)),
            "account balances re-sync from the chain as the indexer catches up",
            pending,
        ],
    }

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start or stop systemd units one after another, in the order given, in one task.

One ``systemctl show`` asks about every unit before anything changes, so a misspelt unit is refused while all are
still as they were. Then each unit not yet in the wanted state gets its own ``systemctl start|stop``, in order:
systemctl returns when the unit's job is done, so the next unit only starts (or stops) after it. The first
failure ends the sequence; units changed before it are left so, and the error says which.
"""

import re

from ansible_collections.vaultops.recovery.plugins.module_utils.common import process
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.systemd_service import (
    RUNNING_STATES, failure_text, journal_tail, parse_show)

STOPPED_STATES = ("inactive", "failed")
WANTED_STATES = {"started": RUNNING_STATES, "stopped": STOPPED_STATES}
VERBS = {"started": "start", "stopped": "stop"}
# What check mode reports as the state a unit would reach.
EXPECTED_STATE = {"started": "active", "stopped": "inactive"}
SHOW_PROPERTIES = "--property=Id,LoadState,ActiveState,SubState"
# A full unit name: no option look-alike, no glob, no space, and its type suffix (systemctl would guess .service).
UNIT_NAME = re.compile(r"^[A-Za-z0-9:_.\\@][A-Za-z0-9:_.\\@-]*"
                       r"\.(service|socket|target|timer|path|mount|automount|swap|device|slice|scope)\Z")


def check_names(names, option):
    """Refuse names systemctl would take for an option, expand as a glob or complete with .service; and repeats."""
    bad = [name for name in names if not UNIT_NAME.match(name)]
    if bad:
        raise RecoveryError(
            "%s: %s %s (names are not empty, do not start with '-', and end in the unit type, such as .service or"
            " .socket)." % (option, ", ".join(repr(name) for name in bad),
                            "is not a unit name" if len(bad) == 1 else "are not unit names"),
            fix="list every unit by its full name, e.g. vaulthalla.service.")
    twice = sorted(set(name for name in names if names.count(name) > 1))
    if twice:
        raise RecoveryError("%s: %s listed more than once." % (option, ", ".join(twice)),
                            fix="list each unit once, in the order it should be acted on.")


def _reset_list(params):
    """The units to reset-failed before starting, or [] when that is not asked for."""
    extra = params["reset_failed_units"] or []
    check_names(extra, "reset_failed_units")
    if not params["reset_failed"]:
        if extra:
            raise RecoveryError("reset_failed_units is given but reset_failed is false.",
                                fix="set reset_failed: true, or drop reset_failed_units.")
        return []
    if params["state"] != "started":
        raise RecoveryError("reset_failed applies to state=started only (it lets a unit that hit its start rate"
                            " limit start again).", fix="drop reset_failed, or use state: started.")
    return list(params["units"]) + [name for name in extra if name not in params["units"]]


class Systemctl(object):
    """systemctl run with argv lists (never a shell) through a replaceable runner."""

    def __init__(self, path, runner=None, journalctl=None):
        self.path = path
        self.journalctl = journalctl
        self._run = runner or process.run  # resolved per task, so tests can replace process.run

    def __call__(self, *args):
        return self._run([self.path] + list(args))

    def journal(self, unit):
        return journal_tail(self._run, self.journalctl, unit)

    def show(self, units):
        """One dict of Id, LoadState, ActiveState, SubState per unit, in the order of units."""
        rc, out, err = self("show", SHOW_PROPERTIES, "--", *units)
        blocks = parse_show(out) if rc == 0 else []
        answered = [block for block in blocks if "ActiveState" in block]
        if len(blocks) != len(units) or len(answered) != len(units):
            problem = failure_text(rc, out, err) if rc != 0 else "states of %d units in its answer for %d" % (
                len(answered), len(units))
            raise RecoveryError("cannot ask systemd about %s: %s." % (", ".join(units), problem.rstrip(".")),
                                fix="run this on a host whose init is systemd, as a user allowed to manage units"
                                    " (become: true).")
        return blocks


def _refuse_unusable(units, before, state):
    """Fail before any change when a unit cannot reach the wanted state (unknown, or masked for a start)."""
    missing = [name for name, props in zip(units, before) if props.get("LoadState") == "not-found"]
    if missing:
        raise RecoveryError(
            "systemd knows no unit %s; nothing was changed." % ", ".join(missing),
            fix="check the spelling and suffix, and that the package shipping the unit is installed"
                " (systemctl list-unit-files '%s')." % missing[0])
    if state == "started":
        unloaded = ["%s (LoadState %s)" % (name, props.get("LoadState")) for name, props in zip(units, before)
                    if props.get("LoadState") != "loaded"]
        if unloaded:
            raise RecoveryError(
                "cannot start %s; nothing was changed." % ", ".join(unloaded),
                fix="see systemctl status for each (a masked unit needs systemctl unmask first).")


def _state_warning(name, props, state):
    """A unit that, right after its start or stop, is visibly not in the wanted state (crashed, re-activated)."""
    if state == "started" and (props["ActiveState"] == "failed" or props.get("SubState") == "auto-restart"):
        problem = "is %s (%s) right after it was started" % (props["ActiveState"], props.get("SubState"))
    elif state == "stopped" and props["ActiveState"] not in STOPPED_STATES:
        problem = "is %s again after it was stopped (something, such as a socket, activated it)" % (
            props["ActiveState"])
    else:
        return None
    return "%s %s: see systemctl status %s and journalctl -u %s." % (name, problem, name, name)


def _left_so(done, state):
    return "Already %s and left so: %s." % (state, ", ".join(done)) if done else "Nothing was changed."


def _act(systemctl, todo, state, reset):
    """Reset-failed first, then start or stop each unit of todo in order. Returns systemctl's warnings."""
    if reset:
        # Its exit status says nothing useful: unknown or not-failed units are simply left alone.
        systemctl("reset-failed", "--", *reset)
    verb, done, warnings = VERBS[state], [], []
    for name in todo:
        rc, out, err = systemctl(verb, "--", name)
        if rc != 0:
            # systemctl only says "see journalctl"; the unit's own last words say why, so they go in the error.
            journal = systemctl.journal(name)
            raise RecoveryError(
                "systemctl %s %s failed: %s. %s%s" % (
                    verb, name, failure_text(rc, out, err).rstrip("."), _left_so(done, state),
                    " Its journal ends: %s" % " | ".join(journal) if journal else ""),
                fix="see systemctl status %s and journalctl -u %s." % (name, name),
                changed=bool(done), changed_units=done, reset_failed=reset, journal_tail=journal)
        if err.strip():  # e.g. "Stopping x.service, but it can still be activated by: x.socket"
            warnings.append("systemctl %s %s: %s" % (verb, name, err.strip()))
        done.append(name)
    return warnings


def _show_after(systemctl, units, state, done, reset):
    try:
        return systemctl.show(units)
    except RecoveryError as exc:
        raise RecoveryError("%s %s (left so), but then %s" % (state.capitalize(), ", ".join(done), exc.message),
                            fix=exc.fix, changed=True, changed_units=done, reset_failed=reset)


def apply(params, get_bin_path, check_mode, runner=None):
    """Bring params['units'] to params['state'] one after another. Returns the module result plus 'warnings'."""
    units, state = list(params["units"]), params["state"]
    if not units:
        raise RecoveryError("units is empty.", fix="list the units to %s, in order." % VERBS[state])
    check_names(units, "units")
    reset = _reset_list(params)
    path = get_bin_path("systemctl", required=False)
    if not path:
        raise RecoveryError("systemctl was not found on the host, so no unit can be %s." % state,
                            fix="run this on a host managed by systemd (systemctl in /usr/bin or /bin).")
    systemctl = Systemctl(path, runner, get_bin_path("journalctl", required=False))
    before = systemctl.show(units)
    _refuse_unusable(units, before, state)
    todo = [name for name, props in zip(units, before) if props["ActiveState"] not in WANTED_STATES[state]]
    after, warnings = before, []
    if check_mode:
        after = [dict(props, ActiveState=EXPECTED_STATE[state]) if name in todo else props
                 for name, props in zip(units, before)]
    elif todo or reset:
        warnings = _act(systemctl, todo, state, reset)
        if todo:
            after = _show_after(systemctl, units, state, todo, reset)
            warnings.extend(filter(None, (_state_warning(name, props, state)
                                          for name, props in zip(units, after) if name in todo)))
    return dict(
        changed=bool(todo),
        changed_units=todo,
        reset_failed=reset,
        units=[dict(name=name, before=old["ActiveState"], after=new["ActiveState"], changed=name in todo)
               for name, old, new in zip(units, before, after)],
        warnings=warnings,
    )

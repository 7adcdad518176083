# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stop a systemd unit around a copy and start it again, leaving it as it was found.

A unit that was not running is not touched and is not started afterwards. The
caller restarts in a ``finally`` so a failed copy still brings the service
back, and reports whether it did.
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.common import process
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

RUNNING_STATES = ("active", "activating", "reloading")


def parse_show(text):
    """Split ``systemctl show`` output into one dict of properties per unit, in the order the units were named.

    systemctl separates the units' blocks with a blank line.
    """
    blocks, current = [], {}
    for line in text.splitlines() + [""]:
        if "=" in line:
            key, value = line.split("=", 1)
            current[key] = value
        elif not line.strip() and current:
            blocks.append(current)
            current = {}
    return blocks


def journal_tail(run, journalctl, unit, lines=12):
    """The last lines a unit logged (why a start failed), best effort: [] when the journal cannot be read."""
    if not journalctl:
        return []
    rc, out, _err = run([journalctl, "--unit=%s" % unit, "--lines=%d" % lines, "--no-pager", "--output=cat",
                         "--quiet"])
    if rc != 0:
        return []
    return [line[:300] for line in out.splitlines() if line.strip()][-lines:]


def failure_text(rc, out, err):
    """What a failed systemctl call said, or its exit status when it said nothing."""
    return (err or out).strip() or "systemctl exited %d" % rc


class ServiceWindow(object):
    """The swtpm unit, as the module should treat it.

    name empty: no unit manages the state (nothing is stopped; the lock probe
    still guards consistency). caller_stopped: the caller stopped it already.
    systemctl is resolved lazily, so hosts without systemd work in both cases.
    """

    def __init__(self, name, caller_stopped, find_systemctl, runner=process.run, before_stop=None):
        self.name = name or None
        self.before_stop = before_stop  # called just before systemctl stop; returns a warning or None
        self.warnings = []
        self.caller_stopped = caller_stopped
        self._find_systemctl = find_systemctl
        self._run = runner
        self.state_before = None
        self.stopped_by_module = False
        self.restarted = False
        self.restart_error = None

    @property
    def managed(self):
        return bool(self.name) and not self.caller_stopped

    def _systemctl(self, *args):
        systemctl = self._find_systemctl()
        if not systemctl:
            raise RecoveryError(
                "systemctl was not found, so %s cannot be stopped for a consistent copy." % self.name,
                fix="stop swtpm yourself and set service_stopped: true, or set service: '' when no unit runs it.")
        return self._run([systemctl] + list(args))

    def query(self):
        """Record and return the unit's ActiveState ('not-found' for a unit systemd does not know)."""
        if not self.managed:
            self.state_before = "stopped by the caller" if self.name else "no service"
            return self.state_before
        rc, out, err = self._systemctl("show", "--property=LoadState,ActiveState", "--", self.name)
        values = (parse_show(out) or [{}])[0]
        if rc != 0 or "ActiveState" not in values:
            raise RecoveryError(
                "cannot ask systemd about %s: %s" % (self.name, failure_text(rc, out, err)),
                fix="if this host does not run systemd, stop swtpm yourself and set service_stopped: true"
                    " (or service: '' when no unit runs it).")
        self.state_before = "not-found" if values.get("LoadState") == "not-found" else values["ActiveState"]
        return self.state_before

    @property
    def would_stop(self):
        return self.managed and self.state_before in RUNNING_STATES

    def stop(self):
        """Stop the unit if it runs (query() first). Failing to stop is an error: the copy would not be consistent."""
        if not self.would_stop:
            return False
        if self.before_stop:
            warning = self.before_stop()
            if warning:
                self.warnings.append(warning)
        rc, out, err = self._systemctl("stop", "--", self.name)
        if rc != 0:
            raise RecoveryError("cannot stop %s: %s. Nothing was changed." % (
                self.name, failure_text(rc, out, err).rstrip(".")),
                fix="see systemctl status %s; or stop swtpm yourself and set service_stopped: true." % self.name)
        self.stopped_by_module = True
        return True

    def restart(self):
        """Start the unit again if stop() stopped it. Returns an error text instead of raising (for finally)."""
        if not self.stopped_by_module or self.restarted:
            return None
        try:
            rc, out, err = self._systemctl("start", "--", self.name)
        except (RecoveryError, OSError) as exc:
            rc, out, err = -1, "", str(exc)
        if rc != 0:
            self.restart_error = "starting %s again failed: %s" % (self.name, failure_text(rc, out, err))
            return self.restart_error
        self.restarted = True
        return None

    def facts(self):
        return dict(name=self.name, managed=self.managed, state_before=self.state_before,
                    stopped_by_module=self.stopped_by_module, restarted=self.restarted,
                    restart_error=self.restart_error)

    def plan(self):
        if not self.name:
            return "no service is managed (service is empty)"
        if self.caller_stopped:
            return "%s is left alone (service_stopped: true)" % self.name
        if self.would_stop:
            return "would stop %s (now %s) and start it again afterwards" % (self.name, self.state_before)
        return "%s is %s, so it would not be stopped or started" % (self.name, self.state_before)

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prove a running Vaulthalla host: status healthy, S3/R2 vaults in sync, known files readable and unchanged.

Every probe becomes a named check {name, passed, detail}; the caller decides
whether a failed check fails the task (restore) or goes into a report (drill).
"""

import time

from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla import vh_cli, vh_file_reader, vh_sync_info
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.parallel_groups import run_groups
from ansible_collections.vaultops.recovery.plugins.module_utils.common.waiter import wait_until

HEALTHY = "vh status: healthy"
PROBE_WORKERS = 4


def _check(name, passed, detail):
    return {"name": name, "passed": bool(passed), "detail": detail}


def wait_healthy(vh, timeout, interval=1.0):
    """(check, seconds waited). The daemon down or degraded until the deadline is a failed check."""
    def probe():
        try:
            line = vh_cli.status(vh)
        except RecoveryError as exc:
            return False, str(exc), None
        return line == HEALTHY, line, line
    started = time.monotonic()
    try:
        line = wait_until(probe, "vh status: healthy", timeout, "timeout", interval)
    except RecoveryError as exc:
        waited = time.monotonic() - started
        return _check("vh_status", False, "not healthy after %.0f s (timeout %s s); last answer: %s" % (
            waited, timeout, exc.facts.get("last_state", exc))), waited
    waited = time.monotonic() - started
    return _check("vh_status", True, "%s after %.1f s" % (line, waited)), waited


def sync_info(vh, vault, require_in_sync):
    name = "sync_info_%s" % vault
    try:
        fields = vh_sync_info.parse(vh_cli.run_vh(vh, ["vault", "sync", "info", vault]))
    except RecoveryError as exc:
        return _check(name, False, str(exc)), {}
    state = fields.get("State", "(no State line)")
    passed = vh_sync_info.in_sync(fields) or not require_in_sync
    return _check(name, passed, "state %s; remote objects %s; indexed files %s" % (
        state, fields.get("Remote objects", "?"), fields.get("Indexed files", "?"))), fields


def read_file(entry, reader, vh, mount):
    vault, path, expected, expected_size = entry["vault"], entry["path"], entry.get("sha256"), entry.get("size")
    label = entry.get("label") or "file_%s:%s" % (vault, path)
    try:
        sha256, size = vh_file_reader.read_digest(vault, path, reader, vh=vh, mount=mount)
    except RecoveryError as exc:
        return _check(label, False, str(exc)), dict(vault=vault, path=path, readable=False)
    found = dict(vault=vault, path=path, readable=True, sha256=sha256, size=size)
    if expected_size is not None and expected_size != size:
        return _check(label, False, "%s in vault %s reads back with %d bytes, recorded %d" % (
            path, vault, size, expected_size)), found
    if expected and expected != sha256:
        return _check(label, False, "%s in vault %s reads back with SHA-256 %s, recorded %s" % (
            path, vault, sha256, expected)), found
    detail = "%s in vault %s read back (%d bytes%s)" % (
        path, vault, size, ", SHA-256 equal to the recorded one" if expected else "")
    return _check(label, True, detail), found


def run_checks(params, vh):
    checks, result = [], {}
    if params["status"]:
        check, waited = wait_healthy(vh, params["timeout"], params["interval"])
        checks.append(check)
        result["waited_seconds"] = round(waited, 1)
        if not check["passed"]:
            return checks, result  # nothing else can answer while the daemon is not healthy
    # Each probe is a `vh` (or reader) process that mostly waits on the daemon; side by side they cost about one
    # probe's time instead of the sum. A probe never raises: a failure is a failed check, so all of them report.
    probes = [("sync", vault) for vault in params["sync_vaults"]] + [("file", entry) for entry in params["files"]]

    def probe(item):
        kind, target = item
        if kind == "sync":
            return sync_info(vh, target, params["require_in_sync"])
        return read_file(target, params["reader"], vh, params["fuse_mount"])

    result["sync"], result["files"] = {}, []
    for (kind, target), (check, found) in zip(probes, run_groups(probes, probe, PROBE_WORKERS)):
        checks.append(check)
        if kind == "sync":
            result["sync"][target] = found
        else:
            result["files"].append(found)
    return checks, result

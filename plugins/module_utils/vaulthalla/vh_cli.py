# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Vaulthalla ``vh`` CLI: finding it, running it, and turning its failures into one clear error.

vh talks to the daemon over /run/vaulthalla/cli.sock; with the daemon down
every command fails with ``connect: No such file or directory``. Errors quote
vh's stderr only: its stdout is never echoed (an export without --output would
print key material there, and this module never asks for that).
"""

import os

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import run

DAEMON_DOWN = "connect: No such file or directory"
STDERR_TAIL = 1500

# export name -> (vh sub-command, output file suffix)
EXPORTS = {
    "vault_keys": (["vault", "keys", "export", "all"], "vault-keys.json.gpg"),
    "secrets": (["secret", "export", "all"], "secrets.json.gpg"),
}


def find_vh(vh_path, get_bin_path):
    """Absolute path of vh, or RecoveryError naming the fix."""
    fix = "install Vaulthalla (it ships vh) on this host, or set vh_path to the vh executable."
    if os.sep in vh_path:
        if not os.path.isfile(vh_path) or not os.access(vh_path, os.X_OK):
            raise RecoveryError("vh_path %s is not an executable file." % vh_path, fix=fix, problem="vh_missing")
        return vh_path
    found = get_bin_path(vh_path)
    if not found:
        raise RecoveryError("%s was not found on PATH on this host." % vh_path, fix=fix, problem="vh_missing")
    return found


def _tail(text):
    text = (text or "").strip()
    return text if len(text) <= STDERR_TAIL else "..." + text[-STDERR_TAIL:]


def run_vh(vh, args):
    """stdout of ``vh args``; RecoveryError with vh's stderr (never its stdout) on failure."""
    shown = "vh " + " ".join(args)
    try:
        rc, out, err = run([vh] + list(args), cwd="/")
    except OSError as exc:
        raise RecoveryError("cannot run %s: %s." % (vh, exc.strerror or exc),
                            fix="check vh_path and that the file is an executable vh.", problem="vh_missing")
    if rc == 0:
        return out
    stderr = _tail(err)
    if DAEMON_DOWN in err or DAEMON_DOWN in out:
        raise RecoveryError(
            "%s cannot reach the Vaulthalla daemon (%s): the daemon or its CLI socket is down. Nothing was"
            " published." % (shown, DAEMON_DOWN),
            fix="start it (systemctl start vaulthalla-cli.socket vaulthalla.service) and check vh status.",
            problem="daemon_down", vh_rc=rc, vh_stderr=stderr)
    if "permission denied" in err.lower():
        fix = ("exports need a super-admin: run the task as root (become: true). If the message names the output"
               " path, the daemon user cannot write there: check work_dir.")
    else:
        fix = "see vh's message; vh status shows the daemon's state."
    raise RecoveryError("%s failed with exit code %d: %s" % (shown, rc, stderr or "(no message on stderr)"),
                        fix=fix, problem="vh_failed", vh_rc=rc, vh_stderr=stderr)


def version(vh):
    """(first line, full text) of ``vh version``, e.g. ('Vaulthalla v1.1.0', 'Vaulthalla v1.1.0\\n')."""
    out = run_vh(vh, ["version"])
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    if not lines:
        raise RecoveryError("vh version printed nothing.", fix="check that vh_path is Vaulthalla's vh.",
                            problem="vh_failed")
    return lines[0], out if out.endswith("\n") else out + "\n"


def status(vh):
    """First line of ``vh status`` (``vh status: healthy`` or ``vh status: degraded``); read-only."""
    out = run_vh(vh, ["status"])
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    return lines[0] if lines else ""


def export_argv(export, recipients, output):
    command, dummy = EXPORTS[export]
    argv = list(command)
    for fingerprint in recipients:
        argv += ["--recipient", fingerprint]
    return argv + ["--output", output]


def export(vh, export_name, recipients, output):
    """Run one export; vh (through the daemon) writes output. Returns the argv used (no secrets in it)."""
    args = export_argv(export_name, recipients, output)
    run_vh(vh, args)
    return ["vh"] + args

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record a security event: one JSON line in the recovery log (0600), and syslog (auth.warning).

The recovery log line is mandatory: if it cannot be written the caller must
not go on. Syslog is best effort (a host or container may have no syslog
socket); whether it worked, and why not, is returned for the task result.
Events carry names, paths and digests only, never secret values.
"""

import datetime
import errno
import getpass
import json
import os
import stat

from ansible_collections.vaultops.recovery.plugins.module_utils.common import process
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

SYSLOG_TAG = "vaultops-recovery"
SYSLOG_PRIORITY = "auth.warning"


def _who():
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = None
    return dict(uid=os.getuid(), user=user, sudo_user=os.environ.get("SUDO_USER"))


def append_line(path, document):
    """Append one JSON line to path, creating it 0600 and tightening a wider mode; returns what was done."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise RecoveryError("the directory of recovery_log %s does not exist, so the security event cannot be"
                            " recorded. Nothing was changed." % path,
                            fix="create %s or point recovery_log at a file in an existing directory." % directory)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        reason = "it is a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
        raise RecoveryError("cannot open recovery_log %s (%s), so the security event cannot be recorded."
                            " Nothing was changed." % (path, reason),
                            fix="point recovery_log at a regular file the task can write (become: true).")
    tightened = None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise RecoveryError("recovery_log %s is not a regular file. Nothing was changed." % path,
                                fix="point recovery_log at a regular file.")
        if stat.S_IMODE(st.st_mode) != 0o600:
            tightened = "%04o" % stat.S_IMODE(st.st_mode)
            os.fchmod(fd, 0o600)
        line = (json.dumps(document, sort_keys=True) + "\n").encode("utf-8")
        written = os.write(fd, line)
        if written != len(line):
            raise RecoveryError("only part of the security event reached recovery_log %s. Nothing was changed." % path,
                                fix="free space on that volume and run again.")
        os.fsync(fd)
    finally:
        os.close(fd)
    return dict(path=path, mode="0600", mode_tightened_from=tightened)


def send_syslog(logger_path, message, runner=process.run):
    """Send message to syslog with logger(1); returns {sent, error}, never raises."""
    if not logger_path:
        return dict(sent=False, error="logger(1) is not installed on this host; the event is only in the recovery log")
    argv = [logger_path, "-p", SYSLOG_PRIORITY, "-t", SYSLOG_TAG, "--", message]
    try:
        # --socket-errors=on makes util-linux logger fail when there is no syslog socket instead of
        # succeeding silently; other loggers may not know the option, so retry without it.
        rc, out, err = runner(argv[:1] + ["--socket-errors=on"] + argv[1:])
        if rc != 0 and any(word in err for word in ("unrecognized", "invalid option", "unknown option")):
            rc, out, err = runner(argv)
    except OSError as exc:
        return dict(sent=False, error="logger could not run: %s" % exc)
    if rc != 0:
        return dict(sent=False, error="logger failed: %s" % ((err or out).strip() or "exit status %d" % rc))
    return dict(sent=True, error=None)


def record(event, summary, recovery_log, logger_path, runner=process.run):
    """Record event (a dict) in recovery_log and summary (one line) in syslog; returns what happened."""
    document = dict(event)
    document.setdefault("time", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    document.setdefault("by", _who())
    logged = append_line(recovery_log, document)
    syslog = send_syslog(logger_path, summary, runner=runner)
    return dict(event=document["event"], time=document["time"], recovery_log=logged, syslog=syslog)

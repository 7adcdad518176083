# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is a running swtpm using a state directory?

swtpm holds a POSIX record lock (fcntl F_SETLK, write lock) on ``<state
dir>/.lock`` for as long as it runs. F_GETLK asks who holds it without taking
it, so the probe can never make a starting swtpm fail on a lock we hold.
"""

import errno
import fcntl
import os
import struct

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

LOCK_NAME = ".lock"
# struct flock on Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid (+ padding).
_FLOCK = "hhqqi4x"


def lock_holder(state_dir):
    """PID of the process holding swtpm's lock in state_dir (-1 when unknown), or None when nobody does."""
    path = os.path.join(state_dir, LOCK_NAME)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ELOOP):
            return None
        raise
    try:
        query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, query)
    finally:
        os.close(fd)
    lock_type, _whence, _start, _length, pid = struct.unpack(_FLOCK, answer)
    if lock_type == fcntl.F_UNLCK:
        return None
    return pid if pid > 0 else -1


def require_unlocked(state_dir, what):
    """Refuse to go on while a swtpm process still runs on state_dir."""
    pid = lock_holder(state_dir)
    if pid is None:
        return
    holder = "process %d" % pid if pid > 0 else "a process"
    raise RecoveryError(
        "%s still holds the swtpm lock on %s, so swtpm is running on this state and %s would not be consistent."
        " Nothing was changed." % (holder, state_dir, what),
        fix="name the unit that runs it in service (the module stops and restarts it), or stop it yourself"
            " before setting service_stopped: true.", lock_holder=pid)

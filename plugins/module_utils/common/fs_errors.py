# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a full or read-only file system means, said the same way by every module that writes.

Permission bits and become do not help with either, so the message must not
suggest them: it names the file system state (ENOSPC, EROFS) and the directory.
"""

import errno
import os

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

_STATES = {
    errno.ENOSPC: "is full (ENOSPC: No space left on device)",
    errno.EDQUOT: "is over the user's disk quota (EDQUOT: Disk quota exceeded)",
    errno.EFBIG: "does not take a file that large (EFBIG: File too large)",
    errno.EROFS: "is mounted read-only (EROFS: Read-only file system)",
}
_FIXES = {
    errno.EROFS: "remount it read-write or point the task at a directory on a writable file system"
                 " (file permissions and become do not help).",
}
_SPACE_FIX = "free space there (df -h {directory}) or point the task at a directory on a larger volume, then run again."
# What the client tools print for the same conditions (GNU tar reports a short write as "Wrote only N of M bytes").
_STDERR_MARKERS = (
    ("Read-only file system", errno.EROFS),
    ("No space left on device", errno.ENOSPC),
    ("Wrote only", errno.ENOSPC),
    ("Disk quota exceeded", errno.EDQUOT),
    ("File too large", errno.EFBIG),
)


def storage_error(code, directory, failed, outcome):
    """One RecoveryError: "<failed>: the file system holding <directory> <state>. <outcome>"."""
    return RecoveryError(
        "%s: the file system holding %s %s. %s" % (failed, directory, _STATES[code], outcome),
        fix=_FIXES.get(code, _SPACE_FIX).format(directory=directory))


def from_oserror(exc, directory, failed, outcome):
    """storage_error for an OSError that means full or read-only, else None."""
    code = getattr(exc, "errno", None)
    if code in _STATES:
        return storage_error(code, directory, failed, outcome)
    return None


def from_stderr(stderr, directory, failed, outcome):
    """storage_error for a tool's stderr that reports full or read-only, else None."""
    for marker, code in _STDERR_MARKERS:
        if marker in (stderr or ""):
            return storage_error(code, directory, failed, outcome)
    return None


def is_read_only(path):
    """Whether path lies on a file system mounted read-only (where even root cannot write)."""
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False

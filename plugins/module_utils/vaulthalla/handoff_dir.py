# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A private directory another OS user (a daemon) writes into, and taking its files over safely.

The directory is made by the task, 0700 and owned by that user, so only the
user (and root) can put anything there. Files are taken over by streaming
them into a sink (an AtomicFile owned by the task user): the file is opened
without following symbolic links and must be a regular file, and everything
later checked is the task's own copy, which the other user cannot change.
The directory and whatever is left in it are removed at the end.
"""

import errno
import os
import shutil
import stat
import tempfile

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import run

READ_SIZE = 1024 * 1024


def _read_up_to(fd, limit):
    parts = []
    while limit > 0:
        chunk = os.read(fd, min(READ_SIZE, limit))
        if not chunk:
            break
        parts.append(chunk)
        limit -= len(chunk)
    return b"".join(parts)


class HandoffDir(object):
    def __init__(self, parent, run_as, option="work_dir"):
        self.parent = parent or tempfile.gettempdir()
        self.run_as = run_as
        self.option = option
        self.path = None

    def __enter__(self):
        if not os.path.isdir(self.parent):
            raise RecoveryError("%s %s is not an existing directory." % (self.option, self.parent),
                                fix="create it or leave %s unset (a private directory in %s is used)." % (
                                    self.option, tempfile.gettempdir()))
        self.path = tempfile.mkdtemp(prefix=".vh-export-", dir=self.parent)
        try:
            os.chown(self.path, self.run_as.uid, self.run_as.gid)
            os.chmod(self.path, 0o700)
            self._check_reachable()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        self.remove()
        return False

    def _check_reachable(self):
        """The user must be able to get into the directory: every parent needs search permission for them."""
        test = shutil.which("test") or "/usr/bin/test"
        try:
            rc = run([test, "-w", self.path, "-a", "-x", self.path], run_as=self.run_as, cwd="/")[0]
        except OSError:
            return  # no test(1) to ask; vh reports an unwritable output path itself
        if rc != 0:
            raise RecoveryError(
                "user %s cannot write into %s (a directory on the way lacks search permission for it); the daemon"
                " writes the export there as that user. Nothing was exported." % (self.run_as.name, self.path),
                fix="set %s to a directory user %s can reach, for example one owned by it." % (
                    self.option, self.run_as.name), problem="work_dir_unreachable")

    def file_path(self, name):
        return os.path.join(self.path, name)

    def take_over(self, name, sink, missing_hint="", inspect=None):
        """Stream the regular file name into sink.write(); the original is removed.

        inspect(first_chunk, read_all) runs before anything reaches the sink and may refuse the file (raise);
        read_all(limit) returns the file from its start, up to limit bytes.
        """
        path = self.file_path(name)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise RecoveryError("%s does not exist although the command that writes it succeeded.%s" % (
                    path, missing_hint), fix="set %s to a directory the daemon writes into as seen from this task."
                    % self.option, problem="output_missing")
            if exc.errno == errno.ELOOP:
                raise RecoveryError("%s is a symbolic link, not the exported file; it was not followed." % path,
                                    fix="check what else writes into %s." % self.parent, problem="not_regular")
            raise
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise RecoveryError("%s is not a regular file; it was not taken over." % path,
                                    fix="check what else writes into %s." % self.parent, problem="not_regular")
            chunk = os.read(fd, READ_SIZE)
            if inspect is not None:
                inspect(chunk, lambda limit: chunk + _read_up_to(fd, limit - len(chunk)))
            while chunk:
                sink.write(chunk)
                chunk = os.read(fd, READ_SIZE)
        finally:
            os.close(fd)
        os.unlink(path)
        return info

    def remove(self):
        if self.path and os.path.isdir(self.path):
            shutil.rmtree(self.path, ignore_errors=True)
        self.path = None

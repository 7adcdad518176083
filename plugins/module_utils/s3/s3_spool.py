# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A private scratch file for one object body on its way from one bucket to another.

The body must be complete, proven and hashed before it is uploaded (the
upload carries its SHA-256), so it is spooled to an unnamed temporary file
(mode 0600, gone when closed, also on a crash) and hashed while written.
"""

import errno
import hashlib
import tempfile

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError


class Spool(object):
    def __init__(self, tmp_dir=None):
        self.tmp_dir = tmp_dir or tempfile.gettempdir()
        try:
            self.file = tempfile.TemporaryFile(dir=self.tmp_dir)
        except OSError as exc:
            raise RecoveryError("Cannot create a scratch file in %s (%s)." % (self.tmp_dir, exc.strerror),
                                fix="point tmp_dir at a writable directory with room for the largest object.")
        self._sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data):
        try:
            self.file.write(data)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise RecoveryError("No space left in %s for a scratch copy of an object (%d bytes written)." % (
                    self.tmp_dir, self.size), fix="point tmp_dir at a volume with room for the largest object.")
            raise
        self._sha256.update(data)
        self.size += len(data)

    @property
    def sha256(self):
        return self._sha256.hexdigest()

    def rewind(self):
        self.file.flush()
        self.file.seek(0)
        return self.file

    def close(self):
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

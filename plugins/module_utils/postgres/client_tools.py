# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find the client programs (pg_dump, pg_restore, psql, zstd) and their versions."""

import os
import re

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import run

_INSTALL_HINTS = {
    "zstd": "install zstd on the managed host (Debian: apt-get install zstd).",
}
_PG_HINT = "install the PostgreSQL client (Debian: apt-get install postgresql-client) or set pg_bin_dir to its bin directory."


def parse_version(text):
    """'pg_dump (PostgreSQL) 15.18 (Debian ...)' -> (15, 18); None when absent."""
    match = re.search(r"\b(\d+)(?:\.(\d+))?", text.split(")", 1)[-1] if ")" in text else text)
    if not match:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


class ClientTools(object):
    def __init__(self, get_bin_path, pg_bin_dir=None):
        self._get_bin_path = get_bin_path
        self.pg_bin_dir = pg_bin_dir
        self._paths = {}
        self._versions = {}

    def path(self, name):
        if name not in self._paths:
            found = None
            if self.pg_bin_dir and name != "zstd":
                candidate = os.path.join(self.pg_bin_dir, name)
                if os.access(candidate, os.X_OK):
                    found = candidate
            else:
                found = self._get_bin_path(name)
            if not found:
                raise RecoveryError("%s was not found on the managed host%s." % (
                    name, " in pg_bin_dir %s" % self.pg_bin_dir if self.pg_bin_dir and name != "zstd" else ""),
                    fix=_INSTALL_HINTS.get(name, _PG_HINT))
            self._paths[name] = found
        return self._paths[name]

    def version_text(self, name):
        if name not in self._versions:
            rc, out, err = run([self.path(name), "--version"])
            self._versions[name] = (out or err).strip().splitlines()[0] if (out or err).strip() else ""
        return self._versions[name]

    def version(self, name):
        """(major, minor) of a PostgreSQL client program."""
        return parse_version(self.version_text(name))

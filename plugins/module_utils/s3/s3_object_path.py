# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where an object version's body lives in a directory copy.

S3 keys may hold any character ("..", "/", quotes, newlines, a leading "/"),
so a key is never used as a path. A body is stored under the SHA-256 of the
length-prefixed key and version id, fanned out by its first two hex digits:
objects/3f/3fa9...e1. The index maps key and version to that path; every path
read back from an index must have exactly this form.
"""

import hashlib
import os
import re

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

OBJECTS_DIR = "objects"
_STORED = re.compile(r"^objects/([0-9a-f]{2})/([0-9a-f]{64})$")


def _field(text):
    data = text.encode("utf-8", "surrogatepass")
    return b"%d:" % len(data) + data


def storage_path(key, version_id):
    """objects/<xx>/<sha256> for one version; version_id None means an unversioned store (R2)."""
    name = hashlib.sha256(b"key=" + _field(key) + b";version=" + (
        _field(version_id) if version_id is not None else b"-")).hexdigest()
    return "%s/%s/%s" % (OBJECTS_DIR, name[:2], name)


def checked_path(root, relative, key=None, version_id=None):
    """root/relative after proving that relative is a storage path (and, given key, the one of that version)."""
    match = _STORED.match(relative or "") if isinstance(relative, str) else None
    if not match or match.group(1) != match.group(2)[:2]:
        raise RecoveryError("the copy's index names %r as a stored object, which is not a path this module writes."
                            % (relative,), fix="use an intact copy; this index was changed or damaged.")
    if key is not None and storage_path(key, version_id) != relative:
        raise RecoveryError("the copy's index stores %r version %s at %s, which is not where it belongs." % (
            key, version_id, relative), fix="use an intact copy; this index was changed or damaged.")
    return os.path.join(root, *relative.split("/"))

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replace a directory by a fully prepared one with two renames, keeping the old one as a safety copy.

The new tree is built beside the target (same file system), so the switch is
two rename(2) calls: target -> safety copy, staging -> target. A failure
between them puts the old directory back; roll_back() undoes a finished swap.
"""

import errno
import os
import shutil
import tempfile

from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import fsync_directory
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError


def parent_of(target):
    parent = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(parent):
        raise RecoveryError("the parent directory %s of %s does not exist. Nothing was changed." % (parent, target),
                            fix="install swtpm/Vaulthalla first or create %s, then run again." % parent)
    return parent


def make_staging(target):
    """A new private (0700) directory beside target, for building the replacement."""
    return tempfile.mkdtemp(prefix="." + os.path.basename(os.path.abspath(target)) + ".restore-",
                            dir=parent_of(target))


def remove_tree(path):
    if path and os.path.lexists(path):
        shutil.rmtree(path)


def free_name(base):
    """base, or base-1, base-2... whichever does not exist yet."""
    candidate, number = base, 0
    while os.path.lexists(candidate):
        number += 1
        candidate = "%s-%d" % (base, number)
    return candidate


def _move_error(what, exc, target):
    hint = ""
    if exc.errno in (errno.EBUSY, errno.EXDEV):
        hint = " (%s looks like a mount point)" % target
    return RecoveryError("%s failed: %s%s." % (what, exc.strerror, hint),
                         fix="restore into a state_dir that is a plain directory on the same file system as its"
                             " parent, or move its content yourself.")


def swap_in(staging, target, safety_base):
    """Make staging the new target. Returns the safety copy's path (None when target did not exist)."""
    target = os.path.abspath(target)
    parent = os.path.dirname(target)
    safety = None
    if os.path.lexists(target):
        safety = free_name(safety_base)
        try:
            os.rename(target, safety)
        except OSError as exc:
            raise _move_error("moving %s aside to %s" % (target, safety), exc, target)
    try:
        os.rename(staging, target)
    except OSError as exc:
        if safety:
            os.rename(safety, target)
        raise _move_error("moving the restored state into %s" % target, exc, target)
    fsync_directory(parent)
    return safety


def roll_back(target, safety, discard):
    """Undo swap_in: the restored tree goes to discard (then is deleted), the safety copy comes back."""
    target = os.path.abspath(target)
    os.rename(target, discard)
    if safety:
        os.rename(safety, target)
    fsync_directory(os.path.dirname(target))
    remove_tree(discard)

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Artifact names and times: every module names its artifacts the same way."""

import datetime
import os

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def render_name(pattern, placeholders, moment):
    """Replace {placeholders} literally, then strftime codes (UTC); refuse what is not a file name."""
    name = pattern
    for key, value in placeholders.items():
        name = name.replace("{%s}" % key, value.replace("%", "%%"))
    name = moment.strftime(name)
    if not name or "/" in name or "\x00" in name or name in (".", ".."):
        raise RecoveryError("name_pattern %r renders to %r, which is not a file name." % (pattern, name),
                            fix="use a name_pattern without '/' (the directory goes in dest_dir).")
    return name


def check_plain_name(name, message, fix):
    """name, when it is one visible file name: not empty, no '/' or NUL, not starting with '.' (so not . or ..).

    Anything else is refused with RecoveryError(message, fix=fix), which the caller words for its option.
    """
    if not name or "/" in name or "\x00" in name or name.startswith("."):
        raise RecoveryError(message, fix=fix)
    return name


def is_inside(path, directory):
    """Whether path (after resolving links) is directory or below it."""
    path, directory = os.path.realpath(path), os.path.realpath(directory)
    return path == directory or path.startswith(directory.rstrip("/") + "/")

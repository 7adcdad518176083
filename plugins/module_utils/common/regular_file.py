# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Artifacts are regular files: never read through a symbolic link, a FIFO or a device.

A symbolic link inside a set or a copy would make verify and restore read a
file from outside it (whose digest an edited index can match). Files below a
root are opened one component at a time with O_NOFOLLOW, so a linked parent
directory is refused too, and judged by fstat of the open descriptor, so the
file checked is the file read.
"""

import errno
import hashlib
import os
import stat

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

_CHUNK = 1024 * 1024
_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
_FIX = "remove it: a copy or set holds regular files only (this one was changed or damaged; use an intact one)."
# Non-blocking so that opening a FIFO planted in place of a file cannot hang the run.
_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def kind_of(mode):
    """What a st_mode describes, in words ("a regular file", "a symbolic link", ...)."""
    for test, words in _KINDS:
        if test(mode):
            return words
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def not_regular(path):
    """None when path itself (not what it links to) is a regular file, else why not; missing paths are None."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    return None if stat.S_ISREG(mode) else "%s is %s, not a regular file" % (path, kind_of(mode))


def require_regular(path):
    reason = not_regular(path)
    if reason:
        raise RecoveryError(reason + ".", fix=_FIX)


def _refusal(path, exc):
    """The RecoveryError for an open that O_NOFOLLOW/O_DIRECTORY refused (or the OSError itself)."""
    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return exc
        return RecoveryError("%s is %s, not a regular file." % (path, kind_of(mode)), fix=_FIX)
    return exc


def open_below(root, relative):
    """A binary file object for root/relative; no component below root may be a link, the file must be regular."""
    parts = relative.split("/")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    path = root
    try:
        for index, part in enumerate(parts):
            path = os.path.join(path, part)
            last = index == len(parts) - 1
            try:
                child = os.open(part, _FLAGS if last else _FLAGS | os.O_DIRECTORY, dir_fd=fd)
            except OSError as exc:
                raise _refusal(path, exc)
            os.close(fd)
            fd = child
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise RecoveryError("%s is %s, not a regular file." % (path, kind_of(mode)), fix=_FIX)
        os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return handle


def sha256_below(root, relative):
    """(sha256 hex, size) of root/relative, read as open_below reads it."""
    digest, size = hashlib.sha256(), 0
    with open_below(root, relative) as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Publish files so that a crash never leaves a complete-looking artifact.

Data goes to a hidden ``.<name>.<random>.partial`` file in the destination
directory, is hashed as it is written, fsynced, and only then linked to its
final name (link fails when the name exists, so nothing is ever overwritten).
"""

import errno
import hashlib
import json
import os
import tempfile

from ansible_collections.vaultops.recovery.plugins.module_utils.errors import RecoveryError

CHUNK_SIZE = 1024 * 1024
_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def fsync_directory(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def space_error(directory, written, exc):
    return RecoveryError(
        "No space left in %s after writing %d bytes (%s); nothing was published and the partial file was removed."
        % (directory, written, os.strerror(exc.errno)),
        fix="free space there or point the destination at a larger volume, then run again.",
    )


def publish_no_replace(temp_path, final_path):
    """Give temp_path the name final_path, refusing to replace an existing entry."""
    try:
        os.link(temp_path, final_path)
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise RecoveryError(
                "%s already exists; it was left untouched." % final_path,
                fix="choose another name (name_pattern) or move the existing file away.",
            )
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV):
            raise
        # File systems without hard links: check, then rename (small race, same result).
        if os.path.lexists(final_path):
            raise RecoveryError("%s already exists; it was left untouched." % final_path,
                                fix="choose another name (name_pattern) or move the existing file away.")
        os.rename(temp_path, final_path)
    else:
        os.unlink(temp_path)
    fsync_directory(os.path.dirname(final_path) or ".")


class AtomicFile(object):
    """A write-only file that becomes visible under its final name only on commit().

    Every byte written is fed to SHA-256 on the way, so the checksum costs no
    second read. Used as a context manager, an exception discards the file.
    """

    def __init__(self, final_path, mode=0o600):
        self.final_path = final_path
        self.directory = os.path.dirname(os.path.abspath(final_path))
        fd, self.temp_path = tempfile.mkstemp(
            prefix="." + os.path.basename(final_path) + ".", suffix=".partial", dir=self.directory)
        os.fchmod(fd, mode)
        self._fd = fd
        self._sha256 = hashlib.sha256()
        self.size = 0
        self.committed = False

    def write(self, data):
        view = memoryview(data)
        try:
            while view:
                done = os.write(self._fd, view)
                self._sha256.update(view[:done])
                self.size += done
                view = view[done:]
        except OSError as exc:
            if exc.errno in _SPACE_ERRNOS:
                raise space_error(self.directory, self.size, exc)
            raise

    @property
    def sha256(self):
        return self._sha256.hexdigest()

    def commit(self):
        try:
            os.fsync(self._fd)
        except OSError as exc:
            if exc.errno in _SPACE_ERRNOS:
                raise space_error(self.directory, self.size, exc)
            raise
        os.close(self._fd)
        self._fd = None
        publish_no_replace(self.temp_path, self.final_path)
        self.committed = True

    def discard(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if not self.committed and os.path.lexists(self.temp_path):
            os.unlink(self.temp_path)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.discard()
        return False


def write_bytes_atomic(final_path, data, mode=0o600):
    """Publish a small file (a manifest, a report) atomically; returns its SHA-256."""
    with AtomicFile(final_path, mode=mode) as out:
        out.write(data)
        out.commit()
        return out.sha256


def write_json_atomic(final_path, document, mode=0o600):
    data = (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")
    return write_bytes_atomic(final_path, data, mode=mode)


class DigestingReader(object):
    """The chunks of a file for one consumer, SHA-256 and size computed on the way (one read serves both)."""

    def __init__(self, path):
        self.path = path
        self.size = 0
        self._digest = hashlib.sha256()

    def __iter__(self):
        with open(self.path, "rb") as handle:
            while True:
                chunk = handle.read(CHUNK_SIZE)
                if not chunk:
                    return
                self._digest.update(chunk)
                self.size += len(chunk)
                yield chunk

    def hexdigest(self):
        return self._digest.hexdigest()


def sha256_file(path):
    reader = DigestingReader(path)
    for _chunk in reader:
        pass
    return reader.hexdigest(), reader.size


def sha256_tree(root):
    """{relative path: {"sha256", "size"}} for every regular file below root."""
    files = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in sorted(filenames):
            path = os.path.join(dirpath, filename)
            digest, size = sha256_file(path)
            files[os.path.relpath(path, root)] = {"sha256": digest, "size": size}
    return files


def check_writable_directory(path, option="dest_dir"):
    """Fail early, with the fix, when artifacts cannot be written to path."""
    if not os.path.exists(path):
        raise RecoveryError("%s %s does not exist." % (option, path),
                            fix="create it (for example with ansible.builtin.file state=directory mode=0700) or choose another %s." % option)
    if not os.path.isdir(path):
        raise RecoveryError("%s %s is not a directory." % (option, path), fix="point %s at a directory." % option)
    if not os.access(path, os.W_OK | os.X_OK):
        raise RecoveryError("%s %s is not writable by the user running the task." % (option, path),
                            fix="make it writable for that user or use become: true.")

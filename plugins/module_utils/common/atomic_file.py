# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Publish files so that a crash never leaves a complete-looking artifact.

Data goes to a hidden ``.<name>.<random>.partial`` file in the destination
directory, is hashed as it is written, fsynced, and only then linked to its
final name (link fails when the name exists, so nothing is ever overwritten).

A partial file or directory is held under an exclusive flock for as long as
its writer lives; a killed writer's lock dies with it, so the next run in the
same directory can tell a stale partial (lock free) from a live one (locked)
and remove only the stale ones (sweep_stale_partials).
"""

import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile

from ansible_collections.vaultops.recovery.plugins.module_utils.common import fs_errors
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

CHUNK_SIZE = 1024 * 1024
# tempfile's names: prefix "." + final name + ".", 8 characters from [a-z0-9_], suffix ".partial".
PARTIAL_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.partial$")


def fsync_directory(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def space_error(directory, written, exc):
    return fs_errors.from_oserror(
        exc, directory, "Writing failed after %d bytes" % written,
        "Nothing was published and the partial file was removed.")


def _locked_new(make, open_fd):
    """make() a new partial entry and flock it; again when a sweeper removed it before the lock was ours."""
    while True:
        path = make()
        try:
            fd = open_fd(path)
        except FileNotFoundError:
            continue
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink:
            return fd, path
        os.close(fd)  # a sweeper saw it unlocked in the instant between make() and flock(), and removed it


def new_partial_file(directory, name):
    """(fd, path): a new hidden ``.<name>.<random>.partial`` file, locked while fd is open."""
    state = {}

    def make():
        state["fd"], path = tempfile.mkstemp(prefix="." + name + ".", suffix=".partial", dir=directory)
        return path
    return _locked_new(make, lambda _path: state["fd"])


class PartialDir(object):
    """A hidden ``.<name>.<random>.partial`` directory in directory, locked until discard()."""

    def __init__(self, directory, name):
        self._fd, self.path = _locked_new(
            lambda: tempfile.mkdtemp(prefix="." + name + ".", suffix=".partial", dir=directory),
            lambda path: os.open(path, os.O_RDONLY | os.O_DIRECTORY))

    def discard(self):
        """Remove what is left of the directory (nothing, after a rename out of it), then drop the lock."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.discard()
        return False


def _remove_if_stale(path):
    """Remove path when nobody holds its lock; returns whether it did."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False  # gone already, a symlink, or not ours to open
    try:
        st = os.fstat(fd)
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a live run holds it
        now = os.lstat(path)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            return False  # replaced since we opened it
        # Removed while we hold the lock: a writer that locks it after us sees st_nlink 0 and takes another name.
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(path)
        else:
            os.unlink(path)
        return True
    finally:
        os.close(fd)


def stale_partials(directory):
    """Names of our hidden partial entries in directory that no live run holds (check mode reads this)."""
    found = []
    for name in sorted(os.listdir(directory)):
        if PARTIAL_NAME.match(name) and not _held(os.path.join(directory, name)):
            found.append(name)
    return found


def _held(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def sweep_stale_partials(directory):
    """Remove the partial files and directories killed runs left in directory; returns their names.

    Only names of our own pattern (PARTIAL_NAME), only when their lock can be
    taken without waiting: a partial a live run is writing is never touched.
    """
    removed = [name for name in sorted(os.listdir(directory))
               if PARTIAL_NAME.match(name) and _remove_if_stale(os.path.join(directory, name))]
    if removed:
        fsync_directory(directory)
    return removed


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
        try:
            fd, self.temp_path = new_partial_file(self.directory, os.path.basename(final_path))
        except OSError as exc:
            raise fs_errors.from_oserror(exc, self.directory, "Cannot create %s" % os.path.basename(final_path),
                                         "Nothing was written.") or exc
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
            raise space_error(self.directory, self.size, exc) or exc

    @property
    def sha256(self):
        return self._sha256.hexdigest()

    def commit(self, replace=False):
        """Publish under the final name; an existing file is refused, or replaced in one rename with replace."""
        try:
            os.fsync(self._fd)
        except OSError as exc:
            raise space_error(self.directory, self.size, exc) or exc
        os.close(self._fd)
        self._fd = None
        if replace:
            os.replace(self.temp_path, self.final_path)
            fsync_directory(self.directory)
        else:
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


def replace_json_atomic(final_path, document, mode=0o600):
    """Write a state file that is meant to be rewritten: a reader sees the old file or the new one, never a torn
    one. Returns its SHA-256."""
    data = (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")
    with AtomicFile(final_path, mode=mode) as out:
        out.write(data)
        out.commit(replace=True)
        return out.sha256


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
    if fs_errors.is_read_only(path):
        raise fs_errors.storage_error(errno.EROFS, path, "%s %s cannot take new files" % (option, path),
                                      "Nothing was written.")
    if not os.access(path, os.W_OK | os.X_OK):
        raise RecoveryError("%s %s is not writable by the user running the task." % (option, path),
                            fix="make it writable for that user or use become: true.")

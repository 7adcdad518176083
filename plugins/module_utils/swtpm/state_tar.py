# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a directory tree into a tar stream, check a tar against its entry list, unpack it faithfully.

The tar stores numeric owners and their names, modes and mtimes (PAX format),
so ``tar -tvzf`` and ``tar --numeric-owner -xpzf`` read it too. Unpacking is
done here member by member (never ``extractall``): every member has passed
tar_safety, files are created with O_EXCL|O_NOFOLLOW and hashed while written,
and owners and modes are applied last, directories deepest first.
"""

import errno
import hashlib
import os
import tarfile
import zlib

from ansible_collections.vaultops.recovery.plugins.module_utils.common import tar_safety

from ansible_collections.vaultops.recovery.plugins.module_utils.common import state_tree
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import fsync_directory
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

CHUNK_SIZE = 1024 * 1024
WRITE_MODES = {"gzip": "w|gz", "none": "w|"}
_TYPES = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE}


class _HashingReader(object):
    """A file object for tarfile.addfile that hashes what it hands over."""

    def __init__(self, handle):
        self._handle = handle
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size=-1):
        data = self._handle.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data


def _tarinfo(entry):
    info = tarfile.TarInfo(entry["path"])
    info.type = _TYPES[entry["type"]]
    info.mode = int(entry["mode"], 8)
    info.uid, info.gid = entry["uid"], entry["gid"]
    info.uname, info.gname = entry["user"] or "", entry["group"] or ""
    info.mtime = entry["mtime"]
    if entry["type"] == "file":
        info.size = entry["size"]
    elif entry["type"] == "symlink":
        info.linkname = entry["target"]
    return info


def _add_file(tar, rel, st, abs_path):
    fd = os.open(abs_path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        opened = os.fstat(fd)
        entry = state_tree.describe(rel, opened)
        if entry["type"] != "file" or (st.st_ino, st.st_dev) != (opened.st_ino, opened.st_dev):
            raise RecoveryError("%s changed while it was archived." % abs_path,
                                fix="make sure nothing writes the swtpm state (stop swtpm) and run again.")
        reader = _HashingReader(handle)
        try:
            tar.addfile(_tarinfo(entry), reader)
        except OSError as exc:
            if "unexpected end of data" in str(exc):
                raise RecoveryError("%s shrank while it was archived." % abs_path,
                                    fix="make sure nothing writes the swtpm state (stop swtpm) and run again.")
            raise
        if handle.read(1) or os.fstat(fd).st_size != entry["size"]:
            raise RecoveryError("%s grew while it was archived." % abs_path,
                                fix="make sure nothing writes the swtpm state (stop swtpm) and run again.")
        entry["sha256"] = reader.sha256.hexdigest()
        return entry


def write_tree(root, out, compression="gzip"):
    """Stream root into out (anything with write()) as a tar; return (entries, skipped).

    Symbolic links are stored as links and must stay inside root; sockets,
    FIFOs and devices carry no state and are skipped (and reported).
    """
    entries, skipped = [], []
    with tarfile.open(fileobj=out, mode=WRITE_MODES[compression], format=tarfile.PAX_FORMAT) as tar:
        for rel, st, abs_path in state_tree.walk(root):
            kind = state_tree.kind_of(st)
            if kind is None:
                skipped.append(rel)
            elif kind == "file":
                entries.append(_add_file(tar, rel, st, abs_path))
            else:
                target = os.readlink(abs_path) if kind == "symlink" else None
                if kind == "symlink" and not tar_safety.link_stays_inside(rel, target):
                    raise RecoveryError(
                        "%s is a symbolic link to %s, outside the state directory; restoring it elsewhere would"
                        " point at another host's files." % (abs_path, target),
                        fix="replace the link by the file it points to, or remove it, then run again.")
                entry = state_tree.describe(rel, st, target=target)
                tar.addfile(_tarinfo(entry))
                entries.append(entry)
    return entries, skipped


def _member_entry(name, member, sha256=None):
    entry = dict(path=name, type=tar_safety.member_kind(member), mode="%04o" % (member.mode & 0o7777),
                 uid=member.uid, gid=member.gid, user=member.uname or None, group=member.gname or None,
                 mtime=int(member.mtime))
    if member.isreg():
        entry["size"] = member.size
        entry["sha256"] = sha256
    elif member.issym():
        entry["target"] = member.linkname
    return entry


def _copy_hashed(source, write):
    digest = hashlib.sha256()
    while True:
        chunk = source.read(CHUNK_SIZE)
        if not chunk:
            break
        digest.update(chunk)
        write(chunk)
    return digest.hexdigest()


def _open_tar(path):
    try:
        return tarfile.open(path, mode="r:*")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise RecoveryError("%s is not a readable tar archive (%s)." % (path, exc),
                            fix="use an intact copy of the archive.")


def read_entries(path):
    """Check every member of the tar at path for safety and hash its files; return the entries."""
    entries = []
    with _open_tar(path) as tar:
        try:
            for name, member in tar_safety.check_members(tar.getmembers(), path):
                sha256 = None
                if member.isreg():
                    sha256 = _copy_hashed(tar.extractfile(member), lambda chunk: None)
                entries.append(_member_entry(name, member, sha256))
        except (tarfile.TarError, OSError, EOFError, ValueError, zlib.error) as exc:
            raise RecoveryError("%s cannot be read to the end (%s)." % (path, exc),
                                fix="use an intact copy of the archive.")
    return entries


def compare_with_manifest(actual, expected, source):
    """The archive's members must be exactly the manifest's entries (numeric owners included)."""
    problems = state_tree.differences(actual, expected, by_name=False)
    if problems:
        raise RecoveryError("%s does not match its manifest: %s." % (source, "; ".join(problems[:5])),
                            fix="use an archive and manifest from the same backup copy.")


def _set_owner(path, uid, gid):
    try:
        os.chown(path, uid, gid, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in (errno.EPERM, errno.EACCES):
            raise RecoveryError("cannot give %s to uid %d / gid %d (%s); swtpm state must keep its owners." % (
                path, uid, gid, exc.strerror), fix="run the task as root (become: true).")
        raise


def extract(path, staging, expected, by_name=True):
    """Unpack the tar at path into the existing empty directory staging; every file must hash as expected.

    Returns the owners that were mapped by name to different numeric IDs.
    """
    want = dict((entry["path"], entry) for entry in expected)
    written = []
    with _open_tar(path) as tar:
        for name, member in tar_safety.check_members(tar.getmembers(), path):
            entry = want.get(name)
            if entry is None or entry["type"] != tar_safety.member_kind(member):
                raise RecoveryError("%s changed after it was verified (%s)." % (path, member.name),
                                    fix="make sure nothing rewrites the archive during the restore and run again.")
            target = staging if name == tar_safety.ROOT else os.path.join(staging, name)
            if member.isdir() and name != tar_safety.ROOT:
                os.mkdir(target, 0o700)
            elif member.isreg():
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                with os.fdopen(fd, "wb") as out:
                    digest = _copy_hashed(tar.extractfile(member), out.write)
                    out.flush()
                    os.fsync(out.fileno())
                if digest != entry["sha256"]:
                    raise RecoveryError("%s changed after it was verified (%s)." % (path, member.name),
                                        fix="make sure nothing rewrites the archive during the restore and run again.")
            elif member.issym():
                os.symlink(member.linkname, target)
            written.append((target, entry))
    remapped = []
    # Owners and modes last, deepest first, so read-only directories do not block their contents.
    for target, entry in sorted(written, key=lambda item: (item[1]["path"] == tar_safety.ROOT, item[1]["type"] == "dir",
                                                           -item[1]["path"].count("/"))):
        uid, gid = state_tree.resolve_owner(entry, by_name)
        if (uid, gid) != (entry["uid"], entry["gid"]):
            remapped.append(dict(path=entry["path"], uid=uid, gid=gid, archived_uid=entry["uid"],
                                 archived_gid=entry["gid"]))
        _set_owner(target, uid, gid)
        if entry["type"] != "symlink":
            os.chmod(target, int(entry["mode"], 8))
            os.utime(target, (entry["mtime"], entry["mtime"]))
        else:
            os.utime(target, (entry["mtime"], entry["mtime"]), follow_symlinks=False)
        if entry["type"] == "dir":
            fsync_directory(target)
    missing = sorted(set(want) - set(entry["path"] for _target, entry in written))
    if missing:
        raise RecoveryError("%s lacks %s listed in its manifest." % (path, ", ".join(missing)),
                            fix="use an archive and manifest from the same backup copy.")
    return remapped

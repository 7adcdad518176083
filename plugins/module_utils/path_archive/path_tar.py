# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""argv for GNU tar and the compressors (never a shell), and what their failures mean.

The archive is a POSIX (pax) tar with numeric owners, sorted by name, without
the atime/ctime records that would make two archives of the same tree differ,
so ``zstd -dc x.tar.zst | tar -C / -xpf -`` (or ``tar -xzpf`` for gzip)
restores it anywhere.
"""

import os

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import run

EXTENSIONS = {"zstd": ".tar.zst", "gzip": ".tar.gz", "none": ".tar"}
DEFAULT_LEVELS = {"zstd": 3, "gzip": 6}
LEVEL_RANGES = {"zstd": (1, 19), "gzip": (1, 9)}
# Same listing for create (-cvv), dry run and list (-tv): see path_listing.
LISTING_OPTIONS = ["--numeric-owner", "--full-time", "--quoting-style=c"]
# tar itself is told the time zone and language, so listings compare byte for byte on any host.
TAR_ENV = {"LC_ALL": "C", "TZ": "UTC"}
_INSTALL = {
    "tar": "install GNU tar (Debian: apt-get install tar).",
    "zstd": "install zstd on the managed host (Debian: apt-get install zstd), or set compressor: gzip.",
    "gzip": "install gzip on the managed host (Debian: apt-get install gzip).",
}
# tar exits 1 when a file changed, shrank, grew or vanished while it was read.
CHANGED_MARKERS = ("file changed as we read it", "file removed before we read it", "file shrank",
                   "file changed", "changed as we read")


def tar_env():
    return dict(os.environ, **TAR_ENV)


class Tools(object):
    """Locate tar and the compressors with AnsibleModule.get_bin_path; GNU tar is required."""

    def __init__(self, get_bin_path):
        self._get_bin_path = get_bin_path
        self._paths = {}

    def path(self, name):
        if name not in self._paths:
            found = self._get_bin_path(name)
            if not found:
                raise RecoveryError("%s was not found on the managed host." % name, fix=_INSTALL.get(name))
            if name == "tar":
                rc, out, err = run([found, "--version"])
                if rc != 0 or "GNU tar" not in out:
                    raise RecoveryError("%s is not GNU tar (%s); path_archive needs GNU tar's --index-file,"
                                        " --sort and pax options." % (found, (out or err).strip()[:80]),
                                        fix=_INSTALL["tar"])
            self._paths[name] = found
        return self._paths[name]


def level_for(compressor, level):
    """The compression level to use, validated."""
    if compressor == "none":
        return None
    if level is None:
        return DEFAULT_LEVELS[compressor]
    low, high = LEVEL_RANGES[compressor]
    if not low <= level <= high:
        raise RecoveryError("compress_level %d is out of range for %s (%d..%d)." % (level, compressor, low, high),
                            fix="pick a level between %d and %d, or leave compress_level unset." % (low, high))
    return level


def create_argv(tar, root, rel_paths, index_file, archive="-", exclude=(), one_file_system=False, xattrs=False):
    """tar writing rel_paths (relative to root) to archive, its long listing to index_file."""
    argv = [tar, "--create", "--file=%s" % archive, "--directory=%s" % root, "--format=posix",
            "--pax-option=delete=atime,delete=ctime", "--sort=name", "--hard-dereference", "--no-unquote",
            "-vv", "--index-file=%s" % index_file] + LISTING_OPTIONS
    if one_file_system:
        argv.append("--one-file-system")
    if xattrs:
        argv += ["--xattrs", "--xattrs-include=*"]
    argv += ["--exclude=%s" % pattern for pattern in exclude]
    return argv + ["--"] + list(rel_paths)


def compress_argv(tools, compressor, level, threads):
    """The compressing stage, or None for compressor none."""
    if compressor == "zstd":
        return [tools.path("zstd"), "-q", "-c", "-T%d" % threads, "-%d" % level]
    if compressor == "gzip":
        return [tools.path("gzip"), "-c", "-n", "-%d" % level]
    return None


def decompress_argv(tools, compressor, archive=None):
    """The stage that writes the plain tar of archive (stdin when None) to stdout, or None (tar reads it directly)."""
    source = ["--", archive] if archive else []
    if compressor == "zstd":
        return [tools.path("zstd"), "-q", "-d", "-c"] + source
    if compressor == "gzip":
        return [tools.path("gzip"), "-d", "-c"] + source
    return None


def reader_stages(tools, compressor, archive, tar_argv, tail=()):
    """[decompressor, tar] or [tar reading the file itself]; archive None reads stdin; tail goes last."""
    first = decompress_argv(tools, compressor, archive)
    if first is None:
        return [tar_argv + ["--file=%s" % (archive or "-")] + list(tail)]
    return [first, tar_argv + ["--file=-"] + list(tail)]


def list_argv(tar, xattrs=False):
    return [tar, "--list", "-v"] + LISTING_OPTIONS + (["--xattrs"] if xattrs else [])


def extract_argv(tar, xattrs=False):
    """tar extracting with numeric owners, modes and times, printing every member as ``tar -tv`` does (-vv)."""
    argv = [tar, "--extract", "-vv", "--same-permissions", "--same-owner", "--no-unquote", "--no-wildcards"]
    argv += LISTING_OPTIONS
    if xattrs:
        argv += ["--xattrs", "--xattrs-include=*"]
    return argv


def extract_members(placements):
    """Names for one tar run: each (directory, rel path) extracts rel's members below directory.

    GNU tar applies a --directory to the names after it; --add-file keeps a
    name that starts with '-' a name. Members of no listed path are skipped.
    """
    tail = []
    for directory, rel in placements:
        tail += ["--directory=%s" % directory, "--add-file=%s" % rel]
    return tail


def stderr_lines(text, limit=5):
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    shown = "; ".join(lines[:limit])
    if len(lines) > limit:
        shown += "; and %d more line(s)" % (len(lines) - limit)
    return shown


def changed_while_read(stderr):
    lowered = (stderr or "").lower()
    return any(marker in lowered for marker in CHANGED_MARKERS)

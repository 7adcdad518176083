#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: path_archive
short_description: Consistent, checksummed archives of directories (Vaulthalla config and state), verified restores
version_added: "0.1.0"
description:
  - Archives a set of directories, by default stored relative to C(/) like C(tar -C / -czf x.tgz etc/vaulthalla
    var/lib/vaulthalla), into one tar file compressed with multithreaded zstd. Hidden entries such as Vaulthalla's
    TPM-sealed key blobs C(.sealed_<name>.blob/) are included like everything else.
  - The archive is a POSIX (pax) tar with numeric owners, modes and modification times, sorted by name, so the
    standard tools restore it, for example C(zstd -dc x.tar.zst | tar -C / -xpf -).
  - The archive (mode 0600) is written under a hidden temporary name, hashed while written (no second read), fsynced
    and published without replacing anything. A manifest C(<archive>.manifest.json) (0600) is published last. It
    records the paths, root, compressor, archive size and SHA-256, and tar's own listing of every member (path,
    type, mode, uid, gid, size, modification time, link target), plus the owner names of the IDs.
  - There is no per-file SHA-256 in the manifest. File contents are covered by the archive's SHA-256 and zstd's
    frame checksum; per-file hashes would need a second read of every byte (see C(bench/path_archive.md) for the
    measured cost).
  - The copy must be one point in time. If tar reports that a file changed, shrank or vanished while it was read,
    the archive is discarded and the task fails. Stop the services writing the paths first (the Vaulthalla role
    does this in a maintenance window).
  - Trees that a restore would refuse are refused when archiving, before anything is published. These are device
    nodes, FIFOs, set-user/group-ID files, and symbolic links that leave their directory. Hard links are stored as
    separate files.
  - O(state=verify) checks the manifest, the archive's size and SHA-256, reads the whole archive with C(zstd -dc |
    tar -tv) and compares every member with the manifest.
  - O(state=restore) checks the manifest and the archive's size first, and refuses unsafe members (absolute names,
    C(..), links leaving their directory, devices). It then reads the archive once. The module hashes it while one
    C(zstd -d | tar -x) extracts every path (numeric owners, modes, times) into a private directory beside its
    target, and tar's listing of that same run is compared with the manifest. Only when the SHA-256, the listing and
    the extracted trees all match does it swap the directories, keeping each current one as
    C(<path>.pre-restore-<UTC time>). Any earlier failure, a checksum mismatch included, removes the private
    directories and changes nothing else. If one swap fails, the swaps already done are rolled back, so a failure
    leaves the host as it was.
author:
  - vaultops.recovery contributors (@vaultops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vaultops.recovery.attributes
attributes:
  check_mode:
    details:
      - O(state=archive) lists what would be captured (paths, member and file counts, bytes, sealed blobs) with the
        same tar command writing to C(/dev/null), which reads no file data, and writes nothing.
      - O(state=restore) verifies the archive completely and reports what would be replaced and the safety copy
        names. Nothing is changed.
options:
  state:
    description:
      - V(archive) writes a new archive of O(paths) and its manifest into O(dest_dir).
      - V(verify) checks the archive O(path) against its manifest. It never changes anything.
      - V(restore) verifies O(path), then replaces every archived directory below O(root) with its archived content.
    type: str
    default: archive
    choices: [archive, verify, restore]
  paths:
    description:
      - Absolute paths of the directories to archive. They must exist and lie below O(root), and none may contain
        another. Required for O(state=archive).
    type: list
    elements: path
  root:
    description:
      - Members are stored relative to this directory, like C(tar -C /).
      - For O(state=archive) the default is C(/). For O(state=restore) the default is the root recorded in the
        manifest. Set it to restore below another directory, for example a mounted disk of a rebuilt host.
    type: path
  dest_dir:
    description: Existing directory for the archive and its manifest, outside O(paths). Required for O(state=archive).
    type: path
  name_pattern:
    description:
      - File name of the archive. C({prefix}) is replaced by O(prefix), then C(strftime) codes by the UTC start time.
      - Defaults to C({prefix}-config-state-%Y%m%d-%H%M%S.tar.zst), or C(.tar.gz) / C(.tar) for the other
        compressors.
    type: str
  prefix:
    description: Replaces C({prefix}) in O(name_pattern). Defaults to the short host name.
    type: str
  compressor:
    description:
      - V(zstd) is fast and multithreaded and is the default.
      - V(gzip) produces what the Vaulthalla backup procedure produces (C(tar -czf)), single-threaded and much slower.
      - V(none) writes a plain tar.
      - O(state=verify) and O(state=restore) read the compressor from the manifest.
    type: str
    default: zstd
    choices: [zstd, gzip, none]
  compress_level:
    description: Compression level, 1-19 for zstd (default 3) or 1-9 for gzip (default 6).
    type: int
  threads:
    description: zstd worker threads (C(zstd -T)). V(0) uses all cores.
    type: int
    default: 0
  exclude:
    description:
      - GNU tar C(--exclude) patterns, matched against the stored names (relative to O(root)) and their trailing
        components, for example C(var/lib/vaulthalla/cache) or C(*.tmp).
    type: list
    elements: str
    default: []
  one_file_system:
    description: Do not descend into other file systems mounted below O(paths) (C(tar --one-file-system)).
    type: bool
    default: false
  xattrs:
    description:
      - Store and restore extended attributes too (C(tar --xattrs)). Vaulthalla does not use them, so the default is
        V(false).
    type: bool
    default: false
  path:
    description: The archive to verify or restore. Required for O(state=verify) and O(state=restore).
    type: path
  manifest:
    description: Manifest of O(path) when it is not C(<path>.manifest.json).
    type: path
  owners:
    description:
      - How restored entries get their owners. V(numeric) uses the archived numeric IDs (C(tar --numeric-owner)).
      - V(by_name) uses this host's IDs for the owner names recorded in the manifest, for example on a rebuilt host
        where the C(vaulthalla) user got another ID. IDs without a name here stay numeric. The result lists every
        remapping.
    type: str
    default: numeric
    choices: [numeric, by_name]
  keep_safety_copy:
    description:
      - Keep each replaced directory as C(<path>.pre-restore-<UTC time>) after a successful restore. With V(false)
        they are deleted once every path has been restored.
    type: bool
    default: true
notes:
  - Run it as root (C(become=true)). Reading every file of the state and restoring owners needs it.
  - Stop Vaulthalla (C(vaulthalla.service), C(vaulthalla-web.service), C(vaulthalla-cli.socket)) around archive and
    restore. This module does not manage services.
  - A restore always replaces the directories (C(changed=true)), even when they look the same. It is a disaster
    recovery action, and equal metadata does not prove equal content.
  - Sockets are not archived. tar skips them and they carry no state.
  - Requires GNU tar, and zstd or gzip for those compressors.
seealso:
  - module: vaultops.recovery.pg_backup
  - module: vaultops.recovery.swtpm_archive
"""

EXAMPLES = r"""
- name: Archive Vaulthalla configuration and state (services stopped by the caller)
  vaultops.recovery.path_archive:
    paths:
      - /etc/vaulthalla
      - /var/lib/vaulthalla
    dest_dir: /var/backups/vaulthalla
  become: true
  register: config_state

- name: Show what would be captured, without writing anything
  vaultops.recovery.path_archive:
    paths: [/etc/vaulthalla, /var/lib/vaulthalla]
    dest_dir: /var/backups/vaulthalla
  check_mode: true
  become: true

- name: Verify a copy fetched from off-site storage
  vaultops.recovery.path_archive:
    state: verify
    path: /var/backups/vaulthalla/vh1-config-state-20261121-101500.tar.zst
  become: true

- name: Restore on a rebuilt host, mapping owners by name
  vaultops.recovery.path_archive:
    state: restore
    path: "{{ config_state.path }}"
    owners: by_name
  become: true
"""

RETURN = r"""
path:
  description: The archive written, verified or restored.
  returned: always
  type: str
  sample: /var/backups/vaulthalla/vh1-config-state-20261121-101500.tar.zst
manifest:
  description: Path of the manifest.
  returned: always
  type: str
  sample: /var/backups/vaulthalla/vh1-config-state-20261121-101500.tar.zst.manifest.json
sha256:
  description: SHA-256 of the archive.
  returned: success, except check mode of O(state=archive)
  type: str
size:
  description: Archive size in bytes.
  returned: success, except check mode of O(state=archive)
  type: int
root:
  description: The directory the paths are relative to.
  returned: always
  type: str
paths:
  description: The absolute paths archived.
  returned: O(state=archive)
  type: list
  elements: str
compressor:
  description: The compressor of the archive.
  returned: always
  type: str
member_count:
  description: Members in the archive (directories, files and symbolic links).
  returned: success
  type: int
file_count:
  description: Regular files in the archive.
  returned: success
  type: int
total_bytes:
  description: Bytes in those files (before compression).
  returned: success
  type: int
sealed_blobs:
  description: Stored paths of the C(.sealed_*.blob) directories (Vaulthalla's TPM-sealed keys) in the archive.
  returned: success
  type: list
  elements: str
  sample: [var/lib/vaulthalla/.sealed_master.blob, var/lib/vaulthalla/.sealed_psql.blob]
removed_stale_partials:
  description:
    - Hidden C(.<name>.<random>.partial) files and directories that killed runs left in O(dest_dir) and this run
      removed before writing (in check mode, the ones it would remove).
    - Only entries no live run holds are removed; a run writing at the same time keeps its partial file locked.
  returned: O(state=archive)
  type: list
  elements: str
  sample: [.itest-config-state-20261121-101500.tar.zst.k3j9x_2a.partial]
archived_from:
  description: Host name, root, paths and completion time recorded in the manifest.
  returned: O(state=verify) and O(state=restore)
  type: dict
targets:
  description:
    - One entry per restored path, with C(path), C(existed), C(members), C(files), C(bytes) and C(safety_copy).
      In check mode, C(safety_copy) is the name the current directory would get.
  returned: O(state=restore)
  type: list
  elements: dict
safety_copies:
  description: Where the replaced directories were moved (empty with O(keep_safety_copy=false)).
  returned: O(state=restore)
  type: list
  elements: str
  sample: [/var/lib/vaulthalla.pre-restore-20261121T101500Z]
owners_remapped:
  description: With O(owners=by_name), the archived IDs mapped to other local IDs, and the number of entries changed.
  returned: O(state=restore), not in check mode
  type: dict
plan:
  description: In check mode, what the task would do.
  returned: check mode
  type: str
duration:
  description: Seconds the task took.
  returned: success
  type: float
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.path_archive import path_archiver, path_restorer, path_verifier
from ansible_collections.vaultops.recovery.plugins.module_utils.common.vaultops_module import run_module
from ansible_collections.vaultops.recovery.plugins.module_utils.path_archive.path_tar import Tools


def argument_spec():
    return dict(
        state=dict(type="str", default="archive", choices=["archive", "verify", "restore"]),
        paths=dict(type="list", elements="path"),
        root=dict(type="path"),
        dest_dir=dict(type="path"),
        name_pattern=dict(type="str"),
        prefix=dict(type="str"),
        compressor=dict(type="str", default="zstd", choices=["zstd", "gzip", "none"]),
        compress_level=dict(type="int"),
        threads=dict(type="int", default=0),
        exclude=dict(type="list", elements="str", default=[]),
        one_file_system=dict(type="bool", default=False),
        xattrs=dict(type="bool", default=False),
        path=dict(type="path"),
        manifest=dict(type="path"),
        owners=dict(type="str", default="numeric", choices=["numeric", "by_name"]),
        keep_safety_copy=dict(type="bool", default=True),
    )


def run_verify(tools, params):
    verified = path_verifier.verify(tools, params["path"], params["manifest"])
    result = dict(changed=False, path=params["path"], root=verified["manifest"]["root"])
    result.update(path_verifier.facts(verified))
    return result


def run(module):
    params = module.params
    tools = Tools(module.get_bin_path)
    if params["state"] == "archive":
        return path_archiver.archive(tools, params, module.check_mode)
    if params["state"] == "verify":
        return run_verify(tools, params)
    return path_restorer.restore(tools, params, module.check_mode)


def main():
    run_module(run, argument_spec(), timed=True,
               required_if=[("state", "archive", ["paths", "dest_dir"]), ("state", "verify", ["path"]),
                            ("state", "restore", ["path"])])


if __name__ == "__main__":
    main()

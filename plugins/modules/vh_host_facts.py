#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: vh_host_facts
short_description: What a Vaulthalla backup or restore needs to know about the host, in one task
version_added: "0.1.0"
description:
  - Reads, in one task, the host facts a Vaulthalla backup or restore decides on, each of which took a task (one
    connection round trip) of its own before.
  - The machine identity, as the SHA-256 of the trimmed C(/etc/machine-id), the digest a recovery set records.
  - The TPM mode, from the TPM devices, the swtpm state directory and the swtpm unit's C(LoadState).
  - The installed package (one C(dpkg-query) call), which paths exist, the SHA-256 of files (a set's
    C(manifest.json), for example), and with O(database) whether the local PostgreSQL has that database.
  - The module changes nothing.
author:
  - vaultops.recovery contributors (@vaultops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vaultops.recovery.attributes
  - vaultops.recovery.attributes.read_only
options:
  machine_id_path:
    description:
      - The machine-id file. A missing, empty, C(uninitialized) or malformed machine-id fails the task.
    type: path
    default: /etc/machine-id
  tpm_devices:
    description:
      - TPM device nodes; any that exists makes RV(tpm_mode) C(hardware).
    type: list
    elements: path
    default: [/dev/tpmrm0, /dev/tpm0]
  swtpm_state_dir:
    description:
      - The software TPM's state directory. Its non-empty regular files are counted in RV(swtpm_state_files).
    type: path
    default: /var/lib/swtpm/vaulthalla
  swtpm_service:
    description:
      - The systemd unit that runs swtpm for Vaulthalla; V('') when none does (no C(systemctl) call is made).
    type: str
    default: vaulthalla-swtpm.service
  package:
    description:
      - The Debian package whose installed version and origin are reported.
    type: str
    default: vaulthalla
  paths:
    description:
      - Paths whose existence is reported in RV(paths). A final symbolic link is not followed.
    type: list
    elements: path
    default: []
  checksum_files:
    description:
      - Files whose SHA-256 is reported in RV(checksums).
    type: list
    elements: path
    default: []
  database:
    description:
      - A database on the local PostgreSQL whose existence is reported in RV(database_exists); V('') skips the
        question.
      - psql connects over the Unix socket to database C(postgres) as O(db_os_user) (peer authentication), and the
        name reaches SQL only as a psql variable, so any name is safe.
      - psql missing, the server down or the connection refused fails the task.
    type: str
    default: ''
  db_os_user:
    description:
      - The OS user psql runs as for O(database). Unless the task already runs as that user, this needs root
        (C(become=true)).
    type: str
    default: postgres
notes:
  - Reading the swtpm state directory, C(/etc/machine-id) on some hosts and files of other users needs
    C(become=true); an unreadable path fails the task instead of being reported as missing.
seealso:
  - module: vaultops.recovery.swtpm_archive
  - module: vaultops.recovery.vh_db_facts
"""

EXAMPLES = r"""
- name: Read what the backup records about the Vaulthalla host
  vaultops.recovery.vh_host_facts:
  become: true
  register: vh_host

- name: Record the TPM mode and the package in the set's manifest
  ansible.builtin.set_fact:
    vaulthalla_tpm_mode: "{{ vh_host.tpm_mode }}"
    vaulthalla_package_source: "{{ vh_host.package_source }}"
    vaulthalla_machine_id_sha256: "{{ vh_host.machine_id_sha256 }}"

- name: Before a restore, what exists on the target and whether its database is there
  vaultops.recovery.vh_host_facts:
    paths: [/etc/vaulthalla, /var/lib/vaulthalla]
    checksum_files: [/var/backups/vaulthalla/vh-20261121T101500Z/manifest.json]
    database: vaulthalla
  become: true
  register: vh_target

- name: Refuse a hardware-TPM set on another machine
  ansible.builtin.fail:
    msg: The set comes from another machine with a hardware TPM.
  when:
    - recorded_manifest.tpm_mode == 'hardware'
    - vh_target.machine_id_sha256 != recorded_manifest.machine_id_sha256

- name: A host where no systemd unit runs swtpm, with the state elsewhere
  vaultops.recovery.vh_host_facts:
    swtpm_service: ''
    swtpm_state_dir: /srv/swtpm/vaulthalla
  become: true
"""

RETURN = r"""
machine_id_sha256:
  description:
    - SHA-256 (hex) of the machine-id's text without surrounding white space, as
      C(slurp | b64decode | trim | hash('sha256')) computes it. The machine-id itself is not returned.
  returned: success
  type: str
  sample: 3f1b6a0e0c5d4f2c9b7e8a6d5c4b3a29181716151413121110f0e0d0c0b0a09
tpm_devices_present:
  description: The entries of O(tpm_devices) that exist.
  returned: success
  type: list
  elements: str
  sample: [/dev/tpmrm0, /dev/tpm0]
tpm_mode:
  description:
    - C(hardware) when a TPM device exists, else C(swtpm) when O(swtpm_state_dir) is a directory or the
      O(swtpm_service) unit is loaded, else C(none).
  returned: success
  type: str
  sample: swtpm
swtpm_unit_loaded:
  description: Whether systemd reports C(LoadState=loaded) for O(swtpm_service); false without the unit or systemd.
  returned: success
  type: bool
  sample: true
swtpm_state_files:
  description:
    - Non-empty regular files anywhere below O(swtpm_state_dir) (symbolic links not followed); 0 when it is absent.
    - What M(vaultops.recovery.swtpm_archive) counts as TPM state; an empty lock file left by a stopped swtpm is not.
  returned: success
  type: int
  sample: 3
package_installed:
  description: Whether dpkg has O(package) installed; false where there is no C(dpkg-query).
  returned: success
  type: bool
  sample: true
package_version:
  description: The installed Debian version (C(${Version})), or an empty string.
  returned: success
  type: str
  sample: "1:1.1.0-2"
package_release:
  description:
    - The upstream release in RV(package_version), epoch, Debian revision and suffixes dropped (C(1:1.1.0-2) and
      C(1.1.0-1vaultopslab1) give C(1.1.0)); the whole version when it starts with no dotted number;
      C(not installed) without the package.
  returned: success
  type: str
  sample: 1.1.0
package_source:
  description:
    - C(${Package} ${Version} ${Maintainer}) of the installed package, or C(not installed from a Debian package).
  returned: success
  type: str
  sample: vaulthalla 1:1.1.0-2 Vaulthalla Maintainers <packages@vaulthalla.example>
paths:
  description: For each of O(paths), whether it exists and whether it is a directory.
  returned: success
  type: dict
  sample: {"/etc/vaulthalla": {"exists": true, "isdir": true}, "/var/lib/vaulthalla": {"exists": false, "isdir": false}}
checksums:
  description: For each of O(checksum_files), the SHA-256 (hex) of the regular file, or null when it is missing or not
    a regular file.
  returned: success
  type: dict
  sample: {"/var/backups/vaulthalla/vh-20261121T101500Z/manifest.json": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
database_exists:
  description: Whether the local PostgreSQL has O(database); null when O(database) is empty.
  returned: success
  type: bool
  sample: true
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla import vh_host_probe
from ansible_collections.vaultops.recovery.plugins.module_utils.common.vaultops_module import run_module


def argument_spec():
    return dict(
        machine_id_path=dict(type="path", default="/etc/machine-id"),
        tpm_devices=dict(type="list", elements="path", default=list(vh_host_probe.DEFAULT_TPM_DEVICES)),
        swtpm_state_dir=dict(type="path", default="/var/lib/swtpm/vaulthalla"),
        swtpm_service=dict(type="str", default="vaulthalla-swtpm.service"),
        package=dict(type="str", default="vaulthalla"),
        paths=dict(type="list", elements="path", default=[]),
        checksum_files=dict(type="list", elements="path", default=[]),
        database=dict(type="str", default=""),
        db_os_user=dict(type="str", default="postgres"),
    )


def run(module):
    facts = vh_host_probe.collect(module.params, lambda name: module.get_bin_path(name, required=False))
    return dict(changed=False, **facts)


def main():
    run_module(run, argument_spec())


if __name__ == "__main__":
    main()

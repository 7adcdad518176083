#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: swtpm_archive
short_description: Archive and restore the software TPM (swtpm) state behind Vaulthalla's sealed keys
version_added: "0.1.0"
description:
  - Archives the swtpm state directory (by default C(/var/lib/swtpm/vaulthalla)) into a tar file of mode 0600,
    or restores such an archive.
  - The state holds the software TPM's secrets, from which the TPM re-derives the keys that unseal Vaulthalla's
    sealed key blobs. Without it those blobs never unseal again; with it, whoever runs the TPM can unseal them.
    Treat archives like key material.
  - The copy is consistent. The swtpm unit (O(service)) is stopped around it and started again afterwards, also
    when the archive or the restore fails; the result says so. Before copying, the module checks that no process
    still holds swtpm's lock on the state, so a wrong O(service) or O(service_stopped) cannot produce a torn copy.
  - The tar keeps numeric owners with their names, modes and modification times, and is readable with
    C(tar -tvzf). A manifest C(<archive>.manifest.json) (0600) records the state directory, the source host name
    and machine identity digest, every file's size, mode, owner and SHA-256 (never contents), and the archive's
    size and SHA-256. The archive is written under a hidden temporary name, hashed while written, fsynced and
    published without replacing anything; the manifest is published last.
  - O(state=restore) verifies everything before it touches the host (manifest, size, SHA-256, every tar member
    against the manifest, no absolute paths, no C(..), no links leaving the directory, no devices), unpacks into a
    private directory beside the state, stops the unit, moves the current state aside as a safety copy
    C(<state_dir>.pre-restore-<UTC time>), moves the restored state in and starts the unit. If the unit does not
    start again, the previous state is put back.
  - Restoring onto a host whose machine identity differs from the archive's (or cannot be proven equal) is
    refused unless O(allow_host_change=true). Then the restore is recorded as a security event in syslog
    (C(auth.warning), tag C(vaultops-recovery)) and as one JSON line in O(recovery_log) before anything changes.
  - A restore onto a state directory that already matches the archive file for file (content, mode, owner)
    changes nothing.
  - The machine identity is recorded as HMAC-SHA256 of the text C(vaultops.recovery swtpm_archive) keyed with
    the machine-id, because machine-id(5) asks not to expose the raw ID. Compute it by hand with
    C(printf %s 'vaultops.recovery swtpm_archive' | openssl dgst -sha256 -hmac "$(cat /etc/machine-id)").
author:
  - vaultops.recovery contributors (@vaultops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vaultops.recovery.attributes
attributes:
  check_mode:
    details:
      - Reports what would be archived or restored, whether the unit would be stopped, the safety copy name, and
        whether a host change (security event) would be involved. Verifies a restore's archive completely.
        Changes nothing.
options:
  state:
    description:
      - V(archive) writes a new archive of O(state_dir) and its manifest into O(dest_dir).
      - V(restore) verifies the archive O(path) and replaces the content of O(state_dir) with it.
    type: str
    default: archive
    choices: [archive, restore]
  tcti:
    description:
      - TCTI of the swtpm the module shuts down in an orderly way (TPM2_Shutdown) before stopping O(service).
    type: str
    default: swtpm:host=127.0.0.1,port=2321
  orderly_shutdown:
    description:
      - Send TPM2_Shutdown through O(tcti) before stopping O(service). Stopping swtpm without it is an unorderly
        shutdown to the TPM; repeated ones (one per backup) lead to dictionary-attack lockout, after which the
        TPM refuses to unseal Vaulthalla's keys. Needs tpm2-tools; without them the module warns.
    type: bool
    default: true
  state_dir:
    description: The swtpm state directory (the C(--tpmstate dir=) of the swtpm unit).
    type: path
    default: /var/lib/swtpm/vaulthalla
  service:
    description:
      - The systemd unit that runs swtpm on O(state_dir). It is stopped (when running) around the copy and started
        again afterwards; a unit that was not running is left stopped.
      - Set to an empty string or V(none) when no unit runs swtpm; the lock check still refuses a running swtpm.
    type: str
    default: vaulthalla-swtpm.service
  service_stopped:
    description:
      - The caller has stopped swtpm already (for example together with C(vaulthalla.service)); the unit is neither
        stopped nor started. The module still refuses to copy while a process holds swtpm's lock on the state.
    type: bool
    default: false
  dest_dir:
    description: Existing directory for the archive and its manifest. Required for O(state=archive).
    type: path
  name_pattern:
    description:
      - File name of the archive. C({hostname}) is replaced by this host's name, C(strftime) codes by the UTC
        start time.
      - Defaults to C({hostname}-swtpm-%Y%m%d-%H%M%S.tar.gz), or C(.tar) with O(compressor=none).
    type: str
  compressor:
    description:
      - V(gzip) is what the Vaulthalla backup procedure uses (C(tar -czf)); V(none) writes a plain tar.
        The state is small, so neither costs noticeable time. A restore reads both.
      - Named like O(vaultops.recovery.pg_backup#module:compressor) and
        O(vaultops.recovery.path_archive#module:compressor); the old name C(compression) still works as an
        alias. The archive's manifest keeps recording the choice as C(compression).
    type: str
    default: gzip
    choices: [gzip, none]
    aliases: [compression]
  path:
    description: The archive to restore. Required for O(state=restore).
    type: path
  manifest:
    description: Manifest of O(path) when it is not C(<path>.manifest.json).
    type: path
  machine_id_path:
    description: The file holding this host's machine-id.
    type: path
    default: /etc/machine-id
  allow_host_change:
    description:
      - Allow restoring an archive taken on another host (or on a host whose identity is unknown). The restore is
        recorded as a security event in syslog and O(recovery_log).
    type: bool
    default: false
  recovery_log:
    description:
      - File that receives one JSON line per security event (created 0600; a wider mode is tightened to 0600).
        Its directory must exist. If the line cannot be written, nothing is restored.
    type: path
    default: /var/log/vaultops-recovery.log
  owners:
    description:
      - How restored files get their owners. V(by_name) uses the archived user and group names when they exist on
        this host (the service user may have another numeric ID on a replacement host) and the numeric IDs
        otherwise; the result lists every remapping. V(numeric) always uses the archived numeric IDs.
    type: str
    default: by_name
    choices: [by_name, numeric]
  keep_safety_copy:
    description:
      - Keep the previous state as C(<state_dir>.pre-restore-<UTC time>) after a successful restore.
        V(false) deletes it once the unit runs again on the restored state.
    type: bool
    default: true
notes:
  - Run it as root (C(become=true)); restoring owners needs it.
  - Restoring the state does not restore Vaulthalla's sealed key blobs in C(/var/lib/vaulthalla); restore both from
    the same point in time.
seealso:
  - module: vaultops.recovery.pg_backup
"""

EXAMPLES = r"""
- name: Archive the software TPM state (the unit is stopped and started around the copy)
  vaultops.recovery.swtpm_archive:
    dest_dir: /var/backups/vaulthalla
  become: true
  register: swtpm_backup

- name: Archive while Vaulthalla and swtpm are already stopped for a coherent recovery set
  vaultops.recovery.swtpm_archive:
    dest_dir: /var/backups/vaulthalla
    service_stopped: true
  become: true

- name: Restore on the same host
  vaultops.recovery.swtpm_archive:
    state: restore
    path: "{{ swtpm_backup.path }}"
  become: true

- name: Restore on a replacement host (a deliberate, recorded security event)
  vaultops.recovery.swtpm_archive:
    state: restore
    path: /var/backups/vaulthalla/vh1-swtpm-20261121-101500.tar.gz
    allow_host_change: true
  become: true
"""

RETURN = r"""
path:
  description: The archive written or restored.
  returned: always
  type: str
  sample: /var/backups/vaulthalla/vh1-swtpm-20261121-101500.tar.gz
manifest:
  description: Path of the manifest.
  returned: always
  type: str
  sample: /var/backups/vaulthalla/vh1-swtpm-20261121-101500.tar.gz.manifest.json
manifest_data:
  description: The manifest written (names, modes, owners, sizes and SHA-256 of the state files; no contents).
  returned: O(state=archive), not in check mode
  type: dict
sha256:
  description: SHA-256 of the archive.
  returned: success, except check mode of O(state=archive)
  type: str
size:
  description: Archive size in bytes.
  returned: success, except check mode of O(state=archive)
  type: int
state_dir:
  description: The state directory archived or restored into.
  returned: always
  type: str
file_count:
  description: Regular files in the state.
  returned: always
  type: int
state_bytes:
  description: Bytes in those files.
  returned: always
  type: int
skipped:
  description: Sockets, FIFOs and devices found in the state directory and not archived (they carry no state).
  returned: O(state=archive)
  type: list
  elements: str
hostname:
  description: This host's name, as recorded in the manifest.
  returned: O(state=archive)
  type: str
machine_id_digest:
  description: This host's machine identity digest (null when /etc/machine-id is unreadable).
  returned: O(state=archive)
  type: str
service:
  description:
    - What happened to the unit. C(state_before) is systemd's ActiveState (or C(not-found)); C(stopped_by_module)
      and C(restarted) say whether the module stopped it and started it again.
  returned: always
  type: dict
  sample: {name: vaulthalla-swtpm.service, managed: true, state_before: active, stopped_by_module: true,
           restarted: true, restart_error: null}
archived_from:
  description: Host name, state directory and time of the archive being restored.
  returned: O(state=restore)
  type: dict
host_change:
  description: Whether the archive comes from another host (or one that cannot be proven to be this host).
  returned: O(state=restore)
  type: bool
identity:
  description: V(same), V(different) or V(unknown) (a machine identity is missing on one side).
  returned: O(state=restore)
  type: str
safety_copy:
  description: Where the previous state was moved (null when there was none, or with O(keep_safety_copy=false)).
  returned: O(state=restore)
  type: str
  sample: /var/lib/swtpm/vaulthalla.pre-restore-20261121T101500Z
security_event:
  description:
    - The security event recorded for a host change (null otherwise), with C(recovery_log) (path, mode) and
      C(syslog) (C(sent), and C(error) when the host has no syslog or no logger).
  returned: O(state=restore)
  type: dict
owners_remapped:
  description: Entries whose owner was mapped by name to numeric IDs other than the archived ones.
  returned: O(state=restore)
  type: list
  elements: dict
plan:
  description: In check mode, what the task would do.
  returned: check mode, when something would change
  type: str
duration:
  description: Seconds the task took.
  returned: when something changed
  type: float
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.swtpm import swtpm_state
from ansible_collections.vaultops.recovery.plugins.module_utils.common.vaultops_module import run_module
from ansible_collections.vaultops.recovery.plugins.module_utils.common.systemd_service import ServiceWindow
from ansible_collections.vaultops.recovery.plugins.module_utils.swtpm.tpm_shutdown import orderly_shutdown


def argument_spec():
    return dict(
        state=dict(type="str", default="archive", choices=["archive", "restore"]),
        state_dir=dict(type="path", default="/var/lib/swtpm/vaulthalla"),
        service=dict(type="str", default="vaulthalla-swtpm.service"),
        service_stopped=dict(type="bool", default=False),
        dest_dir=dict(type="path"),
        name_pattern=dict(type="str"),
        compressor=dict(type="str", default="gzip", choices=["gzip", "none"], aliases=["compression"]),
        path=dict(type="path"),
        manifest=dict(type="path"),
        machine_id_path=dict(type="path", default="/etc/machine-id"),
        allow_host_change=dict(type="bool", default=False),
        recovery_log=dict(type="path", default="/var/log/vaultops-recovery.log"),
        owners=dict(type="str", default="by_name", choices=["by_name", "numeric"]),
        keep_safety_copy=dict(type="bool", default=True),
        tcti=dict(type="str", default="swtpm:host=127.0.0.1,port=2321"),
        orderly_shutdown=dict(type="bool", default=True),
    )


def run(module):
    params = module.params
    unit = params["service"] if (params["service"] or "").strip().lower() not in ("", "none") else None
    before_stop = None
    if params["orderly_shutdown"]:
        def before_stop():
            return orderly_shutdown(params["tcti"], module.get_bin_path)
    service = ServiceWindow(unit, params["service_stopped"], lambda: module.get_bin_path("systemctl"),
                            before_stop=before_stop)
    if params["state"] == "archive":
        result = swtpm_state.archive(params, service, module.check_mode)
    else:
        result = swtpm_state.restore(params, service, module.get_bin_path("logger"), module.check_mode)
    result["warnings"] = result.get("warnings", []) + service.warnings
    return result


def main():
    run_module(run, argument_spec(), required_if=[("state", "archive", ["dest_dir"]), ("state", "restore", ["path"])])


if __name__ == "__main__":
    main()

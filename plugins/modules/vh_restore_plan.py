#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: vh_restore_plan
short_description: Decide a Vaulthalla restore - every safety rule, the plan and the refusals - before anything changes
version_added: "0.1.0"
description:
  - Applies the safety rules of a Vaulthalla restore (role vaultops.recovery.vaulthalla_restore) to a recovery set and
    to the target's facts (from M(vaultops.recovery.vh_host_facts)), and returns the decisions, the plan and the
    refusals. Changes nothing.
  - Runs on the controller (C(delegate_to=localhost)), where the set is - it reads the set's C(manifest.json), its
    SHA-256 (to reuse a byte-identical copy staged on the host) and whether C(manifest.json.asc) exists. The
    cryptographic check of the signature and of every file is M(vaultops.recovery.recovery_set)'s (O(set_dir) is
    not verified here).
  - The rules - a set must be given; a signed set needs O(signed_by), and with O(signed_by) an unsigned set is
    refused; the set needs its database dump and its config and state archive; the target's Vaulthalla release
    must equal the set's or be in O(compatible_versions) unless O(ignore_version_mismatch); a hardware-TPM set never
    moves to another machine; a swtpm set on another machine needs O(allow_host_change); a set lacking its swtpm
    state or a sealed key blob (Vaulthalla would silently make NEW keys) needs O(allow_incomplete_key_chain); a
    database password reseed (O(reseed_db_password)) needs O(db_password_given) or O(gnupg_home).
  - When any rule refuses, the task fails with one message naming every refusal with its Fix, and still returns
    RV(refusals), RV(decisions), RV(plan) and RV(result).
  - Secrets are never inputs; O(db_password_given) only says whether a database password was given.
author:
  - vaultops.recovery contributors (@vaultops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vaultops.recovery.attributes
  - vaultops.recovery.attributes.read_only
options:
  set_dir:
    description:
      - The recovery set directory on the controller (with C(manifest.json)); V('') means no set was given, which
        is refused.
    type: path
    default: ''
  host:
    description:
      - The target's facts, the registered result of M(vaultops.recovery.vh_host_facts) (C(machine_id_sha256),
        C(tpm_devices_present), C(package_release), C(checksums), C(paths), C(swtpm_state_files),
        C(database_exists)).
      - C(checksums) should hold the SHA-256 of C(<staging_dir>/<set name>/manifest.json) for the staged copy to
        be reused.
    type: dict
    required: true
  target_host:
    description: How messages and the result name the target (its inventory name).
    type: str
    required: true
  compatible_versions:
    description: Target Vaulthalla releases accepted besides the set's own.
    type: list
    elements: str
    default: []
  ignore_version_mismatch:
    description: Restore across versions anyway; RV(decisions.version_mismatch_overridden) says it happened.
    type: bool
    default: false
  allow_host_change:
    description: Allow a swtpm set taken on another machine (a replacement host).
    type: bool
    default: false
  allow_incomplete_key_chain:
    description: Allow a set that lacks its swtpm state or a sealed key blob (drills proving the hazard).
    type: bool
    default: false
  reseed_db_password:
    description:
      - V(always) reseeds the database password; V(auto) when the target is another machine, O(db_login_host) is
        set or O(db_password_given); V(never) does not.
    type: str
    choices: [auto, always, never]
    default: auto
  db_password_given:
    description: Whether a database password to reseed was given (the password itself is never an input).
    type: bool
    default: false
  gnupg_home:
    description: The controller GnuPG home that decrypts the secret export (the other source of the password).
    type: path
    default: ''
  signed_by:
    description:
      - Fingerprint that must have signed the set. Required when the set is signed; when set, an unsigned set is
        refused.
    type: str
    default: ''
  staging_dir:
    description: Host directory for the staged set and the safety copy.
    type: path
    default: /var/backups/vaultops
  keep_staging:
    description: Keep the staged copy of the set on the host after the restore (RV(decisions.remove_stage)).
    type: bool
    default: false
  safety_copy:
    description: Whether a safety copy is taken (shown in the plan).
    type: bool
    default: true
  services:
    description: Units stopped and started, in order (shown in the plan).
    type: list
    elements: str
    default: []
  paths:
    description: Directories replaced from the set's config and state archive.
    type: list
    elements: path
    default: []
  swtpm_state_dir:
    description: The swtpm state directory (shown in the plan).
    type: path
    default: /var/lib/swtpm/vaulthalla
  db_name:
    description: The database restored into (shown in the plan).
    type: str
    default: vaulthalla
  db_login_host:
    description: Remote PostgreSQL server; V('') for the local one.
    type: str
    default: ''
  timestamp:
    description:
      - UTC time (C(%Y%m%dT%H%M%SZ)) naming the safety copy; the controller's current time when omitted.
    type: str
notes:
  - Check mode runs the module unchanged; RV(decisions.checksums_on_controller) is then always true (nothing is
    staged, so the controller's copy is hashed).
seealso:
  - module: vaultops.recovery.vh_host_facts
  - module: vaultops.recovery.recovery_set
"""

EXAMPLES = r"""
- name: Read the target
  vaultops.recovery.vh_host_facts:
    paths: [/etc/vaulthalla, /var/lib/vaulthalla]
    checksum_files: [/var/backups/vaultops/vh1-20261121T101500Z/manifest.json]
    database: vaulthalla
  become: true
  register: target

- name: Decide the restore (fails with every refusal and its Fix)
  vaultops.recovery.vh_restore_plan:
    set_dir: recovery-sets/vh1-20261121T101500Z
    host: "{{ target }}"
    target_host: "{{ inventory_hostname }}"
    paths: [/etc/vaulthalla, /var/lib/vaulthalla]
    allow_host_change: true
    db_password_given: "{{ restore_db_password | length > 0 }}"
    gnupg_home: ~/.gnupg-recovery
    signed_by: 0123456789ABCDEF0123456789ABCDEF01234567
  delegate_to: localhost
  register: restore_plan

- name: Show it
  ansible.builtin.debug:
    msg: "{{ restore_plan.plan }}"
"""

RETURN = r"""
decisions:
  description:
    - What the restore decided; empty when no set was given.
  returned: always
  type: dict
  contains:
    set_dir:
      description: The set directory.
      type: str
    set_name:
      description: Its name (the directory's base name).
      type: str
    same_host:
      description: Whether the target's machine-id digest is the set's.
      type: bool
    host_changed:
      description: The opposite of same_host.
      type: bool
    set_version:
      description: The set's Vaulthalla release, or C(unknown).
      type: str
      sample: 1.1.0
    target_version:
      description: The target's release (vh_host_facts package_release).
      type: str
    version_ok:
      description: Same release, or one of O(compatible_versions).
      type: bool
    version_mismatch_overridden:
      description: The restore goes ahead across versions (O(ignore_version_mismatch)).
      type: bool
    set_tpm:
      description: The set's TPM mode (C(hardware), C(swtpm) or C(unknown)).
      type: str
    target_tpm:
      description: C(hardware) when the target has a TPM device, else C(swtpm).
      type: str
    key_chain_gaps:
      description: What the set lacks of the key chain, in words; empty for a complete set.
      type: list
      elements: str
      sample: ["sealed key blob vault_master"]
    reseed:
      description: Whether the database password is reseeded.
      type: bool
    signed_set:
      description: Whether C(manifest.json.asc) exists.
      type: bool
    stage_reused:
      description: Whether the host's staged copy has the controller's C(manifest.json) byte for byte.
      type: bool
    checksums_on_controller:
      description: Whether recovery_set verify must hash every file on the controller.
      type: bool
    stage_dir:
      description: The host directory the restore reads the artifacts from.
      type: str
    stage_files:
      description: What is copied into stage_dir when the host's copy is not reused (artifacts and their manifests).
      type: list
      elements: str
    remove_stage:
      description: Whether stage_dir is removed after the restore (a copy the restore made and O(keep_staging) false).
      type: bool
    timestamp:
      description: UTC time naming the safety copy.
      type: str
    safety_dir:
      description: The safety copy directory.
      type: str
    safety_copy_dir:
      description: safety_dir when O(safety_copy), else V('').
      type: str
    db_artifact:
      description: The set's pg_dump artifact.
      type: str
    state_artifact:
      description: The set's config and state archive.
      type: str
    swtpm_artifact:
      description: The set's swtpm state archive, or V('').
      type: str
    s3_artifacts:
      description: The set's S3/R2 bucket copies.
      type: list
      elements: str
    secrets_artifact:
      description: The set's GPG secret export, or V('').
      type: str
    s3_vault_buckets:
      description: The set's S3/R2 vault names and buckets.
      type: dict
    sync_vaults:
      description: The S3/R2 vaults checked after the start.
      type: list
      elements: str
    known_files:
      description: The set's known files, read back after the start.
      type: list
      elements: dict
    existing_paths:
      description: The paths of O(paths) that exist on the target.
      type: list
      elements: str
    absent_paths:
      description: The paths of O(paths) that do not exist on the target (a rollback removes them).
      type: list
      elements: str
    had_swtpm:
      description: Whether the target has swtpm state files.
      type: bool
    had_db:
      description: Whether the target has the database (always with O(db_login_host)).
      type: bool
refusals:
  description: Every rule that refuses the restore; empty when it may go ahead.
  returned: always
  type: list
  elements: dict
  contains:
    rule:
      description: The rule's name.
      type: str
      sample: version_mismatch
    message:
      description: What is wrong, that nothing was changed, and the Fix.
      type: str
    fix:
      description: The Fix alone.
      type: str
plan:
  description: The plan the role shows (what stops, what is replaced from what, in which order, what is checked).
  returned: always
  type: dict
result:
  description:
    - The role's result as planned (C(status) V(planned), set, recovery point, hosts, versions, key chain gaps,
      reseed); empty when no set was given.
  returned: always
  type: dict"""

import os
import time

from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import sha256_file
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.vaultops_module import run_module
from ansible_collections.vaultops.recovery.plugins.module_utils.recovery_set import recovery_set
from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla import restore_plan


def argument_spec():
    return dict(
        set_dir=dict(type="path", default=""),
        host=dict(type="dict", required=True),
        target_host=dict(type="str", required=True),
        compatible_versions=dict(type="list", elements="str", default=[]),
        ignore_version_mismatch=dict(type="bool", default=False),
        allow_host_change=dict(type="bool", default=False),
        allow_incomplete_key_chain=dict(type="bool", default=False),
        reseed_db_password=dict(type="str", default="auto", choices=["auto", "always", "never"], no_log=False),
        db_password_given=dict(type="bool", default=False, no_log=False),
        gnupg_home=dict(type="path", default=""),
        signed_by=dict(type="str", default=""),
        staging_dir=dict(type="path", default="/var/backups/vaultops"),
        keep_staging=dict(type="bool", default=False),
        safety_copy=dict(type="bool", default=True),
        services=dict(type="list", elements="str", default=[]),
        paths=dict(type="list", elements="path", default=[]),
        swtpm_state_dir=dict(type="path", default="/var/lib/swtpm/vaulthalla"),
        db_name=dict(type="str", default="vaulthalla"),
        db_login_host=dict(type="str", default=""),
        timestamp=dict(type="str"),
    )


def read_set(set_dir):
    """What the plan needs from the controller's copy of the set: (manifest, artifacts, its SHA-256, signed?)."""
    if not set_dir:
        return {}, [], None, False
    manifest = recovery_set.load_set_manifest(set_dir)
    path = os.path.join(set_dir, recovery_set.SET_MANIFEST)
    return manifest, manifest.get("artifacts") or [], sha256_file(path)[0], os.path.exists(path + ".asc")


def decide(module):
    p = module.params
    manifest, artifacts, digest, signed = read_set(p["set_dir"])
    options = dict((name, p[name]) for name in argument_spec() if name not in ("host",))
    options.update(controller_manifest_sha256=digest, signature_present=signed, check_mode=module.check_mode,
                   timestamp=p["timestamp"] or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    planned = restore_plan.plan_restore(manifest, p["host"], artifacts, options)
    if planned["refusals"]:
        raise RecoveryError(restore_plan.refusal_message(planned["refusals"]), changed=False, **planned)
    return dict(changed=False, **planned)


def main():
    run_module(decide, argument_spec())


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: vh_check
short_description: Prove that a Vaulthalla host serves - status healthy, S3/R2 vaults in sync, known files readable
version_added: "0.1.0"
description:
  - "Waits until the first line of C(vh status) says C(vh status: healthy) (vh exits 0 for C(degraded) too), then
    runs C(vh vault sync info) for each vault in O(sync_vaults) and reads each file in O(files) back through the
    vault's key chain, hashing it on the way. The content is never returned."
  - Reading a file is what proves a restore. When a sealed key blob or the TPM state is missing, Vaulthalla
    starts with new keys and says healthy; only the read fails.
  - Each probe is a named check (C(vh_status), C(sync_info_<vault>), C(file_<vault>:<path>) or the file's O(files[].label)).
    With O(fail_on_failed_check=true) (the default) the task fails naming the failed checks; with V(false) it returns
    them, for a drill report.
  - The module changes nothing.
author:
  - vaultops.recovery contributors (@vaultops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vaultops.recovery.attributes
  - vaultops.recovery.attributes.read_only
options:
  status:
    description:
      - Wait for C(vh status) to say healthy before the other checks. A host that is not healthy before
        O(timeout) fails the C(vh_status) check and the other checks are not run.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for a healthy status.
    type: int
    default: 120
  interval:
    description:
      - Seconds between two C(vh status) calls while waiting.
    type: float
    default: 1.0
  sync_vaults:
    description:
      - Names (or ids) of the S3/R2 vaults to run C(vh vault sync info) for.
    type: list
    elements: str
    default: []
  require_in_sync:
    description:
      - Fail a C(sync_info_<vault>) check when its C(State) is not C(in sync). With V(false) only an unreachable
        bucket fails it.
    type: bool
    default: true
  files:
    description:
      - Files to read back. With O(files[].sha256) the content must hash to it (the digest recorded at backup).
    type: list
    elements: dict
    default: []
    suboptions:
      vault:
        description: Vault name.
        type: str
        required: true
      path:
        description: Path of the file inside the vault, such as C(/docs/readme.txt).
        type: str
        required: true
      sha256:
        description: Expected SHA-256 (hex) of the content.
        type: str
      size:
        description: Expected size in bytes of the content.
        type: int
      label:
        description: Name of the check in the result (default C(file_<vault>:<path>)).
        type: str
  reader:
    description:
      - How files are read. V(fuse) opens them under O(fuse_mount), the product's FUSE mount.
      - V(vh_cat) runs C(vh vault cat <vault> <path>), which the vaultops lab's Vaulthalla stand-in offers (the lab
        has no FUSE); the real vh has no such command.
    type: str
    choices: [fuse, vh_cat]
    default: fuse
  fuse_mount:
    description:
      - Where the Vaulthalla FUSE file system is mounted; a vault's files are under C(<fuse_mount>/<vault>/).
    type: path
    default: /mnt/vaulthalla
  vh_path:
    description:
      - The vh executable (name on C(PATH) or absolute path).
    type: str
    default: vh
  fail_on_failed_check:
    description:
      - Fail the task when any check fails. V(false) returns the checks for a report.
    type: bool
    default: true
notes:
  - Run it as root or as a user that may use C(/run/vaulthalla/cli.sock) (C(become=true)).
"""

EXAMPLES = r"""
- name: Wait for the restored host, check both S3 vaults and read a known file in each vault
  vaultops.recovery.vh_check:
    timeout: 180
    sync_vaults: [s3-media, s3-secure]
    files:
      - {vault: local-docs, path: /docs/readme.txt, sha256: "{{ recorded_sha256 }}"}
      - {vault: s3-secure, path: /ledger/2026.csv}
  become: true

- name: Collect the checks for a drill report instead of failing
  vaultops.recovery.vh_check:
    files: "{{ known_files }}"
    reader: vh_cat
    fail_on_failed_check: false
  register: vh_checks
"""

RETURN = r"""
checks:
  description: One entry per probe, in order.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: Check name., type: str, sample: file_local-docs}
    passed: {description: Whether it passed., type: bool}
    detail: {description: What was seen (never file content)., type: str}
passed:
  description: Whether every check passed.
  returned: always
  type: bool
failed_checks:
  description: Names of the checks that failed.
  returned: always
  type: list
  elements: str
waited_seconds:
  description: Seconds until C(vh status) said healthy (or until the timeout).
  returned: when O(status=true)
  type: float
sync:
  description: The C(Label -> value) fields of C(vh vault sync info), per vault.
  returned: always
  type: dict
  sample: {s3-media: {State: in sync, Bucket: vh-media, Remote objects: 12 (4096 bytes)}}
files:
  description: Per file read, its vault, path, whether it was readable and the SHA-256 and size of its content.
  returned: always
  type: list
  elements: dict
known_files:
  description:
    - The files that were read, as C({vault, path, sha256, size}), in the shape of O(files), to be recorded (for
      example in a recovery set's manifest) and passed back to O(files) later.
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla import vh_checker
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.vaultops_module import run_module
from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla.vh_cli import find_vh


def argument_spec():
    return dict(
        status=dict(type="bool", default=True),
        timeout=dict(type="int", default=120),
        interval=dict(type="float", default=1.0),
        sync_vaults=dict(type="list", elements="str", default=[]),
        require_in_sync=dict(type="bool", default=True),
        files=dict(type="list", elements="dict", default=[], options=dict(
            vault=dict(type="str", required=True),
            path=dict(type="str", required=True),
            sha256=dict(type="str"),
            size=dict(type="int"),
            label=dict(type="str"),
        )),
        reader=dict(type="str", choices=["fuse", "vh_cat"], default="fuse"),
        fuse_mount=dict(type="path", default="/mnt/vaulthalla"),
        vh_path=dict(type="str", default="vh"),
        fail_on_failed_check=dict(type="bool", default=True),
    )


def run(module):
    vh = find_vh(module.params["vh_path"], lambda name: module.get_bin_path(name, required=False))
    checks, facts = vh_checker.run_checks(module.params, vh)
    failed = [check["name"] for check in checks if not check["passed"]]
    result = dict(changed=False, checks=checks, passed=not failed, failed_checks=failed,
                  sync=facts.get("sync", {}), files=facts.get("files", []),
                  known_files=[dict((key, found[key]) for key in ("vault", "path", "sha256", "size"))
                               for found in facts.get("files", []) if found["readable"]])
    if "waited_seconds" in facts:
        result["waited_seconds"] = facts["waited_seconds"]
    if failed and module.params["fail_on_failed_check"]:
        details = "; ".join("%s: %s" % (check["name"], check["detail"]) for check in checks if not check["passed"])
        raise RecoveryError("Vaulthalla check failed: %s" % details, **result)
    return result


def main():
    run_module(run, argument_spec())


if __name__ == "__main__":
    main()

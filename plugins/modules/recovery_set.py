#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: recovery_set
short_description: Seal a recovery set with manifest.json, or verify a set before it is trusted
version_added: "0.1.0"
description:
  - A recovery set is one directory holding the artifacts of one backup (database dump, config and state
    archive, swtpm archive, GPG-encrypted exports, bucket copies, version record), each with the
    C(<artifact>.manifest.json) the module that made it wrote last.
  - O(state=seal) checks that every required kind of artifact is present, lists every file of the set with its
    size and SHA-256 (reusing the checksums computed while the artifacts were written), adds the facts the
    Vaulthalla procedure says to document for each set (O(metadata)), and publishes C(manifest.json) last.
    A set without C(manifest.json) is incomplete. With O(sign_with), C(manifest.json.asc) is a detached
    OpenPGP signature over it.
  - O(state=verify) re-hashes every file against C(manifest.json) (and checks the signature when O(signed_by)
    is given). Use it on the controller after fetching a set, and before any restore.
author:
  - vaultops.recovery contributors (@vaultops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: O(state=seal) reports the artifacts it would seal; O(state=verify) runs, since it only reads.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  state:
    description: Seal a set directory, or verify a sealed one.
    type: str
    default: verify
    choices: [seal, verify]
  set_dir:
    description: The recovery set directory.
    type: path
    required: true
  required_kinds:
    description:
      - Artifact kinds that must be present for O(state=seal), for example V(pg_dump), V(path_archive),
        V(swtpm_state), V(vh_export), V(s3_bucket_copy). A missing kind fails the seal.
    type: list
    elements: str
    default: []
  metadata:
    description:
      - Facts recorded at the top level of C(manifest.json), such as the Vaulthalla version, package source,
        PostgreSQL server version, TPM mode, GPG recipient fingerprints, timestamps and consistency mode.
      - Never put secrets here.
    type: dict
    default: {}
  incomplete_reason:
    description:
      - Seal the set but mark it C(complete=false) with this reason, so a partial set is kept for inspection
        but refused by O(state=verify) and by restores.
    type: str
  require_complete:
    description: For O(state=verify), refuse a set marked incomplete.
    type: bool
    default: true
  sign_with:
    description: Fingerprint of a key in O(gnupg_home) that signs C(manifest.json) (O(state=seal)).
    type: str
  signed_by:
    description: Fingerprint whose detached signature C(manifest.json.asc) must be valid (O(state=verify)).
    type: str
  gnupg_home:
    description: GnuPG home directory for signing or verifying.
    type: path
"""

EXAMPLES = r"""
- name: Seal the set once every artifact is written
  vaultops.recovery.recovery_set:
    state: seal
    set_dir: /var/backups/vaultops/vh1-20261121T101500Z
    required_kinds: [pg_dump, path_archive, vh_export]
    metadata:
      vaulthalla_version: Vaulthalla v1.1.0
      tpm_mode: swtpm
      gpg_recipients: [0123456789ABCDEF0123456789ABCDEF01234567]
      consistency: maintenance-window

- name: Verify the fetched copy on the controller
  vaultops.recovery.recovery_set:
    state: verify
    set_dir: /srv/recovery-sets/vh1-20261121T101500Z
  delegate_to: localhost
"""

RETURN = r"""
set_dir:
  description: The set directory.
  returned: always
  type: str
manifest:
  description: Path of manifest.json.
  returned: always
  type: str
artifacts:
  description: The artifacts of the set, each with name, kind, size and sha256.
  returned: success
  type: list
  elements: dict
file_count:
  description: Files listed in manifest.json.
  returned: success
  type: int
total_bytes:
  description: Bytes in the set.
  returned: success
  type: int
complete:
  description: Whether the set is marked complete.
  returned: success
  type: bool
signature:
  description: Path of the detached signature, when one was written or verified.
  returned: when signed
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vaultops.recovery.plugins.module_utils import recovery_set
from ansible_collections.vaultops.recovery.plugins.module_utils.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.gpg_signature import sign_detached, verify_detached


def summary(set_dir, document):
    return dict(set_dir=set_dir, manifest=os.path.join(set_dir, recovery_set.SET_MANIFEST),
                artifacts=document["artifacts"], file_count=len(document["files"]),
                total_bytes=document["total_bytes"], complete=document.get("complete", False))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", default="verify", choices=["seal", "verify"]),
            set_dir=dict(type="path", required=True),
            required_kinds=dict(type="list", elements="str", default=[]),
            metadata=dict(type="dict", default={}),
            incomplete_reason=dict(type="str"),
            require_complete=dict(type="bool", default=True),
            sign_with=dict(type="str"),
            signed_by=dict(type="str"),
            gnupg_home=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    set_dir = p["set_dir"]
    try:
        if p["state"] == "seal":
            if module.check_mode:
                artifacts = recovery_set.read_artifact_manifests(set_dir) if os.path.isdir(set_dir) else {}
                module.exit_json(changed=True, set_dir=set_dir,
                                 manifest=os.path.join(set_dir, recovery_set.SET_MANIFEST),
                                 artifacts=[{"name": name, "kind": recovery_set.artifact_kind(m)}
                                            for name, m in sorted(artifacts.items())])
            document = recovery_set.seal(set_dir, p["metadata"], p["required_kinds"], p["incomplete_reason"])
            result = dict(changed=True, **summary(set_dir, document))
            if p["sign_with"]:
                result["signature"] = sign_detached(module.get_bin_path("gpg", required=True), p["gnupg_home"],
                                                    p["sign_with"], result["manifest"])
        else:
            document = recovery_set.verify(set_dir, p["require_complete"])
            result = dict(changed=False, **summary(set_dir, document))
            if p["signed_by"]:
                verify_detached(module.get_bin_path("gpg", required=True), p["gnupg_home"], p["signed_by"],
                                result["manifest"])
                result["signature"] = result["manifest"] + ".asc"
    except RecoveryError as exc:
        module.fail_json(msg=str(exc), set_dir=set_dir)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

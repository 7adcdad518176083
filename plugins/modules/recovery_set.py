#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: recovery_set
short_description: Seal a recovery set with manifest.json, verify it, or keep it in an S3/R2 bucket
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
    is given; a set without its signature is then refused, see O(require_signature)). Use it on the controller after fetching a set, and before any restore.
  - O(state=upload) verifies a sealed set (and its signature when O(signed_by) is given), then uploads every file
    that C(manifest.json) lists, C(manifest.json.asc) when present, and C(manifest.json) last to
    C(s3://<bucket>/<prefix><set name>/<relative path>). Each upload carries the file's SHA-256 from the manifest
    (C(x-amz-checksum-sha256)), so the service refuses other bytes, and the metadata C(vaultops-sha256). A set
    without C(manifest.json) in the bucket is incomplete; running again resumes it. Objects already stored with
    the same SHA-256 are not uploaded again (V(changed=false) when nothing was missing); a different set stored
    under the same name is refused.
  - O(state=download) fetches C(s3://<bucket>/<prefix><set name>/) into the new directory O(set_dir) (0700
    directories, 0600 files) - C(manifest.json) first (and its signature, checked before anything else when
    O(signed_by) is given), then every file it lists, streamed to a temporary file, checked against the
    manifest's SHA-256 and renamed. The set is built in a hidden C(.<name>.*.partial) directory beside O(set_dir),
    verified like O(state=verify), and renamed only then, so a missing or mismatching object leaves nothing behind.
    When O(set_dir) already holds the same set, it is verified and nothing is downloaded.
author:
  - vaultops.recovery contributors (@vaultops)
extends_documentation_fragment:
  - vaultops.recovery.aws_connection
  - vaultops.recovery.s3_connection
  - ansible.builtin.action_common_attributes
  - vaultops.recovery.attributes
attributes:
  check_mode:
    details:
      - O(state=seal) reports the artifacts it would seal; O(state=verify) runs, since it only reads.
      - O(state=upload) verifies the set, lists the bucket and reports what it would upload (RV(uploaded),
        RV(upload_bytes)); O(state=download) reads C(manifest.json) from the bucket, checks that every object is
        there and reports what it would download (RV(downloaded), RV(download_bytes)). Neither writes anything.
options:
  state:
    description: Seal a set directory, verify a sealed one, upload a sealed one to O(bucket), or download one from it.
    type: str
    default: verify
    choices: [seal, verify, upload, download]
  set_dir:
    description:
      - The recovery set directory. Required, except for O(state=download) with O(dest_dir).
      - For O(state=download), a directory that does not exist yet (its parent must); it is created with mode 0700.
    type: path
  dest_dir:
    description:
      - For O(state=download), instead of O(set_dir) - an existing directory in which the set is downloaded to
        C(<dest_dir>/<set_name>) (RV(set_dir)). Needs O(set_name).
    type: path
  bucket:
    description: Backup bucket that keeps recovery sets. Required for O(state=upload) and O(state=download).
    type: str
  prefix:
    description:
      - Put before the set's name in O(bucket); include the trailing slash, for example V(recovery-sets/vh1/).
    type: str
    default: ""
  set_name:
    description:
      - Name of the set in O(bucket). Defaults to the last component of O(set_dir).
    type: str
  part_size:
    description:
      - Files larger than this many bytes are uploaded in multipart uploads with parts of this size (at least 5 MiB).
        One part is held in memory at a time.
    type: int
    default: 33554432
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
  checksums:
    description:
      - For O(state=verify), hash every file against C(manifest.json). V(false) checks completeness, sizes and
        the signature only; meant for a controller copy that is not the one restored, when a copy with a
        byte-identical C(manifest.json) is verified with checksums where it is used (as the vaulthalla_restore
        role does with a set already on the host).
    type: bool
    default: true
  require_complete:
    description: For O(state=verify), O(state=upload) and O(state=download), refuse a set marked incomplete.
    type: bool
    default: true
  sign_with:
    description: Fingerprint of a key in O(gnupg_home) that signs C(manifest.json) (O(state=seal)).
    type: str
  signed_by:
    description:
      - Fingerprint whose detached signature C(manifest.json.asc) must be valid (O(state=verify), O(state=upload),
        O(state=download)).
      - Giving it also makes the signature required (see O(require_signature)).
    type: str
  require_signature:
    description:
      - Refuse a set without C(manifest.json.asc) (O(state=verify), O(state=upload), O(state=download)). Once sets
        are signed they must stay signed; removing the signature must not make a changed set pass as an unsigned
        one, and the manifest cannot say "I am signed" in a way whoever edits it could not change.
      - Unset (the default) means V(true) whenever O(signed_by) is given, else V(false).
      - V(false) with O(signed_by) accepts an unsigned set on purpose (one taken before signing was configured);
        a signature that is present is still checked. V(true) without O(signed_by) is an error.
      - A set with a signature but no O(signed_by) passes with a warning that the signature was not checked.
    type: bool
  gnupg_home:
    description: GnuPG home directory for signing or verifying.
    type: path
notes:
  - O(state=upload) and O(state=download) transfer one file at a time. An interrupted upload leaves the objects
    it uploaded but no C(manifest.json), so the set is incomplete in the bucket until a run completes it.
  - Objects under the set's prefix that the set does not list are left alone and reported (RV(extra_objects)).
  - O(state=upload) decides what is already stored from the size and the C(vaultops-sha256) metadata S3 returns
    for each object, without reading the bodies back; only O(state=download) (or a restore, which downloads)
    proves every stored byte against C(manifest.json).
  - Only O(state=upload) and O(state=download) need boto3.
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

- name: Keep the set in the R2 backup bucket
  vaultops.recovery.recovery_set:
    state: upload
    set_dir: /srv/recovery-sets/vh1-20261121T101500Z
    bucket: vaulthalla-recovery-sets
    prefix: vh1/
    endpoint_url: https://0123456789abcdef.r2.cloudflarestorage.com
    region: auto
    access_key: "{{ backup_bucket_access_key }}"
    secret_key: "{{ backup_bucket_secret_key }}"
  delegate_to: localhost

- name: Fetch a set from the backup bucket for a restore, checking its signer
  vaultops.recovery.recovery_set:
    state: download
    set_dir: /srv/restore/vh1-20261121T101500Z
    bucket: vaulthalla-recovery-sets
    prefix: vh1/
    signed_by: 0123456789ABCDEF0123456789ABCDEF01234567
    gnupg_home: /root/.gnupg
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
checksums_verified:
  description: Whether O(state=verify) hashed every file (O(checksums)), or checked completeness and sizes only.
  returned: when O(state=verify)
  type: bool
signature:
  description: Path of the detached signature, when one was written or verified.
  returned: when signed
  type: str
location:
  description: Where the set is kept in the bucket.
  returned: O(state=upload) and O(state=download)
  type: str
  sample: s3://vaulthalla-recovery-sets/vh1/vh1-20261121T101500Z/
set_name:
  description: Name of the set in the bucket.
  returned: O(state=upload) and O(state=download)
  type: str
uploaded:
  description: Files uploaded (or, in check mode, that would be), relative to the set, C(manifest.json) last.
  returned: O(state=upload)
  type: list
  elements: str
upload_bytes:
  description: Bytes in RV(uploaded).
  returned: O(state=upload)
  type: int
already_stored:
  description: Files that were already stored with the same size and SHA-256 and were not uploaded again.
  returned: O(state=upload)
  type: int
extra_objects:
  description: Objects under the set's prefix that are not part of the set (left alone).
  returned: O(state=upload)
  type: list
  elements: str
downloaded:
  description: Files downloaded (or, in check mode, that would be), relative to the set; empty when O(set_dir)
    already held the set.
  returned: O(state=download)
  type: list
  elements: str
download_bytes:
  description: Bytes in RV(downloaded).
  returned: O(state=download)
  type: int
duration:
  description: Seconds the upload or download took.
  returned: O(state=upload) and O(state=download)
  type: float
"""

import os

from ansible_collections.vaultops.recovery.plugins.module_utils.recovery_set import recovery_set, recovery_set_bucket
from ansible_collections.vaultops.recovery.plugins.module_utils.openpgp.gpg_signature import (
    UNCHECKED, VERIFY, sign_detached, signature_policy, verify_detached)
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_connection import (
    BOTO3_IMPORT_ERROR, HAS_BOTO3, MIN_PART_SIZE, S3Connection, connection_argument_spec)
from ansible_collections.vaultops.recovery.plugins.module_utils.common.vaultops_module import run_module


def summary(set_dir, document):
    return dict(set_dir=set_dir, manifest=os.path.join(set_dir, recovery_set.SET_MANIFEST),
                artifacts=document["artifacts"], file_count=len(document["files"]),
                total_bytes=document["total_bytes"], complete=document.get("complete", False))


def argument_spec():
    spec = connection_argument_spec()
    spec.update(
        state=dict(type="str", default="verify", choices=["seal", "verify", "upload", "download"]),
        set_dir=dict(type="path"),
        dest_dir=dict(type="path"),
        bucket=dict(type="str"),
        prefix=dict(type="str", default=""),
        set_name=dict(type="str"),
        part_size=dict(type="int", default=32 * 1024 * 1024),
        required_kinds=dict(type="list", elements="str", default=[]),
        metadata=dict(type="dict", default={}),
        incomplete_reason=dict(type="str"),
        checksums=dict(type="bool", default=True),
        require_complete=dict(type="bool", default=True),
        sign_with=dict(type="str"),
        signed_by=dict(type="str"),
        require_signature=dict(type="bool"),
        gnupg_home=dict(type="path"),
    )
    return spec


def signature_check(module):
    """A callable that applies the signature policy to manifest.json; returns the result's signature fact.

    present: whether manifest.json.asc exists, for a caller that has not written the files yet (check mode);
    where: how messages name the set (default: manifest.json's directory).
    """
    p = module.params

    def check(manifest_path, present=None, where=None):
        signature = manifest_path + ".asc"
        action = signature_policy(p["signed_by"], p["require_signature"],
                                  os.path.exists(signature) if present is None else present,
                                  where or os.path.dirname(manifest_path))
        if action == UNCHECKED:
            module.warn("%s exists but signed_by is not set, so the signature was not checked." % signature)
        if action != VERIFY:
            return {}
        if present is None:
            verify_detached(module.get_bin_path("gpg", required=True), p["gnupg_home"], p["signed_by"],
                            manifest_path)
        return dict(signature=signature)
    return check


def seal(module):
    p = module.params
    set_dir = p["set_dir"]
    if module.check_mode:
        artifacts = recovery_set.read_artifact_manifests(set_dir) if os.path.isdir(set_dir) else {}
        return dict(changed=True, set_dir=set_dir, manifest=os.path.join(set_dir, recovery_set.SET_MANIFEST),
                    artifacts=[{"name": name, "kind": recovery_set.artifact_kind(m)}
                               for name, m in sorted(artifacts.items())])
    document = recovery_set.seal(set_dir, p["metadata"], p["required_kinds"], p["incomplete_reason"])
    result = dict(changed=True, **summary(set_dir, document))
    if p["sign_with"]:
        result["signature"] = sign_detached(module.get_bin_path("gpg", required=True), p["gnupg_home"],
                                            p["sign_with"], result["manifest"])
    return result


def verify(module):
    set_dir = module.params["set_dir"]
    document = recovery_set.verify(set_dir, module.params["require_complete"], module.params["checksums"])
    result = dict(changed=False, checksums_verified=module.params["checksums"], **summary(set_dir, document))
    result.update(signature_check(module)(result["manifest"]))
    return result


def transfer(module):
    """state=upload or state=download: a set between set_dir and the bucket."""
    p = module.params
    set_dir = p["set_dir"]
    name = recovery_set_bucket.set_name_for(set_dir, p["set_name"])
    target = recovery_set_bucket.BucketSet(S3Connection(p), p["bucket"], p["prefix"], name)
    if p["state"] == "upload":
        document = recovery_set.verify(set_dir, p["require_complete"])
        signature_check(module)(os.path.join(set_dir, recovery_set.SET_MANIFEST))
        facts = recovery_set_bucket.upload(target, set_dir, document, p["part_size"], module.check_mode)
        if facts["extra_objects"]:
            module.warn("%d objects under %s are not part of the set and were left alone: %s" % (
                len(facts["extra_objects"]), facts["location"], ", ".join(facts["extra_objects"][:10])))
    else:
        facts, document = recovery_set_bucket.download(target, set_dir, p["require_complete"],
                                                       signature_check(module), module.check_mode)
    result = dict(summary(set_dir, document), set_name=name, **facts)
    signature = result["manifest"] + ".asc"
    if p["signed_by"] and (os.path.exists(signature) or recovery_set_bucket.SIGNATURE in facts["downloaded"]):
        result["signature"] = signature  # proven before the upload, or on the downloaded manifest before the rename
    return result


HANDLERS = dict(seal=seal, verify=verify, upload=transfer, download=transfer)


def run(module):
    p = module.params
    if p["state"] in ("upload", "download"):
        module.require_library("boto3", HAS_BOTO3, BOTO3_IMPORT_ERROR)
        if p["part_size"] < MIN_PART_SIZE:
            module.fail_json(msg="part_size must be at least %d (5 MiB), the smallest part S3 accepts." % MIN_PART_SIZE)
    if p["dest_dir"]:
        p["set_dir"] = os.path.join(p["dest_dir"], recovery_set_bucket.set_name_for(p["dest_dir"], p["set_name"]))
    return HANDLERS[p["state"]](module)


def main():
    run_module(run, argument_spec(),
               timed=lambda module: module.params["state"] in ("upload", "download"),
               failure_facts=lambda module: dict(set_dir=module.params["set_dir"]),
               required_if=[("state", "seal", ["set_dir"]), ("state", "verify", ["set_dir"]),
                            ("state", "upload", ["set_dir", "bucket"]), ("state", "download", ["bucket"]),
                            ("state", "download", ["set_dir", "dest_dir"], True)],
               mutually_exclusive=[("set_dir", "dest_dir")],
               required_by={"dest_dir": "set_name"})


if __name__ == "__main__":
    main()

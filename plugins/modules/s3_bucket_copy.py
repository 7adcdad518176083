#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: s3_bucket_copy
short_description: Copy every object version of an S3/R2 bucket with per-object checksums, verify and restore it
version_added: "0.1.0"
description:
  - Copies every object version (or only the current objects) of a bucket, such as the bucket of a Vaulthalla S3/R2
    vault, to a new directory or to another bucket. With upstream encryption the bodies are AES-256-GCM ciphertext;
    they are copied byte for byte and need the vault key and the database metadata to be read, so back those up too.
  - Each body is streamed (never held in memory), its SHA-256 computed on the way, its size checked against what the
    service announced and its MD5 against the ETag when the ETag is an MD5 (single-part uploads, and multipart
    uploads whose part sizes the service reports). A mismatch fails the copy.
  - B(Directory copy) (O(dest_dir)) - a new directory C(<name_pattern>) (0700) with the bodies as files (0600) under
    C(objects/<xx>/<sha256 of key and version id>), because keys may contain any character and are never used as
    paths, and C(index.json). The directory is built under a hidden C(.<name>.*.partial) name and renamed when
    complete; the manifest C(<name>.manifest.json) (0600) beside it is written last.
  - B(Bucket copy) (O(dest_bucket)) - every version becomes a version of C(<dest_prefix><key>), uploaded oldest
    first with the source's content type, user metadata, headers and tags, plus the metadata C(vaultops-sha256) and
    C(vaultops-source-version-id). Uploads carry their SHA-256 (C(x-amz-checksum-sha256)) so the destination proves
    what it received. The index and manifest are C(<dest_prefix>.vaultops-s3-copy/<name>/index.json) and
    C(<dest_prefix>.vaultops-s3-copy/<name>.manifest.json), the manifest written last.
  - The index lists the bucket, endpoint, versioning status and every version (key, version id, latest or not, last
    modified, size, ETag, SHA-256, where it is stored, content type, metadata, headers, tags) and every delete
    marker (recorded, not copied), grouped by key and oldest first; with counts and total bytes. The manifest
    records the index's size and SHA-256 and the counts.
  - A copy that fails (unreachable endpoint, wrong credentials, a body that does not match) removes what it wrote
    and writes no manifest, so nothing incomplete ever looks complete.
  - O(state=verify) re-reads a copy and checks the manifest, the index against it and every body's size and SHA-256.
    A copy directory holds regular files only - a symbolic link (to a file or to a directory on the way), a FIFO,
    a device or a directory where a body or C(index.json) belongs fails verification, and nothing is read through
    it, even when the index was edited to match what it points to.
    It changes nothing.
  - O(state=restore) verifies a copy completely, then replays it into O(bucket) (the original bucket or a
    replacement, for example at another O(endpoint_url)) - every key's versions oldest first, delete markers
    recreated - so the latest version of every key is the one that was latest when the copy was taken.
    The target must be empty under the copy's prefix and, for older versions and delete markers, versioned.
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
      - O(state=copy) lists the bucket and reports what it would copy (counts and bytes) and where; it writes nothing.
      - O(state=restore) verifies the copy and checks the target, then reports what it would restore.
options:
  state:
    description:
      - V(copy) takes a new copy of O(bucket) into O(dest_dir) or O(dest_bucket).
      - V(verify) checks an existing copy, named by O(path), or by O(dest_bucket), O(dest_prefix) and O(copy_name).
      - V(restore) verifies a copy (named as for V(verify)) and puts it back into O(bucket).
    type: str
    default: copy
    choices: [copy, verify, restore]
  bucket:
    description:
      - The bucket to copy (O(state=copy)) or to restore into (O(state=restore)). Required for both.
    type: str
  prefix:
    description:
      - Copy only keys that begin with this prefix.
    type: str
    default: ""
  versions:
    description:
      - V(all) copies every version and records every delete marker. A bucket whose versioning was never enabled
        (or a service without versions, such as R2) holds only current objects; they are copied and a warning says so.
        A destination bucket must have versioning enabled.
      - V(latest) copies only the current version of every key that is not deleted.
      - For O(state=restore), V(latest) restores only the current objects of a copy (into a bucket without versioning,
        for example).
    type: str
    default: all
    choices: [all, latest]
  dest_dir:
    description:
      - Existing directory in which a new copy directory is made (O(state=copy)). Mutually exclusive with O(dest_bucket).
    type: path
  name_pattern:
    description:
      - Name of the copy (the directory, or the index's folder in O(dest_bucket)). C({bucket}) is replaced by O(bucket),
        C(strftime) codes by the UTC start time.
    type: str
    default: "{bucket}-s3-%Y%m%d-%H%M%S"
  dest_bucket:
    description:
      - Bucket that receives the copy (O(state=copy)), or that holds the copy to verify or restore.
    type: str
  dest_prefix:
    description:
      - Prefix put before every key in O(dest_bucket), and before the C(.vaultops-s3-copy/) folder of indexes.
    type: str
    default: ""
  dest_endpoint_url:
    description: S3 API URL of O(dest_bucket). Defaults to O(endpoint_url).
    type: str
  dest_region:
    description: Region of O(dest_bucket). Defaults to O(region).
    type: str
  dest_access_key:
    description:
      - Access key ID for O(dest_bucket). When none of O(dest_access_key), O(dest_secret_key),
        O(dest_session_token) and O(dest_profile) is set, the source's credentials (O(access_key) and so on, or the
        default chain) are used for the destination too.
    type: str
  dest_secret_key:
    description: Secret access key of O(dest_access_key). It never appears in any output.
    type: str
  dest_session_token:
    description: Session token for O(dest_bucket). It never appears in any output.
    type: str
  dest_profile:
    description: Named AWS profile for O(dest_bucket).
    type: str
  path:
    description: A copy directory to verify or restore from (the RV(path) a copy returned).
    type: path
  manifest:
    description: Manifest of O(path) when it is not C(<path>.manifest.json).
    type: path
  copy_name:
    description: Name of a copy in O(dest_bucket) to verify or restore from (the RV(copy_name) a copy returned).
    type: str
  concurrency:
    description:
      - Keys copied, verified or restored at the same time (the versions of one key are always handled in order).
    type: int
    default: 4
  part_size:
    description:
      - Uploads (to O(dest_bucket), or restores) larger than this many bytes use multipart uploads with parts of this
        size (at least 5 MiB; larger when an object would need more than 10000 parts). One part per running key is
        held in memory.
    type: int
    default: 33554432
  create_bucket:
    description:
      - For O(state=restore), create O(bucket) (with versioning enabled) when it does not exist, as on a replacement
        S3 endpoint.
    type: bool
    default: false
  if_not_empty:
    description:
      - For O(state=restore), what to do when O(bucket) already holds objects under the copy's prefix. V(fail)
        refuses (a restore never merges). V(skip) leaves the bucket as it is and reports C(changed=false) with
        RV(skipped_reason), for restores that fill only missing or empty buckets (the bucket outlived the host).
    type: str
    choices: [fail, skip]
    default: fail
  tmp_dir:
    description:
      - Directory for scratch copies of single bodies on their way between buckets (unnamed files, 0600, removed
        at once). It needs room for the largest object times O(concurrency). Defaults to the system's temporary
        directory.
    type: path
notes:
  - A copy is a point-in-time listing; versions created while it runs are not in it. Every version copied is
    immutable and read by its version id, so each one is consistent.
  - Archived objects (Glacier, Deep Archive) cannot be read until they are restored in S3; the copy fails naming
    them.
  - S3 lists versions and delete markers separately; their order within a key comes from LastModified, and the
    entry S3 marks latest always comes last. Versions and delete markers of one key written within the same
    timestamp tick may therefore be replayed in another order among themselves; the current state never differs.
  - The bucket copy keeps the source's version ids only in the index and the C(vaultops-source-version-id) metadata;
    S3 gives every uploaded version a new id. The same holds for a restore.
  - Object ACLs, object lock settings, the storage class and per-object server-side encryption settings are not
    copied; the destination's (or restore target's) bucket defaults apply. The bodies are copied as stored, so
    Vaulthalla's upstream-encrypted ciphertext stays ciphertext.
  - The index is built in memory (a few hundred bytes per version), which suits vault buckets up to millions of
    versions.
  - Verifying a copy directory (O(state=verify) with O(path)) does not need boto3.
seealso:
  - module: vaultops.recovery.pg_backup
  - module: vaultops.recovery.swtpm_archive
"""

EXAMPLES = r"""
- name: Copy every version of a vault's R2 bucket into a new directory
  vaultops.recovery.s3_bucket_copy:
    bucket: vaulthalla-vault-docs
    endpoint_url: https://0123456789abcdef.r2.cloudflarestorage.com
    region: auto
    access_key: "{{ r2_access_key }}"
    secret_key: "{{ r2_secret_key }}"
    dest_dir: /var/backups/vaulthalla/s3
  register: vault_bucket_copy

- name: Prove the copy is intact (every object's SHA-256)
  vaultops.recovery.s3_bucket_copy:
    state: verify
    path: "{{ vault_bucket_copy.path }}"

- name: Copy an AWS bucket into a versioned backup bucket in another account, credentials from the host's profile
  vaultops.recovery.s3_bucket_copy:
    bucket: vaulthalla-vault-media
    region: eu-central-1
    dest_bucket: backup-vaulthalla
    dest_prefix: media/
    dest_profile: backup-account
  register: replica

- name: Restore the copy into a replacement (empty, versioned) bucket
  vaultops.recovery.s3_bucket_copy:
    state: restore
    path: /var/backups/vaulthalla/s3/vaulthalla-vault-docs-s3-20261121-101500
    bucket: vaulthalla-vault-docs-restored
    endpoint_url: https://0123456789abcdef.r2.cloudflarestorage.com
    region: auto
    versions: latest
"""

RETURN = r"""
copy_name:
  description: Name of the copy (the directory name, or the index folder in the destination bucket).
  returned: always
  type: str
  sample: vaulthalla-vault-docs-s3-20261121-101500
path:
  description: The copy directory written, verified or restored from.
  returned: with O(dest_dir) or O(path)
  type: str
  sample: /var/backups/vaulthalla/s3/vaulthalla-vault-docs-s3-20261121-101500
manifest:
  description: The manifest's path, or its key in O(dest_bucket).
  returned: always
  type: str
index:
  description: The index's name in the copy directory, or its key in O(dest_bucket).
  returned: O(state=copy), not in check mode
  type: str
manifest_data:
  description: The manifest (source, destination, counts, the index's size and SHA-256). No object data, no secrets.
  returned: success, except check mode of O(state=copy) and O(state=restore)
  type: dict
source:
  description: Bucket, endpoint, region, prefix, versioning status and the listing used (C(versions) or C(objects)).
  returned: O(state=copy) and O(state=verify)
  type: dict
destination:
  description: Where the copy is (C(type) directory with C(path), or bucket with C(bucket), C(endpoint), C(prefix) and
    the index and manifest keys).
  returned: O(state=copy) and O(state=verify)
  type: dict
versions:
  description: V(all) or V(latest).
  returned: always
  type: str
object_count:
  description: Object versions copied, verified or restored.
  returned: always
  type: int
delete_marker_count:
  description: Delete markers recorded (or recreated by a restore).
  returned: always
  type: int
key_count:
  description: Distinct keys.
  returned: always
  type: int
total_bytes:
  description: Bytes in the object versions.
  returned: always
  type: int
etag_unchecked:
  description: Versions whose ETag is not an MD5 (SSE-KMS, SSE-C, no part sizes reported); only size and SHA-256 apply.
  returned: O(state=copy), not in check mode
  type: int
verified:
  description: Whether every check passed (a failed check fails the task).
  returned: O(state=verify)
  type: bool
bucket:
  description: The bucket restored into.
  returned: O(state=restore)
  type: str
endpoint:
  description: The endpoint of the bucket restored into.
  returned: O(state=restore)
  type: str
versioning:
  description: Versioning status of the bucket restored into.
  returned: O(state=restore)
  type: str
created_bucket:
  description: Whether O(create_bucket) created the bucket.
  returned: O(state=restore)
  type: bool
skipped_reason:
  description: Why nothing was restored (O(if_not_empty=skip) and the bucket holds objects).
  returned: O(state=restore) when skipped
  type: str
restored:
  description: Versions put back plus delete markers recreated.
  returned: O(state=restore), not in check mode
  type: int
restored_from:
  description: The copy restored from.
  returned: O(state=restore)
  type: str
copied_from:
  description: The source the copy was taken from (bucket, endpoint, prefix, versioning).
  returned: O(state=restore)
  type: dict
plan:
  description: In check mode, what the task would do.
  returned: check mode of O(state=copy) and O(state=restore)
  type: str
duration:
  description: Seconds the task took.
  returned: success
  type: float
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.s3 import s3_copy, s3_restore
from ansible_collections.vaultops.recovery.plugins.module_utils.s3.s3_connection import (
    BOTO3_IMPORT_ERROR, HAS_BOTO3, MIN_PART_SIZE, connection_argument_spec)
from ansible_collections.vaultops.recovery.plugins.module_utils.common.vaultops_module import run_module


def argument_spec():
    spec = connection_argument_spec()
    spec.update(connection_argument_spec("dest_"))
    spec.update(
        state=dict(type="str", default="copy", choices=["copy", "verify", "restore"]),
        bucket=dict(type="str"),
        prefix=dict(type="str", default=""),
        versions=dict(type="str", default="all", choices=["all", "latest"]),
        dest_dir=dict(type="path"),
        name_pattern=dict(type="str", default=s3_copy.DEFAULT_PATTERN),
        dest_bucket=dict(type="str"),
        dest_prefix=dict(type="str", default=""),
        path=dict(type="path"),
        manifest=dict(type="path"),
        copy_name=dict(type="str"),
        concurrency=dict(type="int", default=4),
        part_size=dict(type="int", default=32 * 1024 * 1024),
        tmp_dir=dict(type="path"),
        create_bucket=dict(type="bool", default=False),
        if_not_empty=dict(type="str", default="fail", choices=["fail", "skip"]),
    )
    return spec


def check_params(params):
    """Combinations AnsibleModule cannot express; returns an error message or None."""
    if params["state"] != "copy" and params["dest_bucket"] and not params["copy_name"]:
        return "dest_bucket needs copy_name to name the copy to %s." % params["state"]
    if not 1 <= params["concurrency"] <= 64:
        return "concurrency must be between 1 and 64."
    if params["part_size"] < MIN_PART_SIZE:
        return "part_size must be at least %d (5 MiB), the smallest part S3 accepts." % MIN_PART_SIZE
    return None


def run(module):
    params = module.params
    if not (params["state"] == "verify" and params["path"]):
        module.require_library("boto3", HAS_BOTO3, BOTO3_IMPORT_ERROR)
    problem = check_params(params)
    if problem:
        module.fail_json(msg=problem)
    if params["state"] == "copy":
        return s3_copy.copy(params, module.check_mode)
    if params["state"] == "verify":
        return s3_copy.verify(params)
    return s3_restore.restore(params, module.check_mode)


def main():
    run_module(run, argument_spec(), timed=True,
               required_if=[("state", "copy", ["bucket"]), ("state", "restore", ["bucket"]),
                            ("state", "copy", ["dest_dir", "dest_bucket"], True),
                            ("state", "verify", ["path", "dest_bucket"], True),
                            ("state", "restore", ["path", "dest_bucket"], True)],
               mutually_exclusive=[("dest_dir", "dest_bucket"), ("path", "dest_bucket")])


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: vh_export
short_description: Export Vaulthalla's vault keys and internal secrets GPG-encrypted, and prove the encryption
version_added: "0.1.0"
description:
  - Runs C(vh vault keys export all) and C(vh secret export all) with C(--recipient) and C(--output), the portable
    recovery material of a Vaulthalla recovery set, and records C(vh version).
  - Before vh runs, every recipient is checked in the GnuPG keyring of O(vh_user), because the export runs inside
    the Vaulthalla daemon as that user and encrypts with that keyring only. A recipient that is missing there,
    expired, revoked, disabled, or has no usable encryption key or subkey is refused with its own message and fix;
    nothing is exported then.
  - Each export is then proven without decrypting it - C(gpg --list-packets --list-only) with an empty home
    directory (no secret key, so nothing can be decrypted) must show exactly one encrypted message whose
    public-key session key packets go to exactly the requested recipients (one packet per recipient, no other key,
    no passphrase, no hidden recipient) and no data outside the encryption. A plaintext export (what vh writes
    without C(--recipient)) is refused as such. The module never reads decrypted content.
  - vh (through the daemon) writes into a private hand-off directory owned by O(vh_user) (0700, removed afterwards).
    Each file is streamed from there into a hidden temporary file in O(dest_dir) (mode 0600, owned by the task user,
    SHA-256 computed on the way); the proof is run on that copy, which O(vh_user) cannot change.
  - Only when every export is proven are the files published (atomically, never replacing a file), each followed
    by C(<file>.manifest.json) (0600, kind C(vh_export)) recording the export, the recipients' fingerprints and the
    key IDs the message is encrypted to, the vh version, size, SHA-256 and times. C(<name_prefix>-version.txt)
    (the output of C(vh version)) and its manifest come last. Any failure publishes nothing.
  - "Files: C(<name_prefix>-vault-keys.json.gpg), C(<name_prefix>-secrets.json.gpg), C(<name_prefix>-version.txt),
    as in the Vaulthalla backup procedure."
  - Every run is a new export, so the task always reports C(changed). Existing target files are refused, never
    overwritten; use a new O(dest_dir) (for example one per recovery set) or O(name_prefix) per run.
author:
  - vaultops.recovery contributors (@vaultops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vaultops.recovery.attributes
attributes:
  check_mode:
    details:
      - Checks the recipients, that vh exists and that C(vh version) and C(vh status) answer (both read-only), and
        reports the files it would write. Exports and writes nothing.
options:
  recipients:
    description:
      - Full 40-hex-digit fingerprints of the OpenPGP keys the exports are encrypted to. Spaces and a C(0x) prefix are
        ignored; short key IDs and user IDs are refused because they can match the wrong key.
      - Pass the primary key's fingerprint; gpg picks its encryption subkey.
      - The documented vh takes one C(--recipient). Several fingerprints are passed as repeated C(--recipient)
        options; if this vh does not encrypt to all of them the proof fails and nothing is published.
    type: list
    elements: str
    required: true
  exports:
    description: What to export. V(vault_keys) is C(vh vault keys export all), V(secrets) is C(vh secret export all).
    type: list
    elements: str
    choices: [vault_keys, secrets]
    default: [vault_keys, secrets]
  dest_dir:
    description:
      - Existing directory the files and manifests are published into, written by the task user (root). O(vh_user)
        needs no access to it.
    type: path
    required: true
  name_prefix:
    description: Start of the file names, C(<name_prefix>-vault-keys.json.gpg) and so on.
    type: str
    default: vaulthalla
  vh_path:
    description: The vh executable, a name looked up on C(PATH) or an absolute path.
    type: str
    default: vh
  vh_user:
    description:
      - The user the Vaulthalla daemon runs as. It owns the keyring the export encrypts with and writes the export
        files. The recipient checks run gpg as this user, so its trust database and lock files stay its own.
    type: str
    default: vaulthalla
  gnupg_home:
    description: The GnuPG home of O(vh_user) the daemon encrypts with. Defaults to C(<home of vh_user>/.gnupg).
    type: path
  work_dir:
    description:
      - Existing directory in which a private hand-off directory (owned by O(vh_user), 0700) is made for vh's output
        and removed after the task. Defaults to the system temporary directory.
      - The daemon writes there, so it must see the same directory as the task. If the daemon's unit has
        C(PrivateTmp=yes) or restricts writable paths, point this at a directory it can write, for example
        C(/var/lib/vaulthalla).
    type: path
notes:
  - Run it as root (C(become=true)), like the procedure's C(sudo vh ...); only a super-admin may export.
  - Needs C(gpg) on the host. The recipient's public key must be imported into the keyring of O(vh_user), for
    example C(sudo -u vaulthalla gpg --import recovery-key.asc); its secret key belongs offline, not on this host.
  - Nothing secret is returned or logged - vh's standard output is never echoed, errors quote its standard error.
requirements:
  - gpg (GnuPG 2.2 or later) on the managed host
seealso:
  - module: vaultops.recovery.pg_backup
  - module: vaultops.recovery.swtpm_archive
  - module: vaultops.recovery.recovery_set
"""

EXAMPLES = r"""
- name: Export vault keys and internal secrets for the recovery key, with the vh version
  vaultops.recovery.vh_export:
    recipients:
      - 3AA5 C344 71A5 4F0B 9E2D  8F0C 1A2B 3C4D 5E6F 7081
    dest_dir: /var/backups/vaulthalla/set-20261121
  become: true
  register: vh_exports

- name: Only the vault keys, written through a hand-off directory the sandboxed daemon can reach
  vaultops.recovery.vh_export:
    recipients: ["{{ vaulthalla_backup_recipient }}"]
    exports: [vault_keys]
    dest_dir: /var/backups/vaulthalla/keys-only
    work_dir: /var/lib/vaulthalla
  become: true

- name: Check the recipient and that the daemon answers, without exporting
  vaultops.recovery.vh_export:
    recipients: ["{{ vaulthalla_backup_recipient }}"]
    dest_dir: /var/backups/vaulthalla/set-20261121
  check_mode: true
  become: true
"""

RETURN = r"""
vh_version:
  description: First line of C(vh version).
  returned: success
  type: str
  sample: Vaulthalla v1.1.0
artifacts:
  description:
    - The published files, each with C(kind) (V(vault_keys), V(secrets) or V(version)), C(path), C(manifest),
      C(sha256), C(size), C(recipients) (fingerprints) and C(key_ids) (the key IDs the message is encrypted to;
      empty for the version record).
  returned: success, not in check mode
  type: list
  elements: dict
  sample:
    - kind: vault_keys
      path: /var/backups/vaulthalla/set-20261121/vaulthalla-vault-keys.json.gpg
      manifest: /var/backups/vaulthalla/set-20261121/vaulthalla-vault-keys.json.gpg.manifest.json
      sha256: 5f2b0c1e0e6f3b6a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b
      size: 1342
      recipients: [3AA5C34471A54F0B9E2D8F0C1A2B3C4D5E6F7081]
      key_ids: [9E2D8F0C1A2B3C4D]
recipients:
  description: The recipients' fingerprints as used (normalised).
  returned: always
  type: list
  elements: str
recipient_keys:
  description:
    - Each recipient key as found in the keyring of O(vh_user) - C(fingerprint), C(uid), C(encryption_key_ids)
      (usable encryption key IDs) and C(expires) (seconds since the epoch, null when it does not expire).
  returned: success
  type: list
  elements: dict
exports:
  description: The exports run (or that would run), in order.
  returned: success
  type: list
  elements: str
vh_user:
  description: The daemon user whose keyring was used.
  returned: success
  type: str
gnupg_home:
  description: The keyring's GnuPG home.
  returned: success
  type: str
dest_dir:
  description: Where the files were (or would be) published.
  returned: success
  type: str
work_dir:
  description: The private hand-off directory vh wrote into; it no longer exists.
  returned: success, not in check mode
  type: str
vh_status:
  description: First line of C(vh status).
  returned: check mode
  type: str
  sample: "vh status: healthy"
would_write:
  description: The files a real run would publish (each with its manifest).
  returned: check mode
  type: list
  elements: str
plan:
  description: What the task would do.
  returned: check mode
  type: str
duration:
  description: Seconds the task took.
  returned: success, not in check mode
  type: float
problem:
  description:
    - On failure, what was wrong, for example V(missing), V(expired), V(revoked), V(not_encryption_capable),
      V(keyring_unreadable), V(plaintext), V(extra_recipient), V(missing_recipient), V(vh_missing),
      V(daemon_down), V(vh_failed), V(target_exists), V(work_dir_unreachable).
  returned: failure
  type: str
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla import vh_exporter
from ansible_collections.vaultops.recovery.plugins.module_utils.common.vaultops_module import run_module


def argument_spec():
    return dict(
        recipients=dict(type="list", elements="str", required=True),
        exports=dict(type="list", elements="str", choices=["vault_keys", "secrets"],
                     default=["vault_keys", "secrets"]),
        dest_dir=dict(type="path", required=True),
        name_prefix=dict(type="str", default="vaulthalla"),
        vh_path=dict(type="str", default="vh"),
        vh_user=dict(type="str", default="vaulthalla"),
        gnupg_home=dict(type="path"),
        work_dir=dict(type="path"),
    )


def run(module):
    return vh_exporter.export(module.params, module.check_mode, lambda name: module.get_bin_path(name, required=False))


def main():
    run_module(run, argument_spec())


if __name__ == "__main__":
    main()

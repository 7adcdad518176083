#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: vh_export_read
short_description: Read a GPG-encrypted Vaulthalla vault-key or secret export without exposing the keys
version_added: "0.1.0"
description:
  - Decrypts a C(vh vault keys export) or C(vh secret export) file (as written by
    M(vaultops.recovery.vh_export)) with the recovery key in O(gnupg_home), in memory only (no plaintext on disk).
  - For a vault keys export it returns, per vault, the SHA-256 of the key, never the key. With O(compare_with)
    (for example a fresh export from a restored host) it proves the restored host uses the exported keys, vault
    by vault.
  - For a secret export it returns the secret names; O(reveal) returns one secret's value, for example the
    database password to reseed a restored host's hand-off file. The task must then use C(no_log=true); the
    module refuses to reveal otherwise. The registered result still holds the value, so every later task that
    uses it (such as the one writing the hand-off file) needs C(no_log=true) too.
  - Runs on the controller (use C(delegate_to=localhost) in a play against Vaulthalla hosts). Needs C(gpg).
  - The passphrase goes to gpg on its standard input, never on a command line. gpg-agent may cache it for its
    cache time, like any gpg use of that GnuPG home.
author:
  - vaultops.recovery contributors (@vaultops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vaultops.recovery.attributes
  - vaultops.recovery.attributes.read_only
options:
  path:
    description: The encrypted export (armored or binary OpenPGP message).
    type: path
    required: true
  gnupg_home:
    description: GnuPG home directory holding the secret key of the export's recipient (the recovery key).
    type: path
    required: true
  passphrase:
    description: Passphrase of that secret key, when it has one. Never logged, never on a command line.
    type: str
  kind:
    description:
      - What O(path) must be. V(auto) accepts either and reports which in RV(kind).
    type: str
    default: auto
    choices: [auto, vault_keys, secrets]
  compare_with:
    description:
      - Another vault keys export (encrypted to a key in the same O(gnupg_home)), such as a fresh export from
        the restored host. Each vault (matched by name) is reported V(equal), V(differs) (key or vault id),
        V(missing) (only in O(path)) or V(extra) (only in O(compare_with)).
      - Only for vault keys exports.
    type: path
  fail_on_mismatch:
    description: With O(compare_with), fail unless every vault is V(equal). With V(false), return the result.
    type: bool
    default: true
  reveal:
    description:
      - Name of a secret in a secret export (V(db-password) or V(jwt-secret)) whose value to return in RV(secret).
      - The task must use C(no_log=true).
    type: str
"""

EXAMPLES = r"""
- name: Digests of the vault keys in a recovery set (never the keys)
  vaultops.recovery.vh_export_read:
    path: /srv/recovery-sets/vh1-20261121T101500Z/vaulthalla-vault-keys.json.asc
    gnupg_home: /root/.gnupg-recovery
    passphrase: "{{ recovery_key_passphrase }}"
  delegate_to: localhost
  register: set_keys

- name: Prove the restored host uses the exported vault keys
  vaultops.recovery.vh_export_read:
    path: /srv/recovery-sets/vh1-20261121T101500Z/vaulthalla-vault-keys.json.asc
    compare_with: /srv/drills/vh-drill-1/vault-keys-after-restore.json.asc
    gnupg_home: /root/.gnupg-recovery
    passphrase: "{{ recovery_key_passphrase }}"
    fail_on_mismatch: false
  delegate_to: localhost
  register: key_check

- name: Database password for the restored host's hand-off file
  vaultops.recovery.vh_export_read:
    path: /srv/recovery-sets/vh1-20261121T101500Z/vaulthalla-secrets.json.asc
    gnupg_home: /root/.gnupg-recovery
    passphrase: "{{ recovery_key_passphrase }}"
    reveal: db-password
  delegate_to: localhost
  register: db_secret
  no_log: true
"""

RETURN = r"""
path:
  description: The export that was read.
  returned: always
  type: str
kind:
  description: V(vault_keys) or V(secrets).
  returned: success
  type: str
encrypted_to:
  description: Key IDs the export is encrypted to.
  returned: success
  type: list
  elements: str
decryption_key:
  description: Fingerprint of the primary key whose secret key decrypted the export.
  returned: success
  type: str
keys:
  description: For a vault keys export, one entry per vault, sorted by vault name; the key itself is never returned.
  returned: when kind is vault_keys
  type: list
  elements: dict
  contains:
    vault_id:
      description: Vault id.
      type: int
    vault_name:
      description: Vault name.
      type: str
    key_sha256:
      description: SHA-256 (hex) of the raw vault key.
      type: str
    key_version:
      description: Key version from key_info.
      type: int
secret_names:
  description: For a secret export, the names of the secrets in it.
  returned: when kind is secrets
  type: list
  elements: str
secret:
  description: The value of the secret named in O(reveal).
  returned: when reveal is set
  type: str
compare_keys:
  description: The key digests of O(compare_with), same shape as RV(keys).
  returned: when compare_with is set
  type: list
  elements: dict
match:
  description: Whether every vault in both exports is equal (and neither has a vault the other lacks).
  returned: when compare_with is set
  type: bool
comparison:
  description: Per vault, V(vault_name), V(vault_id), V(state) (equal, differs, missing, extra) and V(detail).
  returned: when compare_with is set
  type: list
  elements: dict
detail:
  description: One line summing up the comparison, for a drill report.
  returned: when compare_with is set
  type: str
  sample: "s3-secure differs (key differs); local-docs missing (not in the compared export)"
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla import vh_export_reader as reader
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.vaultops_module import run_module


def read(module, gpg, path, kind):
    """(kind, entries, facts) of one export; every key and secret in it is masked from the task's output."""
    p = module.params
    text, facts = reader.decrypt(gpg, p["gnupg_home"], path, p["passphrase"])
    kind, entries = reader.parse_export(text, path, kind)
    hidden = reader.sensitive_values(kind, entries)
    if p["reveal"] and kind == "secrets":
        # The one asked for stays readable in the result (the task is no_log); every other one is masked.
        hidden = reader.sensitive_values(kind, [entry for entry in entries if entry["name"] != p["reveal"]])
    module.no_log_values.update(hidden)
    return kind, entries, facts


def run(module):
    p = module.params
    if p["reveal"] and not module.no_log:
        raise RecoveryError("reveal returns the secret %s in the task result, so the task must not print it."
                            % p["reveal"], fix="add no_log: true to the task.", path=p["path"])
    gpg = module.get_bin_path("gpg", required=True)
    result = dict(changed=False, path=p["path"])
    try:
        kind, entries, facts = read(module, gpg, p["path"], p["kind"])
        result.update(kind=kind, **facts)
        if kind == "vault_keys":
            if p["reveal"]:
                raise RecoveryError("reveal applies to secret exports; %s is a vault keys export." % p["path"],
                                    fix="point path at the secret export, or drop reveal.")
            result["keys"] = reader.key_digests(entries, p["path"])
        else:
            if p["compare_with"]:
                raise RecoveryError("compare_with applies to vault keys exports; %s is a secret export." % p["path"],
                                    fix="point path at the vault keys export, or drop compare_with.")
            result["secret_names"] = reader.secret_names(entries)
            if p["reveal"]:
                result["secret"] = reader.reveal(entries, p["reveal"], p["path"])
        if p["compare_with"]:
            other = read(module, gpg, p["compare_with"], "vault_keys")[1]
            result["compare_keys"] = reader.key_digests(other, p["compare_with"])
            result.update(reader.compare_keys(result["keys"], result["compare_keys"]))
    except RecoveryError as exc:
        exc.facts = dict(result, **exc.facts)  # fail with what was read so far
        raise
    if p["compare_with"] and p["fail_on_mismatch"] and not result["match"]:
        raise RecoveryError("the vault keys in %s do not match those in %s: %s."
                            % (p["compare_with"], p["path"], result["detail"]),
                            fix="restore the sealed key blobs and the TPM state together with the database"
                                " (see comparison).", **result)
    return result


def main():
    run_module(run, dict(
        path=dict(type="path", required=True),
        gnupg_home=dict(type="path", required=True),
        passphrase=dict(type="str", no_log=True),
        kind=dict(type="str", default="auto", choices=["auto", "vault_keys", "secrets"]),
        compare_with=dict(type="path"),
        fail_on_mismatch=dict(type="bool", default=True),
        reveal=dict(type="str"),
    ), mutually_exclusive=[("compare_with", "reveal")])


if __name__ == "__main__":
    main()

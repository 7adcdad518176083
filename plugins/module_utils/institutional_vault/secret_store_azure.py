# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure Key Vault secrets behind the db_info_store interface.

Key Vault has no stages: every set_secret makes a new version, and the newest
enabled version is the current one. So:

- a write copies the current version's content type and tags to the new
  version and adds the tag vaultops-previous-version (the version it
  replaced); that tag is how the previous version is found, because version
  lists are unordered and their timestamps have one-second resolution;
- without the tag the previous version is the newest enabled one other
  than the current one, and a tie (same second) is refused rather than guessed;
- a rollback writes the earlier version's value again as a new version
  (Key Vault cannot make an old version current): the content is back, the
  version id is new.
"""

import traceback

from ansible_collections.vaultops.recovery.plugins.module_utils.cloud.azure_client import AzureConnection, http_status
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.db_info_store import Secret, SecretNotFound
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

KEY_VAULT_IMPORT_ERROR = None
try:
    from azure.keyvault.secrets import SecretClient
    HAS_KEY_VAULT = True
except ImportError:
    KEY_VAULT_IMPORT_ERROR = traceback.format_exc()
    HAS_KEY_VAULT = False

PREVIOUS_TAG = "vaultops-previous-version"
# The SDK checks that a challenge's resource belongs to the vault's domain; that only holds on Azure's own clouds.
_AZURE_VAULT_DOMAINS = (".vault.azure.net", ".vault.azure.cn", ".vault.usgovcloudapi.net",
                        ".vault.microsoftazure.de", ".managedhsm.azure.net")


def _is_azure_vault(url):
    host = url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower()
    return host.endswith(_AZURE_VAULT_DOMAINS)


class AzureSecretStore(object):
    """One Key Vault. vault_option names the option that gave its URL, for messages."""

    def __init__(self, params, vault_url, vault_option="vault_url", connection=None):
        if not vault_url:
            raise RecoveryError("%s is required with provider=azure." % vault_option,
                                fix="pass the Key Vault URL, such as https://<vault name>.vault.azure.net.")
        self.connection = connection or AzureConnection(params)
        self.vault_url, self.vault_option = vault_url, vault_option
        self.describe = "Azure Key Vault %s" % vault_url
        try:
            self.client = SecretClient(vault_url, self.connection.credential,
                                       verify_challenge_resource=_is_azure_vault(vault_url),
                                       connection_verify=self.connection.verify)
        except ValueError as exc:
            raise RecoveryError("%s %r is not a usable Key Vault URL (%s)." % (vault_option, vault_url, exc),
                                fix="pass https://<vault name>.vault.azure.net.")

    def _call(self, name, action, function, *args, **kwargs):
        version_id = kwargs.pop("version_id", None)
        try:
            return self.connection.call(action, function, *args, where="secret %s in %s" % (name, self.vault_url),
                                        not_found_fix="check %s and the secret names." % self.vault_option, **kwargs)
        except RecoveryError as exc:
            if http_status(exc) == 404:
                raise SecretNotFound(name, self.describe, version_id)
            raise

    @staticmethod
    def _secret(name, bundle):
        properties = bundle.properties
        return Secret(name, bundle.value, properties.version, extra={
            "tags": dict(properties.tags or {}), "content_type": properties.content_type,
            "created_on": properties.created_on})

    def get(self, name, version_id=None):
        return self._secret(name, self._call(name, "read", self.client.get_secret, name, version_id,
                                             version_id=version_id))

    def _write(self, name, value, like, previous_version_id):
        tags = dict(like.extra.get("tags") or {})
        tags[PREVIOUS_TAG] = previous_version_id
        written = self._call(name, "write", self.client.set_secret, name, value, tags=tags,
                             content_type=like.extra.get("content_type"))
        return written.properties.version

    def put(self, name, value, current):
        return self._write(name, value, current, current.version_id)

    def previous(self, name, current):
        tagged = (current.extra.get("tags") or {}).get(PREVIOUS_TAG)
        if tagged:
            return tagged
        versions = self._call(name, "list the versions of", lambda: list(
            self.client.list_properties_of_secret_versions(name)))
        # The current version is the newest, so every other one is older; only their order among them matters.
        older = [v for v in versions if v.enabled is not False and v.version != current.version_id and v.created_on]
        if not older:
            return None
        newest = max(v.created_on for v in older)
        candidates = [v.version for v in older if v.created_on == newest]
        if len(candidates) > 1:
            raise RecoveryError(
                "Secret %s has %d versions created in the same second before the current one, and it has no"
                " %s tag, so which one was current before it cannot be told." % (name, len(candidates), PREVIOUS_TAG),
                fix="pass its version id in rollback_versions (the update's version_before).", secret=name)
        return candidates[0]

    def in_effect(self, current, target):
        return current.version_id == target.version_id or current.value == target.value

    def reinstate(self, name, target, current):
        return self._write(name, target.value, target, current.version_id)

"""The Key Vault store with the real SecretClient against the stand-in: challenge, versions, previous, not found."""

import pytest

pytest.importorskip("azure.keyvault.secrets")

from support.azure_fixtures import stand_in_fixture  # noqa: E402
from support.azure_key_vault import KeyVaultStandIn  # noqa: E402

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.db_info_store import SecretNotFound  # noqa: E402
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError  # noqa: E402
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.secret_store_azure import (  # noqa: E402
    PREVIOUS_TAG, AzureSecretStore)

vault = stand_in_fixture(KeyVaultStandIn, "kv")


@pytest.fixture
def store(vault):
    vault.reset()
    return AzureSecretStore(vault.connection_params(), vault.url)


def test_first_request_is_challenged_then_token_is_used(vault, store):
    vault.set("a-db-info", "{}")
    before = len(vault.server.requests)
    assert store.get("a-db-info").value == "{}"
    served = vault.server.requests[before:]
    assert served[0] == ("GET", "/secrets/a-db-info/") and served[-1] == ("GET", "/secrets/a-db-info/")
    assert any(path.endswith("/oauth2/v2.0/token") for _method, path in served)


def test_put_keeps_tags_and_content_type_and_names_the_previous_version(vault, store):
    first = vault.set("b", "one", tags={"app": "iv"}, content_type="application/json")
    current = store.get("b")
    second = store.put("b", "two", current)
    latest = vault.latest("b")
    assert latest["version"] == second and latest["tags"] == {"app": "iv", PREVIOUS_TAG: first}
    assert latest["contentType"] == "application/json" and store.previous("b", store.get("b")) == first


def test_previous_without_tag_is_the_newest_older_version(vault, store):
    ids = [vault.set("c", "v%d" % n, created=1795000000 + n) for n in range(4)]
    # Listed in version-id order, not creation order; the tag-less previous comes from the timestamps.
    assert store.previous("c", store.get("c")) == ids[2]
    only = vault.set("d", "only")
    assert store.previous("d", store.get("d")) is None and only


def test_previous_without_tag_refuses_a_tie(vault, store):
    for n in range(3):
        vault.set("t", "v%d" % n, created=1795000000)  # one second, as fast writes are on Key Vault
    with pytest.raises(RecoveryError, match="2 versions created in the same second") as caught:
        store.previous("t", store.get("t"))
    assert "rollback_versions" in caught.value.fix


def test_reinstate_is_a_new_version_with_the_old_value(vault, store):
    first = vault.set("e", "old")
    current = store.get("e")
    store.put("e", "new", current)
    newest = store.get("e")
    assert not store.in_effect(newest, current)
    reinstated = store.reinstate("e", store.get("e", first), newest)
    assert reinstated not in (first, newest.version_id) and vault.latest("e")["value"] == "old"
    assert store.in_effect(store.get("e"), store.get("e", first))


def test_missing_secret_and_version(vault, store):
    vault.set("f", "x")
    with pytest.raises(SecretNotFound, match="Secret nope does not exist in Azure Key Vault"):
        store.get("nope")
    with pytest.raises(SecretNotFound, match="Version 0+ of secret f does not exist"):
        store.get("f", "0" * 32)


def test_vault_url_is_required():
    with pytest.raises(RecoveryError, match="vault_url is required"):
        AzureSecretStore({}, None)

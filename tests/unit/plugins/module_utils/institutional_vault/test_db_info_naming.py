"""Secret names per service; the documented Key Vault mapping and its override."""

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import db_info_naming
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.db_info_naming import SecretNaming
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError


def test_aws_names_follow_the_vendor_pattern():
    names = SecretNaming("aws", db_info_naming.DB_INFO_TEMPLATE, "name_template").names(
        "prod", "iv", db_info_naming.DEFAULT_SERVICES)
    assert names["policy-node1"] == "prod.iv.policy-node1.db-info"
    assert list(names) == list(db_info_naming.DEFAULT_SERVICES)


def test_azure_maps_every_other_character_to_a_dash():
    naming = SecretNaming("azure", db_info_naming.DB_INFO_TEMPLATE, "name_template")
    assert naming.name("prod", "iv_ns", "policy-node0") == "prod-iv-ns-policy-node0-db-info"


def test_azure_template_overrides_the_rule():
    naming = SecretNaming("azure", db_info_naming.DB_INFO_TEMPLATE, "name_template",
                          "{service}--{environment}", "key_vault_name_template")
    assert naming.name("prod", "iv", "wallet") == "wallet--prod"


def test_azure_template_must_render_a_key_vault_name():
    naming = SecretNaming("azure", db_info_naming.DB_INFO_TEMPLATE, "name_template",
                          "{service}.db", "key_vault_name_template")
    with pytest.raises(RecoveryError, match="not a valid Azure Key Vault secret name") as caught:
        naming.name("prod", "iv", "wallet")
    assert "key_vault_name_template" in caught.value.fix


def test_mapping_collision_is_an_error():
    naming = SecretNaming("azure", "{service}", "name_template")
    with pytest.raises(RecoveryError, match="Services a.b and a_b both map to secret a-b"):
        naming.names("e", "n", ["a.b", "a_b"])


def test_unknown_placeholder_and_duplicates_and_empty_list():
    with pytest.raises(RecoveryError, match="unknown placeholder"):
        SecretNaming("aws", "{env}.{service}", "name_template").name("e", "n", "s")
    with pytest.raises(RecoveryError, match="wallet more than once"):
        SecretNaming("aws", "{service}", "name_template").names("e", "n", ["wallet", "wallet"])
    with pytest.raises(RecoveryError, match="services is empty"):
        SecretNaming("aws", "{service}", "name_template").names("e", "n", [])


def test_too_long_name_is_refused_on_azure():
    with pytest.raises(RecoveryError, match="1 to 127 characters"):
        SecretNaming("azure", "{service}", "name_template").name("e", "n", "x" * 128)

"""The production confirmation, the drill target's refusals and the data-loss facts: one test per rule."""

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import restore_guards as rg

PROD = {"namespace": "iv-prod", "database": {"host": "iv-prod.db.internal", "port": 5432, "name": "ivault"}}


def test_a_non_production_environment_proceeds_without_confirmation():
    assert rg.production_confirmed(False, "staging", "")["proceed"] is True


def test_production_without_confirmation_only_plans_and_says_how_to_confirm():
    decided = rg.production_confirmed(True, "prod", "")
    assert decided["proceed"] is False and "-e institutional_vault_confirm_environment=prod" in decided["reason"]


def test_production_confirmed_by_its_own_name_proceeds():
    assert rg.production_confirmed(True, "prod", "prod")["proceed"] is True


def test_a_confirmation_naming_another_environment_is_an_error():
    with pytest.raises(RecoveryError) as caught:
        rg.production_confirmed(True, "prod", "staging")
    assert "'staging' but this run is against environment 'prod'" in str(caught.value)
    assert "Nothing was changed" in str(caught.value)


def test_an_environment_without_a_name_cannot_be_confirmed():
    with pytest.raises(RecoveryError):
        rg.production_confirmed(True, "", "")


def test_a_drill_in_the_production_namespace_is_refused():
    refusals = rg.drill_target_refusals({"namespace": "iv-prod", "database": {"host": "scratch", "name": "d"}}, PROD)
    assert refusals == ["the drill namespace iv-prod is the production namespace"]


def test_a_drill_on_the_production_database_is_refused_whatever_the_case_of_the_host():
    drill = {"namespace": "iv-drill", "database": {"host": "IV-PROD.db.internal", "name": "ivault"}}
    assert rg.drill_target_refusals(drill, PROD) == [
        "the drill database iv-prod.db.internal:5432/ivault is the production database"]


def test_a_drill_without_its_own_namespace_or_database_is_refused():
    assert rg.drill_target_refusals({}, PROD) == ["the drill has no namespace of its own",
                                                  "the drill has no database of its own"]


def test_a_scratch_drill_target_is_allowed():
    drill = {"namespace": "iv-drill", "database": {"host": "iv-prod.db.internal", "port": 5432, "name": "drill"}}
    assert rg.drill_target_refusals(drill, PROD) == []


def test_data_loss_states_the_window_and_the_pending_operations():
    facts = rg.data_loss("2026-12-07T01:00:00Z", "2026-12-08T03:25:10Z", pending_operations=3)
    assert facts["loss_window_seconds"] == 26 * 3600 + 25 * 60 + 10 and facts["loss_window"] == "1 d 2 h 25 min"
    assert facts["warnings"][0] == "transactions after 2026-12-07T01:00:00Z (the last 1 d 2 h 25 min) are lost"
    assert "3 operation(s) were pending at 2026-12-07T01:00:00Z" in facts["warnings"][2]


def test_data_loss_says_when_the_pending_count_was_not_recorded():
    facts = rg.data_loss("2026-12-07T01:00:00Z", "2026-12-07T01:00:30Z")
    assert facts["loss_window"] == "less than a minute" and "count was not recorded" in facts["warnings"][2]


def test_a_restore_point_in_the_future_or_malformed_is_refused():
    with pytest.raises(RecoveryError):
        rg.data_loss("2026-12-08T00:00:00Z", "2026-12-07T00:00:00Z")
    with pytest.raises(RecoveryError) as caught:
        rg.data_loss("yesterday", "2026-12-07T00:00:00Z")
    assert "not a UTC time" in str(caught.value)

"""One test per rule of institutional_vault/restore_plan.py (the plan of an Institutional Vault restore or drill)."""

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import restore_plan

DIGESTS = dict((node, "%064x" % number) for number, node in enumerate(restore_plan.EMP_NODES, 1))
SOURCE = {"host": "db.prod", "port": 5432, "name": "ivault", "user": "iv_app"}
TARGET = {"host": "db.restored", "port": 5432, "name": "ivault", "user": "iv_app"}
INVENTORY = {"environment": "prod", "namespace": "ivault", "provider": "aws", "production": False,
             "databases": {"source": SOURCE, "target": TARGET}}
OPTIONS = {"target": "in_place", "target_database": "target", "carry_over_emp": "", "confirm_environment": "",
           "safety_backup": True}


def manifest(**changes):
    document = {"product": "institutional_vault", "environment": "prod", "namespace": "ivault", "provider": "aws",
                "method": "pg_dump", "backup_time": "2026-12-07T04:00:00.123456Z", "accounts_count": 12,
                "pending_operations": 3, "emp_digests": dict(DIGESTS), "database": SOURCE,
                "dump": "wallet-backup-20261207-040000.dump"}
    document.update(changes)
    return document


def plan(document=None, now="2026-12-07T06:05:00Z", **options):
    merged = dict(OPTIONS, **options)
    return restore_plan.restore_plan(document or manifest(), "set", dict(INVENTORY), merged, now)


def test_utc_text_normalises_fractions_and_offsets():
    assert restore_plan.utc_text("2026-12-07T04:00:00.5+00:00", "t") == "2026-12-07T04:00:00Z"
    with pytest.raises(RecoveryError, match="not a UTC time"):
        restore_plan.utc_text("yesterday", "t")


def test_a_vaulthalla_set_is_refused():
    with pytest.raises(RecoveryError, match="not an Institutional Vault recovery set"):
        plan(manifest(product="vaulthalla"))


def test_a_set_without_emp_digests_is_refused():
    with pytest.raises(RecoveryError, match="no usable EMP digests"):
        plan(manifest(emp_digests={"policy-node0": "not-a-digest"}))


def test_a_set_without_accounts_count_is_refused():
    with pytest.raises(RecoveryError, match="no accounts count"):
        plan(manifest(accounts_count=None))


def test_a_pg_dump_set_needs_its_dump():
    with pytest.raises(RecoveryError, match="without its dump"):
        plan(manifest(dump=None))


def test_a_snapshot_set_on_the_other_cloud_is_refused():
    with pytest.raises(RecoveryError, match="only restores on provider azure"):
        plan(manifest(method="azure_backup", snapshot={"name": "b1"}))


def test_in_place_restores_into_the_source_database():
    decided = plan()
    assert decided["target_database"]["host"] == "db.prod" and decided["mode"] == "in_place"
    assert decided["rewrite_secrets"] is False and decided["proceed"] is True


def test_redirected_restores_into_the_target_and_rewrites_secrets():
    decided = plan(target="redirected")
    assert decided["target_database"]["host"] == "db.restored" and decided["rewrite_secrets"] is True


def test_a_redirected_target_equal_to_the_source_is_refused():
    inventory_db = dict(INVENTORY["databases"], target=dict(SOURCE, host="DB.PROD"))
    with pytest.raises(RecoveryError, match="the environment's own database"):
        restore_plan.restore_target("redirected", inventory_db, "target")


def test_a_missing_target_database_names_the_inventory_key():
    with pytest.raises(RecoveryError, match="institutional_vault_databases.elsewhere"):
        plan(target="redirected", target_database="elsewhere")


def test_loss_window_and_warnings_state_the_recorded_pending_operations():
    decided = plan()
    assert decided["restore_point"] == "2026-12-07T04:00:00Z" and decided["loss_window"] == "2 h 5 min"
    assert any("3 operation(s) were pending" in warning for warning in decided["data_loss_warnings"])


def test_production_without_confirmation_does_not_proceed():
    document = manifest()
    decided = restore_plan.restore_plan(document, "set", dict(INVENTORY, production=True), OPTIONS,
                                        "2026-12-07T06:05:00Z")
    assert decided["proceed"] is False and "institutional_vault_confirm_environment=prod" in decided["reason"]


def test_carry_over_names_the_source_whose_emps_must_match():
    decided = plan(carry_over_emp="staging")
    assert decided["emp_check"] == {"carry_over": True, "environment": "staging", "namespace": "ivault"}
    assert any("carry the EMP secrets over" in step for step in decided["steps"])


def test_carry_over_from_the_environment_itself_is_refused():
    with pytest.raises(RecoveryError, match="nothing to carry over"):
        plan(carry_over_emp="prod")


def test_carry_over_from_another_namespace_of_the_same_environment_is_allowed():
    decided = plan(carry_over_emp="prod", carry_over_namespace="ivault-old")
    assert decided["emp_check"] == {"carry_over": True, "environment": "prod", "namespace": "ivault-old"}


def test_steps_follow_the_seed_order():
    steps = plan(target="redirected")["steps"]
    order = [next(i for i, step in enumerate(steps) if step.startswith(prefix))
             for prefix in ("verify", "take a safety", "stop", "restore", "point DB_HOST", "check the EMPs again",
                            "verify: every pod", "write")]
    assert order == sorted(order)


def test_a_drill_into_production_is_refused():
    drill = {"namespace": "ivault", "database": dict(TARGET)}
    with pytest.raises(RecoveryError, match="production namespace"):
        restore_plan.drill_plan(manifest(), "set", INVENTORY, drill, "2026-12-07T06:05:00Z")


def test_a_drill_needs_a_pg_dump_set():
    drill = {"namespace": "ivault-drill", "database": dict(TARGET, name="ivault_drill")}
    with pytest.raises(RecoveryError, match="a drill restores a pg_dump set"):
        restore_plan.drill_plan(manifest(method="aws_snapshot", snapshot={"name": "s"}), "set", INVENTORY, drill,
                                "2026-12-07T06:05:00Z")


def test_a_drill_plan_names_its_scratch_target():
    drill = {"namespace": "ivault-drill", "database": dict(TARGET, name="ivault_drill")}
    decided = restore_plan.drill_plan(manifest(), "set", INVENTORY, drill, "2026-12-07T06:05:00Z")
    assert decided["namespace"] == "ivault-drill" and decided["target_database"]["name"] == "ivault_drill"

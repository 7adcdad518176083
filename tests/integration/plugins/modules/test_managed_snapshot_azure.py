"""managed_snapshot with provider=azure against the HTTPS stand-in of ARM's flexible server API.

The module uses the REAL azure-identity ClientSecretCredential (token from the stand-in's Entra ID endpoint through
authority_host) or DefaultAzureCredential (service principal from the AZURE_* environment), and the REAL
azure-mgmt-postgresqlflexibleservers client with its long-running-operation polling. Every run goes through
ansible-playbook (the `ansible` fixture). The client secret is planted and must appear in no output.
"""

import datetime

import pytest

from support import azure_https
from support.azure_fixtures import stand_in_fixture
from support.azure_flexible_server import SUBSCRIPTION_ID, FlexibleServerStandIn

MODULE = "vaultops.recovery.managed_snapshot"
GROUP = "iv-prod"
WRONG_SECRET = "planted-wrong-secret-9b2d"

arm = stand_in_fixture(FlexibleServerStandIn, "arm")


@pytest.fixture
def pg(arm, request):
    """A fresh source server per test (names from the test), with automatic backups and PITR."""
    name = "pg-" + request.node.name.replace("_", "-")[5:30].strip("-")
    arm.polls_per_operation, arm.operation_error = 1, None
    arm.add_server(GROUP, name)
    return name


def args(arm, **extra):
    base = dict(arm.connection_params(), provider="azure", resource_manager_url=arm.url,
                subscription_id=SUBSCRIPTION_ID, polling_interval=0, resource_group=GROUP, wait_interval=0.2)
    base.update(extra)
    return base


def assert_no_leak(ansible):
    printed = ansible.everything_printed()
    assert azure_https.CLIENT_SECRET not in printed and WRONG_SECRET not in printed
    assert azure_https.ACCESS_TOKEN not in printed


def test_verify_reports_the_window_and_refuses_a_server_without_pitr(ansible, arm, pg):
    verified = ansible.run(MODULE, args(arm, state="verify", instance=pg), name="verify")
    assert not verified["changed"] and verified["backup_retention_days"] == 7, verified
    assert verified["earliest_restore_time"].endswith("Z") and verified["geo_redundant_backup"] == "Disabled"

    arm.add_server(GROUP, pg + "-nobackup", earliest=False)
    refused = ansible.run(MODULE, args(arm, instance=pg + "-nobackup"), name="refused")
    assert refused["failed"] and "has no point-in-time restore available" in refused["msg"], refused
    assert "backup retention" in refused["msg"]
    assert not [create for create in arm.creates if create[2] == pg + "-nobackup"]
    assert_no_leak(ansible)


def test_backup_check_mode_then_on_demand_backup_then_no_change(ansible, arm, pg):
    planned = ansible.run(MODULE, args(arm, instance=pg), check_mode=True, name="plan")
    assert planned["changed"] and "would take on-demand backup" in planned["plan"], planned
    assert not [create for create in arm.creates if create[2] == pg]

    taken = ansible.run(MODULE, args(arm, instance=pg), name="take")
    assert taken["changed"] and taken["snapshot_type"] == "Customer On-Demand", taken
    assert taken["snapshot_name"].startswith(pg + "-pre-upgrade-2")
    assert (GROUP, pg, taken["snapshot_name"]) in arm.backups and taken["snapshot_time"].endswith("Z")

    again = ansible.run(MODULE, args(arm, instance=pg, snapshot_name=taken["snapshot_name"]), name="again")
    assert not again["changed"] and again["snapshot_time"] == taken["snapshot_time"], again
    assert len([create for create in arm.creates if create[2] == pg]) == 1
    assert_no_leak(ansible)


def test_restore_backup_to_a_new_server_is_idempotent_and_refuses_bad_targets(ansible, arm, pg):
    backup = ansible.run(MODULE, args(arm, instance=pg, snapshot_name=pg + "-before"), name="backup")
    restore = args(arm, state="restore", instance=pg, snapshot_name=backup["snapshot_name"], target=pg + "-restored")

    planned = ansible.run(MODULE, restore, check_mode=True, name="plan")
    assert planned["changed"] and "would restore flexible server %s" % pg in planned["plan"], planned
    assert (GROUP, pg + "-restored") not in arm.servers

    done = ansible.run(MODULE, restore, name="restore")
    assert done["changed"] and done["target_host"] == pg + "-restored.postgres.database.azure.com", done
    assert done["restore_time"] == backup["snapshot_time"]
    created = arm.servers[(GROUP, pg + "-restored")]["properties"]
    assert created["createMode"] == "PointInTimeRestore" and created["sourceServerResourceId"].endswith("/" + pg)

    again = ansible.run(MODULE, restore, name="again")
    assert not again["changed"] and again["target_host"] == done["target_host"], again

    same = ansible.run(MODULE, dict(restore, target=pg), name="same")
    assert same["failed"] and "only to a new server" in same["msg"], same
    arm.add_server(GROUP, pg + "-other")
    other = ansible.run(MODULE, dict(restore, target=pg + "-other"), name="other")
    assert other["failed"] and "exists and was not restored from %s" % pg in other["msg"], other
    assert arm.servers[(GROUP, pg + "-other")]["properties"]["createMode"] == "Create"
    assert_no_leak(ansible)


def test_point_in_time_inside_and_outside_the_window(ansible, arm, pg):
    when = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    done = ansible.run(MODULE, args(arm, state="point_in_time", instance=pg, target=pg + "-pitr", restore_time=when),
                       name="pitr")
    assert done["changed"] and done["restore_time"] == when and done["target_host"].startswith(pg + "-pitr."), done

    early = ansible.run(MODULE, args(arm, state="point_in_time", instance=pg, target=pg + "-early",
                                     restore_time="2001-01-01T00:00:00Z"), name="early")
    assert early["failed"] and "outside the restorable window" in early["msg"], early
    assert (GROUP, pg + "-early") not in arm.servers


def test_wait_timeout_is_honoured_and_a_failed_operation_is_reported(ansible, arm, pg):
    arm.polls_per_operation = 10 ** 6  # the operation never finishes
    slow = ansible.run(MODULE, args(arm, instance=pg, wait_timeout=2), name="slow")
    assert slow["failed"] and "did not finish within 2 seconds" in slow["msg"], slow
    assert "Fix: raise wait_timeout" in slow["msg"] and slow["timed_out"] is True

    arm.polls_per_operation, arm.operation_error = 0, ("InternalServerError", "The backup could not be taken.")
    failed = ansible.run(MODULE, args(arm, instance=pg), name="failed")
    assert failed["failed"] and "The backup could not be taken" in failed["msg"], failed


def test_credentials_wrong_secret_and_default_credential_from_environment(ansible, arm, pg, monkeypatch):
    wrong = ansible.run(MODULE, args(arm, state="verify", instance=pg, secret=WRONG_SECRET), name="wrong")
    assert wrong["failed"] and "AADSTS7000215" in wrong["msg"] and "tenant_id, client_id and secret" in wrong["msg"]

    half = ansible.run(MODULE, args(arm, state="verify", instance=pg, secret=None), name="half")
    assert half["failed"] and "tenant_id, client_id given but secret not" in half["msg"], half

    monkeypatch.setenv("AZURE_TENANT_ID", azure_https.TENANT_ID)
    monkeypatch.setenv("AZURE_CLIENT_ID", azure_https.CLIENT_ID)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", azure_https.CLIENT_SECRET)
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", arm.url)
    from_env = ansible.run(MODULE, args(arm, state="verify", instance=pg, tenant_id=None, client_id=None, secret=None,
                                        authority_host=None), name="env")
    assert not from_env.get("failed") and from_env["backup_retention_days"] == 7, from_env
    assert_no_leak(ansible)

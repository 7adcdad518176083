"""managed_snapshot with provider=aws against a moto server: RDS snapshot, restore (same name, new name), point in time.

Every run goes through ansible-playbook (the `ansible` fixture); the tests check the outcome with their own boto3
client. moto makes RDS objects `available` at once, so the deadline of the waiter is proven in the unit tests.
moto also names the automated snapshot of a new instance rds:<name>-<minute>, so recreating an instance of the same
name within a minute collides there (not on AWS); `wallet_db` removes those automated snapshots first.
The secret key passed to the module is planted and must appear in no output.
"""

import itertools

import boto3
import pytest

from support.moto_server import ACCESS_KEY, REGION, MotoServer

MODULE = "vaultops.recovery.managed_snapshot"
PLANTED = "planted-RDS-secret-4c1e8a7b90"
_names = itertools.count(1)


@pytest.fixture(scope="module")
def moto():
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture
def rds(moto):
    return boto3.client("rds", endpoint_url=moto.url, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=PLANTED)


def drop_automated_snapshots(rds):
    for snap in rds.describe_db_snapshots(SnapshotType="automated")["DBSnapshots"]:
        rds.delete_db_snapshot(DBSnapshotIdentifier=snap["DBSnapshotIdentifier"])


@pytest.fixture
def wallet_db(rds):
    name = "iv-wallet-db-%d" % next(_names)
    rds.create_db_instance(DBInstanceIdentifier=name, Engine="postgres", DBInstanceClass="db.t3.micro",
                           MasterUsername="postgres", MasterUserPassword=PLANTED, AllocatedStorage=20,
                           BackupRetentionPeriod=7, Port=5433)
    drop_automated_snapshots(rds)
    return name


def args(moto, **extra):
    base = dict(provider="aws", endpoint_url=moto.url, region=REGION, access_key=ACCESS_KEY, secret_key=PLANTED,
                wait_interval=0.1)
    base.update(extra)
    return base


def tags_of(rds, arn):
    return dict((tag["Key"], tag["Value"]) for tag in rds.list_tags_for_resource(ResourceName=arn)["TagList"])


def instance_names(rds):
    return sorted(db["DBInstanceIdentifier"] for db in rds.describe_db_instances()["DBInstances"])


def manual_snapshots(rds, instance):
    return [snap["DBSnapshotIdentifier"] for snap in
            rds.describe_db_snapshots(DBInstanceIdentifier=instance, SnapshotType="manual")["DBSnapshots"]]


def test_snapshot_check_mode_then_tagged_snapshot_then_no_change(ansible, moto, rds, wallet_db):
    planned = ansible.run(MODULE, args(moto, instance=wallet_db), check_mode=True, name="plan")
    assert planned["changed"] and "would take RDS snapshot" in planned["plan"], planned
    assert manual_snapshots(rds, wallet_db) == []

    taken = ansible.run(MODULE, args(moto, instance=wallet_db, tags={"ticket": "CHG-1"}), name="take")
    assert taken["changed"] and taken["snapshot_status"] == "available", taken
    assert taken["snapshot_name"].startswith(wallet_db + "-pre-upgrade-2")
    assert taken["snapshot_time"].endswith("Z") and taken["snapshot_id"].startswith("arn:aws:rds:")
    assert manual_snapshots(rds, wallet_db) == [taken["snapshot_name"]]
    tags = tags_of(rds, taken["snapshot_id"])
    assert tags["purpose"] == "pre-upgrade" and tags["ticket"] == "CHG-1", tags

    again = ansible.run(MODULE, args(moto, instance=wallet_db, snapshot_name=taken["snapshot_name"]), name="again")
    assert not again["changed"] and again["snapshot_time"] == taken["snapshot_time"], again
    assert manual_snapshots(rds, wallet_db) == [taken["snapshot_name"]]
    assert PLANTED not in ansible.everything_printed()


def test_restore_to_same_name_renames_the_old_instance_and_is_idempotent(ansible, moto, rds, wallet_db):
    snap = ansible.run(MODULE, args(moto, instance=wallet_db, snapshot_name=wallet_db + "-snap"), name="snap")
    restore = args(moto, state="restore", instance=wallet_db, snapshot_name=snap["snapshot_name"])
    before = instance_names(rds)

    planned = ansible.run(MODULE, restore, check_mode=True, name="plan")
    assert planned["changed"] and planned["plan"].startswith("would rename RDS instance %s to " % wallet_db), planned
    assert instance_names(rds) == before

    drop_automated_snapshots(rds)
    done = ansible.run(MODULE, restore, name="restore")
    assert done["changed"] and done["target"] == wallet_db, done
    old = done["replaced_instance"]
    assert old.startswith(wallet_db + "-replaced-2")
    assert sorted(before + [old]) == instance_names(rds)
    restored = rds.describe_db_instances(DBInstanceIdentifier=wallet_db)["DBInstances"][0]
    assert done["target_host"] == restored["Endpoint"]["Address"] and done["target_port"] == 5433
    assert tags_of(rds, restored["DBInstanceArn"])["vaultops-restored-from"] == snap["snapshot_name"]
    replaced = rds.describe_db_instances(DBInstanceIdentifier=old)["DBInstances"][0]
    assert tags_of(rds, replaced["DBInstanceArn"])["vaultops-replaced-by"].startswith(snap["snapshot_name"] + "@")

    again = ansible.run(MODULE, restore, name="again")
    assert not again["changed"] and "replaced_instance" not in again, again
    assert again["target_host"] == done["target_host"]
    assert sorted(before + [old]) == instance_names(rds)
    assert PLANTED not in ansible.everything_printed()


def test_restore_to_a_new_instance_and_refuse_a_foreign_target(ansible, moto, rds, wallet_db):
    snap = ansible.run(MODULE, args(moto, instance=wallet_db, snapshot_name=wallet_db + "-snap"), name="snap")
    target = wallet_db + "-copy"
    drop_automated_snapshots(rds)
    done = ansible.run(MODULE, args(moto, state="restore", instance=wallet_db, snapshot_name=snap["snapshot_name"],
                                    target=target), name="restore")
    assert done["changed"] and done["target"] == target and "replaced_instance" not in done, done
    assert done["target_host"].startswith(target + ".")
    assert wallet_db in instance_names(rds)

    foreign = wallet_db + "-foreign"
    rds.create_db_instance(DBInstanceIdentifier=foreign, Engine="postgres", DBInstanceClass="db.t3.micro",
                           MasterUsername="postgres", MasterUserPassword=PLANTED, AllocatedStorage=20)
    before = instance_names(rds)
    refused = ansible.run(MODULE, args(moto, state="restore", instance=wallet_db, snapshot_name=snap["snapshot_name"],
                                       target=foreign), name="foreign")
    assert refused["failed"] and "exists and was not restored from %s" % snap["snapshot_name"] in refused["msg"]
    assert "choose another target" in refused["msg"]
    assert instance_names(rds) == before

    missing = ansible.run(MODULE, args(moto, state="restore", instance=wallet_db, snapshot_name="no-such-snap"),
                          name="missing")
    assert missing["failed"] and "RDS snapshot no-such-snap does not exist" in missing["msg"], missing
    assert "snapshot_name" in missing["msg"]
    assert PLANTED not in ansible.everything_printed()


def test_point_in_time_restore_as_a_new_instance(ansible, moto, rds, wallet_db):
    source = rds.describe_db_instances(DBInstanceIdentifier=wallet_db)["DBInstances"][0]
    when = source["InstanceCreateTime"].isoformat()
    target = wallet_db + "-pitr"
    pitr = args(moto, state="point_in_time", instance=wallet_db, target=target, restore_time=when)
    planned = ansible.run(MODULE, pitr, check_mode=True, name="plan")
    assert planned["changed"] and "would restore %s" % wallet_db in planned["plan"]
    assert target not in instance_names(rds)

    drop_automated_snapshots(rds)
    done = ansible.run(MODULE, pitr, name="pitr")
    assert done["changed"] and done["target_host"].startswith(target + "."), done
    assert tags_of(rds, done["target_id"])["vaultops-restore-time"] == done["restore_time"]
    assert not ansible.run(MODULE, pitr, name="again")["changed"]

    latest = ansible.run(MODULE, args(moto, state="point_in_time", instance=wallet_db, target=target + "-latest"),
                         name="latest")
    assert latest["changed"] and latest["restore_time"] == "latest", latest

    late = ansible.run(MODULE, dict(pitr, target=target + "-late", restore_time="2099-01-01T00:00:00Z"), name="late")
    assert late["failed"] and "is later than the latest restorable time" in late["msg"], late
    assert target + "-late" not in instance_names(rds)


def test_verify_and_missing_instance(ansible, moto, rds, wallet_db):
    verified = ansible.run(MODULE, args(moto, state="verify", instance=wallet_db), name="verify")
    assert not verified["changed"] and verified["backup_retention_days"] == 7 and verified["latest_restore_time"]

    missing = ansible.run(MODULE, args(moto, instance="no-such-db"), name="missing")
    assert missing["failed"] and "RDS instance no-such-db does not exist" in missing["msg"]
    assert "Fix: check instance and region." in missing["msg"]
    assert PLANTED not in ansible.everything_printed()

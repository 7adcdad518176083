"""managed_snapshot with provider=aws against a moto server: RDS snapshot, restore (same name, new name), point in time.

Every run goes through ansible-playbook (the `ansible` fixture); the tests check the outcome with their own boto3
client. moto makes RDS objects `available` at once, so the deadline of the waiter is proven in the unit tests.
moto also names the automated snapshot of a new instance rds:<name>-<minute>, so recreating an instance of the same
name within a minute collides there (not on AWS); `wallet_db` removes those automated snapshots first.
The secret key passed to the module is planted and must appear in no output.
"""

import http.server
import itertools
import threading
import urllib.error
import urllib.request

import boto3
import pytest

from support.moto_server import ACCESS_KEY, REGION

MODULE = "vaultops.recovery.managed_snapshot"
PLANTED = "planted-RDS-secret-4c1e8a7b90"
_names = itertools.count(1)


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


class FailingRdsProxy(object):
    """Passes every request on to moto, except that it answers one RDS action with an API error.

    It plays AWS running out of capacity for the instance class at restore time (InsufficientDBInstanceCapacity):
    a failure after the rename that no check before it can foresee. The module only sees another endpoint_url.
    """

    def __init__(self, upstream, action, code="InsufficientDBInstanceCapacity",
                 message="Cannot create a database instance because there is no capacity for the class."):
        refused = ("Action=%s&" % action).encode()
        error = ('<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type>'
                 '<Code>%s</Code><Message>%s</Message></Error><RequestId>proxy</RequestId></ErrorResponse>'
                 % (code, message)).encode()
        self.refused = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the http.server hook's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if refused in body + b"&":
                    proxy.refused += 1
                    return self._answer(400, "text/xml", error)
                headers = dict((k, v) for k, v in self.headers.items() if k.lower() not in ("host", "content-length"))
                request = urllib.request.Request(upstream + self.path, data=body, headers=headers, method="POST")
                try:
                    with urllib.request.urlopen(request, timeout=60) as answer:
                        return self._answer(answer.status, answer.headers.get("Content-Type"), answer.read())
                except urllib.error.HTTPError as answer:
                    return self._answer(answer.code, answer.headers.get("Content-Type"), answer.read())

            def _answer(self, status, content_type, body):
                self.send_response(status)
                self.send_header("Content-Type", content_type or "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


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


def test_invalid_restore_options_and_missing_groups_are_refused_before_the_rename(ansible, moto, rds, wallet_db):
    snap = ansible.run(MODULE, args(moto, instance=wallet_db, snapshot_name=wallet_db + "-snap"), name="snap")
    restore = args(moto, state="restore", instance=wallet_db, snapshot_name=snap["snapshot_name"])
    before = instance_names(rds)
    cases = (
        ({"DBInstanceClas": "db.t3.small", "TdeCredentialPassword": PLANTED},
         "DBInstanceClas: not a parameter of RestoreDBInstanceFromDBSnapshot; did you mean DBInstanceClass?"),
        ({"MultiAZ": "yes"}, "MultiAZ must be of type <class 'bool'>"),
        # no_log masks every value of restore_options in the output, the group's name too; the key names it.
        ({"DBSubnetGroupName": "no-such-subnets"}, "The DB subnet group ******** (DBSubnetGroupName, from"
                                                   " restore_options) does not exist"),
        ({"DBParameterGroupName": "no-such-params"}, "(DBParameterGroupName, from restore_options) does not exist"),
        ({"DBInstanceIdentifier": "other"}, "DBInstanceIdentifier: set by the module itself"),
    )
    for number, (options, expected) in enumerate(cases):
        for check_mode in (True, False):
            refused = ansible.run(MODULE, dict(restore, restore_options=options), check_mode=check_mode,
                                  name="refused-%d-%s" % (number, check_mode))
            assert refused["failed"] and expected in refused["msg"], refused
            assert not refused.get("changed") and "Fix: " in refused["msg"], refused
            assert instance_names(rds) == before
    replaced = rds.describe_db_instances(DBInstanceIdentifier=wallet_db)["DBInstances"][0]
    assert "vaultops-replaced-by" not in tags_of(rds, replaced["DBInstanceArn"])
    assert PLANTED not in ansible.everything_printed()


def test_a_failure_after_the_rename_renames_the_old_instance_back(ansible, moto, rds, wallet_db):
    snap = ansible.run(MODULE, args(moto, instance=wallet_db, snapshot_name=wallet_db + "-snap"), name="snap")
    old = rds.describe_db_instances(DBInstanceIdentifier=wallet_db)["DBInstances"][0]
    before = instance_names(rds)
    proxy = FailingRdsProxy(moto.url, "RestoreDBInstanceFromDBSnapshot")
    try:
        failed = ansible.run(MODULE, args(moto, endpoint_url=proxy.url, state="restore", instance=wallet_db,
                                          snapshot_name=snap["snapshot_name"]), name="restore")
    finally:
        proxy.stop()
    assert proxy.refused == 1
    assert failed["failed"] and failed["changed"] and failed["rolled_back"] is True, failed
    assert "InsufficientDBInstanceCapacity" in failed["msg"]
    assert "Rolled back: renamed %s-replaced-" % wallet_db in failed["msg"]
    assert "the old instance is available under %s again" % wallet_db in failed["msg"]
    assert instance_names(rds) == before
    back = rds.describe_db_instances(DBInstanceIdentifier=wallet_db)["DBInstances"][0]
    assert back["DbiResourceId"] == old["DbiResourceId"] and back["DBInstanceStatus"] == "available"
    assert back["Endpoint"] == old["Endpoint"]
    assert "vaultops-replaced-by" not in tags_of(rds, back["DBInstanceArn"])

    drop_automated_snapshots(rds)
    again = ansible.run(MODULE, args(moto, state="restore", instance=wallet_db, snapshot_name=snap["snapshot_name"]),
                        name="again")
    assert again["changed"] and again["replaced_instance"].startswith(wallet_db + "-replaced-"), again
    assert PLANTED not in ansible.everything_printed()


def test_restore_options_values_are_never_printed(ansible, moto, rds, wallet_db):
    secret = "planted-TDE-password-0d93b1"
    snap = ansible.run(MODULE, args(moto, instance=wallet_db, snapshot_name=wallet_db + "-snap"), name="snap")
    restore = args(moto, state="restore", instance=wallet_db, snapshot_name=snap["snapshot_name"],
                   target=wallet_db + "-tde", restore_options={"TdeCredentialPassword": secret,
                                                               "TdeCredentialArn": "arn:aws:kms:tde"})
    planned = ansible.run(MODULE, restore, check_mode=True, name="plan")
    drop_automated_snapshots(rds)
    done = ansible.run(MODULE, restore, name="restore")
    refused = ansible.run(MODULE, dict(restore, restore_options={"TdeCredentialPasword": secret}), name="typo")
    printed = ansible.everything_printed()
    assert "TdeCredentialPassword" in printed and secret not in printed and PLANTED not in printed
    assert planned["changed"] and "restore_options TdeCredentialArn, TdeCredentialPassword" in planned["plan"]
    assert done["changed"] and done["target_host"].startswith(wallet_db + "-tde."), done
    assert refused["failed"] and "did you mean TdeCredentialPassword?" in refused["msg"], refused

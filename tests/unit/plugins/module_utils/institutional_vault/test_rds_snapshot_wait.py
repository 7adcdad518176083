"""The waiter's deadline, proven with a fake clock (moto's RDS objects are `available` at once, so only a fake
describe call can show a snapshot that never becomes available)."""

import datetime

import pytest

pytest.importorskip("botocore")
from botocore.exceptions import ClientError  # noqa: E402

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError  # noqa: E402
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.rds_connection import RdsConnection  # noqa: E402
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.rds_snapshot import RdsSnapshots  # noqa: E402
from ansible_collections.vaultops.recovery.plugins.module_utils.common.waiter import wait_until  # noqa: E402
from support.fake_clock import FakeClock  # noqa: E402


def test_a_state_that_never_arrives_fails_at_the_deadline_naming_the_option():
    fake = FakeClock()
    with pytest.raises(RecoveryError) as caught:
        wait_until(lambda: (False, "creating", None), "RDS snapshot s1", 60, "wait_timeout", 15,
                   clock=fake.clock, sleep=fake.sleep)
    assert "RDS snapshot s1 did not finish within 60 seconds (last state: creating)" in str(caught.value)
    assert "raise wait_timeout" in caught.value.fix and caught.value.facts["timed_out"]
    assert fake.now == 1060.0 and fake.sleeps == [15, 15, 15, 15]


def test_the_last_sleep_is_cut_to_the_deadline_and_success_returns_the_value():
    fake = FakeClock()
    with pytest.raises(RecoveryError):
        wait_until(lambda: (False, "x", None), "w", 20, "wait_timeout", 15, clock=fake.clock, sleep=fake.sleep)
    assert fake.sleeps == [15, 5]
    answers = iter([(False, "creating", None), (False, "backing-up", None), (True, "available", "snap")])
    assert wait_until(lambda: next(answers), "w", 60, "wait_timeout", 1, clock=fake.clock, sleep=fake.sleep) == "snap"


class FakeRds(object):
    """Answers like RdsConnection.call; the snapshot stays `creating` for ever."""
    region = "eu-central-1"

    def __init__(self, snapshot_status="creating"):
        self.calls = []
        self.snapshot_status = snapshot_status
        self.created = False

    def call(self, action, method, where="", **kwargs):
        self.calls.append(method)
        if method == "describe_db_instances":
            return {"DBInstances": [{"DBInstanceIdentifier": "iv-db", "DBInstanceStatus": "available",
                                     "DBInstanceArn": "arn:aws:rds:x:1:db:iv-db", "BackupRetentionPeriod": 7}]}
        if method == "describe_db_snapshots":
            if not self.created:
                raise RecoveryError("missing", code="DBSnapshotNotFound")
            return {"DBSnapshots": [{"DBSnapshotIdentifier": kwargs["DBSnapshotIdentifier"], "Status":
                                     self.snapshot_status, "DBInstanceIdentifier": "iv-db",
                                     "SnapshotCreateTime": datetime.datetime(2026, 11, 21, tzinfo=datetime.timezone.utc)}]}
        if method == "create_db_snapshot":
            self.created = True
            return {"DBSnapshot": {"DBSnapshotIdentifier": kwargs["DBSnapshotIdentifier"], "Status": "creating"}}
        raise AssertionError("unexpected call %s" % method)


PARAMS = dict(instance="iv-db", snapshot_name=None, name_pattern="{instance}-{purpose}-%Y%m%d", purpose="pre-upgrade",
              tags=None, wait=True, wait_timeout=1800, wait_interval=30)


def test_rds_snapshot_that_stays_creating_fails_after_wait_timeout():
    fake, rds = FakeClock(), FakeRds()
    snapshots = RdsSnapshots(PARAMS, False, connection=rds, clock=fake.clock, sleep=fake.sleep)
    with pytest.raises(RecoveryError) as caught:
        snapshots.take_snapshot()
    assert "did not finish within 1800 seconds (last state: creating)" in str(caught.value)
    assert "wait_timeout" in str(caught.value)
    assert fake.now - 1000.0 == 1800 and rds.calls.count("create_db_snapshot") == 1


def test_rds_snapshot_failed_state_stops_at_once_and_check_mode_creates_nothing():
    fake, rds = FakeClock(), FakeRds(snapshot_status="failed")
    with pytest.raises(RecoveryError, match="RDS snapshot iv-db-pre-upgrade-.* is failed"):
        RdsSnapshots(PARAMS, False, connection=rds, clock=fake.clock, sleep=fake.sleep).take_snapshot()
    assert fake.sleeps == []
    planned = RdsSnapshots(PARAMS, True, connection=FakeRds()).take_snapshot()
    assert planned["changed"] and planned["plan"].startswith("would take RDS snapshot iv-db-pre-upgrade-")


def test_no_wait_returns_after_the_create_call():
    rds = FakeRds()
    result = RdsSnapshots(dict(PARAMS, wait=False), False, connection=rds).take_snapshot()
    assert result["changed"] and result["snapshot_status"] == "creating"


def test_client_error_codes_of_rds_name_the_option():
    conn = RdsConnection(dict(region="eu-central-1", endpoint_url="http://127.0.0.1:9", access_key="A",
                              secret_key="planted-unit-secret"))
    error = conn.explain(ClientError({"Error": {"Code": "DBInstanceNotFound", "Message": "DBInstance x not found."},
                                      "ResponseMetadata": {"HTTPStatusCode": 404}}, "DescribeDBInstances"),
                         "describe instance", "x")
    assert "check instance (or target) and region" in str(error) and error.facts["code"] == "DBInstanceNotFound"
    denied = conn.explain(ClientError({"Error": {"Code": "AccessDenied", "Message": "no"},
                                       "ResponseMetadata": {"HTTPStatusCode": 403}}, "CreateDBSnapshot"), "take", "s")
    assert "rds:CreateDBSnapshot" in denied.fix and "planted-unit-secret" not in str(denied)

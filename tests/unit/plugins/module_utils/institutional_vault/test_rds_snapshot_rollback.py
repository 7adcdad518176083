"""A restore to the instance's own name never leaves production without its instance.

A fake RDS (instances by name, with tags) fails at each step after the rename; every time the old instance must be
back under its name, available, without the replaced-by tag, and the error must say so (changed=true). Nothing is
renamed when the request is refused by validation, in check mode or not.
"""

import datetime
import re

import pytest

pytest.importorskip("botocore")
import botocore.session  # noqa: E402

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError  # noqa: E402
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.rds_snapshot import RdsSnapshots  # noqa: E402

RDS_MODEL = botocore.session.get_session().get_service_model("rds")
SNAP_TIME = datetime.datetime(2026, 11, 21, 10, 0, tzinfo=datetime.timezone.utc)


class FakeClock(object):
    def __init__(self):
        self.now = 0.0

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class FakeRds(object):
    """Answers like RdsConnection.call. `fail` maps a method (or "rename back") to the error it raises;
    `restored_status` is the status a restored instance takes."""
    region = "eu-central-1"

    def __init__(self, fail=None, restored_status="available"):
        self.fail = fail or {}
        self.restored_status = restored_status
        self.calls = []
        self.instances = {"iv-db": self._new("iv-db", "available", {"purpose": "prod"}, "db-OLD")}
        self.subnet_groups = {"iv-subnets"}
        self.instances["iv-db"]["DBSubnetGroup"] = {"DBSubnetGroupName": "iv-subnets"}

    @staticmethod
    def _new(name, status, tags, resource_id):
        return {"DBInstanceIdentifier": name, "DBInstanceStatus": status, "DBInstanceArn": "arn:aws:rds:x:1:db:" + name,
                "DbiResourceId": resource_id, "Tags": dict(tags), "BackupRetentionPeriod": 7,
                "DBInstanceClass": "db.t3.micro", "Endpoint": {"Address": name + ".rds.example", "Port": 5432}}

    def operation_model(self, operation):
        return RDS_MODEL.operation_model(operation)

    def _by_arn(self, arn):
        return next(inst for inst in self.instances.values() if inst["DBInstanceArn"] == arn)

    def call(self, action, method, where="", **kwargs):
        self.calls.append(method)
        key = "rename back" if method == "modify_db_instance" and kwargs["DBInstanceIdentifier"] != "iv-db" else method
        if key in self.fail:
            raise self.fail[key]
        return getattr(self, method)(**kwargs)

    def describe_db_instances(self, DBInstanceIdentifier):
        if DBInstanceIdentifier not in self.instances:
            raise RecoveryError("not found", code="DBInstanceNotFound")
        return {"DBInstances": [dict(self.instances[DBInstanceIdentifier])]}

    def describe_db_snapshots(self, DBSnapshotIdentifier):
        return {"DBSnapshots": [{"DBSnapshotIdentifier": DBSnapshotIdentifier, "Status": "available",
                                 "DBInstanceIdentifier": "iv-db", "SnapshotCreateTime": SNAP_TIME}]}

    def describe_db_subnet_groups(self, DBSubnetGroupName):
        if DBSubnetGroupName not in self.subnet_groups:
            raise RecoveryError("not found", code="DBSubnetGroupNotFoundFault")
        return {"DBSubnetGroups": [{"DBSubnetGroupName": DBSubnetGroupName}]}

    def list_tags_for_resource(self, ResourceName):
        return {"TagList": [dict(Key=k, Value=v) for k, v in self._by_arn(ResourceName)["Tags"].items()]}

    def add_tags_to_resource(self, ResourceName, Tags):
        self._by_arn(ResourceName)["Tags"].update((tag["Key"], tag["Value"]) for tag in Tags)

    def remove_tags_from_resource(self, ResourceName, TagKeys):
        for key in TagKeys:
            self._by_arn(ResourceName)["Tags"].pop(key, None)

    def modify_db_instance(self, DBInstanceIdentifier, NewDBInstanceIdentifier, ApplyImmediately):
        inst = self.instances.pop(DBInstanceIdentifier)
        inst.update(DBInstanceIdentifier=NewDBInstanceIdentifier,
                    DBInstanceArn="arn:aws:rds:x:1:db:" + NewDBInstanceIdentifier)
        self.instances[NewDBInstanceIdentifier] = inst

    def restore_db_instance_from_db_snapshot(self, DBInstanceIdentifier, Tags, **_settings):
        inst = self._new(DBInstanceIdentifier, self.restored_status,
                         dict((tag["Key"], tag["Value"]) for tag in Tags), "db-NEW")
        self.instances[DBInstanceIdentifier] = inst
        return {"DBInstance": inst}

    def delete_db_instance(self, DBInstanceIdentifier, SkipFinalSnapshot, DeleteAutomatedBackups):
        assert SkipFinalSnapshot and self.instances[DBInstanceIdentifier]["DbiResourceId"] == "db-NEW"
        del self.instances[DBInstanceIdentifier]


PARAMS = dict(instance="iv-db", snapshot_name="iv-db-snap", target=None, purpose="pre-upgrade", tags=None,
              replaced_name_pattern="{instance}-replaced-%Y%m%d", restore_options=None, wait=True, wait_timeout=600,
              wait_interval=10)


def restore(rds, check_mode=False, **params):
    fake = FakeClock()
    return RdsSnapshots(dict(PARAMS, **params), check_mode, connection=rds, clock=fake.clock,
                        sleep=fake.sleep).restore_snapshot()


def assert_back_as_before(rds):
    assert sorted(rds.instances) == ["iv-db"], rds.instances
    old = rds.instances["iv-db"]
    assert old["DbiResourceId"] == "db-OLD" and old["DBInstanceStatus"] == "available"
    assert old["Tags"] == {"purpose": "prod"}


def test_a_failed_restore_call_renames_the_old_instance_back():
    rds = FakeRds(fail={"restore_db_instance_from_db_snapshot": RecoveryError(
        "RDS refused to restore (InsufficientDBInstanceCapacity): none left.", fix="try another class.",
        code="InsufficientDBInstanceCapacity")})
    with pytest.raises(RecoveryError) as caught:
        restore(rds)
    assert_back_as_before(rds)
    error = caught.value
    assert error.facts["changed"] and error.facts["rolled_back"]
    assert error.facts["code"] == "InsufficientDBInstanceCapacity"
    assert "InsufficientDBInstanceCapacity" in error.message
    assert ("Rolled back: renamed iv-db-replaced-" in error.message
            and "the old instance is available under iv-db again" in error.message)
    assert error.fix == "try another class." and "delete_db_instance" not in rds.calls


def test_a_restored_instance_that_fails_is_deleted_then_the_old_one_renamed_back():
    rds = FakeRds(restored_status="incompatible-parameters")
    with pytest.raises(RecoveryError) as caught:
        restore(rds)
    assert_back_as_before(rds)
    assert "RDS instance iv-db is incompatible-parameters." in caught.value.message
    assert "deleted the partly restored instance iv-db; renamed iv-db-replaced-" in caught.value.message
    rename_back = max(number for number, method in enumerate(rds.calls) if method == "modify_db_instance")
    assert rds.calls.index("delete_db_instance") < rename_back


def test_a_restore_that_outlasts_wait_timeout_is_undone_and_the_fix_says_so():
    rds = FakeRds(restored_status="creating")
    with pytest.raises(RecoveryError) as caught:
        restore(rds)
    assert_back_as_before(rds)
    assert "did not finish within 600 seconds (last state: creating)" in caught.value.message
    assert caught.value.facts["rolled_back"] and "raise wait_timeout" in caught.value.fix
    assert "nothing was rolled back" not in str(caught.value)


def test_an_unexpected_error_after_the_rename_is_rolled_back_too():
    rds = FakeRds(fail={"restore_db_instance_from_db_snapshot": KeyError("DBInstance")})
    with pytest.raises(RecoveryError, match="KeyError: 'DBInstance' Rolled back: renamed"):
        restore(rds)
    assert_back_as_before(rds)


def test_a_failed_rename_only_takes_the_tag_off_again():
    rds = FakeRds(fail={"modify_db_instance": RecoveryError("RDS refused to rename iv-db (InvalidDBInstanceState).")})
    with pytest.raises(RecoveryError, match="Rolled back: the instance was never renamed"):
        restore(rds)
    assert_back_as_before(rds)


def test_when_the_way_back_fails_the_error_says_where_the_instance_is_and_how_to_put_it_back():
    rds = FakeRds(fail={"restore_db_instance_from_db_snapshot": RecoveryError("restore refused."),
                        "rename back": RecoveryError("RDS refused to rename back (InvalidDBInstanceState).")})
    with pytest.raises(RecoveryError) as caught:
        restore(rds)
    error = caught.value
    new_name = error.facts["replaced_instance"]
    assert new_name.startswith("iv-db-replaced-") and new_name in rds.instances and "iv-db" not in rds.instances
    assert error.facts["changed"] and error.facts["rolled_back"] is False
    assert "restore refused. Rolling back failed too (RDS refused to rename back" in error.message
    assert "The old instance is %s (status available)" % new_name in error.message
    assert ("aws rds modify-db-instance --db-instance-identifier %s --new-db-instance-identifier iv-db"
            " --apply-immediately" % new_name) in error.fix


def test_an_instance_under_the_name_that_this_run_did_not_restore_is_never_deleted():
    rds = FakeRds(restored_status="failed")
    original = rds.restore_db_instance_from_db_snapshot

    def foreign(**kwargs):
        answer = original(**kwargs)
        rds.instances["iv-db"]["Tags"] = {"owner": "someone else"}
        return answer
    rds.restore_db_instance_from_db_snapshot = foreign
    with pytest.raises(RecoveryError) as caught:
        restore(rds)
    assert "delete_db_instance" not in rds.calls and caught.value.facts["rolled_back"] is False
    assert "was not restored by this run, so it is left alone" in caught.value.message
    assert "aws rds delete-db-instance --db-instance-identifier iv-db" in caught.value.fix


@pytest.mark.parametrize("check_mode", [True, False])
def test_invalid_requests_are_refused_before_the_rename_in_check_mode_too(check_mode):
    for options, expected in (({"DBInstanceClas": "db.r6g.large"}, "did you mean DBInstanceClass?"),
                              ({"MultiAZ": "yes"}, "MultiAZ must be of type <class 'bool'>"),
                              ({"DBSubnetGroupName": "no-such-group"},
                               "DB subnet group no-such-group (DBSubnetGroupName, from restore_options) does not"
                               " exist")):
        rds = FakeRds()
        with pytest.raises(RecoveryError, match=re.escape(expected)):
            restore(rds, check_mode, restore_options=options)
        assert "modify_db_instance" not in rds.calls and "add_tags_to_resource" not in rds.calls
        assert_back_as_before(rds)


def test_an_inherited_subnet_group_that_is_gone_is_found_before_the_rename():
    rds = FakeRds()
    rds.subnet_groups.clear()
    with pytest.raises(RecoveryError, match="iv-subnets .*from the instance it replaces or was taken from"):
        restore(rds)
    assert "modify_db_instance" not in rds.calls


def test_check_mode_plan_names_option_keys_never_values_and_a_good_restore_still_works():
    rds = FakeRds()
    planned = restore(rds, True, restore_options={"TdeCredentialPassword": "planted-value-9", "Port": 5433})
    assert planned["plan"].endswith("with restore_options Port, TdeCredentialPassword")
    assert "planted-value-9" not in str(planned) and "modify_db_instance" not in rds.calls
    done = restore(rds, restore_options={"DBInstanceClass": "db.t3.small"})
    assert done["changed"] and done["target_status"] == "available" and done["replaced_instance"] in rds.instances
    assert rds.instances["iv-db"]["DbiResourceId"] == "db-NEW"

"""db_info_secret against AWS Secrets Manager (a moto server, real boto3 over HTTP), through ansible-playbook.

Five db-info secrets hold planted passwords (with unicode, escapes, nested
objects and odd numbers) and policy nodes hold planted EMPs; every test
asserts what changed in the store (version ids, stages, bytes) and that no
planted value appears in anything ansible-playbook printed or logged.
"""

import json

import pytest

from support.db_info_planted import NEW_HOST, NODES, OLD_HOST, SERVICES, assert_nothing_leaked, db_info_text, emp
from support.moto_server import ACCESS_KEY, REGION, SECRET_KEY

MODULE = "vaultops.recovery.db_info_secret"


class Store(object):
    def __init__(self, moto):
        import boto3
        self.client = boto3.client("secretsmanager", endpoint_url=moto.url, aws_access_key_id=ACCESS_KEY,
                                   aws_secret_access_key=SECRET_KEY, region_name=REGION)

    def plant(self, name, text):
        return self.client.create_secret(Name=name, SecretString=text)["VersionId"]

    def current(self, name):
        answer = self.client.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")
        return answer["VersionId"], answer["SecretString"]

    def stages(self, name):
        return self.client.describe_secret(SecretId=name)["VersionIdsToStages"]

    def state(self, names):
        return dict((name, self.current(name)) for name in names)


@pytest.fixture
def store(moto):
    moto.reset()
    store = Store(moto)
    for service in SERVICES:
        store.plant("prod.iv.%s.db-info" % service, db_info_text(service))
    for node in NODES:
        store.plant("prod.iv.%s.encryptor-master-password" % node, emp(node))
    return store


@pytest.fixture
def args(moto):
    return dict(provider="aws", endpoint_url=moto.url, region=REGION, access_key=ACCESS_KEY,
                secret_key=SECRET_KEY, environment="prod", namespace="iv")


NAMES = ["prod.iv.%s.db-info" % service for service in SERVICES]


def test_update_check_diff_idempotence_and_rollback(ansible, store, args, monkeypatch):
    monkeypatch.setenv("ANSIBLE_DIFF_ALWAYS", "1")
    before = store.state(NAMES)

    planned = ansible.run(MODULE, dict(args, db_host=NEW_HOST), check_mode=True, name="check")
    assert planned["changed"] and store.state(NAMES) == before
    assert [s["after"]["host"] for s in planned["services"]] == [NEW_HOST] * 5
    assert "DB_HOST=%s" % OLD_HOST in planned["diff"]["before"] and "DB_HOST=%s" % NEW_HOST in planned["diff"]["after"]
    assert "policy-node1 (prod.iv.policy-node1.db-info)" in planned["diff"]["after"]

    done = ansible.run(MODULE, dict(args, db_host=NEW_HOST), name="update")
    assert done["changed"] and done["versions_before"] == dict(
        (s, before["prod.iv.%s.db-info" % s][0]) for s in SERVICES)
    for service, entry in zip(SERVICES, done["services"]):
        name = "prod.iv.%s.db-info" % service
        version, text = store.current(name)
        assert version == entry["version_after"] != entry["version_before"]
        assert text == db_info_text(service).replace(OLD_HOST, NEW_HOST)  # every other byte kept
        assert store.stages(name)[entry["version_before"]] == ["AWSPREVIOUS"]
        assert entry["before"] == {"host": OLD_HOST, "port": "5432", "name": "wallet"}

    again = ansible.run(MODULE, dict(args, db_host=NEW_HOST), name="again")
    assert not again["changed"] and again["versions_before"] == done["versions_after"]

    rolled = ansible.run(MODULE, dict(args, state="rollback", rollback_versions=done["versions_before"]),
                         name="rollback")
    assert rolled["changed"] and store.state(NAMES) == before
    assert all(s["before"]["host"] == NEW_HOST and s["after"]["host"] == OLD_HOST for s in rolled["services"])
    assert_nothing_leaked(ansible, SECRET_KEY)


def test_port_and_name_change_and_rollback_to_previous(ansible, store, args):
    before = store.state(NAMES[:2])
    done = ansible.run(MODULE, dict(args, services=SERVICES[:2], db_host=NEW_HOST, db_port=6432,
                                    db_name="wallet_restored"), name="update")
    version, text = store.current(NAMES[0])
    assert json.loads(text)["DB_PORT"] == 6432 and '"DB_NAME": "wallet_restored"' in text
    assert done["services"][0]["after"] == {"host": NEW_HOST, "port": "6432", "name": "wallet_restored"}
    ansible.run(MODULE, dict(args, services=SERVICES[:2], state="rollback"), name="rollback")
    assert store.state(NAMES[:2]) == before
    assert_nothing_leaked(ansible, SECRET_KEY)


def test_one_malformed_secret_leaves_all_five_untouched(ansible, store, args):
    broken = db_info_text("policy-node1")[:-3]  # truncated: not JSON any more
    store.client.put_secret_value(SecretId=NAMES[3], SecretString=broken)
    before = store.state(NAMES)
    result = ansible.run(MODULE, dict(args, db_host=NEW_HOST), name="update")
    assert result["failed"]
    assert "Secret prod.iv.policy-node2.db-info is not a JSON object" in result["msg"]
    assert "no secret was changed" in result["msg"]
    assert store.state(NAMES) == before
    assert_nothing_leaked(ansible, SECRET_KEY)


def test_emp_check_match_then_differs_and_missing(ansible, store, args):
    for node in NODES:
        store.plant("staging.iv.%s.encryptor-master-password" % node, emp(node))
    check = dict(args, state="emp_check", environment="staging", source_environment="prod")
    ok = ansible.run(MODULE, check, name="match")
    assert not ok.get("failed") and [e["status"] for e in ok["emp"]] == ["match"] * 3

    store.client.put_secret_value(SecretId="staging.iv.policy-node1.encryptor-master-password",
                                  SecretString=emp("policy-node1") + "-regenerated")
    store.client.delete_secret(SecretId="staging.iv.policy-node2.encryptor-master-password",
                               ForceDeleteWithoutRecovery=True)
    # An update into the target with the source named checks the EMPs first and writes nothing.
    staging = ["staging.iv.%s.db-info" % s for s in SERVICES]
    for service, name in zip(SERVICES, staging):
        store.plant(name, db_info_text(service))
    before = store.state(staging)
    # Both runs only read: they run side by side.
    running = [ansible.start(MODULE, check, name="differs"), ansible.start(
        MODULE, dict(args, environment="staging", source_environment="prod", db_host=NEW_HOST), name="refused")]
    bad, refused = [ansible.finish(proc) for proc in running]
    assert bad["failed"] and "policy-node1 differs; policy-node2 missing in target" in bad["msg"]
    assert [(e["node"], e["status"]) for e in bad["emp"]] == [
        ("policy-node0", "match"), ("policy-node1", "differs"), ("policy-node2", "missing")]
    assert refused["failed"] and "Encryptor Master Password" in refused["msg"]
    assert store.state(staging) == before
    assert_nothing_leaked(ansible, SECRET_KEY)


def test_emp_guard_and_wrong_credentials(ansible, store, args, moto):
    emp_names = ["prod.iv.%s.encryptor-master-password" % node for node in NODES]
    before = store.state(emp_names)
    with moto.credentials_checked():
        # The guard refuses before any AWS call, so both runs can share the credential-checking window.
        running = [ansible.start(MODULE, dict(args, services=NODES, db_host=NEW_HOST, name_template=(
            "{environment}.{namespace}.{service}.encryptor-master-password")), name="guard"),
            ansible.start(MODULE, dict(args, db_host=NEW_HOST), name="denied")]
        guarded, denied = [ansible.finish(proc) for proc in running]
    assert guarded["failed"] and "Refusing to write" in guarded["msg"] and "name_template" in guarded["msg"]
    assert store.state(emp_names) == before
    # moto answers 403 where AWS says UnrecognizedClientException; either way the message names the options.
    assert denied["failed"] and "Secrets Manager" in denied["msg"] and "access_key, secret_key" in denied["msg"]
    assert "prod.iv.orchestrator.db-info" in denied["msg"] and denied["msg"].count("Fix:") == 1
    assert_nothing_leaked(ansible, SECRET_KEY)

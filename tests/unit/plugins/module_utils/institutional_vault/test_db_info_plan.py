"""Validate all, then write: a bad secret stops everything; a failed write puts back what was written."""

import json

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import db_info_plan
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.db_info_store import Secret, SecretNotFound
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

SERVICES = ["orchestrator", "policy-node0", "policy-node1", "policy-node2", "wallet"]


class StagedStore(object):
    """In memory, with AWS's staging: versions by id, one current and one previous."""

    def __init__(self):
        self.versions, self.current, self.prev, self.counter, self.fail_on = {}, {}, {}, 0, None

    def seed(self, name, value):
        self.put(name, value, None)

    def get(self, name, version_id=None):
        if name not in self.current:
            raise SecretNotFound(name, "memory")
        version_id = version_id or self.current[name]
        if (name, version_id) not in self.versions:
            raise SecretNotFound(name, "memory", version_id)
        return Secret(name, self.versions[(name, version_id)], version_id)

    def put(self, name, value, current):
        if name == self.fail_on:
            raise RecoveryError("throttled")
        self.counter += 1
        version_id = "v%d" % self.counter
        self.versions[(name, version_id)] = value
        if name in self.current:
            self.prev[name] = self.current[name]
        self.current[name] = version_id
        return version_id

    def previous(self, name, current):
        return self.prev.get(name)

    def in_effect(self, current, target):
        return current.version_id == target.version_id

    def reinstate(self, name, target, current):
        self.prev[name], self.current[name] = current.version_id, target.version_id
        return target.version_id

    def state(self):
        return dict(self.current)


def secret(host, password):
    return '{"DB_HOST": "%s", "DB_PORT": 5432, "DB_PASSWORD": "%s"}' % (host, password)


@pytest.fixture
def store():
    store = StagedStore()
    for service in SERVICES:
        store.seed("e.n.%s.db-info" % service, secret("old-db", "planted-pw-" + service))
    return store


NAMES = dict((service, "e.n.%s.db-info" % service) for service in SERVICES)


def test_update_then_rollback_round_trip(store):
    before = store.state()
    changes = db_info_plan.apply(store, db_info_plan.plan_update(store, NAMES, "new-db"))
    results = [change.result() for change in changes]
    assert all(r["changed"] and r["before"]["host"] == "old-db" and r["after"]["host"] == "new-db" for r in results)
    assert {r["service"]: r["version_before"] for r in results} == dict((s, before[NAMES[s]]) for s in SERVICES)
    assert json.loads(store.get(NAMES["wallet"]).value)["DB_PASSWORD"] == "planted-pw-wallet"
    assert "planted-pw-wallet" not in json.dumps(results)
    # Same host again: nothing to do.
    assert not any(change.changed for change in db_info_plan.plan_update(store, NAMES, "new-db"))
    rollback = db_info_plan.apply(store, db_info_plan.plan_rollback(
        store, NAMES, dict((r["service"], r["version_before"]) for r in results)))
    assert store.state() == before and all(change.changed for change in rollback)
    # Rolling back to the same versions again changes nothing.
    again = db_info_plan.plan_rollback(store, NAMES, dict((r["service"], r["version_before"]) for r in results))
    assert not any(change.changed for change in again)


def test_one_malformed_secret_stops_all(store):
    store.seed(NAMES["policy-node1"], '{"DB_HOST": "old-db", "DB_PASSWORD": "planted-pw-x"')
    before = store.state()
    with pytest.raises(RecoveryError) as caught:
        db_info_plan.plan_update(store, NAMES, "new-db")
    assert "e.n.policy-node1.db-info is not a JSON object" in str(caught.value)
    assert "planted-pw" not in str(caught.value)
    assert store.state() == before


def test_every_bad_secret_is_named_in_one_error(store):
    store.seed(NAMES["wallet"], '{"DB_PASSWORD": "planted-pw-y"}')
    names = dict(NAMES, orchestrator="e.n.missing.db-info")
    with pytest.raises(RecoveryError) as caught:
        db_info_plan.plan_update(store, names, "new-db")
    message = str(caught.value)
    assert message.startswith("2 of 5 db-info secrets cannot be used; no secret was changed")
    assert "e.n.missing.db-info does not exist" in message and "e.n.wallet.db-info has no DB_HOST" in message


def test_errors_not_about_one_secret_are_raised_once(store):
    def denied(name, version_id=None):
        raise RecoveryError("credentials rejected")
    store.get = denied
    with pytest.raises(RecoveryError, match="^credentials rejected$"):
        db_info_plan.plan_update(store, NAMES, "new-db")


def test_failed_write_puts_back_what_was_written(store):
    before = store.state()
    store.fail_on = NAMES["policy-node2"]
    with pytest.raises(RecoveryError) as caught:
        db_info_plan.apply(store, db_info_plan.plan_update(store, NAMES, "new-db"))
    assert "Writing e.n.policy-node2.db-info failed (throttled)" in str(caught.value)
    assert "put back (e.n.policy-node1.db-info, e.n.policy-node0.db-info, e.n.orchestrator.db-info)" in str(
        caught.value)
    assert store.state() == before


def test_rollback_without_versions_uses_the_previous_one(store):
    before = store.state()
    db_info_plan.apply(store, db_info_plan.plan_update(store, NAMES, "new-db"))
    changes = db_info_plan.apply(store, db_info_plan.plan_rollback(store, NAMES))
    assert store.state() == before
    assert changes[0].result()["before"]["host"] == "new-db" and changes[0].result()["after"]["host"] == "old-db"


def test_rollback_refuses_unknown_services_missing_versions_and_bad_targets(store):
    with pytest.raises(RecoveryError, match="rollback_versions names service"):
        db_info_plan.plan_rollback(store, NAMES, {"nats": "v1"})
    with pytest.raises(RecoveryError, match="no earlier version"):
        db_info_plan.plan_rollback(store, {"wallet": NAMES["wallet"]})
    with pytest.raises(RecoveryError, match="has no version v999"):
        db_info_plan.plan_rollback(store, {"wallet": NAMES["wallet"]}, {"wallet": "v999"})
    store.seed(NAMES["wallet"], "not json planted-pw-z")
    store.seed(NAMES["wallet"], secret("x", "y"))
    with pytest.raises(RecoveryError, match="wallet.db-info is not a JSON object") as caught:
        db_info_plan.plan_rollback(store, {"wallet": NAMES["wallet"]})
    assert "planted-pw-z" not in str(caught.value)


def test_sensitive_values_cover_passwords(store):
    changes = db_info_plan.plan_update(store, NAMES, "new-db")
    values = db_info_plan.sensitive_values(changes)
    assert all("planted-pw-" + service in values for service in SERVICES)

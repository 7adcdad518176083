"""db_info_secret against the Key Vault stand-in (tests/support/azure_key_vault.py) with the REAL SecretClient.

The module gets its token from the stand-in's Entra ID endpoint through the
real ClientSecretCredential (authority_host), answers Key Vault's 401
challenge, and trusts the stand-in's certificate through azure_ca_bundle.
Names are the mapped Key Vault form (dots become dashes). Same scenarios as
on AWS; a rollback on Azure is a new version holding the earlier value.
"""

import pytest

from support.db_info_planted import NEW_HOST, NODES, OLD_HOST, SERVICES, assert_nothing_leaked, db_info_text, emp
from support import azure_https
from support.azure_fixtures import stand_in_fixture
from support.azure_key_vault import KeyVaultStandIn

MODULE = "vaultops.recovery.db_info_secret"
NAMES = ["prod-iv-%s-db-info" % service for service in SERVICES]

vault = stand_in_fixture(KeyVaultStandIn, "key-vault")


@pytest.fixture
def store(vault):
    vault.reset()
    for service, name in zip(SERVICES, NAMES):
        vault.set(name, db_info_text(service), tags={"app": "institutional-vault"}, content_type="application/json")
    for node in NODES:
        vault.set("prod-iv-%s-encryptor-master-password" % node, emp(node))
    return vault


def state(vault, names):
    return dict((name, (vault.latest(name)["version"], vault.latest(name)["value"])) for name in names)


@pytest.fixture
def args(vault):
    return dict(vault.connection_params(), provider="azure", vault_url=vault.url, environment="prod", namespace="iv")


def test_update_check_diff_idempotence_and_rollback(ansible, store, args, monkeypatch):
    monkeypatch.setenv("ANSIBLE_DIFF_ALWAYS", "1")
    before = state(store, NAMES)

    planned = ansible.run(MODULE, dict(args, db_host=NEW_HOST), check_mode=True, name="check")
    assert planned["changed"] and state(store, NAMES) == before
    assert [s["secret_name"] for s in planned["services"]] == NAMES
    assert "DB_HOST=%s" % NEW_HOST in planned["diff"]["after"] and "DB_HOST=%s" % OLD_HOST in planned["diff"]["before"]

    done = ansible.run(MODULE, dict(args, db_host=NEW_HOST), name="update")
    assert done["changed"]
    for service, name, entry in zip(SERVICES, NAMES, done["services"]):
        latest = store.latest(name)
        assert latest["version"] == entry["version_after"] and entry["version_before"] == before[name][0]
        assert latest["value"] == db_info_text(service, NEW_HOST)  # every other byte kept
        assert latest["tags"] == {"app": "institutional-vault", "vaultops-previous-version": before[name][0]}
        assert latest["contentType"] == "application/json"

    again = ansible.run(MODULE, dict(args, db_host=NEW_HOST), name="again")
    assert not again["changed"] and len(store.versions(NAMES[0])) == 2

    rolled = ansible.run(MODULE, dict(args, state="rollback", rollback_versions=done["versions_before"]),
                         name="rollback")
    assert rolled["changed"]
    for service, name, entry in zip(SERVICES, NAMES, rolled["services"]):
        latest = store.latest(name)
        # Key Vault cannot make an old version current: the old value comes back as a new version.
        assert latest["value"] == before[name][1] and latest["version"] not in (before[name][0], entry["version_before"])
        assert entry["after"]["host"] == OLD_HOST and len(store.versions(name)) == 3
    assert store.server.token_requests >= 1
    assert_nothing_leaked(ansible, azure_https.CLIENT_SECRET, azure_https.ACCESS_TOKEN)


def test_rollback_to_previous_follows_the_tag(ansible, store, args):
    before = state(store, NAMES[:1])
    ansible.run(MODULE, dict(args, services=SERVICES[:1], db_host=NEW_HOST, db_port=6432), name="update")
    rolled = ansible.run(MODULE, dict(args, services=SERVICES[:1], state="rollback"), name="rollback")
    assert rolled["changed"] and store.latest(NAMES[0])["value"] == before[NAMES[0]][1]
    assert rolled["services"][0]["before"]["port"] == "6432" and rolled["services"][0]["after"]["port"] == "5432"
    assert_nothing_leaked(ansible, azure_https.CLIENT_SECRET)


def test_one_malformed_secret_leaves_all_five_untouched(ansible, store, args):
    store.set(NAMES[3], db_info_text("policy-node2")[:-3])
    before = state(store, NAMES)
    result = ansible.run(MODULE, dict(args, db_host=NEW_HOST))
    assert result["failed"] and "Secret prod-iv-policy-node2-db-info is not a JSON object" in result["msg"]
    assert state(store, NAMES) == before
    assert_nothing_leaked(ansible, azure_https.CLIENT_SECRET)


def test_write_failing_half_way_puts_back_what_was_written(ansible, store, args):
    # 409 is not retried by the SDK (503 would be, with back-off): the write fails at once.
    conflict = azure_https.Response(409, {"error": {"code": "Conflict", "message": "Secret is being updated."}})
    store.server.fail_next("PUT", r"^/secrets/prod-iv-policy-node2-db-info$", conflict)
    before = state(store, NAMES)
    result = ansible.run(MODULE, dict(args, db_host=NEW_HOST))
    assert result["failed"] and "Writing prod-iv-policy-node2-db-info failed" in result["msg"]
    assert "put back" in result["msg"] and "the set is as it was" in result["msg"]
    for name in NAMES:  # the three written first hold their old value again (as a newer version)
        assert store.latest(name)["value"] == before[name][1]
    assert [len(store.versions(name)) for name in NAMES] == [3, 3, 3, 1, 1]
    assert_nothing_leaked(ansible, azure_https.CLIENT_SECRET)


def test_key_vault_name_template(ansible, store, args):
    store.set("wallet-dbinfo-prod", db_info_text("wallet"))
    done = ansible.run(MODULE, dict(args, services=["wallet"], db_host=NEW_HOST,
                                    key_vault_name_template="{service}-dbinfo-{environment}"), name="template")
    assert done["changed"] and store.latest("wallet-dbinfo-prod")["value"] == db_info_text("wallet", NEW_HOST)
    assert store.latest(NAMES[4])["value"] == db_info_text("wallet")
    assert_nothing_leaked(ansible, azure_https.CLIENT_SECRET)


def test_emp_check_across_vaults(ansible, store, args):
    staging = store.second_url  # another vault: the stand-in tells vaults apart by host name, like Key Vault
    for node in NODES:
        store.set("staging-iv-%s-encryptor-master-password" % node, emp(node), vault=staging)
    check = dict(args, state="emp_check", environment="staging", source_environment="prod",
                 vault_url=staging, source_vault_url=store.url)
    ok = ansible.run(MODULE, check, name="match")
    # A match proves both vaults were read: each holds only its own environment's EMP names.
    assert not ok.get("failed") and [e["status"] for e in ok["emp"]] == ["match"] * 3

    store.set("staging-iv-policy-node0-encryptor-master-password", emp("policy-node0") + "-regenerated",
              vault=staging)
    bad = ansible.run(MODULE, dict(check, emp_nodes=NODES + ["policy-node3"]), name="differs")
    assert bad["failed"] and "policy-node0 differs" in bad["msg"]
    assert "policy-node3 missing in source and target" in bad["msg"]
    assert [e["status"] for e in bad["emp"]] == ["differs", "match", "match", "missing"]
    assert_nothing_leaked(ansible, azure_https.CLIENT_SECRET)


def test_emp_guard_and_wrong_client_secret(ansible, store, args):
    emp_name = "prod-iv-policy-node0-encryptor-master-password"
    before = state(store, [emp_name])
    running = [ansible.start(MODULE, dict(args, services=["policy-node0"], db_host=NEW_HOST, key_vault_name_template=(
        "{environment}-{namespace}-{service}-encryptor-master-password")), name="guard"),
        ansible.start(MODULE, dict(args, secret="planted-wrong-client-secret-31d", db_host=NEW_HOST), name="denied")]
    guarded, denied = [ansible.finish(proc) for proc in running]
    assert guarded["failed"] and "Refusing to write %s" % emp_name in guarded["msg"]
    assert state(store, [emp_name]) == before
    assert denied["failed"] and "Azure authentication" in denied["msg"] and "tenant_id" in denied["msg"]
    assert_nothing_leaked(ansible, azure_https.CLIENT_SECRET, "planted-wrong-client-secret-31d")

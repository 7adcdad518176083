"""db_info_secret's EMP states through ansible-playbook: digests, the check against them, the carry-over.

Real boto3 against moto and the real SecretClient against the Key Vault
stand-in; every planted EMP (unicode, quotes, a trailing newline) must be
absent from everything ansible-playbook printed, logged or returned.
"""

import hashlib

import pytest

from support.azure_fixtures import stand_in_fixture
from support.azure_key_vault import KeyVaultStandIn
from support.moto_server import ACCESS_KEY, REGION, SECRET_KEY

MODULE = "vaultops.recovery.db_info_secret"
NODES = ["policy-node0", "policy-node1", "policy-node2"]

vault = stand_in_fixture(KeyVaultStandIn, "key-vault-emp-module")


def planted(node):
    return u"planted-EMP-%s-\u00e9\u2713 \"q\" 'q'-4e2a\n" % node


def digest(value):
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def assert_nothing_leaked(ansible, *more):
    printed = ansible.everything_printed()
    values = [planted(node) for node in NODES] + [planted(node).rstrip("\n") for node in NODES] + list(more)
    assert printed and not [value for value in values if value in printed]


@pytest.fixture
def aws(moto):
    import boto3
    moto.reset()
    client = boto3.client("secretsmanager", endpoint_url=moto.url, aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY, region_name=REGION)
    for node in NODES:
        client.create_secret(Name="prod.iv.%s.encryptor-master-password" % node, SecretString=planted(node))
    return client


@pytest.fixture
def aws_args(moto):
    return dict(provider="aws", endpoint_url=moto.url, region=REGION, access_key=ACCESS_KEY, secret_key=SECRET_KEY,
                namespace="iv")


def test_digests_then_carry_over_to_azure_then_check_against_the_digests(ansible, aws, aws_args, vault):
    vault.reset()
    recorded = ansible.run(MODULE, dict(aws_args, state="emp_digests", environment="prod"), name="digests")
    assert not recorded["changed"] and recorded["emp_digests"] == dict((n, digest(planted(n))) for n in NODES)

    azure = dict(vault.connection_params(), provider="azure", vault_url=vault.url, namespace="iv", environment="dr")
    expected = dict(azure, state="emp_check", expected_emp_digests=recorded["emp_digests"])
    missing = ansible.run(MODULE, expected, name="missing")
    assert missing["failed"], missing
    assert "cannot be regenerated or substituted" in missing["msg"], missing["msg"]
    assert [e["status"] for e in missing["emp"]] == ["missing"] * 3

    # The target is on Azure, so the unprefixed AWS options serve the source (as source_* would).
    carry = dict(azure, state="emp_carry_over", source_provider="aws", source_environment="prod",
                 source_endpoint_url=aws_args["endpoint_url"], region=REGION, access_key=ACCESS_KEY,
                 secret_key=SECRET_KEY)
    planned = ansible.run(MODULE, carry, check_mode=True, name="check")
    assert planned["changed"] and planned["carried"] == NODES
    with pytest.raises(KeyError):
        vault.latest("dr-iv-policy-node0-encryptor-master-password")

    done = ansible.run(MODULE, carry, name="carry")
    assert done["changed"] and done["carried"] == NODES and done["rolled_back"] is False
    assert done["emp_after"] == done["source_emp_digests"] == recorded["emp_digests"]
    assert done["emp_before"] == dict.fromkeys(NODES)
    for node in NODES:
        assert vault.latest("dr-iv-%s-encryptor-master-password" % node)["value"] == planted(node)

    again = ansible.run(MODULE, carry, name="again")
    assert not again["changed"] and again["carried"] == []
    matched = ansible.run(MODULE, expected, name="match")
    assert not matched.get("failed") and [e["status"] for e in matched["emp"]] == ["match"] * 3
    assert_nothing_leaked(ansible, SECRET_KEY)


def test_update_is_refused_without_the_recorded_emps(ansible, aws, aws_args):
    aws.create_secret(Name="dr.iv.wallet.db-info", SecretString='{"DB_HOST": "old.db.internal"}')
    aws.create_secret(Name="dr.iv.policy-node0.encryptor-master-password", SecretString="planted-EMP-new-0-8812")
    recorded = dict((n, digest(planted(n))) for n in NODES)
    refused = ansible.run(MODULE, dict(aws_args, environment="dr", services=["wallet"], db_host="new.db.internal",
                                       expected_emp_digests=recorded), name="refused")
    assert refused["failed"] and "state=emp_carry_over" in refused["msg"]
    assert aws.get_secret_value(SecretId="dr.iv.wallet.db-info")["SecretString"] == '{"DB_HOST": "old.db.internal"}'
    both = ansible.run(MODULE, dict(aws_args, state="emp_check", environment="dr", source_environment="prod",
                                    expected_emp_digests=recorded), name="both")
    assert both["failed"] and "mutually exclusive" in both["msg"]
    assert_nothing_leaked(ansible, SECRET_KEY, "planted-EMP-new-0-8812")

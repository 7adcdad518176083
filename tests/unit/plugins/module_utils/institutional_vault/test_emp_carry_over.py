"""EMP digests, the check against recorded digests and the carry-over, against moto and the Key Vault stand-in.

The real boto3 and SecretClient talk to a moto server and to the Key Vault
stand-in (with delete, soft-delete and purge added below), through
emp_actions.run with the module's own argument defaults. Every test plants
EMP values and asserts they appear in no result or error text.
"""

import hashlib
import json
import time

import pytest

from ansible_collections.vaultops.recovery.plugins.modules import db_info_secret
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import emp_actions, emp_carry_over
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.secret_store_aws import AwsSecretStore
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.secret_store_azure import (
    AzureSecretStore)
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

from support.azure_fixtures import stand_in_fixture
from support.azure_https import Response
from support.azure_key_vault import KeyVaultStandIn, kv_error
from support.moto_server import ACCESS_KEY, REGION, SECRET_KEY

NODES = ["policy-node0", "policy-node1", "policy-node2"]
# Unicode, both quotes, a backslash and a trailing newline: must arrive byte for byte.
TRICKY = u"planted-EMP-\u00e9\u2713-\"q\" 'q' \\n-\U0001F511\n"


def emp_value(node, tag="prod"):
    return "planted-EMP-%s-%s-5be1c0d7" % (tag, node)


def digest(value):
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class DeletingKeyVault(KeyVaultStandIn):
    """The stand-in plus Key Vault's soft delete: delete, get deleted, purge, and 409 on setting a deleted name."""

    def __init__(self, directory):
        super(DeletingKeyVault, self).__init__(directory)
        route = self.server.route
        route("DELETE", r"^/secrets/(?P<name>[^/]*)/?$", self._guarded(self._delete))
        route("GET", r"^/deletedsecrets/(?P<name>[^/]*)/?$", self._guarded(self._get_deleted))
        route("DELETE", r"^/deletedsecrets/(?P<name>[^/]*)/?$", self._guarded(self._purge))
        route("PUT", r"^/secrets/(?P<name>[^/]*)/?$", self._guarded(self._set_unless_deleted))

    def exists(self, name, vault=None):
        with self._lock:
            return name.lower() in self._secrets(vault or self.url)

    def deleted(self, name, vault=None):
        with self._lock:
            return ("deleted", name.lower()) in self._secrets(vault or self.url)

    def _deleted_bundle(self, request, entry):
        bundle = self._item(request, entry, self._newest(entry))
        host = request.headers.get("Host")
        bundle.update(recoveryId="https://%s/deletedsecrets/%s" % (host, entry["name"]),
                      deletedDate=int(time.time()), scheduledPurgeDate=int(time.time()) + 90 * 86400)
        return bundle

    def _delete(self, request, secrets):
        name = request.match.group("name")
        entry = secrets.pop(name.lower(), None)
        if entry is None:
            return self._not_found(name)
        secrets[("deleted", name.lower())] = entry
        return Response(200, self._deleted_bundle(request, entry))

    def _get_deleted(self, request, secrets):
        name = request.match.group("name")
        entry = secrets.get(("deleted", name.lower()))
        if entry is None:
            return kv_error(404, "SecretNotFound", "Deleted Secret not found: %s" % name)
        return Response(200, self._deleted_bundle(request, entry))

    def _purge(self, request, secrets):
        name = request.match.group("name")
        if secrets.pop(("deleted", name.lower()), None) is None:
            return kv_error(404, "SecretNotFound", "Deleted Secret not found: %s" % name)
        return Response(204)

    def _set_unless_deleted(self, request, secrets):
        name = request.match.group("name")
        if ("deleted", name.lower()) in secrets:
            return kv_error(409, "Conflict", "Secret %s is currently in a deleted but recoverable state." % name,
                            "ObjectIsDeletedButRecoverable")
        return self._set(request, secrets)


vault = stand_in_fixture(DeletingKeyVault, "key-vault-emp")


class Aws(object):
    def __init__(self, moto):
        import boto3
        self.client = boto3.client("secretsmanager", endpoint_url=moto.url, aws_access_key_id=ACCESS_KEY,
                                   aws_secret_access_key=SECRET_KEY, region_name=REGION)

    def plant(self, name, value):
        try:
            return self.client.create_secret(Name=name, SecretString=value)["VersionId"]
        except self.client.exceptions.ResourceExistsException:
            return self.client.put_secret_value(SecretId=name, SecretString=value)["VersionId"]

    def current(self, name):
        try:
            answer = self.client.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")
        except self.client.exceptions.ResourceNotFoundException:
            return None
        return answer["VersionId"], answer["SecretString"]

    def value(self, name):
        current = self.current(name)
        return current and current[1]


def aws_name(env, node, ns="iv"):
    return "%s.%s.%s.encryptor-master-password" % (env, ns, node)


def kv_name(env, node, ns="iv"):
    return "%s-%s-%s-encryptor-master-password" % (env, ns, node)


def params(**given):
    spec = db_info_secret.argument_spec()
    result = dict((name, options.get("default")) for name, options in spec.items())
    result.update(namespace="iv", environment="prod")
    result.update(given)
    return result


@pytest.fixture
def aws(moto):
    moto.reset()
    return Aws(moto)


@pytest.fixture
def aws_args(moto):
    return dict(provider="aws", endpoint_url=moto.url, region=REGION, access_key=ACCESS_KEY, secret_key=SECRET_KEY)


@pytest.fixture
def kv(vault):
    vault.reset()
    return vault


@pytest.fixture
def kv_args(kv):
    return dict(kv.connection_params(), provider="azure", vault_url=kv.url)


def run(given, check_mode=False):
    seen = []
    try:
        result = emp_actions.run(params(**given), check_mode, seen)[0]
    except RecoveryError as exc:
        return None, exc, seen
    return result, None, seen


def assert_no_value(planted, *things):
    text = ""
    for thing in things:
        if isinstance(thing, RecoveryError):
            text += str(thing) + repr(thing) + json.dumps(thing.facts, default=str)
        else:
            text += json.dumps(thing, default=str)
    assert text and not [value for value in planted if value in text]


# emp_digests ----------------------------------------------------------------------------------------------------
def test_digests_are_sha256_of_the_planted_values_aws(aws, aws_args):
    planted = [emp_value(node) for node in NODES]
    planted[1] = TRICKY
    for node, value in zip(NODES, planted):
        aws.plant(aws_name("prod", node), value)
    result, error, seen = run(dict(aws_args, state="emp_digests"))
    assert error is None and not result["changed"]
    assert result["emp_digests"] == dict((node, digest(value)) for node, value in zip(NODES, planted))
    assert [(e["node"], e["secret_name"], e["status"]) for e in result["emp"]] == [
        (node, aws_name("prod", node), "present") for node in NODES]
    assert sorted(seen) == sorted(planted)
    assert_no_value(planted, result)


def test_digests_azure_and_every_missing_node_named(kv, kv_args):
    kv.set(kv_name("prod", "policy-node1"), emp_value("policy-node1"))
    result, error = run(dict(kv_args, state="emp_digests"))[:2]
    assert result is None
    assert ("policy-node0 (prod-iv-policy-node0-encryptor-master-password); policy-node2"
            " (prod-iv-policy-node2-encryptor-master-password) does not exist" in error.message)
    assert error.facts["missing"] == ["policy-node0", "policy-node2"]
    assert "cannot be regenerated or substituted" in error.fix
    kv.set(kv_name("prod", "policy-node0"), emp_value("policy-node0"))
    kv.set(kv_name("prod", "policy-node2"), emp_value("policy-node2"))
    result, error = run(dict(kv_args, state="emp_digests"))[:2]
    assert result["emp_digests"] == dict((node, digest(emp_value(node))) for node in NODES)
    assert_no_value([emp_value(node) for node in NODES], result, error or {})


# emp_check against recorded digests -----------------------------------------------------------------------------
def test_check_expected_match_differs_missing(aws, aws_args):
    for node in NODES:
        aws.plant(aws_name("prod", node), emp_value(node))
    recorded = run(dict(aws_args, state="emp_digests"))[0]["emp_digests"]
    ok, error = run(dict(aws_args, state="emp_check", expected_emp_digests=recorded))[:2]
    assert error is None and [e["status"] for e in ok["emp"]] == ["match"] * 3 and ok["emp_digests"] == recorded

    aws.plant(aws_name("prod", "policy-node1"), emp_value("policy-node1") + "-regenerated")
    aws.client.delete_secret(SecretId=aws_name("prod", "policy-node2"), ForceDeleteWithoutRecovery=True)
    bad, error = run(dict(aws_args, state="emp_check", expected_emp_digests=recorded))[:2]
    assert bad is None
    assert [(e["node"], e["status"]) for e in error.facts["emp"]] == [
        ("policy-node0", "match"), ("policy-node1", "differs"), ("policy-node2", "missing")]
    assert ("must be carried over unchanged from the original environment - they cannot be regenerated or"
            " substituted" in error.message)
    assert "state=emp_carry_over" in error.fix and "restore into the environment the set came from" in error.fix
    assert error.facts["emp_digests"]["policy-node2"] is None
    assert_no_value([emp_value(n) for n in NODES] + [emp_value("policy-node1") + "-regenerated"], error)


def test_update_with_expected_digests_writes_nothing_on_mismatch(aws, aws_args):
    for node in NODES:
        aws.plant(aws_name("staging", node), emp_value(node, "other"))
        aws.plant("staging.iv.%s.db-info" % node, '{"DB_HOST": "old.db.internal"}')
    recorded = dict((node, digest(emp_value(node))) for node in NODES)
    before = dict((node, aws.current("staging.iv.%s.db-info" % node)) for node in NODES)
    update = dict(aws_args, environment="staging", services=NODES, db_host="new.db.internal",
                  expected_emp_digests=recorded)
    result, error = run(update)[:2]
    assert result is None and "not the ones the recovery set recorded" in error.message
    assert dict((node, aws.current("staging.iv.%s.db-info" % node)) for node in NODES) == before
    for node in NODES:
        aws.plant(aws_name("staging", node), emp_value(node))
    result, error = run(update)[:2]
    assert error is None and result["changed"] and [e["status"] for e in result["emp"]] == ["match"] * 3
    assert json.loads(aws.value("staging.iv.policy-node0.db-info"))["DB_HOST"] == "new.db.internal"


@pytest.mark.parametrize("expected, problem", [
    ({"policy-node0": "a" * 64}, "it has no digest for policy-node1, policy-node2"),
    (dict([(n, "a" * 64) for n in NODES] + [("wallet", "b" * 64)]), "it names wallet, not in emp_nodes"),
    (dict([(n, "a" * 64) for n in NODES[:2]] + [("policy-node2", "xyz")]),
     "the digest of policy-node2 is not 64 hexadecimal characters"),
])
def test_expected_digests_must_fit_the_nodes(aws_args, expected, problem):
    result, error, seen = run(dict(aws_args, state="emp_check", expected_emp_digests=expected))
    assert result is None and problem in error.message and "Nothing was read" in error.message and not seen


def test_misplaced_options_are_refused(aws_args):
    for given, text in (
            (dict(state="rollback", expected_emp_digests={"x": "y"}), "applies to state=emp_check and state=update"),
            (dict(state="emp_digests", source_provider="azure"), "source_provider applies to"),
            (dict(state="emp_check", source_environment="a", expected_emp_digests={}), "mutually exclusive"),
            (dict(state="emp_carry_over"), "needs source_environment"),
            (dict(state="emp_check"), "needs source_environment or expected_emp_digests")):
        error = run(dict(aws_args, **given))[1]
        assert error is not None and text in str(error), (given, error)


# emp_carry_over -------------------------------------------------------------------------------------------------
def test_carry_over_aws_to_aws_byte_for_byte_check_mode_and_rerun(aws, aws_args):
    planted = {"policy-node0": TRICKY, "policy-node1": emp_value("policy-node1"), "policy-node2": "planted-EMP-same-2-9d9d"}
    for node, value in planted.items():
        aws.plant(aws_name("prod", node), value)
    aws.plant(aws_name("dr", "policy-node0", "iv2"), "planted-EMP-wrong-0-1f0e")  # differs: overwritten
    aws.plant(aws_name("dr", "policy-node2", "iv2"), planted["policy-node2"])  # already matches: left alone
    untouched = aws.current(aws_name("dr", "policy-node2", "iv2"))
    carry = dict(aws_args, state="emp_carry_over", environment="dr", namespace="iv2", source_environment="prod",
                 source_namespace="iv")

    planned, error = run(carry, check_mode=True)[:2]
    assert error is None and planned["changed"] and planned["carried"] == ["policy-node0", "policy-node1"]
    assert aws.value(aws_name("dr", "policy-node0", "iv2")) == "planted-EMP-wrong-0-1f0e"
    assert aws.current(aws_name("dr", "policy-node1", "iv2")) is None

    done, error = run(carry)[:2]
    assert error is None and done["changed"] and done["carried"] == ["policy-node0", "policy-node1"]
    assert not done["rolled_back"]
    for node, value in planted.items():
        assert aws.value(aws_name("dr", node, "iv2")) == value  # byte for byte, trailing newline included
    assert done["source_emp_digests"] == done["emp_after"] == dict((n, digest(v)) for n, v in planted.items())
    assert done["emp_before"] == {"policy-node0": digest("planted-EMP-wrong-0-1f0e"), "policy-node1": None,
                                  "policy-node2": digest(planted["policy-node2"])}
    assert aws.current(aws_name("dr", "policy-node2", "iv2")) == untouched
    # The source is never written.
    assert aws.value(aws_name("prod", "policy-node0")) == TRICKY

    again, error = run(carry)[:2]
    assert error is None and not again["changed"] and again["carried"] == []
    assert_no_value(list(planted.values()) + ["planted-EMP-wrong-0-1f0e"], planned, done, again)


def test_carry_over_refuses_the_same_store_and_names(aws, aws_args, kv, kv_args):
    error = run(dict(aws_args, state="emp_carry_over", source_environment="prod"))[1]
    assert "same store and the same secret names" in error.message
    error = run(dict(kv_args, state="emp_carry_over", source_environment="prod", source_vault_url=kv.url))[1]
    assert "nothing to carry over" in error.message


def test_carry_over_missing_source_writes_nothing(aws, aws_args):
    aws.plant(aws_name("prod", "policy-node0"), emp_value("policy-node0"))
    result, error = run(dict(aws_args, state="emp_carry_over", environment="dr", source_environment="prod"))[:2]
    assert result is None and "policy-node1 (prod.iv.policy-node1.encryptor-master-password)" in error.message
    assert "nothing was written" in error.message and error.facts["missing"] == ["policy-node1", "policy-node2"]
    assert aws.current(aws_name("dr", "policy-node0")) is None


def test_carry_over_aws_to_azure(aws, aws_args, kv, kv_args):
    for node in NODES:
        aws.plant(aws_name("prod", node), TRICKY + node)
    kv.set(kv_name("dr", "policy-node1"), "planted-EMP-stale-1-77aa", tags={"team": "iv"})
    carry = dict(kv_args, state="emp_carry_over", environment="dr", source_environment="prod",
                 source_provider="aws", source_endpoint_url=aws_args["endpoint_url"], source_region=REGION,
                 source_access_key=ACCESS_KEY, source_secret_key=SECRET_KEY)
    done, error = run(carry)[:2]
    assert error is None and done["carried"] == NODES and done["source"]["provider"] == "aws"
    for node in NODES:
        assert kv.latest(kv_name("dr", node))["value"] == TRICKY + node
    assert kv.latest(kv_name("dr", "policy-node1"))["tags"]["team"] == "iv"  # tags of the replaced version kept
    assert not run(carry)[0]["changed"]
    assert_no_value([TRICKY + n for n in NODES] + ["planted-EMP-stale-1-77aa"], done)


def test_carry_over_azure_to_aws(aws, aws_args, kv, kv_args):
    for node in NODES:
        kv.set(kv_name("prod", node), TRICKY + node)
    carry = dict(aws_args, state="emp_carry_over", environment="dr", source_environment="prod",
                 source_provider="azure", source_vault_url=kv.url,
                 **dict((k, v) for k, v in kv_args.items() if k not in ("provider", "vault_url")))
    done, error = run(carry)[:2]
    assert error is None and done["carried"] == NODES
    assert dict((n, aws.value(aws_name("dr", n))) for n in NODES) == dict((n, TRICKY + n) for n in NODES)
    assert not run(carry)[0]["changed"]
    missing_url = dict(carry)
    missing_url.pop("source_vault_url")
    assert "needs source_vault_url" in str(run(missing_url)[1])


def test_check_against_a_source_in_the_other_provider(aws, aws_args, kv, kv_args):
    for node in NODES:
        kv.set(kv_name("prod", node), emp_value(node))
        aws.plant(aws_name("dr", node), emp_value(node) if node != "policy-node2" else "planted-EMP-other-2-0c0c")
    check = dict(aws_args, state="emp_check", environment="dr", source_environment="prod", source_provider="azure",
                 source_vault_url=kv.url, **dict((k, v) for k, v in kv_args.items() if k not in ("provider", "vault_url")))
    result, error = run(check)[:2]
    assert result is None and "policy-node2 differs" in error.message
    assert [e["source_secret"] for e in error.facts["emp"]] == [kv_name("prod", n) for n in NODES]
    aws.plant(aws_name("dr", "policy-node2"), emp_value("policy-node2"))
    result, error = run(check)[:2]
    assert error is None and [e["status"] for e in result["emp"]] == ["match"] * 3
    assert result["source"]["provider"] == "azure"
    assert_no_value([emp_value(n) for n in NODES] + ["planted-EMP-other-2-0c0c"], result)


def test_carry_over_azure_to_azure_other_vault(kv, kv_args):
    for node in NODES:
        kv.set(kv_name("prod", node), TRICKY + node)
    carry = dict(kv_args, vault_url=kv.second_url, state="emp_carry_over", source_environment="prod",
                 source_vault_url=kv.url)
    done, error = run(carry)[:2]
    assert error is None and done["carried"] == NODES
    for node in NODES:
        assert kv.latest(kv_name("prod", node), vault=kv.second_url)["value"] == TRICKY + node
    assert not run(carry)[0]["changed"]


def _fail_second_write(monkeypatch, store_class, method, fail_name):
    original = getattr(store_class, method)

    def failing(self, *args, **kwargs):
        name = args[0] if args else kwargs.get("name") or kwargs.get("Name")
        if fail_name in str(name):
            value = args[1] if len(args) > 1 else kwargs.get("SecretString")
            raise RecoveryError("injected write failure for %s (value %s)" % (fail_name, value))
        return original(self, *args, **kwargs)
    monkeypatch.setattr(store_class, method, failing)


def test_failure_half_way_rolls_back_aws(aws, aws_args, monkeypatch):
    for node in NODES:
        aws.plant(aws_name("prod", node), emp_value(node))
    aws.plant(aws_name("dr", "policy-node0"), "planted-EMP-dr-0-aa11")
    aws.plant(aws_name("dr", "policy-node1"), "planted-EMP-dr-1-bb22")
    before = dict((n, aws.current(aws_name("dr", n))) for n in NODES)
    # node0 is overwritten, node1's write fails, node2 (absent) is never reached
    _fail_second_write(monkeypatch, AwsSecretStore, "put", "policy-node1")
    result, error, seen = run(dict(aws_args, state="emp_carry_over", environment="dr", source_environment="prod"))
    assert result is None and error.facts["rolled_back"] and error.facts["changed"]
    assert error.facts["written"] == ["policy-node0", "policy-node1"] and error.facts["carried"] == []
    assert "writing policy-node1" in error.message
    assert "Every node written (policy-node0, policy-node1) was put back: the target's EMPs are as before" in error.message
    # AWSCURRENT is back on the very version that was current
    assert dict((n, aws.current(aws_name("dr", n))) for n in NODES) == before
    assert error.facts["emp_after"] == error.facts["emp_before"]
    assert_no_value([emp_value(n) for n in NODES] + ["planted-EMP-dr-0-aa11", "planted-EMP-dr-1-bb22"], error)
    assert "********" in error.message  # the value in the injected text was scrubbed
    assert emp_value("policy-node1") in seen


def test_failure_on_create_deletes_what_was_created_aws(aws, aws_args, monkeypatch):
    for node in NODES:
        aws.plant(aws_name("prod", node), emp_value(node))
    original = AwsSecretStore.call

    def failing(self, action, method, where="", **kwargs):
        if method == "create_secret" and kwargs["Name"].endswith("policy-node2.encryptor-master-password"):
            raise RuntimeError("connection reset while creating")
        return original(self, action, method, where, **kwargs)
    monkeypatch.setattr(AwsSecretStore, "call", failing)
    result, error = run(dict(aws_args, state="emp_carry_over", environment="dr", source_environment="prod"))[:2]
    assert result is None and error.facts["rolled_back"]
    assert "RuntimeError: connection reset while creating" in error.message
    assert [aws.current(aws_name("dr", n)) for n in NODES] == [None] * 3
    # a rerun starts from scratch (the deleted names are free again)
    monkeypatch.setattr(AwsSecretStore, "call", original)
    done = run(dict(aws_args, state="emp_carry_over", environment="dr", source_environment="prod"))[0]
    assert done["carried"] == NODES


def test_verification_mismatch_rolls_back_azure(kv, kv_args, monkeypatch):
    for node in NODES:
        kv.set(kv_name("prod", node), emp_value(node))
    kv.set(kv_name("dr", "policy-node0"), "planted-EMP-dr-0-cc33", tags={"team": "iv"})
    original = AzureSecretStore.put

    def corrupting(self, name, value, current):
        # a store that mangles the value (drops the last byte): the verification must catch it
        return original(self, name, value[:-1], current)
    monkeypatch.setattr(AzureSecretStore, "put", corrupting)
    result, error = run(dict(kv_args, state="emp_carry_over", environment="dr", source_environment="prod"))[:2]
    assert result is None and error.facts["rolled_back"] and error.facts["changed"]
    assert "does not equal the source's" in error.message and "policy-node0" in error.message
    assert kv.latest(kv_name("dr", "policy-node0"))["value"] == "planted-EMP-dr-0-cc33"
    assert kv.latest(kv_name("dr", "policy-node0"))["tags"]["team"] == "iv"
    # the created ones were deleted and purged: the names are free
    assert not kv.exists(kv_name("dr", "policy-node1")) and not kv.deleted(kv_name("dr", "policy-node1"))
    assert error.facts["emp_after"] == error.facts["emp_before"]
    assert_no_value([emp_value(n) for n in NODES] + ["planted-EMP-dr-0-cc33"], error)
    monkeypatch.setattr(AzureSecretStore, "put", original)
    assert run(dict(kv_args, state="emp_carry_over", environment="dr", source_environment="prod"))[0]["carried"]


def test_rollback_that_cannot_finish_says_what_is_left(aws, aws_args, monkeypatch):
    for node in NODES:
        aws.plant(aws_name("prod", node), emp_value(node))
    aws.plant(aws_name("dr", "policy-node0"), "planted-EMP-dr-0-dd44")
    _fail_second_write(monkeypatch, AwsSecretStore, "put", "policy-node1")
    aws.plant(aws_name("dr", "policy-node1"), "planted-EMP-dr-1-ee55")

    def no_reinstate(self, name, target, current):
        raise RecoveryError("denied: UpdateSecretVersionStage on %s" % name)
    monkeypatch.setattr(AwsSecretStore, "reinstate", no_reinstate)
    result, error = run(dict(aws_args, state="emp_carry_over", environment="dr", source_environment="prod"))[:2]
    assert result is None and not error.facts["rolled_back"] and error.facts["changed"]
    assert "ROLLBACK INCOMPLETE" in error.message and "policy-node0: not put back: denied" in error.message
    assert error.facts["carried"] == ["policy-node0"]
    assert "by hand" in error.fix
    assert_no_value([emp_value(n) for n in NODES] + ["planted-EMP-dr-0-dd44", "planted-EMP-dr-1-ee55"], error)


# the pure decisions ---------------------------------------------------------------------------------------------
def test_plan_writes_only_what_differs_and_mismatches_name_nodes():
    source = {"a": "1" * 64, "b": "2" * 64, "c": "3" * 64}
    assert emp_carry_over.plan(["a", "b", "c"], source, {"a": "1" * 64, "b": None, "c": "9" * 64}) == ["b", "c"]
    assert emp_carry_over.mismatches(["a", "b"], source, dict(source)) == []


def test_same_store_refusal_needs_the_same_names():
    names = {"a": "prod.iv.a.emp"}
    with pytest.raises(RecoveryError, match="nothing to carry over"):
        emp_carry_over.refuse_same_store(True, names, dict(names))
    emp_carry_over.refuse_same_store(True, names, {"a": "dr.iv.a.emp"})
    emp_carry_over.refuse_same_store(False, names, dict(names))


def test_source_must_hold_every_emp():
    with pytest.raises(RecoveryError) as caught:
        emp_carry_over.require_source(["a", "b"], {"a": "x", "b": "y"}, {"a": None, "b": "1" * 64}, "memory")
    assert caught.value.facts["missing"] == ["a"] and "a (x)" in caught.value.message

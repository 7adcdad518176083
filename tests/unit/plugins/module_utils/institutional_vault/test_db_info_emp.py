"""EMP guard and digest comparison: what is reported, and that values never are."""

import hashlib
import json
import re

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import db_info_emp, db_info_naming
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.db_info_store import Secret, SecretNotFound
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

PATTERN = re.compile(db_info_emp.DEFAULT_EMP_PATTERN)


class DictStore(object):
    def __init__(self, values):
        self.values = values

    def get(self, name, version_id=None):
        if name not in self.values:
            raise SecretNotFound(name, "memory")
        return Secret(name, self.values[name], "v1")


@pytest.mark.parametrize("name", [
    "prod.iv.policy-node0.encryptor-master-password", "prod-iv-policy-node0-encryptor-master-password",
    "prod.iv.policy-node1.ENCRYPTOR_MASTER_PASSWORD", "prod/iv/emp", "prod.iv.policy-node2.emp",
    "prod.iv.masterpassword", "iv-emp-policy-node0"])
def test_default_pattern_matches_emp_names(name):
    assert PATTERN.search(name)


@pytest.mark.parametrize("name", ["prod.iv.%s.db-info" % s for s in db_info_naming.DEFAULT_SERVICES] + [
    "prod-iv-wallet-db-info", "temporary.iv.wallet.db-info", "employees.db-info"])
def test_default_pattern_leaves_db_info_names_alone(name):
    assert not PATTERN.search(name)


def test_guard_refuses_before_writing_and_names_the_option():
    with pytest.raises(RecoveryError, match="Refusing to write prod.iv.policy-node0.encryptor-master-password") as c:
        db_info_emp.refuse_emp_names(["prod.iv.wallet.db-info", "prod.iv.policy-node0.encryptor-master-password"],
                                     PATTERN, "write")
    assert "name_template" in c.value.fix and "no secret was changed" in str(c.value)
    db_info_emp.refuse_emp_names(["prod.iv.wallet.db-info"], PATTERN, "write")


def test_bad_pattern_is_one_clear_error():
    with pytest.raises(RecoveryError, match="emp_pattern '\\(' is not a valid regular expression"):
        db_info_emp.compile_pattern("(")


def test_compare_reports_match_differs_missing_and_never_values():
    planted = ["planted-EMP-%d-a9f3" % n for n in range(4)]
    source = DictStore({"s0": planted[0], "s1": planted[1], "s2": planted[2]})
    target = DictStore({"t0": planted[0], "t1": planted[3]})
    nodes = ["policy-node0", "policy-node1", "policy-node2"]
    report = db_info_emp.compare(nodes, source, dict(zip(nodes, ["s0", "s1", "s2"])),
                                 target, dict(zip(nodes, ["t0", "t1", "t2"])))
    assert [(e["node"], e["status"], e["missing_in"]) for e in report] == [
        ("policy-node0", "match", []), ("policy-node1", "differs", []), ("policy-node2", "missing", ["target"])]
    error = db_info_emp.failure(report)
    assert "policy-node1 differs; policy-node2 missing in target" in str(error)
    printed = json.dumps(report) + str(error) + json.dumps(error.facts)
    assert not any(value in printed for value in planted)


def test_all_matching_is_no_failure():
    store = DictStore({"a": "planted-EMP-x"})
    report = db_info_emp.compare(["n"], store, {"n": "a"}, store, {"n": "a"})
    assert report[0]["status"] == "match" and db_info_emp.failure(report) is None


def test_missing_on_both_sides():
    report = db_info_emp.compare(["n"], DictStore({}), {"n": "a"}, DictStore({}), {"n": "b"})
    assert report[0]["missing_in"] == ["source", "target"]


# digests, recorded digests, scrubbing -----------------------------------------------------------------------------
NODES = ["policy-node0", "policy-node1", "policy-node2"]
NAMES = dict((node, "prod.iv.%s.encryptor-master-password" % node) for node in NODES)


def test_hex_digest_is_sha256_of_the_utf8_bytes():
    value = u"planted-EMP-\u00e9\"'\n"
    assert db_info_emp.hex_digest(value) == hashlib.sha256(value.encode("utf-8")).hexdigest()
    assert db_info_emp.hex_digest(None) == hashlib.sha256(b"").hexdigest()


def test_read_values_records_every_value_seen():
    seen = []
    values = db_info_emp.read_values(DictStore({"a": "planted-EMP-a"}), {"n0": "a", "n1": "b"}, seen)
    assert values == {"n0": "planted-EMP-a", "n1": None} and seen == ["planted-EMP-a"]


def test_digests_report_names_every_missing_node_and_secret():
    digests = {"policy-node0": "a" * 64, "policy-node1": None, "policy-node2": None}
    with pytest.raises(RecoveryError) as caught:
        db_info_emp.digests_report(NODES, NAMES, digests, "memory")
    assert ("policy-node1 (prod.iv.policy-node1.encryptor-master-password); policy-node2"
            " (prod.iv.policy-node2.encryptor-master-password) does not exist in memory" in caught.value.message)
    assert [e["status"] for e in caught.value.facts["emp"]] == ["present", "missing", "missing"]
    report = db_info_emp.digests_report(NODES, NAMES, dict.fromkeys(NODES, "b" * 64), "memory")
    assert [e["status"] for e in report] == ["present"] * 3


def test_normalise_expected_lowercases_and_refuses_what_does_not_fit():
    expected = dict((node, "AB" * 32) for node in NODES)
    assert db_info_emp.normalise_expected(expected, NODES) == dict.fromkeys(NODES, "ab" * 32)
    for bad in ({}, None, "x", {"policy-node0": "ab" * 32}):
        with pytest.raises(RecoveryError, match="expected_emp_digests"):
            db_info_emp.normalise_expected(bad, NODES)


def test_check_expected_and_its_failure_quote_the_seed():
    expected = dict((node, "%d" % n * 64) for n, node in enumerate(NODES))
    digests = {"policy-node0": expected["policy-node0"], "policy-node1": "f" * 64, "policy-node2": None}
    report = db_info_emp.check_expected(NODES, expected, digests, NAMES)
    statuses = [(e["status"], e["missing_in"]) for e in report]
    assert statuses == [("match", []), ("differs", []), ("missing", ["target"])]
    error = db_info_emp.expected_failure(report, "memory")
    assert db_info_emp.SEED_RULE in error.message and "state=emp_carry_over" in error.fix
    assert "policy-node1 differs (prod.iv.policy-node1.encryptor-master-password)" in error.message
    assert db_info_emp.expected_failure(report[:1], "memory") is None


def test_source_comparison_failure_quotes_the_seed_too():
    report = db_info_emp.compare(["n"], DictStore({"a": "x1"}), {"n": "a"}, DictStore({"b": "x2"}), {"n": "b"})
    error = db_info_emp.failure(report)
    assert db_info_emp.SEED_RULE in error.message and "state=emp_carry_over" in error.fix


def test_scrub_error_masks_values_everywhere_longest_first():
    planted = ["planted-EMP-1", "planted-EMP-1-longer"]
    error = RecoveryError("got planted-EMP-1-longer and planted-EMP-1", fix="not planted-EMP-1",
                          detail="planted-EMP-1-longer", number=3)
    clean = db_info_emp.scrub_error(error, planted)
    text = str(clean) + json.dumps(clean.facts)
    assert not any(value in text for value in planted) and clean.facts["number"] == 3
    assert clean.message == "got ******** and ********"

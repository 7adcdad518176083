"""EMP guard and digest comparison: what is reported, and that values never are."""

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

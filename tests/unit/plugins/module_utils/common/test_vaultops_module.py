"""run_module: the one wrapper every module uses (result, warnings, timing, errors with facts and Fix)."""

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common import warnings
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.vaultops_module import run_module

SPEC = dict(name=dict(type="str", required=True))


@pytest.fixture(autouse=True)
def own_warnings(monkeypatch):
    """Warnings are process-global in ansible: this file's must not reach later in-process module tests."""
    monkeypatch.setattr(warnings, "_global_warnings", {})


def _run(monkeypatch, capsys, operation, args=None, **kwargs):
    payload = {"ANSIBLE_MODULE_ARGS": dict({"name": "x"}, **(args or {}))}
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps(payload)))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    with pytest.raises(SystemExit) as exited:
        run_module(operation, SPEC, **kwargs)
    return exited.value.code, json.loads(capsys.readouterr().out)


def test_result_and_warnings(monkeypatch, capsys):
    code, out = _run(monkeypatch, capsys, lambda m: {"changed": True, "name": m.params["name"], "warnings": ["careful"]})
    assert code == 0
    assert out["changed"] is True and out["name"] == "x"
    assert "careful" in json.dumps(out["warnings"])
    assert "duration" not in out


def test_timed_adds_duration(monkeypatch, capsys):
    _code, out = _run(monkeypatch, capsys, lambda m: {"changed": False}, timed=True)
    assert isinstance(out["duration"], float)


def test_timed_may_depend_on_the_parameters(monkeypatch, capsys):
    _code, out = _run(monkeypatch, capsys, lambda m: {"changed": False}, timed=lambda m: m.params["name"] == "y")
    assert "duration" not in out
    _code, out = _run(monkeypatch, capsys, lambda m: {"changed": False}, args={"name": "y"},
                      timed=lambda m: m.params["name"] == "y")
    assert isinstance(out["duration"], float)


def test_error_keeps_message_fix_and_facts(monkeypatch, capsys):
    def operation(module):
        raise RecoveryError("the disk is full", fix="free space", changed=True, left="old data kept")

    code, out = _run(monkeypatch, capsys, operation, failure_facts=lambda m: {"set_dir": "/s", "left": "overridden"})
    assert code == 1
    assert out["failed"] is True
    assert out["msg"] == "the disk is full Fix: free space"
    assert out["fix"] == "free space"
    assert out["changed"] is True
    assert out["set_dir"] == "/s"
    assert out["left"] == "old data kept"


def test_missing_library_names_the_package(monkeypatch, capsys):
    def operation(module):
        module.require_library("boto3", False)
        return {}

    code, out = _run(monkeypatch, capsys, operation)
    assert code == 1
    assert "boto3" in out["msg"]


def test_check_mode_is_supported(monkeypatch, capsys):
    _code, out = _run(monkeypatch, capsys, lambda m: {"changed": False, "check": m.check_mode},
                      args={"_ansible_check_mode": True})
    assert out["check"] is True

"""recovery_set main(): a failure keeps the error's facts, its Fix and set_dir."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.recovery_set import recovery_set as set_logic
from ansible_collections.vaultops.recovery.plugins.modules import recovery_set


def run_main(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exited:
            recovery_set.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def test_an_unsealed_set_fails_with_its_fix_and_set_dir(tmp_path, capsys):
    unsealed = str(tmp_path)
    code, out = run_main(dict(state="verify", set_dir=unsealed), capsys)
    assert code == 1 and out["failed"] is True
    assert out["msg"].startswith("%s has no manifest.json" % unsealed)
    assert out["fix"] == "use a complete set; an interrupted backup never seals its set."
    assert out["set_dir"] == unsealed
    assert "duration" not in out


def test_the_errors_facts_reach_the_task_result(tmp_path, capsys, monkeypatch):
    def seal(set_dir, metadata, required_kinds, incomplete_reason):
        raise RecoveryError("could not seal.", changed=True, left="the artifacts, unsealed")

    monkeypatch.setattr(set_logic, "seal", seal)
    code, out = run_main(dict(state="seal", set_dir=str(tmp_path)), capsys)
    assert code == 1
    assert out["msg"] == "could not seal."
    assert out["changed"] is True and out["left"] == "the artifacts, unsealed"
    assert out["set_dir"] == str(tmp_path)

"""drill_report through ansible-playbook: the report is written before a failed drill fails the task, templated
booleans ("True" strings) count as booleans, check mode writes nothing."""

import json
import os
import stat

MODULE = "vaultops.recovery.drill_report"
CHECKS = [{"name": "row_counts", "passed": "True", "detail": "21 tables equal"},
          {"name": "vault_keys", "passed": "False", "detail": "s3-secure differs (key differs) | swtpm state missing"}]
FACTS = {"recovery_point": "2026-11-21T10:15:00Z", "recovery_time_seconds": 412, "tpm_mode": "swtpm",
         "gpg_recipients": ["0123456789ABCDEF0123456789ABCDEF01234567"]}


def report_args(tmp_path, **more):
    args = {"dest_dir": str(tmp_path), "name": "drill-vh1", "title": "Restore drill of vh1", "checks": CHECKS,
            "facts": FACTS}
    args.update(more)
    return args


def test_a_failed_drill_writes_the_report_then_fails_naming_checks_and_report(ansible, tmp_path):
    result = ansible.run(MODULE, report_args(tmp_path))
    assert result["failed"] is True and result["passed"] is False
    assert result["failed_checks"] == ["vault_keys"]
    assert result["msg"] == "restore drill FAILED: 1 of 2 checks failed: vault_keys. Report: %s" % (
        tmp_path / "drill-vh1.md")
    with open(result["json_path"]) as handle:
        document = json.load(handle)
    assert [check["passed"] for check in document["checks"]] == [True, False]
    assert document["facts"]["recovery_time_seconds"] == 412
    for key in ("json_path", "markdown_path"):
        assert stat.S_IMODE(os.stat(result[key]).st_mode) == 0o600
    with open(result["markdown_path"]) as handle:
        markdown = handle.read()
    assert "**FAILED: 1 of 2 checks failed: vault_keys**" in markdown
    assert "| vault_keys | **FAIL** | s3-secure differs (key differs) \\| swtpm state missing |" in markdown


def test_fail_when_failed_false_returns_the_verdict_and_a_rerun_changes_nothing(ansible, tmp_path):
    first = ansible.run(MODULE, report_args(tmp_path, fail_when_failed=False), name="first")
    assert not first.get("failed") and first["changed"] is True and first["passed"] is False
    assert first["verdict"] == "FAILED: 1 of 2 checks failed: vault_keys"
    again = ansible.run(MODULE, report_args(tmp_path, fail_when_failed=False), name="again")
    assert again["changed"] is False
    other = ansible.run(MODULE, report_args(tmp_path, checks=CHECKS[:1]), name="other")
    assert other["failed"] is True and "already exists with another report" in other["msg"]


def test_a_passing_drill_and_check_mode(ansible, tmp_path):
    checked = ansible.run(MODULE, report_args(tmp_path, checks=CHECKS[:1]), check_mode=True, name="check")
    assert not checked.get("failed") and checked["changed"] is True and checked["passed"] is True
    assert sorted(os.listdir(str(tmp_path))) == ["ansible"]
    result = ansible.run(MODULE, report_args(tmp_path, checks=CHECKS[:1]), name="real")
    assert not result.get("failed") and result["passed"] is True and result["failed_checks"] == []
    assert os.path.exists(result["json_path"]) and os.path.exists(result["markdown_path"])


def test_a_check_without_passed_is_refused_and_nothing_is_written(ansible, tmp_path):
    result = ansible.run(MODULE, report_args(tmp_path, checks=[{"name": "row_counts", "detail": "x"}]))
    assert result["failed"] is True and "passed" in result["msg"]
    assert sorted(os.listdir(str(tmp_path))) == ["ansible"]

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


def test_raw_results_are_named_into_checks(ansible, tmp_path):
    skipped = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}
    results = {
        "restore": True, "restore_error": "vh did not start (task: Wait for vh)", "recovery_seconds": None,
        "key_chain_gaps": ["the swtpm state"],
        "db": {"changed": False, "failed": True, "msg": "psql: database vaulthalla does not exist"},
        "vh": {"changed": False, "checks": [{"name": "vh_status", "passed": False, "detail": "not healthy after 5 s"}],
               "sync": {}},
        "s3_vault_buckets": {"s3-media": "vh-media"}, "export": skipped, "keys": skipped}
    args = report_args(tmp_path, fail_when_failed=False, results=results)
    del args["checks"]
    result = ansible.run(MODULE, args)
    assert not result.get("failed") and result["passed"] is False
    assert result["check_count"] == 12 and result["failed_checks"][0] == "restore_completed"
    with open(result["json_path"]) as handle:
        checks = {check["name"]: check for check in json.load(handle)["checks"]}
    assert checks["restore_completed"]["detail"] == "restore failed: vh did not start (task: Wait for vh)"
    assert checks["user_record"]["detail"] == "psql: database vaulthalla does not exist"
    assert checks["vh_status_healthy"]["detail"] == "not healthy after 5 s"
    assert checks["vault_keys_are_exported_keys"]["detail"].startswith("the set lacks the swtpm state: ")
    assert result["checks"] == json.load(open(result["json_path"]))["checks"]


def test_checks_and_results_exclude_each_other_and_one_is_required(ansible, tmp_path):
    both = ansible.run(MODULE, report_args(tmp_path, results={"restore": False}), name="both")
    assert both["failed"] is True and "mutually exclusive" in both["msg"]
    args = report_args(tmp_path)
    del args["checks"]
    neither = ansible.run(MODULE, args, name="neither")
    assert neither["failed"] is True and "one of the following is required" in neither["msg"]
    assert sorted(os.listdir(str(tmp_path))) == ["ansible"]

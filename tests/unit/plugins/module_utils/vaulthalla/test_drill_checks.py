"""The Vaulthalla drill's named checks, built from the raw results of its steps (drill_report_writer.drill_checks):
one test per check kind, a failed restore, key chain gaps, files by kind, missing results."""

from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla import drill_report_writer as writer

SKIPPED = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}


def probe(name, passed=True, detail="ok"):
    return {"name": name, "passed": passed, "detail": detail}


DB = {"changed": False, "checks": [
    probe("row_counts", True, "21 tables equal"), probe("records_users", True, "4 users equal"),
    probe("records_groups", False, "group admins differs"), probe("records_vault_role", True, "3 roles equal"),
    probe("records_share_link", True, "2 links equal"), probe("s3_price_budget_policy", True, "2 policies equal"),
    probe("something_else", False, "not reported")]}
VH = {"changed": False, "checks": [
    probe("vh_status", True, "healthy after 2.0 s"),
    probe("sync_info_s3-media", True, "in sync"), probe("sync_info_s3-secure", False, "State: behind"),
    probe("file_local-docs:/reports/q3.pdf", True, "q3.pdf sha256 equal"),
    probe("file_local-docs:/a:b.txt", True, "a:b.txt sha256 equal"),
    probe("file_s3-media:/cat.jpg", True, "cat.jpg sha256 equal"),
    probe("file_s3-secure:/vault.kdbx", False, "vault.kdbx sha256 differs")],
    "sync": {"s3-media": {"State": "in sync", "Upstream encryption": "disabled"},
             "s3-secure": {"State": "behind", "Upstream encryption": "enabled"}}}
BUCKETS = {"s3-media": "vh-media", "s3-secure": "vh-secure"}
EXPORT = {"changed": True, "artifacts": [{"kind": "vault_keys", "path": "/var/backups/x/vault-keys.json.gpg"}]}
KEYS = {"changed": False, "match": True, "detail": "3 vault keys equal (by SHA-256)"}
GAP_TEXT = ("the set lacks the swtpm state: on a fresh host its sealed keys cannot be unsealed, so Vaulthalla fails"
            " to start or makes new keys. This host: ")


def results(**more):
    values = dict(restore=True, restore_error=None, recovery_seconds=41.5, key_chain_gaps=[], db=DB, vh=VH,
                  s3_vault_buckets=BUCKETS, export=EXPORT, keys=KEYS)
    values.update(more)
    return values


def checks_of(**more):
    return {check["name"]: check for check in writer.drill_checks(results(**more))}


def test_the_checks_in_report_order():
    assert [check["name"] for check in writer.drill_checks(results())] == [
        "restore_completed", "database_row_counts", "user_record", "group_record", "role_record", "share_record",
        "cost_control_policy", "vh_status_healthy", "sync_info_s3-media", "sync_info_s3-secure", "local_vault_file",
        "s3_vault_file", "s3_encrypted_upstream_file", "vault_keys_are_exported_keys"]


def test_restore_completed_says_how_long_it_took():
    assert checks_of()["restore_completed"] == {"name": "restore_completed", "passed": True,
                                                "detail": "restored in 41.5 s"}
    assert checks_of(recovery_seconds=None)["restore_completed"]["detail"] == "restored in ? s"


def test_no_restore_check_when_the_drill_did_not_restore():
    assert "restore_completed" not in checks_of(restore=False)


def test_a_failed_restore_fails_its_check_and_notes_it_where_nothing_was_proven():
    checks = checks_of(restore_error="vh did not start (task: Wait for vh)", vh={}, export=SKIPPED, keys=SKIPPED)
    note = "restore failed: vh did not start (task: Wait for vh)"
    assert checks["restore_completed"] == {"name": "restore_completed", "passed": False, "detail": note}
    for name in ("local_vault_file", "s3_vault_file", "s3_encrypted_upstream_file"):
        assert checks[name] == {"name": name, "passed": False,
                                "detail": "no known file of this kind was read (%s)" % note}
    assert checks["vault_keys_are_exported_keys"] == {
        "name": "vault_keys_are_exported_keys", "passed": False,
        "detail": "the restored host could not export its keys (%s)" % note}


def test_database_checks_come_from_vh_db_facts():
    checks = checks_of()
    assert checks["database_row_counts"] == {"name": "database_row_counts", "passed": True, "detail": "21 tables equal"}
    assert checks["user_record"]["passed"] is True and checks["role_record"]["passed"] is True
    assert checks["group_record"] == {"name": "group_record", "passed": False, "detail": "group admins differs"}
    assert checks["share_record"]["detail"] == "2 links equal"
    assert checks["cost_control_policy"] == {"name": "cost_control_policy", "passed": True,
                                             "detail": "2 policies equal"}
    assert "something_else" not in checks


def test_missing_database_facts_fail_with_the_error():
    names = ("database_row_counts", "user_record", "group_record", "role_record", "share_record",
             "cost_control_policy")
    failed = checks_of(db={"failed": True, "msg": "psql: database vaulthalla does not exist"})
    never = checks_of(db={})
    for name in names:
        assert failed[name] == {"name": name, "passed": False, "detail": "psql: database vaulthalla does not exist"}
        assert never[name] == {"name": name, "passed": False, "detail": "database facts not collected"}
    partly = checks_of(db={"checks": DB["checks"][:1]})
    assert partly["database_row_counts"]["passed"] is True
    assert partly["user_record"] == {"name": "user_record", "passed": False, "detail": "database facts not collected"}


def test_vh_status_healthy():
    assert checks_of()["vh_status_healthy"] == {"name": "vh_status_healthy", "passed": True,
                                                "detail": "healthy after 2.0 s"}
    down = checks_of(vh={"checks": [probe("vh_status", False, "not healthy after 180 s")]})["vh_status_healthy"]
    assert down == {"name": "vh_status_healthy", "passed": False, "detail": "not healthy after 180 s"}
    assert checks_of(vh={"failed": True, "msg": "vh: command not found"})["vh_status_healthy"]["detail"] == (
        "vh: command not found")
    assert checks_of(vh={})["vh_status_healthy"] == {"name": "vh_status_healthy", "passed": False,
                                                     "detail": "vh not reached"}


def test_sync_info_checks_pass_through():
    checks = checks_of()
    assert checks["sync_info_s3-media"] == {"name": "sync_info_s3-media", "passed": True, "detail": "in sync"}
    assert checks["sync_info_s3-secure"] == {"name": "sync_info_s3-secure", "passed": False, "detail": "State: behind"}
    assert not [name for name in checks_of(vh={}) if name.startswith("sync_info_")]


def test_files_are_classified_local_s3_and_encrypted_upstream():
    checks = checks_of()
    assert checks["local_vault_file"] == {"name": "local_vault_file", "passed": True,
                                          "detail": "q3.pdf sha256 equal; a:b.txt sha256 equal"}
    assert checks["s3_vault_file"] == {"name": "s3_vault_file", "passed": True, "detail": "cat.jpg sha256 equal"}
    assert checks["s3_encrypted_upstream_file"] == {"name": "s3_encrypted_upstream_file", "passed": False,
                                                    "detail": "vault.kdbx sha256 differs"}


def test_without_s3_buckets_every_file_is_local():
    checks = checks_of(s3_vault_buckets={}, vh=dict(VH, sync={}))
    assert checks["local_vault_file"]["passed"] is False  # vault.kdbx differs, and it counts as local now
    assert checks["local_vault_file"]["detail"].count(";") == 3
    assert checks["s3_vault_file"] == {"name": "s3_vault_file", "passed": False,
                                       "detail": "no known file of this kind was read"}


def test_a_kind_without_files_fails():
    only_local = dict(VH, checks=[probe("vh_status"), probe("file_local-docs:/a", True, "a equal")])
    checks = checks_of(vh=only_local)
    assert checks["local_vault_file"]["passed"] is True
    for name in ("s3_vault_file", "s3_encrypted_upstream_file"):
        assert checks[name] == {"name": name, "passed": False, "detail": "no known file of this kind was read"}


def test_vault_keys_are_exported_keys_compares_digests():
    assert checks_of()["vault_keys_are_exported_keys"] == {
        "name": "vault_keys_are_exported_keys", "passed": True, "detail": "3 vault keys equal (by SHA-256)"}
    differs = checks_of(keys={"match": False, "detail": "s3-secure: key differs"})["vault_keys_are_exported_keys"]
    assert differs == {"name": "vault_keys_are_exported_keys", "passed": False, "detail": "s3-secure: key differs"}
    only_msg = checks_of(keys={"match": False, "msg": "no key export in the set"})["vault_keys_are_exported_keys"]
    assert only_msg["detail"] == "no key export in the set"


def test_keys_not_exported_say_why():
    unhealthy = checks_of(export=SKIPPED, keys=SKIPPED)["vault_keys_are_exported_keys"]
    assert unhealthy == {"name": "vault_keys_are_exported_keys", "passed": False,
                         "detail": "the restored host could not export its keys: vh status was not healthy"}
    failed = checks_of(export={"failed": True, "msg": "gpg: no public key"}, keys=SKIPPED)
    assert failed["vault_keys_are_exported_keys"]["detail"] == (
        "the restored host could not export its keys: gpg: no public key")


def test_key_chain_gaps_fail_the_key_check_with_the_gap_text():
    check = checks_of(key_chain_gaps=["the swtpm state"])["vault_keys_are_exported_keys"]
    assert check == {"name": "vault_keys_are_exported_keys", "passed": False,
                     "detail": GAP_TEXT + "3 vault keys equal (by SHA-256)"}
    two = checks_of(key_chain_gaps=["the swtpm state", "the TPM key"], export=SKIPPED, keys=SKIPPED)
    assert two["vault_keys_are_exported_keys"]["detail"].startswith(
        "the set lacks the swtpm state and the TPM key: on a fresh host")
    assert two["vault_keys_are_exported_keys"]["detail"].endswith(
        "This host: the restored host could not export its keys: vh status was not healthy")


def test_no_results_at_all_still_name_every_check():
    checks = writer.drill_checks({})
    assert [check["name"] for check in checks] == [
        "database_row_counts", "user_record", "group_record", "role_record", "share_record", "cost_control_policy",
        "vh_status_healthy", "local_vault_file", "s3_vault_file", "s3_encrypted_upstream_file",
        "vault_keys_are_exported_keys"]
    assert not [check for check in checks if check["passed"]]
    writer.check_checks(checks)

"""vaulthalla/restore_plan: one test per safety rule of a restore and per override."""

import hashlib
import json
import os

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla.restore_plan import plan_restore
from ansible_collections.vaultops.recovery.plugins.modules import vh_restore_plan

HERE = "a" * 64
ELSEWHERE = "b" * 64
SET_DIR = "/c/recovery-sets/vh1-20261121T101500Z"
STAGED = "/var/backups/vaultops/vh1-20261121T101500Z/manifest.json"
ARTIFACTS = [
    {"name": "vaulthalla.dump.zst", "kind": "pg_dump"},
    {"name": "config-state.tar.zst", "kind": "path_archive"},
    {"name": "swtpm-state.tar.gz", "kind": "swtpm_state"},
    {"name": "s3-media", "kind": "s3_bucket_copy"},
    {"name": "vaulthalla-secrets.json.gpg", "kind": "vh_export"},
]


def manifest(**changes):
    document = {
        "machine_id_sha256": HERE, "vaulthalla_version": "1:1.1.0-2", "tpm_mode": "swtpm", "host": "vh1",
        "started_at": "2026-11-21T10:15:00Z", "gpg_recipients": ["ops@example.invalid"],
        "sealed_key_blobs": ["/var/lib/vaulthalla/.sealed_psql.blob", "/var/lib/vaulthalla/.sealed_master.blob",
                             "/var/lib/vaulthalla/.sealed_vault_master.blob"],
        "s3_vault_buckets": {"media": "vh-media"}, "known_files": [{"path": "a"}, {"path": "b"}],
    }
    document.update(changes)
    return document


def host(**changes):
    facts = {"machine_id_sha256": HERE, "tpm_devices_present": [], "package_release": "1.1.0",
             "checksums": {STAGED: None},
             "paths": {"/etc/vaulthalla": {"exists": True, "isdir": True},
                       "/var/lib/vaulthalla": {"exists": False, "isdir": False}},
             "swtpm_state_files": 2, "database_exists": True}
    facts.update(changes)
    return facts


def options(**changes):
    opts = dict(set_dir=SET_DIR, target_host="vh1", timestamp="20261207T000000Z",
                paths=["/etc/vaulthalla", "/var/lib/vaulthalla"], reseed_db_password="auto",
                services=["vaulthalla.service"])
    opts.update(changes)
    return opts


def plan(m=None, h=None, artifacts=None, **opts):
    return plan_restore(manifest() if m is None else m, host() if h is None else h,
                        ARTIFACTS if artifacts is None else artifacts, options(**opts))


def rules(planned):
    return [r["rule"] for r in planned["refusals"]]


def test_a_matching_set_is_planned_without_refusal():
    planned = plan()
    assert planned["refusals"] == []
    d = planned["decisions"]
    assert d["same_host"] and d["set_version"] == "1.1.0" and d["version_ok"] and d["key_chain_gaps"] == []
    assert not d["reseed"] and d["set_name"] == "vh1-20261121T101500Z"
    assert d["existing_paths"] == ["/etc/vaulthalla"] and d["absent_paths"] == ["/var/lib/vaulthalla"]
    assert d["had_swtpm"] and d["had_db"]
    assert planned["result"]["status"] == "planned" and planned["result"]["target_host"] == "vh1"
    assert planned["plan"]["version"] == "set 1.1.0, target 1.1.0"
    assert d["safety_copy_dir"] == "/var/backups/vaultops/pre-restore-20261207T000000Z"
    assert plan(safety_copy=False)["decisions"]["safety_copy_dir"] == ""
    assert planned["plan"]["checks_after_start"] == "vh status healthy, vh vault sync info for media, read 2 known files"


def test_no_set_is_refused():
    planned = plan(set_dir="")
    assert rules(planned) == ["no_set"]
    assert "No recovery set given for vh1." in planned["refusals"][0]["message"]
    assert "Fix: set vaulthalla_restore_set_dir" in planned["refusals"][0]["message"]


def test_version_mismatch_is_refused():
    planned = plan(h=host(package_release="1.2.0"))
    assert rules(planned) == ["version_mismatch"]
    assert not planned["decisions"]["version_ok"]
    message = planned["refusals"][0]["message"]
    assert "taken with Vaulthalla 1.1.0 (1:1.1.0-2), but vh1 has 1.2.0 installed" in message
    assert "Fix: install Vaulthalla 1.1.0" in message and "vaulthalla_restore_ignore_version_mismatch=true" in message


def test_compatible_versions_accept_another_release():
    planned = plan(h=host(package_release="1.2.0"), compatible_versions=["1.2.0"])
    assert planned["refusals"] == []
    assert planned["decisions"]["version_ok"] and not planned["decisions"]["version_mismatch_overridden"]


def test_ignore_version_mismatch_overrides_and_is_recorded():
    planned = plan(h=host(package_release="1.2.0"), ignore_version_mismatch=True)
    assert planned["refusals"] == []
    assert planned["decisions"]["version_mismatch_overridden"]
    assert planned["result"]["version_mismatch_overridden"] is True
    assert planned["plan"]["version"] == "set 1.1.0, target 1.2.0 (MISMATCH, overridden)"


def test_hardware_tpm_set_on_another_machine_is_refused_even_with_allow_host_change():
    planned = plan(m=manifest(tpm_mode="hardware"), h=host(machine_id_sha256=ELSEWHERE), allow_host_change=True,
                   gnupg_home="/g")
    assert rules(planned) == ["hardware_tpm_host_change"]
    assert "Fix: restore onto the original machine" in planned["refusals"][0]["message"]
    assert plan(m=manifest(tpm_mode="hardware"))["refusals"] == []  # on its own machine


def test_swtpm_set_on_another_machine_is_refused():
    planned = plan(h=host(machine_id_sha256=ELSEWHERE), gnupg_home="/g")
    assert rules(planned) == ["swtpm_host_change"]
    assert planned["decisions"]["host_changed"]
    assert "Fix: set vaulthalla_restore_allow_host_change=true" in planned["refusals"][0]["message"]


def test_allow_host_change_accepts_a_swtpm_set_on_another_machine():
    planned = plan(h=host(machine_id_sha256=ELSEWHERE), gnupg_home="/g", allow_host_change=True)
    assert planned["refusals"] == [] and planned["result"]["host_changed"] is True


def test_missing_swtpm_state_is_a_key_chain_gap_and_refused():
    planned = plan(artifacts=[a for a in ARTIFACTS if a["kind"] != "swtpm_state"])
    assert rules(planned) == ["incomplete_key_chain"]
    assert planned["decisions"]["key_chain_gaps"] == [
        "swtpm state (the set records TPM mode swtpm but has no swtpm_state archive)"]
    assert "silently makes NEW keys" in planned["refusals"][0]["message"]
    assert "Fix: restore a complete set" in planned["refusals"][0]["message"]


def test_missing_sealed_blobs_are_a_key_chain_gap_and_refused():
    planned = plan(m=manifest(sealed_key_blobs=["/var/lib/vaulthalla/.sealed_psql.blob"]))
    assert rules(planned) == ["incomplete_key_chain"]
    assert planned["decisions"]["key_chain_gaps"] == ["sealed key blob master, vault_master"]
    assert "lacks sealed key blob master, vault_master." in planned["refusals"][0]["message"]


def test_allow_incomplete_key_chain_restores_and_reports_the_gaps():
    planned = plan(m=manifest(sealed_key_blobs=[]), artifacts=ARTIFACTS[:2] + ARTIFACTS[3:],
                   allow_incomplete_key_chain=True)
    assert planned["refusals"] == []
    assert planned["result"]["key_chain_gaps"] == [
        "swtpm state (the set records TPM mode swtpm but has no swtpm_state archive)",
        "sealed key blob psql, master, vault_master"]


@pytest.mark.parametrize("mode,same,login_host,given,expected", [
    ("always", True, "", False, True),
    ("never", False, "db.example", True, False),
    ("auto", True, "", False, False),
    ("auto", False, "", False, True),
    ("auto", True, "db.example", False, True),
    ("auto", True, "", True, True),
])
def test_reseed_decision(mode, same, login_host, given, expected):
    planned = plan(h=host(machine_id_sha256=HERE if same else ELSEWHERE), reseed_db_password=mode,
                   db_login_host=login_host, db_password_given=given, gnupg_home="/g", allow_host_change=True)
    assert planned["refusals"] == []
    assert planned["decisions"]["reseed"] is expected and planned["result"]["db_password_reseeded"] is expected


def test_reseed_without_a_password_source_is_refused():
    planned = plan(reseed_db_password="always")
    assert rules(planned) == ["reseed_without_password"]
    message = planned["refusals"][0]["message"]
    assert "(target asked for it)" in message and "recipient ops@example.invalid" in message
    assert "to decrypt vaulthalla-secrets.json.gpg" in message and message.endswith("Fix: set one of them.")
    assert plan(reseed_db_password="always", db_password_given=True)["refusals"] == []


def test_signed_set_without_a_signer_is_refused():
    planned = plan(signature_present=True)
    assert rules(planned) == ["signed_set_without_signer"]
    assert planned["decisions"]["signed_set"]
    assert "Fix: set vaulthalla_restore_signed_by" in planned["refusals"][0]["message"]
    assert plan(signature_present=True, signed_by="F" * 40)["refusals"] == []


def test_unsigned_set_is_refused_when_a_signer_is_required():
    planned = plan(signed_by="F" * 40)
    assert rules(planned) == ["unsigned_set"]
    assert ("was expected to be signed by %s, but its signature manifest.json.asc is missing" % ("F" * 40)
            in planned["refusals"][0]["message"])
    assert "vaulthalla_restore_signed_by=''" in planned["refusals"][0]["fix"]
    assert plan()["refusals"] == []  # no signer: an unsigned set is accepted


def test_a_set_without_its_dump_or_state_archive_is_refused():
    planned = plan(artifacts=ARTIFACTS[2:])
    assert rules(planned) == ["required_artifacts"]


def test_staged_copy_is_reused_when_its_manifest_is_the_controller_s():
    digest = "c" * 64
    reused = plan(h=host(checksums={STAGED: digest}), controller_manifest_sha256=digest)["decisions"]
    assert reused["stage_reused"] and not reused["checksums_on_controller"]
    assert reused["stage_dir"] == "/var/backups/vaultops/vh1-20261121T101500Z" and not reused["remove_stage"]
    other = plan(h=host(checksums={STAGED: "d" * 64}), controller_manifest_sha256=digest)["decisions"]
    assert not other["stage_reused"] and other["checksums_on_controller"]
    assert other["stage_dir"] == "/var/backups/vaultops/restore-vh1-20261121T101500Z" and other["remove_stage"]
    assert other["stage_files"] == [
        "config-state.tar.zst", "config-state.tar.zst.manifest.json", "vaulthalla.dump.zst",
        "vaulthalla.dump.zst.manifest.json", "swtpm-state.tar.gz", "swtpm-state.tar.gz.manifest.json",
        "s3-media/", "s3-media.manifest.json"]
    kept = plan(h=host(checksums={STAGED: "d" * 64}), controller_manifest_sha256=digest, keep_staging=True)
    assert not kept["decisions"]["remove_stage"]
    absent = plan(h=host(checksums={STAGED: None}), controller_manifest_sha256=None)["decisions"]
    assert not absent["stage_reused"]
    expanded = plan(h=host(checksums={"/root/backups/vh1-20261121T101500Z/manifest.json": digest}),
                    controller_manifest_sha256=digest, staging_dir="~/backups")["decisions"]
    assert expanded["stage_reused"]
    checked = plan(h=host(checksums={STAGED: digest}), controller_manifest_sha256=digest, check_mode=True)
    assert checked["decisions"]["stage_reused"] and checked["decisions"]["checksums_on_controller"]


def test_every_refusal_is_named_at_once():
    planned = plan(m=manifest(tpm_mode="hardware"), h=host(machine_id_sha256=ELSEWHERE, package_release="2.0"))
    assert rules(planned) == ["version_mismatch", "hardware_tpm_host_change", "swtpm_host_change",
                              "reseed_without_password"]


def _run_module(monkeypatch, capsys, args):
    payload = {"ANSIBLE_MODULE_ARGS": args}
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps(payload)))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    with pytest.raises(SystemExit) as exited:
        vh_restore_plan.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def test_module_reads_the_set_and_fails_with_every_refusal(monkeypatch, capsys, tmp_path):
    set_dir = tmp_path / "vh1-20261121T101500Z"
    set_dir.mkdir()
    body = json.dumps(dict(manifest(), kind="vaultops_recovery_set", manifest_version=1, files={},
                           artifacts=ARTIFACTS)).encode()
    (set_dir / "manifest.json").write_bytes(body)
    staged = "/stage/%s/manifest.json" % set_dir.name
    args = dict(set_dir=str(set_dir), host=host(checksums={staged: hashlib.sha256(body).hexdigest()}),
                target_host="vh1", staging_dir="/stage")
    code, out = _run_module(monkeypatch, capsys, args)
    assert code == 0 and out["changed"] is False and out["refusals"] == []
    assert not out.get("warnings"), out.get("warnings")  # no "did not set no_log" for the password-named booleans
    assert out["decisions"]["stage_reused"] is True and out["result"]["status"] == "planned"

    (set_dir / "manifest.json.asc").write_text("sig")
    code, out = _run_module(monkeypatch, capsys, dict(args, host=host(package_release="9.9")))
    assert code == 1 and out["failed"] is True and out["changed"] is False
    assert [r["rule"] for r in out["refusals"]] == ["signed_set_without_signer", "version_mismatch"]
    assert "refused for 2 reasons" in out["msg"] and "Fix: set vaulthalla_restore_signed_by" in out["msg"]
    assert "Fix: install Vaulthalla 1.1.0" in out["msg"] and out["plan"]["set"] == str(set_dir)


def test_module_names_a_set_without_manifest(monkeypatch, capsys, tmp_path):
    code, out = _run_module(monkeypatch, capsys, dict(set_dir=str(tmp_path), host=host(), target_host="vh1"))
    assert code == 1 and "has no manifest.json" in out["msg"]
    assert os.listdir(str(tmp_path)) == []

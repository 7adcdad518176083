"""swtpm_state: the archive and restore sequences, with a fake systemctl (fast, no Ansible)."""

import json
import os
import shutil
import stat

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common import state_tree
from ansible_collections.vaultops.recovery.plugins.module_utils.swtpm import swtpm_state
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.systemd_service import ServiceWindow

ID_A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
ID_B = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"


class Systemctl(object):
    def __init__(self, fail_start=0):
        self.calls = []
        self.fail_start = fail_start  # how many starts fail

    def __call__(self, argv):
        self.calls.append(argv[1])
        if argv[1] == "show":
            return 0, "LoadState=loaded\nActiveState=active\n", ""
        if argv[1] == "start" and self.fail_start:
            self.fail_start -= 1
            return 1, "", "Job for swtpm.service failed.\n"
        return 0, "", ""


@pytest.fixture
def env(tmp_path):
    state = tmp_path / "swtpm" / "vaulthalla"
    state.mkdir(parents=True)
    (state / ".lock").write_bytes(b"")
    (state / "tpm2-00.permall").write_bytes(os.urandom(1000))
    os.chmod(str(state / "tpm2-00.permall"), 0o640)
    (tmp_path / "backups").mkdir()
    (tmp_path / "id-a").write_text(ID_A + "\n")
    (tmp_path / "id-b").write_text(ID_B + "\n")
    return tmp_path


def params(env, **extra):
    p = dict(state_dir=str(env / "swtpm" / "vaulthalla"), dest_dir=str(env / "backups"), name_pattern=None,
             compressor="gzip", machine_id_path=str(env / "id-a"), path=None, manifest=None,
             allow_host_change=False, recovery_log=str(env / "recovery.log"), owners="by_name",
             keep_safety_copy=True)
    p.update(extra)
    return p


def service(systemctl):
    return ServiceWindow("swtpm.service", False, lambda: "/bin/systemctl", runner=systemctl)


def take_archive(env, **extra):
    return swtpm_state.archive(params(env, **extra), service(Systemctl()), False)


def snapshot(path):
    return state_tree.inventory(str(path))[0] if os.path.isdir(str(path)) else None


def test_archive_stops_and_restarts_and_writes_a_0600_archive_with_manifest(env):
    systemctl = Systemctl()
    result = swtpm_state.archive(params(env), service(systemctl), False)
    assert systemctl.calls == ["show", "stop", "start"]
    assert result["service"]["stopped_by_module"] and result["service"]["restarted"]
    assert stat.S_IMODE(os.stat(result["path"]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(result["manifest"]).st_mode) == 0o600
    manifest = json.load(open(result["manifest"]))
    assert manifest["kind"] == "swtpm_state" and manifest["sha256"] == result["sha256"]
    assert manifest["service"]["stopped_by_module"] is True
    assert manifest["file_count"] == 2 and ID_A not in json.dumps(manifest)
    assert os.path.basename(result["path"]).endswith(".tar.gz") and "-swtpm-" in result["path"]


def test_archive_check_mode_changes_nothing(env):
    systemctl = Systemctl()
    result = swtpm_state.archive(params(env), service(systemctl), True)
    assert systemctl.calls == ["show"]
    assert "would archive 2 file(s)" in result["plan"] and "would stop swtpm.service" in result["plan"]
    assert os.listdir(str(env / "backups")) == []


def test_failed_archive_still_restarts_and_says_so(env):
    os.symlink("/etc/shadow", str(env / "swtpm" / "vaulthalla" / "escape"))
    systemctl = Systemctl()
    with pytest.raises(RecoveryError) as caught:
        swtpm_state.archive(params(env), service(systemctl), False)
    assert systemctl.calls == ["show", "stop", "start"]
    assert "swtpm.service was started again" in caught.value.message
    assert caught.value.facts["service"]["restarted"] is True
    assert os.listdir(str(env / "backups")) == []


def test_manifest_failure_removes_the_archive(env, monkeypatch):
    def boom(*_a, **_k):
        raise RecoveryError("No space left.")
    monkeypatch.setattr(swtpm_state, "write_json_atomic", boom)
    with pytest.raises(RecoveryError, match="No space left. swtpm.service was started again"):
        take_archive(env)
    assert os.listdir(str(env / "backups")) == []


def test_restart_failure_after_a_good_archive_is_reported(env):
    with pytest.raises(RecoveryError, match="were written, but starting swtpm.service again failed"):
        swtpm_state.archive(params(env), service(Systemctl(fail_start=1)), False)


def test_restore_round_trip_safety_copy_and_idempotence(env):
    archived = take_archive(env)
    state = env / "swtpm" / "vaulthalla"
    original = snapshot(state)
    (state / "tpm2-00.permall").write_bytes(b"newer state")
    systemctl = Systemctl()
    result = swtpm_state.restore(params(env, path=archived["path"]), service(systemctl), None, False)
    assert result["changed"] and systemctl.calls == ["show", "stop", "start"]
    assert state_tree.differences(snapshot(state), original) == []
    assert result["safety_copy"].startswith(str(state) + ".pre-restore-")
    assert open(os.path.join(result["safety_copy"], "tpm2-00.permall"), "rb").read() == b"newer state"
    assert result["host_change"] is False and result["security_event"] is None
    assert not [n for n in os.listdir(str(env / "swtpm")) if ".restore-" in n], "staging must be gone"

    systemctl = Systemctl()
    again = swtpm_state.restore(params(env, path=archived["path"]), service(systemctl), None, False)
    assert again["changed"] is False and systemctl.calls == []


def test_restore_onto_a_missing_state_dir(env):
    archived = take_archive(env)
    state = env / "swtpm" / "vaulthalla"
    original = snapshot(state)
    shutil.rmtree(str(state))
    result = swtpm_state.restore(params(env, path=archived["path"]), service(Systemctl()), None, False)
    assert result["safety_copy"] is None
    assert state_tree.differences(snapshot(state), original) == []


def test_other_host_is_refused_and_nothing_changes(env):
    archived = take_archive(env)
    state = env / "swtpm" / "vaulthalla"
    (state / "tpm2-00.permall").write_bytes(b"current")
    before = snapshot(state)
    systemctl = Systemctl()
    with pytest.raises(RecoveryError) as caught:
        swtpm_state.restore(params(env, path=archived["path"], machine_id_path=str(env / "id-b")),
                            service(systemctl), None, False)
    assert "different machine" in caught.value.message and "allow_host_change: true" in caught.value.fix
    assert systemctl.calls == [] and snapshot(state) == before
    assert not (env / "recovery.log").exists()
    assert sorted(os.listdir(str(env / "swtpm"))) == ["vaulthalla"]


def test_other_host_allowed_records_the_event_first(env):
    archived = take_archive(env)
    (env / "swtpm" / "vaulthalla" / "tpm2-00.permall").write_bytes(b"current")
    result = swtpm_state.restore(
        params(env, path=archived["path"], machine_id_path=str(env / "id-b"), allow_host_change=True),
        service(Systemctl()), None, False)
    assert result["host_change"] and result["identity"] == "different"
    event = result["security_event"]
    assert event["syslog"]["sent"] is False and "not installed" in event["syslog"]["error"]
    line = json.loads((env / "recovery.log").read_text())
    assert line["event"] == "swtpm_state_restored_on_another_host"
    assert line["archive_sha256"] == archived["sha256"]
    assert ID_A not in json.dumps(line) and ID_B not in json.dumps(line)
    assert stat.S_IMODE((env / "recovery.log").stat().st_mode) == 0o600


def test_unwritable_recovery_log_blocks_a_host_change_restore(env):
    archived = take_archive(env)
    state = env / "swtpm" / "vaulthalla"
    (state / "tpm2-00.permall").write_bytes(b"current")
    before = snapshot(state)
    with pytest.raises(RecoveryError, match="cannot be recorded"):
        swtpm_state.restore(params(env, path=archived["path"], machine_id_path=str(env / "id-b"),
                                   allow_host_change=True, recovery_log=str(env / "nodir" / "r.log")),
                            service(Systemctl()), None, False)
    assert snapshot(state) == before


def test_service_that_will_not_start_rolls_the_restore_back(env):
    archived = take_archive(env)
    state = env / "swtpm" / "vaulthalla"
    (state / "tpm2-00.permall").write_bytes(b"current")
    before = snapshot(state)
    systemctl = Systemctl(fail_start=1)
    with pytest.raises(RecoveryError) as caught:
        swtpm_state.restore(params(env, path=archived["path"]), service(systemctl), None, False)
    assert "rolled back" in caught.value.message and "previous state is back" in caught.value.message
    assert "swtpm.service is running again" in caught.value.message
    assert systemctl.calls == ["show", "stop", "start", "start"]
    assert state_tree.differences(snapshot(state), before) == []
    assert sorted(os.listdir(str(env / "swtpm"))) == ["vaulthalla"]


def test_restore_check_mode_changes_nothing_and_reports_the_plan(env):
    archived = take_archive(env)
    state = env / "swtpm" / "vaulthalla"
    (state / "tpm2-00.permall").write_bytes(b"current")
    before = snapshot(state)
    systemctl = Systemctl()
    result = swtpm_state.restore(params(env, path=archived["path"], machine_id_path=str(env / "id-b"),
                                        allow_host_change=True), service(systemctl), None, True)
    assert result["changed"] and "would record a security event" in result["plan"]
    assert "keeping the current state as %s.pre-restore-" % state in result["plan"]
    assert systemctl.calls == ["show"] and snapshot(state) == before
    assert not (env / "recovery.log").exists()


def test_keep_safety_copy_false_removes_it_after_success(env):
    archived = take_archive(env)
    (env / "swtpm" / "vaulthalla" / "tpm2-00.permall").write_bytes(b"current")
    result = swtpm_state.restore(params(env, path=archived["path"], keep_safety_copy=False),
                                 service(Systemctl()), None, False)
    assert result["safety_copy"] is None
    assert sorted(os.listdir(str(env / "swtpm"))) == ["vaulthalla"]


@pytest.mark.parametrize("pattern, fragment", [("a/b.tar", "not a file name"), ("", None)])
def test_name_pattern(env, pattern, fragment):
    if fragment:
        with pytest.raises(RecoveryError, match=fragment):
            take_archive(env, name_pattern=pattern)
    else:
        assert "-swtpm-" in take_archive(env, name_pattern=pattern)["path"]


def test_existing_archive_name_fails_before_stopping_anything(env):
    (env / "backups" / "fixed.tar.gz").write_bytes(b"precious")
    systemctl = Systemctl()
    with pytest.raises(RecoveryError, match="already exists"):
        swtpm_state.archive(params(env, name_pattern="fixed.tar.gz"), service(systemctl), False)
    assert systemctl.calls == []
    assert (env / "backups" / "fixed.tar.gz").read_bytes() == b"precious"


def test_dest_dir_inside_state_dir_is_refused(env):
    inner = env / "swtpm" / "vaulthalla" / "backups"
    inner.mkdir()
    with pytest.raises(RecoveryError, match="inside state_dir"):
        take_archive(env, dest_dir=str(inner))


def test_stop_failure_during_restore_leaves_no_staging_directory(env):
    archived = take_archive(env)
    (env / "swtpm" / "vaulthalla" / "tpm2-00.permall").write_bytes(b"current")

    def cannot_stop(argv):
        if argv[1] == "show":
            return 0, "LoadState=loaded\nActiveState=active\n", ""
        return 1, "", "Failed to stop swtpm.service: Access denied\n"
    with pytest.raises(RecoveryError, match="cannot stop swtpm.service: Failed to stop"):
        swtpm_state.restore(params(env, path=archived["path"]), service(cannot_stop), None, False)
    assert sorted(os.listdir(str(env / "swtpm"))) == ["vaulthalla"]
    assert (env / "swtpm" / "vaulthalla" / "tpm2-00.permall").read_bytes() == b"current"


def test_running_swtpm_blocks_a_host_change_restore_before_the_event(env, monkeypatch):
    archived = take_archive(env)
    (env / "swtpm" / "vaulthalla" / "tpm2-00.permall").write_bytes(b"current")
    monkeypatch.setattr(swtpm_state.swtpm_lock, "lock_holder", lambda state_dir: 4242)
    caller_stopped = ServiceWindow("swtpm.service", True, lambda: None)
    with pytest.raises(RecoveryError, match="process 4242 still holds the swtpm lock"):
        swtpm_state.restore(params(env, path=archived["path"], machine_id_path=str(env / "id-b"),
                                   allow_host_change=True), caller_stopped, None, False)
    assert not (env / "recovery.log").exists()
    assert sorted(os.listdir(str(env / "swtpm"))) == ["vaulthalla"]

"""systemd_service, swtpm_lock, security_event and swtpm_manifest in isolation."""

import json
import os
import stat
import subprocess
import sys

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.common import security_event

from ansible_collections.vaultops.recovery.plugins.module_utils.swtpm import swtpm_lock, swtpm_manifest
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.systemd_service import ServiceWindow


class FakeSystemctl(object):
    def __init__(self, active="active", load="loaded", fail=()):
        self.calls = []
        self.active, self.load, self.fail = active, load, set(fail)

    def __call__(self, argv):
        verb = argv[1]
        self.calls.append(verb)
        if verb in self.fail:
            return 1, "", "Job for x failed.\n"
        if verb == "show":
            return 0, "LoadState=%s\nActiveState=%s\n" % (self.load, self.active), ""
        self.active = "inactive" if verb == "stop" else "active"
        return 0, "", ""


def window(fake, name="swtpm.service", caller_stopped=False, systemctl="/bin/systemctl"):
    return ServiceWindow(name, caller_stopped, lambda: systemctl, runner=fake)


def test_running_unit_is_stopped_and_started_again():
    fake = FakeSystemctl()
    service = window(fake)
    assert service.query() == "active"
    assert "would stop swtpm.service" in service.plan()
    assert service.stop() is True
    assert service.restart() is None
    assert fake.calls == ["show", "stop", "start"]
    assert service.facts()["stopped_by_module"] and service.facts()["restarted"]
    assert service.restart() is None and fake.calls.count("start") == 1


@pytest.mark.parametrize("active, load, reported", [("inactive", "loaded", "inactive"), ("failed", "loaded", "failed"),
                                                    ("inactive", "not-found", "not-found")])
def test_unit_not_running_is_reported_and_left_alone(active, load, reported):
    fake = FakeSystemctl(active=active, load=load)
    service = window(fake)
    assert service.query() == reported
    assert service.stop() is False and service.restart() is None
    assert fake.calls == ["show"]
    assert "would not be stopped" in service.plan()


def test_caller_stopped_and_no_service_never_call_systemctl():
    for service in (window(None, caller_stopped=True, systemctl=None), window(None, name=None, systemctl=None)):
        service.query()
        assert not service.managed and service.stop() is False and service.restart() is None


def test_stop_failure_is_an_error_with_the_fix():
    service = window(FakeSystemctl(fail=["stop"]))
    service.query()
    with pytest.raises(RecoveryError) as caught:
        service.stop()
    assert "cannot stop swtpm.service" in caught.value.message and "service_stopped: true" in caught.value.fix


def test_restart_failure_is_returned_not_raised():
    service = window(FakeSystemctl(fail=["start"]))
    service.query()
    service.stop()
    assert "starting swtpm.service again failed" in service.restart()
    assert service.facts()["restarted"] is False


def test_no_systemd_or_no_systemctl_names_the_fix():
    def offline(argv):
        return 1, "", "System has not been booted with systemd as init system (PID 1). Can't operate.\n"
    with pytest.raises(RecoveryError, match="not been booted with systemd") as caught:
        window(offline).query()
    assert "service_stopped: true" in caught.value.fix
    with pytest.raises(RecoveryError, match="systemctl was not found"):
        window(FakeSystemctl(), systemctl=None).query()


# ---------------------------------------------------------------- swtpm lock

def test_lock_probe_sees_a_holder_without_taking_the_lock(tmp_path):
    (tmp_path / ".lock").write_bytes(b"")
    assert swtpm_lock.lock_holder(str(tmp_path)) is None
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "print('locked', flush=True)\n"
        "sys.stdin.read()\n"), str(tmp_path / ".lock")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert swtpm_lock.lock_holder(str(tmp_path)) == holder.pid
        with pytest.raises(RecoveryError, match="process %d still holds the swtpm lock" % holder.pid):
            swtpm_lock.require_unlocked(str(tmp_path), "an archive")
    finally:
        holder.stdin.close()
        holder.wait()
    assert swtpm_lock.lock_holder(str(tmp_path)) is None


def test_no_lock_file_means_unlocked(tmp_path):
    assert swtpm_lock.lock_holder(str(tmp_path)) is None
    swtpm_lock.require_unlocked(str(tmp_path), "x")


# ---------------------------------------------------------------- security event

def test_event_line_is_appended_to_a_0600_log(tmp_path):
    log = tmp_path / "recovery.log"
    calls = []

    def logger(argv):
        calls.append(argv)
        return 0, "", ""
    first = security_event.record(dict(event="e1"), "summary one", str(log), "/usr/bin/logger", runner=logger)
    security_event.record(dict(event="e2"), "summary two", str(log), "/usr/bin/logger", runner=logger)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["event"] for line in lines] == ["e1", "e2"]
    assert lines[0]["by"]["uid"] == os.getuid() and lines[0]["time"].endswith("Z")
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert first["syslog"] == dict(sent=True, error=None)
    assert calls[0][:6] == ["/usr/bin/logger", "--socket-errors=on", "-p", "auth.warning", "-t", "vaultops-recovery"]
    assert calls[0][-1] == "summary one"


def test_wider_log_mode_is_tightened_and_reported(tmp_path):
    log = tmp_path / "recovery.log"
    log.write_text("")
    os.chmod(str(log), 0o644)
    done = security_event.append_line(str(log), dict(event="x"))
    assert done["mode_tightened_from"] == "0644"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_log_problems_refuse_before_anything_changes(tmp_path):
    with pytest.raises(RecoveryError, match="does not exist") as caught:
        security_event.append_line(str(tmp_path / "no dir" / "r.log"), dict(event="x"))
    assert "Nothing was changed" in caught.value.message
    os.symlink(str(tmp_path / "elsewhere"), str(tmp_path / "link.log"))
    with pytest.raises(RecoveryError, match="symbolic link"):
        security_event.append_line(str(tmp_path / "link.log"), dict(event="x"))
    assert not (tmp_path / "elsewhere").exists()


def test_syslog_absence_is_recorded_not_fatal(tmp_path):
    assert security_event.send_syslog(None, "m") == dict(
        sent=False, error="logger(1) is not installed on this host; the event is only in the recovery log")

    def no_socket(argv):
        return 1, "", "logger: socket /dev/log: No such file or directory\n"
    assert security_event.send_syslog("/usr/bin/logger", "m", runner=no_socket)["error"] == (
        "logger failed: logger: socket /dev/log: No such file or directory")


def test_logger_without_socket_errors_option_is_retried_plainly():
    calls = []

    def busybox(argv):
        calls.append(argv)
        if "--socket-errors=on" in argv:
            return 1, "", "logger: unrecognized option '--socket-errors=on'\n"
        return 0, "", ""
    assert security_event.send_syslog("/bin/logger", "m", runner=busybox)["sent"] is True
    assert len(calls) == 2 and "--socket-errors=on" not in calls[1]


def test_real_logger_outcome_is_reported_either_way():
    result = security_event.send_syslog("/usr/bin/logger", "vaultops.recovery unit test, ignore")
    assert result["sent"] is (result["error"] is None)


# ---------------------------------------------------------------- manifest

def test_manifest_load_refusals(tmp_path):
    archive = tmp_path / "x.tar.gz"
    archive.write_bytes(b"data")
    with pytest.raises(RecoveryError, match="has no manifest"):
        swtpm_manifest.load(str(archive))
    manifest = tmp_path / "x.tar.gz.manifest.json"
    manifest.write_text("{not json")
    with pytest.raises(RecoveryError, match="not valid JSON"):
        swtpm_manifest.load(str(archive))
    manifest.write_text(json.dumps(dict(kind="postgresql_dump")))
    with pytest.raises(RecoveryError, match="not swtpm_state"):
        swtpm_manifest.load(str(archive))
    manifest.write_text(json.dumps(dict(kind="swtpm_state", manifest_version=1)))
    with pytest.raises(RecoveryError, match="lacks compression"):
        swtpm_manifest.load(str(archive))


def test_archive_file_checks_size_then_sha256(tmp_path):
    archive = tmp_path / "x.tar.gz"
    archive.write_bytes(b"data")
    good = dict(size=4, sha256="3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7")
    assert swtpm_manifest.check_archive_file(str(archive), good)[1] == 4
    with pytest.raises(RecoveryError, match="is 4 bytes but its manifest says 5"):
        swtpm_manifest.check_archive_file(str(archive), dict(good, size=5))
    archive.write_bytes(b"dat4")
    with pytest.raises(RecoveryError, match="fails its checksum"):
        swtpm_manifest.check_archive_file(str(archive), good)

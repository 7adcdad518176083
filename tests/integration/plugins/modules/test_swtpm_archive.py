"""swtpm_archive against a real swtpm: a secret sealed before the archive unseals after the restore.

Every test drives the module through ansible-playbook (the `ansible` fixture)
and the real TPM emulator with tpm2-tools; nothing waits by sleeping: swtpm
is started with --daemon (the parent returns once the sockets listen) and its
exit is awaited on a pidfd.
"""

import io
import json
import os
import secrets
import select
import shutil
import socket
import stat
import subprocess
import sys
import tarfile

import pytest

MODULE = "vaultops.recovery.swtpm_archive"
HERE = os.path.dirname(os.path.abspath(__file__))
ID_A = "a1" * 16
ID_B = "b2" * 16

pytestmark = pytest.mark.skipif(not (shutil.which("swtpm") and shutil.which("tpm2_createprimary")),
                                reason="needs swtpm and tpm2-tools")


def _two_free_ports():
    """A port P with P+1 free too (the swtpm TCTI uses P for commands, P+1 for control)."""
    while True:
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port


def _wait_for_exit(pid, timeout=30):
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        ready = select.select([fd], [], [], timeout)[0]
        assert ready, "swtpm pid %d did not exit within %ss" % (pid, timeout)
    finally:
        os.close(fd)


class Swtpm(object):
    """One swtpm instance on a state directory, plus tpm2-tools to seal and unseal a secret with it."""

    def __init__(self, state_dir, work_dir):
        self.state_dir = str(state_dir)
        self.work_dir = str(work_dir)
        self.pid_file = os.path.join(self.work_dir, "swtpm.pid")
        self.port = None
        self.pid = None

    def to_json(self):
        return dict(state_dir=self.state_dir, work_dir=self.work_dir)

    def alive(self):
        if not os.path.exists(self.pid_file):
            return False
        with open(self.pid_file) as handle:
            pid = int(handle.read().strip() or 0)
        try:
            with open("/proc/%d/stat" % pid) as handle:
                return handle.read().split(") ")[1][0] != "Z"
        except (IOError, OSError):
            return False

    def start(self):
        os.makedirs(self.state_dir, exist_ok=True)
        for _attempt in range(20):
            port = _two_free_ports()
            proc = subprocess.run(
                ["swtpm", "socket", "--tpm2", "--tpmstate", "dir=%s" % self.state_dir,
                 "--pid", "file=%s" % self.pid_file,
                 "--server", "type=tcp,port=%d,bindaddr=127.0.0.1" % port,
                 "--ctrl", "type=tcp,port=%d,bindaddr=127.0.0.1" % (port + 1),
                 "--flags", "not-need-init,startup-clear", "--daemon"], capture_output=True, text=True, check=False)
            if proc.returncode == 0:
                break
            assert "Address already in use" in proc.stderr or "bind" in proc.stderr.lower(), proc.stderr
        else:
            raise AssertionError("swtpm did not start: %s" % proc.stderr)
        self.port = port
        with open(self.pid_file) as handle:
            self.pid = int(handle.read().strip())
        with open(os.path.join(self.work_dir, "swtpm.port"), "w") as handle:
            handle.write(str(port))
        return self

    def _load(self):
        """Port and pid of the instance now running (the systemctl stand-in may have restarted it)."""
        with open(os.path.join(self.work_dir, "swtpm.port")) as handle:
            self.port = int(handle.read())
        with open(self.pid_file) as handle:
            self.pid = int(handle.read().strip())

    def stop(self):
        """Orderly shutdown over the control channel (swtpm writes its state), then wait for the exit."""
        self._load()
        subprocess.run(["swtpm_ioctl", "--tcp", "127.0.0.1:%d" % (self.port + 1), "-s"], check=True,
                       capture_output=True)
        _wait_for_exit(self.pid)

    def tpm2(self, *argv, **kwargs):
        self._load()
        env = dict(os.environ, TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=%d" % self.port)
        return subprocess.run(list(argv), env=env, cwd=self.work_dir, capture_output=True, check=False, **kwargs)

    def _checked(self, *argv, **kwargs):
        proc = self.tpm2(*argv, **kwargs)
        assert proc.returncode == 0, (argv, proc.stderr.decode(errors="replace"))
        self.tpm2("tpm2_flushcontext", "-t")  # no resource manager: free the object slots
        return proc

    def seal(self, secret):
        self._checked("tpm2_createprimary", "-C", "o", "-c", "primary.ctx")
        self._checked("tpm2_create", "-C", "primary.ctx", "-i", "-", "-u", "seal.pub", "-r", "seal.priv",
                      input=secret)

    def unseal(self):
        """The secret, or None when this TPM cannot load the sealed object (another TPM's seeds)."""
        self._checked("tpm2_createprimary", "-C", "o", "-c", "primary.ctx")
        loaded = self.tpm2("tpm2_load", "-C", "primary.ctx", "-u", "seal.pub", "-r", "seal.priv", "-c", "seal.ctx")
        self.tpm2("tpm2_flushcontext", "-t")
        if loaded.returncode != 0:
            return None
        return self._checked("tpm2_unseal", "-c", "seal.ctx").stdout


def unseal_with(tpm):
    tpm.start()
    try:
        return tpm.unseal()
    finally:
        tpm.stop()


def systemctl_main(argv):
    """A systemctl stand-in for one unit, driving the real swtpm (used through a script on PATH)."""
    with open(os.environ["FAKE_SYSTEMCTL"]) as handle:
        config = json.load(handle)
    tpm = Swtpm(config["state_dir"], config["work_dir"])
    with open(os.path.join(config["work_dir"], "systemctl.calls"), "a") as log:
        log.write(" ".join(argv) + "\n")
    verb = argv[0]
    if verb == "show":
        print("LoadState=loaded\nActiveState=%s" % ("active" if tpm.alive() else "inactive"))
    elif verb == "stop":
        tpm.stop()
    elif verb == "start":
        if config.get("fail_start"):
            sys.stderr.write("Job for swtpm-test.service failed because the control process exited with error code.\n")
            return 1
        tpm.start()
    return 0


# ---------------------------------------------------------------- fixtures and helpers

@pytest.fixture
def lab(tmp_path):
    """A sealed secret in a fresh swtpm state (swtpm stopped), the identities A and B, a backup dir."""
    class Lab(object):
        pass
    lab = Lab()
    lab.root = tmp_path
    lab.state = tmp_path / "lib" / "swtpm" / "vaulthalla"
    lab.work = tmp_path / "work"
    lab.work.mkdir()
    lab.backups = tmp_path / "backups"
    lab.backups.mkdir()
    lab.log = tmp_path / "log" / "vaultops-recovery.log"
    lab.log.parent.mkdir()
    lab.id_a = tmp_path / "machine-id-a"
    lab.id_a.write_text(ID_A + "\n")
    lab.id_b = tmp_path / "machine-id-b"
    lab.id_b.write_text(ID_B + "\n")
    lab.secret = ("PLANTED-sealed-" + secrets.token_hex(12)).encode()
    lab.tpm = Swtpm(lab.state, lab.work)
    lab.tpm.start()
    lab.tpm.seal(lab.secret)
    lab.tpm.stop()
    os.chmod(str(lab.state), 0o750)
    yield lab
    if lab.tpm.alive():  # a failed test must not leave an emulator behind
        lab.tpm.stop()


def tree(path):
    """{relative path: (mode, uid, gid, bytes)} of everything under path."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(str(path)):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            data = open(full, "rb").read() if stat.S_ISREG(st.st_mode) else None
            found[os.path.relpath(full, str(path))] = (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, data)
    st = os.stat(str(path))
    found["."] = (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, None)
    return found


def archive_args(lab, **extra):
    args = dict(state="archive", state_dir=str(lab.state), dest_dir=str(lab.backups), service_stopped=True,
                machine_id_path=str(lab.id_a))
    args.update(extra)
    return args


def restore_args(lab, path, **extra):
    args = dict(state="restore", state_dir=str(lab.state), path=path, service_stopped=True,
                machine_id_path=str(lab.id_a), recovery_log=str(lab.log))
    args.update(extra)
    return args


def failed(result, *fragments):
    assert result.get("failed"), result
    for fragment in fragments:
        assert fragment in result["msg"], result["msg"]
    assert "Fix:" in result["msg"]
    return result["msg"]


def nothing_leaked(ansible, lab):
    printed = ansible.everything_printed()
    assert lab.secret.decode() not in printed
    assert ID_A not in printed and ID_B not in printed
    permall = open(os.path.join(str(lab.state), "tpm2-00.permall"), "rb").read() \
        if os.path.exists(os.path.join(str(lab.state), "tpm2-00.permall")) else b""
    for start in range(0, max(len(permall) - 16, 0), 64):
        chunk = permall[start:start + 16]
        if len(set(chunk)) >= 12:  # high-entropy bytes only; headers and zero runs prove nothing
            assert chunk.hex() not in printed


def siblings(lab):
    return sorted(os.listdir(str(lab.state.parent)))


# ---------------------------------------------------------------- tests

def test_archive_wipe_restore_unseals_the_secret_again(ansible, lab):
    # A fresh state cannot unseal: the state is what matters.
    fresh = Swtpm(lab.root / "fresh-state", lab.work)
    assert unseal_with(fresh) is None

    original = tree(lab.state)
    planned = ansible.run(MODULE, archive_args(lab), check_mode=True, name="archive-check")
    assert planned["changed"] and "would archive" in planned["plan"] and "service_stopped: true" in planned["plan"]
    assert os.listdir(str(lab.backups)) == []

    archived = ansible.run(MODULE, archive_args(lab), name="archive")
    assert archived["changed"], archived
    assert stat.S_IMODE(os.stat(archived["path"]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(archived["manifest"]).st_mode) == 0o600
    assert archived["service"]["stopped_by_module"] is False
    manifest = archived["manifest_data"]
    assert manifest["kind"] == "swtpm_state" and manifest["state_dir"] == str(lab.state)
    names = dict((entry["path"], entry) for entry in manifest["entries"])
    assert names["tpm2-00.permall"]["mode"] == "0640" and names["."]["mode"] == "0750"
    listing = subprocess.run(["tar", "-tvzf", archived["path"]], capture_output=True, text=True, check=True).stdout
    assert "tpm2-00.permall" in listing

    shutil.rmtree(str(lab.state))
    assert unseal_with(Swtpm(lab.state, lab.work)) is None  # the wiped TPM has new seeds
    shutil.rmtree(str(lab.state))

    preview = ansible.run(MODULE, restore_args(lab, archived["path"]), check_mode=True, name="restore-check")
    assert preview["changed"] and "would restore" in preview["plan"]
    assert not lab.state.exists()

    restored = ansible.run(MODULE, restore_args(lab, archived["path"]), name="restore")
    assert restored["changed"] and restored["host_change"] is False and restored["security_event"] is None
    assert restored["safety_copy"] is None
    after = tree(lab.state)
    assert dict((k, v[:3]) for k, v in after.items()) == dict((k, v[:3]) for k, v in original.items())
    assert after == original

    again = ansible.run(MODULE, restore_args(lab, archived["path"]), name="restore-again")
    assert again["changed"] is False, again

    assert unseal_with(lab.tpm) == lab.secret
    nothing_leaked(ansible, lab)


def test_restore_over_newer_state_keeps_a_safety_copy(ansible, lab):
    archived = ansible.run(MODULE, archive_args(lab), name="archive")
    newer = tree(lab.state)
    # The TPM moves on: new seeds after a clear would lose the secret.
    lab.tpm.start()
    assert lab.tpm.tpm2("tpm2_clear", "-c", "p").returncode == 0
    lab.tpm.stop()
    assert unseal_with(lab.tpm) is None
    cleared = tree(lab.state)
    assert cleared != newer

    restored = ansible.run(MODULE, restore_args(lab, archived["path"]), name="restore")
    assert restored["changed"]
    safety = restored["safety_copy"]
    assert safety.startswith(str(lab.state) + ".pre-restore-")
    assert tree(safety) == cleared
    assert siblings(lab) == sorted(["vaulthalla", os.path.basename(safety)])
    assert unseal_with(lab.tpm) == lab.secret
    nothing_leaked(ansible, lab)


def test_running_swtpm_is_detected_by_its_lock(ansible, lab):
    lab.tpm.start()
    try:
        result = ansible.run(MODULE, archive_args(lab), name="archive-while-running")
        failed(result, "still holds the swtpm lock", "service_stopped: true")
        assert result["lock_holder"] == lab.tpm.pid
        assert os.listdir(str(lab.backups)) == []
    finally:
        lab.tpm.stop()


def _fake_systemctl(lab, monkeypatch, **config):
    bin_dir = lab.root / "bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "systemctl"
    script.write_text("#!%s\nimport sys\nsys.path.insert(0, %r)\nfrom test_swtpm_archive import systemctl_main\n"
                      "sys.exit(systemctl_main(sys.argv[1:]))\n" % (sys.executable, HERE))
    script.chmod(0o755)
    settings = lab.work / "systemctl.json"
    settings.write_text(json.dumps(dict(lab.tpm.to_json(), **config)))
    monkeypatch.setenv("PATH", "%s:%s" % (bin_dir, os.environ["PATH"]))
    monkeypatch.setenv("FAKE_SYSTEMCTL", str(settings))
    return lab.work / "systemctl.calls"


def _verbs(calls):
    return [line.split()[0] for line in calls.read_text().splitlines()]


def test_unit_is_stopped_and_started_around_the_archive(ansible, lab, monkeypatch):
    calls = _fake_systemctl(lab, monkeypatch)
    lab.tpm.start()
    try:
        args = archive_args(lab, service="swtpm-test.service", service_stopped=False)
        planned = ansible.run(MODULE, args, check_mode=True, name="archive-check")
        assert "would stop swtpm-test.service (now active)" in planned["plan"]
        assert _verbs(calls) == ["show"] and os.listdir(str(lab.backups)) == []

        result = ansible.run(MODULE, args, name="archive")
        assert result["changed"], result
        assert result["service"] == dict(name="swtpm-test.service", managed=True, state_before="active",
                                         stopped_by_module=True, restarted=True, restart_error=None)
        assert _verbs(calls) == ["show", "show", "stop", "start"]
        assert result["manifest_data"]["service"]["stopped_by_module"] is True
        assert lab.tpm.alive()
        assert lab.tpm.unseal() == lab.secret  # the restarted TPM still works
    finally:
        lab.tpm.stop()
    nothing_leaked(ansible, lab)


def test_failed_archive_still_restarts_the_unit(ansible, lab, monkeypatch):
    calls = _fake_systemctl(lab, monkeypatch)
    os.symlink("/etc/shadow", str(lab.state / "escape"))
    lab.tpm.start()
    try:
        result = ansible.run(MODULE, archive_args(lab, service="swtpm-test.service", service_stopped=False),
                             name="archive-fails")
        failed(result, "outside the state directory", "swtpm-test.service was started again")
        assert result["service"]["restarted"] is True
        assert _verbs(calls) == ["show", "stop", "start"]
        assert lab.tpm.alive()
        assert os.listdir(str(lab.backups)) == []
    finally:
        lab.tpm.stop()


def test_unit_that_will_not_start_rolls_the_restore_back(ansible, lab, monkeypatch):
    archived = ansible.run(MODULE, archive_args(lab), name="archive")
    (lab.state / "marker").write_bytes(b"the state that was there before")  # swtpm ignores unknown files
    calls = _fake_systemctl(lab, monkeypatch, fail_start=True)
    lab.tpm.start()  # "active" until the module stops it; then every start fails
    result = ansible.run(MODULE, restore_args(lab, archived["path"], service="swtpm-test.service",
                                              service_stopped=False), name="restore")
    failed(result, "rolled back", "previous state is back in place", "still does not start", "journalctl")
    assert _verbs(calls) == ["show", "stop", "start", "start"]
    # The directory in place is the previous one (swtpm rewrote its own files when it was stopped).
    assert (lab.state / "marker").read_bytes() == b"the state that was there before"
    assert siblings(lab) == ["vaulthalla"]
    assert not lab.tpm.alive()


def test_other_host_refused_then_allowed_and_recorded(ansible, lab):
    archived = ansible.run(MODULE, archive_args(lab), name="archive")
    (lab.state / "tpm2-00.volatilestate").write_bytes(b"this host's own newer state")
    before = tree(lab.state)

    refused = ansible.run(MODULE, restore_args(lab, archived["path"], machine_id_path=str(lab.id_b)), name="refused")
    msg = failed(refused, "different machine", "secrets", "unseal", "deliberate, recorded decision",
                 "allow_host_change: true", "Nothing was changed")
    assert refused["host_change"] is True and "Traceback" not in msg
    assert tree(lab.state) == before and siblings(lab) == ["vaulthalla"]
    assert not lab.log.exists()

    checked = ansible.run(MODULE, restore_args(lab, archived["path"], machine_id_path=str(lab.id_b),
                                               allow_host_change=True), check_mode=True, name="allowed-check")
    assert "would record a security event" in checked["plan"]
    assert tree(lab.state) == before and not lab.log.exists()

    allowed = ansible.run(MODULE, restore_args(lab, archived["path"], machine_id_path=str(lab.id_b),
                                               allow_host_change=True), name="allowed")
    assert allowed["changed"] and allowed["host_change"] and allowed["identity"] == "different"
    event = allowed["security_event"]
    assert event["event"] == "swtpm_state_restored_on_another_host"
    assert stat.S_IMODE(lab.log.stat().st_mode) == 0o600
    lines = [json.loads(line) for line in lab.log.read_text().splitlines()]
    assert len(lines) == 1 and lines[0]["archive_sha256"] == archived["sha256"]
    assert lines[0]["source"]["hostname"] == archived["hostname"]
    # Syslog is best effort: on a host without /dev/log the result says why it was not sent.
    syslog = event["syslog"]
    assert syslog["sent"] is (syslog["error"] is None)
    if not os.path.exists("/dev/log"):
        assert syslog["sent"] is False and "/dev/log" in syslog["error"]
    assert tree(allowed["safety_copy"]) == before
    assert unseal_with(lab.tpm) == lab.secret
    nothing_leaked(ansible, lab)


def test_corrupted_archive_is_refused_before_anything_changes(ansible, lab):
    archived = ansible.run(MODULE, archive_args(lab, compressor="none"), name="archive")
    assert archived["path"].endswith(".tar")
    before = tree(lab.state)
    with open(archived["path"], "r+b") as handle:
        handle.seek(archived["size"] // 2)
        byte = handle.read(1)
        handle.seek(archived["size"] // 2)
        handle.write(bytes([byte[0] ^ 0x01]))
    result = ansible.run(MODULE, restore_args(lab, archived["path"]), name="restore-corrupt")
    failed(result, "fails its checksum", "corrupt", "Nothing was changed")
    with open(archived["path"], "ab") as handle:
        handle.write(b"x")
    result = ansible.run(MODULE, restore_args(lab, archived["path"]), name="restore-grown")
    failed(result, "bytes but its manifest says")
    assert tree(lab.state) == before and siblings(lab) == ["vaulthalla"]
    nothing_leaked(ansible, lab)


def test_crafted_archive_with_a_matching_manifest_is_refused(ansible, lab):
    """Checksums only prove the archive matches its manifest; the members are checked as well."""
    archived = ansible.run(MODULE, archive_args(lab), name="archive")
    crafted = lab.backups / "crafted.tar.gz"
    victim = lab.root / "victim"
    with tarfile.open(str(crafted), "w:gz") as tar:
        info = tarfile.TarInfo("../../victim")
        data = b"overwritten"
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    manifest = dict(archived["manifest_data"])
    digest = subprocess.run(["sha256sum", str(crafted)], capture_output=True, text=True, check=True).stdout.split()[0]
    manifest.update(sha256=digest, size=crafted.stat().st_size)
    (lab.backups / "crafted.tar.gz.manifest.json").write_text(json.dumps(manifest))
    before = tree(lab.state)
    result = ansible.run(MODULE, restore_args(lab, str(crafted)), name="restore-crafted")
    failed(result, "unsafe member", "../../victim", "Nothing was extracted")
    assert not victim.exists()
    assert tree(lab.state) == before and siblings(lab) == ["vaulthalla"]


def test_missing_or_empty_state_dir_is_one_clear_error(ansible, lab):
    result = ansible.run(MODULE, archive_args(lab, state_dir=str(lab.root / "nope")), name="missing")
    failed(result, "does not exist", "is swtpm in use", "set state_dir")
    empty = lab.root / "empty"
    empty.mkdir()
    result = ansible.run(MODULE, archive_args(lab, state_dir=str(empty)), name="empty")
    failed(result, "holds no TPM state")
    assert os.listdir(str(lab.backups)) == []


def test_no_service_option_and_missing_systemd(ansible, lab):
    result = ansible.run(MODULE, archive_args(lab, service="", service_stopped=False), name="no-service")
    assert result["changed"] and result["service"]["managed"] is False
    result = ansible.run(MODULE, archive_args(lab, service="none", service_stopped=False, name_pattern="n.tar.gz"),
                         name="none-service")
    assert result["changed"] and result["service"]["state_before"] == "no service"
    if subprocess.run(["systemctl", "is-system-running"], capture_output=True, check=False).returncode != 0 and \
            not os.path.isdir("/run/systemd/system"):
        # This host does not run systemd: asking to manage the default unit fails with the way out.
        result = ansible.run(MODULE, archive_args(lab, service_stopped=False, name_pattern="d.tar.gz"),
                             name="default-service")
        failed(result, "vaulthalla-swtpm.service", "service_stopped: true")

"""playbooks/backup.yml against the Vaulthalla lab host: each bad input or fault ends
in one clear error, leaves the services running and never seals a set; the happy path
seals and fetches a set that verifies on the controller. (The Molecule scenario
vaulthalla_backup checks every artifact of a good set in depth.) Last, the set goes to a
backup bucket and playbooks/restore.yml restores the host from there (the Molecule restore
scenarios cover restores from a set on the controller)."""

import glob
import json
import os
import subprocess
import sys

import pytest
from support.collection import collections_root
from support.moto_server import MotoServer
from support.vaulthalla_lab import REPO, lab_host, needs_podman

pytestmark = needs_podman
CONTAINER = "vaultops-lab-vh-backup-pytest"
SERVICES = ["vaulthalla.service", "vaulthalla-web.service", "vaulthalla-cli.socket", "vaulthalla-swtpm.service"]
TINY = "/var/backups/tiny"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    # A 64 KiB tmpfs inside the host stands in for a full backup volume.
    with lab_host(CONTAINER, str(tmp_path_factory.mktemp("vh-gnupg")),
                  "--tmpfs %s:rw,size=64k,mode=0700" % TINY) as (host, inventory):
        yield host, inventory


def playbook(lab, tmp_path, name, extra, options=(), inventory=None):
    """rc and everything printed or logged by playbooks/<name> against the lab host."""
    _host, lab_inventory = lab
    log = str(tmp_path / ("%s.log" % name))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_root(), ANSIBLE_NOCOLOR="1", ANSIBLE_LOG_PATH=log)
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                           "-i", inventory or lab_inventory, os.path.join(REPO, "playbooks", name),
                           "-e", json.dumps(extra)] + list(options),
                          capture_output=True, text=True, env=env, timeout=900, check=False)
    with open(log) as handle:
        return proc.returncode, proc.stdout + proc.stderr + handle.read()


def backup(lab, tmp_path, options=(), inventory=None, **extra):
    extra.setdefault("vaulthalla_backup_fetch_dir", str(tmp_path / "sets"))
    return playbook(lab, tmp_path, "backup.yml", extra, options, inventory)


def assert_fault_handled(lab, rc, output, *fragments):
    host, _inventory = lab
    assert rc != 0, output[-3000:]
    for fragment in fragments:
        assert fragment in output, (fragment, output[-4000:])
    assert "No verified recovery set for: %s" % CONTAINER in output
    for unit in SERVICES:
        assert host.run("systemctl", "is-active", unit, check=False).stdout.strip() == b"active", unit
    assert host.vh("status").stdout.decode().splitlines()[0] == "vh status: healthy"
    sealed = host.sh("find /var/backups -name manifest.json", check=False).stdout.strip()
    assert sealed == b"", "no set may be sealed after a fault: %s" % sealed


@pytest.fixture(autouse=True)
def clean_staging(lab):
    """Each test starts with no sets, no lock and the services running."""
    host, _inventory = lab
    yield
    host.sh("rm -rf /var/backups/vaultops %s/* /run/vaultops-backup.lock; systemctl start %s"
            % (TINY, " ".join(reversed(SERVICES))), check=False)


def test_missing_recipient_key(lab, tmp_path):
    rc, out = backup(lab, tmp_path, vaulthalla_backup_gpg_recipients=["0123456789ABCDEF0123456789ABCDEF01234567"])
    assert_fault_handled(lab, rc, out, "0123456789ABCDEF0123456789ABCDEF01234567", "Fix:")


def test_vh_missing(lab, tmp_path):
    rc, out = backup(lab, tmp_path, vaulthalla_backup_vh_path="/usr/bin/vh-not-installed")
    assert_fault_handled(lab, rc, out, "vh-not-installed", "Fix:")


def test_postgresql_unreachable_restarts_the_services(lab, tmp_path):
    rc, out = backup(lab, tmp_path, vaulthalla_backup_db_login_host="127.0.0.1", vaulthalla_backup_db_port=5999,
                     vaulthalla_backup_db_login_user="vaulthalla", vaulthalla_backup_db_login_password="Pl4nted-DB-pw")
    assert_fault_handled(lab, rc, out, "cannot reach PostgreSQL at 127.0.0.1:5999", "Start the services again (also after a failed step)")
    assert "Pl4nted-DB-pw" not in out


def test_disk_full_on_the_backup_target(lab, tmp_path):
    rc, out = backup(lab, tmp_path, vaulthalla_backup_staging_dir=TINY)
    assert_fault_handled(lab, rc, out, "No space left", "Fix:")


def test_s3_endpoint_unreachable(lab, tmp_path):
    vaults = [{"name": "s3-media", "bucket": "vh-lab-media", "endpoint_url": "http://127.0.0.1:5999",
               "region": "us-east-1", "access_key": "lab-access", "secret_key": "Pl4nted-S3-secret"}]
    rc, out = backup(lab, tmp_path, vaulthalla_backup_s3_vaults=vaults)
    assert_fault_handled(lab, rc, out, "127.0.0.1:5999", "endpoint_url")
    assert "Pl4nted-S3-secret" not in out


def test_swtpm_state_directory_missing(lab, tmp_path):
    rc, out = backup(lab, tmp_path, vaulthalla_backup_swtpm_state_dir="/var/lib/swtpm/not-there")
    assert_fault_handled(lab, rc, out, "/var/lib/swtpm/not-there", "Fix:")


def test_second_backup_while_one_runs_is_refused(lab, tmp_path):
    host, _inventory = lab
    host.sh("mkdir -m 0700 /run/vaultops-backup.lock")
    rc, out = backup(lab, tmp_path)
    assert_fault_handled(lab, rc, out, "Another backup of %s is running" % CONTAINER)


def test_backup_seals_fetches_and_verifies_a_set(lab, tmp_path):
    host, _inventory = lab
    rc, out = backup(lab, tmp_path)
    assert rc == 0, out[-4000:]
    manifests = glob.glob(str(tmp_path / "sets" / "*" / "manifest.json"))
    assert len(manifests) == 1, manifests
    with open(manifests[0]) as handle:
        manifest = json.load(handle)
    assert manifest["complete"] and manifest["tpm_mode"] == "swtpm"
    assert manifest["gpg_recipients"] == [host.facts["recipient_fingerprint"]]
    assert {a["kind"] for a in manifest["artifacts"]} >= {"pg_dump", "path_archive", "swtpm_state", "vh_export",
                                                          "s3_bucket_copy"}
    for unit in SERVICES:
        assert host.run("systemctl", "is-active", unit, check=False).stdout.strip() == b"active", unit
    assert "lab-secret" not in out


def test_check_mode_lists_the_plan_and_writes_nothing(lab, tmp_path):
    host, _inventory = lab
    rc, out = backup(lab, tmp_path, options=["--check"])
    assert rc == 0, out[-3000:]
    for expected in ("services_stopped_in_order", "vaulthalla.service", "vaulthalla-cli.socket",
                     "config and state: /etc/vaulthalla, /var/lib/vaulthalla", "swtpm state /var/lib/swtpm/vaulthalla",
                     "S3/R2 buckets: vh-lab-media, vh-lab-secure"):
        assert expected in out, expected
    assert host.run("test", "-e", "/var/backups/vaultops", check=False).returncode != 0
    assert not os.path.exists(str(tmp_path / "sets"))
    for unit in SERVICES:
        assert host.run("systemctl", "is-active", unit, check=False).stdout.strip() == b"active", unit


def test_one_failing_host_does_not_stop_the_others(lab, tmp_path):
    _host, inventory = lab
    with open(inventory) as handle:
        text = handle.read()
    marker = "      ansible_connection: containers.podman.podman\n"
    ghost = "    vaultops-no-such-host:\n" + marker
    two_hosts = tmp_path / "two-hosts.yml"
    two_hosts.write_text(text.replace("  hosts:\n", "  hosts:\n" + ghost, 1))
    rc, out = backup(lab, tmp_path, inventory=str(two_hosts))
    assert rc != 0
    assert "No verified recovery set for: vaultops-no-such-host" in out
    assert len(glob.glob(str(tmp_path / "sets" / (CONTAINER + "-*") / "manifest.json"))) == 1, out[-3000:]


def test_restore_from_a_backup_bucket(lab, tmp_path, ansible):
    """recovery_set uploads the set; restore.yml downloads it (every file proven), copies it to the host and restores."""
    host, _inventory = lab
    rc, out = backup(lab, tmp_path)
    assert rc == 0, out[-4000:]
    set_dir = os.path.dirname(glob.glob(str(tmp_path / "sets" / "*" / "manifest.json"))[0])
    name = os.path.basename(set_dir)
    moto = MotoServer().start()
    try:
        moto.client().create_bucket(Bucket="vh-sets")
        uploaded = ansible.run("vaultops.recovery.recovery_set", moto.module_args(
            state="upload", set_dir=set_dir, bucket="vh-sets", prefix="lab/"))
        assert uploaded["changed"] and "manifest.json" in uploaded["uploaded"], uploaded
        # Without the host's own copy (vaulthalla_backup keeps one) the downloaded set is what is restored.
        host.sh("rm -rf /var/backups/vaultops/%s" % name)
        host.sh("echo 'damage before the restore' > /etc/vaulthalla/damaged-by-test")
        connection = moto.module_args()
        rc, out = playbook(lab, tmp_path, "restore.yml", {
            "vaulthalla_restore_set_bucket": "vh-sets", "vaulthalla_restore_set_prefix": "lab/",
            "vaulthalla_restore_set_name": name, "vaulthalla_restore_set_bucket_connection": connection,
            "vaulthalla_restore_download_dir": str(tmp_path / "downloaded")})
    finally:
        moto.stop()
    assert rc == 0, out[-5000:]
    downloaded = tmp_path / "downloaded" / name
    assert (downloaded / "manifest.json").read_bytes() == open(os.path.join(set_dir, "manifest.json"), "rb").read()
    # The restore replaced /etc/vaulthalla with the set's copy, ran the checks and kept a record.
    assert host.run("test", "-e", "/etc/vaulthalla/damaged-by-test", check=False).returncode != 0
    for unit in SERVICES:
        assert host.run("systemctl", "is-active", unit, check=False).stdout.strip() == b"active", unit
    assert host.vh("status").stdout.decode().splitlines()[0] == "vh status: healthy"
    lines = host.sh("cat /var/log/vaultops-recovery.log").stdout.decode().splitlines()
    record = [json.loads(line) for line in lines if '"restore_completed"' in line][-1]
    assert record["set_dir"] == str(downloaded) and record["set_name"] == name, record
    assert record["checks"] and all(check["passed"] for check in record["checks"]), record
    assert host.run("test", "-e", "/var/backups/vaultops/restore-%s" % name, check=False).returncode != 0
    for secret in (connection["secret_key"], "lab-secret"):
        assert secret not in out

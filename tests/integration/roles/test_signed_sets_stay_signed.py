"""Once recovery sets are signed they stay signed: a set whose manifest.json.asc was removed is refused.

recovery_set through ansible-playbook (require_signature, on by default with signed_by), then the
vaulthalla_restore and vaulthalla_drill roles with nothing but the backup role's inventory variable
vaulthalla_backup_sign_with set: both take it as the signer they require and refuse the stripped set
before anything on a host is touched.
"""

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.recovery_set import recovery_set
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import write_json_atomic
from ansible_collections.vaultops.recovery.plugins.module_utils.openpgp.gpg_signature import sign_detached
from support.collection import collections_root
from support.gpg_keys import make_key

MODULE = "vaultops.recovery.recovery_set"
# The role runs in check mode (the plan and the set's verification, nothing restored). It reads the target first;
# a remote database host keeps that read off this machine's PostgreSQL. This machine has no Vaulthalla and the
# test set no key blobs: the version and key chain rules are overridden so that the signature is what is decided.
LOCAL_READ = dict(vaulthalla_restore_db_login_host="db.invalid", vaulthalla_restore_ignore_version_mismatch=True,
                  vaulthalla_restore_allow_incomplete_key_chain=True)
EXPECTED = "was expected to be signed by %s, but its signature manifest.json.asc is missing"


@pytest.fixture(scope="module")
def gnupg(tmp_path_factory):
    home = tmp_path_factory.mktemp("gnupg")
    os.chmod(str(home), 0o700)
    return str(home), make_key(home, "set signer <signer@vaultops.invalid>")


def _signed_set(parent, gnupg, name="vh1-20261121T101500Z"):
    set_dir = parent / name
    set_dir.mkdir()
    for name, kind in (("db.dump", "pg_dump"), ("config-state.tar.zst", "path_archive")):
        (set_dir / name).write_bytes(b"artifact " + name.encode())
        write_json_atomic(str(set_dir / (name + ".manifest.json")), {"kind": kind})
    recovery_set.seal(str(set_dir), {}, [])
    sign_detached("gpg", gnupg[0], gnupg[1], str(set_dir / "manifest.json"))
    return set_dir


def test_recovery_set_verify_refuses_a_set_whose_signature_was_removed(ansible, tmp_path, gnupg):
    set_dir = _signed_set(tmp_path, gnupg)
    home, signer = gnupg
    intact = ansible.run(MODULE, dict(set_dir=str(set_dir), signed_by=signer, gnupg_home=home), name="intact")
    assert not intact.get("failed") and intact["signature"] == str(set_dir / "manifest.json.asc"), intact
    unchecked = ansible.run(MODULE, dict(set_dir=str(set_dir)), name="unchecked")
    assert not unchecked.get("failed") and "signature" not in unchecked
    assert any("signature was not checked" in warning for warning in unchecked.get("warnings", [])), unchecked

    os.unlink(str(set_dir / "manifest.json.asc"))
    for name, extra in (("default", {}), ("required", dict(require_signature=True))):
        refused = ansible.run(MODULE, dict(set_dir=str(set_dir), signed_by=signer, gnupg_home=home, **extra),
                              name=name)
        assert refused.get("failed"), refused
        assert EXPECTED % signer in refused["msg"] and "tampered" in refused["msg"], refused["msg"]
    no_signer = ansible.run(MODULE, dict(set_dir=str(set_dir), require_signature=True), name="no-signer")
    assert no_signer.get("failed") and "require_signature is true but signed_by is empty" in no_signer["msg"]
    accepted = ansible.run(MODULE, dict(set_dir=str(set_dir), signed_by=signer, gnupg_home=home,
                                        require_signature=False), name="accepted")
    assert not accepted.get("failed") and "signature" not in accepted, accepted


def _run_role(tmp_path, role, tasks_from, role_vars, host_vars, check=False):
    """Run one role on localhost with host_vars from an inventory file (check: in check mode).

    Returns (the failed task's result, or {"verified": the restore role's recovery_set result}, output).
    """
    work = tmp_path / ("role-" + role)
    work.mkdir()
    localhost = dict(ansible_connection="local", ansible_python_interpreter=sys.executable, **host_vars)
    inventory = {"all": {"hosts": {"localhost": localhost}}}
    (work / "inventory.json").write_text(json.dumps(inventory))
    outcome = str(work / "outcome.json")
    include = {"name": "vaultops.recovery." + role}
    if tasks_from:
        include["tasks_from"] = tasks_from
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [{"block": [
        {"name": "role under test", "ansible.builtin.include_role": include, "vars": role_vars},
        {"name": "no failure", "ansible.builtin.copy": {
            "content": "{{ {'verified': _vaulthalla_restore_verified | default({})} | to_nice_json }}", "dest": outcome,
            "mode": "0600"}, "check_mode": False}],
        "rescue": [{"name": "save the failure", "ansible.builtin.copy": {
            "content": "{{ ansible_failed_result | to_nice_json }}", "dest": outcome, "mode": "0600"},
            "check_mode": False}]}]}]
    (work / "play.json").write_text(json.dumps(play))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_root(), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0")
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i",
                           str(work / "inventory.json"), str(work / "play.json")] + (["--check"] if check else []),
                          capture_output=True, text=True, env=env, cwd=str(work), check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(outcome) as handle:
        return json.load(handle), done.stdout


@pytest.mark.parametrize("role,tasks_from,prefix", [("vaulthalla_restore", None, "vaulthalla_restore"),
                                                    ("vaulthalla_drill", None, "vaulthalla_drill")])
def test_restore_and_drill_require_the_backup_role_s_signer(tmp_path, gnupg, role, tasks_from, prefix):
    home, signer = gnupg
    set_dir = _signed_set(tmp_path, gnupg)
    os.unlink(str(set_dir / "manifest.json.asc"))
    role_vars = {prefix + "_set_dir": str(set_dir), prefix + "_gnupg_home": home}
    if role == "vaulthalla_restore":
        role_vars.update(LOCAL_READ)
    failed, output = _run_role(tmp_path, role, tasks_from, role_vars, dict(vaulthalla_backup_sign_with=signer),
                               check=role == "vaulthalla_restore")
    assert failed.get("failed"), output
    assert EXPECTED % signer in failed["msg"], failed


def test_the_restore_role_proves_an_intact_set_against_the_backup_role_s_signer(tmp_path, gnupg):
    home, signer = gnupg
    set_dir = _signed_set(tmp_path, gnupg)
    role_vars = dict(LOCAL_READ, vaulthalla_restore_set_dir=str(set_dir), vaulthalla_restore_gnupg_home=home)
    outcome, output = _run_role(tmp_path, "vaulthalla_restore", None, role_vars,
                                dict(vaulthalla_backup_sign_with=signer), check=True)
    assert "verified" in outcome, outcome.get("msg")
    assert outcome["verified"]["signature"] == str(set_dir / "manifest.json.asc"), output


def test_a_download_whose_signature_was_removed_from_the_bucket_is_refused(ansible, tmp_path, gnupg):
    from support.moto_server import MotoServer
    home, signer = gnupg
    set_dir = _signed_set(tmp_path, gnupg)
    server = MotoServer().start()
    try:
        server.client().create_bucket(Bucket="sets")
        common = dict(bucket="sets", signed_by=signer, gnupg_home=home)
        up = ansible.run(MODULE, server.module_args(state="upload", set_dir=str(set_dir), **common), name="upload")
        assert not up.get("failed") and up["signature"] == str(set_dir / "manifest.json.asc"), up
        server.client().delete_object(Bucket="sets", Key=set_dir.name + "/manifest.json.asc")
        dest = tmp_path / "downloads"
        dest.mkdir()
        down = server.module_args(state="download", dest_dir=str(dest), set_name=set_dir.name, **common)
        for check_mode in (True, False):
            refused = ansible.run(MODULE, down, check_mode=check_mode, name="download-%s" % check_mode)
            assert refused.get("failed"), refused
            assert "s3://sets/%s/ %s" % (set_dir.name, EXPECTED % signer) in refused["msg"], refused["msg"]
            assert os.listdir(str(dest)) == [], "nothing is left behind"
    finally:
        server.stop()

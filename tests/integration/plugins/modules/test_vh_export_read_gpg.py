"""vh_export_read with real GnuPG through ansible-playbook: throwaway GnuPG homes made here.

The recovery key has a passphrase (planted, like the vault keys and secrets);
another home holds an unrelated key (the "wrong key"). Exports are written the
way vh writes them (JSON, `gpg --encrypt --armor` to the recipient). Every
planted value is searched for in everything ansible-playbook printed or logged.
"""

import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys

import pytest

from support.collection import collections_root

MODULE = "vaultops.recovery.vh_export_read"

pytestmark = pytest.mark.skipif(not shutil.which("gpg"), reason="needs GnuPG")


def gpg(home, *args, **kwargs):
    return subprocess.run(["gpg", "--homedir", home, "--batch", "--no-tty"] + list(args), capture_output=True,
                          check=True, **kwargs)


def make_key(home, uid, passphrase):
    os.makedirs(home, mode=0o700)
    # The passphrase goes in on stdin here too; "" means an unprotected key.
    gpg(home, "--pinentry-mode", "loopback", "--passphrase-fd", "0", "--quick-gen-key", uid, "future-default",
        "default", "never", input=passphrase.encode())
    out = gpg(home, "--with-colons", "--list-keys", uid).stdout.decode()
    return re.search(r"^fpr:+([0-9A-F]{40}):", out, re.MULTILINE).group(1)


def kill_agent(home):
    subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], capture_output=True, check=False)


class Keys(object):
    def __init__(self, base):
        self.base = base
        self.home = os.path.join(base, "recovery")
        self.other_home = os.path.join(base, "other")
        self.passphrase = "pass " + secrets.token_urlsafe(12)
        self.fpr = make_key(self.home, "recovery <recovery@vh-read.test>", self.passphrase)
        self.other_fpr = make_key(self.other_home, "other <other@vh-read.test>", "")
        self.vault_keys = {name: os.urandom(32) for name in ("local-docs", "s3-media", "s3-secure")}
        self.secrets = {"db-password": secrets.token_urlsafe(24), "jwt-secret": secrets.token_hex(32)}

    VAULT_IDS = {"local-docs": 1, "s3-media": 2, "s3-secure": 3}

    def keys_payload(self, keys=None):
        keys = self.vault_keys if keys is None else keys
        return [{"vault_id": self.VAULT_IDS.get(name, 100 + number), "vault_name": name,
                 "key": base64.b64encode(key).decode(),
                 "key_info": {"type": "AES-256-GCM", "key_version": 1, "created_at": "2026-11-01T00:00:00Z",
                              "exported_at": "2026-11-21T10:15:00Z", "vault_type": "local"}}
                for number, (name, key) in enumerate(sorted(keys.items()), start=1)]

    def secrets_payload(self):
        return [{"name": name, "secret": value} for name, value in sorted(self.secrets.items())]

    def export(self, path, payload, recipient=None, home=None):
        """Write payload as vh does: JSON piped through gpg --encrypt --armor."""
        gpg(home or self.home, "--trust-model", "always", "--armor", "--encrypt", "--recipient",
            recipient or self.fpr, "--output", str(path), input=(json.dumps(payload, indent=2) + "\n").encode())
        return str(path)

    def planted(self):
        return [self.passphrase] + [base64.b64encode(key).decode() for key in self.vault_keys.values()] + \
            [key.hex() for key in self.vault_keys.values()] + list(self.secrets.values())

    def close(self):
        for home in (self.home, self.other_home):
            subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], capture_output=True, check=False)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    created = Keys(str(tmp_path_factory.mktemp("vh-read")))
    yield created
    created.close()


@pytest.fixture
def keys_file(keys, tmp_path):
    return keys.export(tmp_path / "vaulthalla-vault-keys.json.asc", keys.keys_payload())


@pytest.fixture
def secrets_file(keys, tmp_path):
    return keys.export(tmp_path / "vaulthalla-secrets.json.asc", keys.secrets_payload())


def args(keys, path, **more):
    result = {"path": path, "gnupg_home": keys.home, "passphrase": keys.passphrase}
    result.update(more)
    return result


def assert_no_leak(printed, keys):
    assert printed
    for value in keys.planted():
        assert value not in printed


@pytest.mark.parametrize("check_mode", [False, True])
def test_keys_export_returns_digests_never_keys(ansible, keys, keys_file, check_mode):
    result = ansible.run(MODULE, args(keys, keys_file), check_mode=check_mode)
    assert not result.get("failed"), result["msg"]
    assert result["changed"] is False and result["kind"] == "vault_keys"
    assert result["keys"] == [{"vault_id": number, "vault_name": name, "key_version": 1,
                               "key_sha256": hashlib.sha256(keys.vault_keys[name]).hexdigest()}
                              for number, name in enumerate(sorted(keys.vault_keys), start=1)]
    assert result["decryption_key"] == keys.fpr and len(result["encrypted_to"]) == 1
    assert_no_leak(ansible.everything_printed(), keys)


def test_compare_with_an_equal_export_matches(ansible, keys, keys_file, tmp_path):
    fresh = keys.export(tmp_path / "after-restore.json.asc", keys.keys_payload())
    result = ansible.run(MODULE, args(keys, keys_file, compare_with=fresh))
    assert not result.get("failed"), result["msg"]
    assert result["match"] is True and result["detail"] == "3 vault keys equal"
    assert {vault["state"] for vault in result["comparison"]} == {"equal"}
    assert result["compare_keys"] == result["keys"]
    assert_no_leak(ansible.everything_printed(), keys)


def test_a_new_silent_key_a_lost_vault_and_an_extra_vault_fail_the_task(ansible, keys, keys_file, tmp_path):
    restored = dict(keys.vault_keys, **{"s3-secure": os.urandom(32), "scratch": os.urandom(32)})
    del restored["s3-media"]
    fresh = keys.export(tmp_path / "after-restore.json.asc", keys.keys_payload(restored))
    result = ansible.run(MODULE, args(keys, keys_file, compare_with=fresh))
    assert result["failed"] is True and result["match"] is False, result["msg"]
    states = dict((vault["vault_name"], vault["state"]) for vault in result["comparison"])
    assert states == {"local-docs": "equal", "s3-media": "missing", "s3-secure": "differs", "scratch": "extra"}
    assert "do not match" in result["msg"] and "s3-secure differs (key differs" in result["msg"]
    assert "Fix: restore the sealed key blobs" in result["msg"]
    report = ansible.run(MODULE, args(keys, keys_file, compare_with=fresh, fail_on_mismatch=False), name="report")
    assert not report.get("failed") and report["match"] is False and report["comparison"] == result["comparison"]
    assert_no_leak(ansible.everything_printed(), keys)
    printed = ansible.everything_printed()
    for key in (restored["s3-secure"], restored["scratch"]):
        assert base64.b64encode(key).decode() not in printed


def test_secret_export_lists_names_only(ansible, keys, secrets_file):
    result = ansible.run(MODULE, args(keys, secrets_file))
    assert not result.get("failed"), result["msg"]
    assert result["kind"] == "secrets" and result["secret_names"] == ["db-password", "jwt-secret"]
    assert "secret" not in result
    assert_no_leak(ansible.everything_printed(), keys)


def test_reveal_is_refused_unless_the_task_is_no_log(ansible, keys, secrets_file):
    result = ansible.run(MODULE, args(keys, secrets_file, reveal="db-password"))
    assert result["failed"] is True
    assert "Fix: add no_log: true to the task" in result["msg"]
    assert_no_leak(ansible.everything_printed(), keys)


def test_reveal_in_a_no_log_task_returns_the_value_and_prints_nothing(keys, secrets_file, tmp_path):
    handoff = tmp_path / "db_password"
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"ansible_python_interpreter": sys.executable},
             "tasks": [
                 {"name": "reveal", MODULE: args(keys, secrets_file, reveal="db-password"), "register": "r",
                  "no_log": True},
                 {"name": "hand-off", "no_log": True,
                  "ansible.builtin.copy": {"content": "{{ r.secret }}", "dest": str(handoff), "mode": "0600"}},
                 {"name": "status", "ansible.builtin.debug": {"msg": "revealed {{ r.secret | length }} characters"}},
             ]}]
    playbook = tmp_path / "reveal.yml"
    playbook.write_text(json.dumps(play))
    log = tmp_path / "ansible.log"
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_root(), ANSIBLE_LOG_PATH=str(log),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv", str(playbook)],
                          capture_output=True, text=True, env=env, cwd=str(tmp_path), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert handoff.read_text() == keys.secrets["db-password"]
    assert "revealed %d characters" % len(keys.secrets["db-password"]) in proc.stdout
    assert_no_leak(proc.stdout + proc.stderr + log.read_text(), keys)


def test_a_secret_export_given_where_vault_keys_are_needed_is_refused(ansible, keys, secrets_file):
    result = ansible.run(MODULE, args(keys, secrets_file, kind="vault_keys"))
    assert result["failed"] is True and "is a secret export, but a vault keys export is needed" in result["msg"]
    assert_no_leak(ansible.everything_printed(), keys)


def test_wrong_key_names_the_key_ids_and_the_fix(ansible, keys, keys_file):
    result = ansible.run(MODULE, args(keys, keys_file, gnupg_home=keys.other_home))
    assert result["failed"] is True
    assert "holds none of their secret keys" in result["msg"] and keys.other_home in result["msg"]
    assert "Fix: import the recovery key's SECRET key" in result["msg"]
    assert_no_leak(ansible.everything_printed(), keys)


def test_export_to_another_recipient_is_not_readable_with_the_recovery_key(ansible, keys, tmp_path):
    foreign = keys.export(tmp_path / "foreign.asc", keys.keys_payload(), recipient=keys.other_fpr,
                          home=keys.other_home)
    result = ansible.run(MODULE, args(keys, foreign))
    assert result["failed"] is True and "holds none of their secret keys" in result["msg"]


def test_wrong_and_missing_passphrase(ansible, keys, keys_file):
    kill_agent(keys.home)  # gpg-agent caches a passphrase it accepted; start without that cache
    wrong = ansible.run(MODULE, args(keys, keys_file, passphrase="not " + keys.passphrase), name="wrong")
    assert wrong["failed"] is True and "is wrong" in wrong["msg"] and "Fix: pass the recovery key's" in wrong["msg"]
    missing = ansible.run(MODULE, {"path": keys_file, "gnupg_home": keys.home}, name="missing")
    assert missing["failed"] is True and "protected by a passphrase, and none was given" in missing["msg"]
    assert "keys" not in wrong and "keys" not in missing
    assert_no_leak(ansible.everything_printed(), keys)


def test_plaintext_export_is_refused_without_echoing_it(ansible, keys, tmp_path):
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(keys.secrets_payload()))
    result = ansible.run(MODULE, args(keys, str(plain)))
    assert result["failed"] is True and "is PLAINTEXT JSON" in result["msg"]
    assert_no_leak(ansible.everything_printed(), keys)


def test_damaged_exports_are_refused(ansible, keys, keys_file, tmp_path):
    with open(keys_file) as handle:
        armored = handle.read()
    truncated = tmp_path / "truncated.asc"
    lines = armored.splitlines()
    truncated.write_text("\n".join(lines[:len(lines) // 2] + lines[-1:]) + "\n")
    # flip bits in the encrypted data packet of the binary form: the MDC/AEAD check must catch it
    binary = bytearray(gpg(keys.home, "--dearmor", input=armored.encode()).stdout)
    binary[-10] ^= 0xFF
    flipped = tmp_path / "flipped.gpg"
    flipped.write_bytes(bytes(binary))
    for path, name in ((truncated, "truncated"), (flipped, "flipped")):
        result = ansible.run(MODULE, args(keys, str(path)), name=name)
        assert result["failed"] is True, name
        assert re.search(r"is damaged|not a readable OpenPGP message", result["msg"]), result["msg"]
        assert "keys" not in result and "Fix: " in result["msg"]
    assert_no_leak(ansible.everything_printed(), keys)


def test_missing_file_and_missing_gnupg_home(ansible, keys, keys_file, tmp_path):
    nofile = ansible.run(MODULE, args(keys, str(tmp_path / "nope.asc")), name="nofile")
    assert nofile["failed"] is True and "does not exist or is not a file" in nofile["msg"]
    nohome = ansible.run(MODULE, args(keys, keys_file, gnupg_home=str(tmp_path / "nohome")), name="nohome")
    assert nohome["failed"] is True and "gnupg_home" in nohome["msg"] and "does not exist" in nohome["msg"]

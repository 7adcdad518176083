"""vh_export with real GnuPG: keys made here, a real OS user owning the daemon keyring, a test double of vh.

Every test drives the module through ansible-playbook (the `ansible` fixture).
The recipient keys are real GnuPG keys (good, another, sign-only, expired via
--faked-system-time, revoked via its revocation certificate), imported into
the keyring of a system user created for this module of tests, as on a
Vaulthalla host. `vh` is a small test double written into tmp_path (see
DOUBLE); it records every invocation, so "vh never ran" is proven, not assumed.
"""

import base64
import json
import os
import re
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile

import pytest

MODULE = "vaultops.recovery.vh_export"
VERSION = "Vaulthalla v1.1.0"

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not (shutil.which("gpg") and shutil.which("useradd")),
                                reason="needs root (a test user owns the daemon keyring) and GnuPG")

DOUBLE = r'''#!%(python)s
"""Test double of the `vh` CLI contract in shared/notes/product-facts.md; NOT the lab stand-in (lab/vaulthalla/).

Only what vh_export relies on: `vh version` -> Vaulthalla v1.1.0; `vh status`; `vh vault keys export all` and
`vh secret export all` writing a JSON array to --output, encrypted with `gpg --encrypt --armor` for each
--recipient as the daemon user with that user's keyring; --recipient requires --output. Every call is logged.
Modes: normal; plaintext (ignores --recipient, as vh without it); extra (adds another recipient);
last_only (keeps one --recipient, like a single-valued option); down (daemon stopped).
"""
import json, os, subprocess, sys

CONFIG = %(config)r


def as_daemon(cfg, argv, data):
    def drop():
        os.setgid(cfg["gid"])
        os.setuid(cfg["uid"])
    env = dict(os.environ, HOME=cfg["home"], GNUPGHOME=cfg["gnupghome"])
    return subprocess.run(argv, input=data, capture_output=True, env=env, preexec_fn=drop, cwd="/")


def main(argv):
    with open(CONFIG) as handle:
        cfg = json.load(handle)
    with open(cfg["log"], "a") as log:
        log.write(json.dumps(argv) + "\n")
    if cfg["mode"] == "down":
        sys.stderr.write("vh: connect: No such file or directory\n")
        return 1
    if argv == ["version"]:
        print("Vaulthalla v1.1.0")
        return 0
    if argv == ["status"]:
        print("vh status: healthy")
        return 0
    words = []
    for word in argv:
        if word.startswith("--"):
            break
        words.append(word)
    what = {"vault keys export all": "vault_keys", "secret export all": "secrets"}.get(" ".join(words))
    if what is None:
        sys.stderr.write("vh: unknown command\n")
        return 2
    recipients, output = [], None
    for index, word in enumerate(argv):
        if word == "--recipient":
            recipients.append(argv[index + 1])
        elif word == "--output":
            output = argv[index + 1]
    if recipients and not output:
        sys.stderr.write("vh: --recipient requires --output\n")
        return 2
    data = (json.dumps(cfg["payload"][what], indent=2) + "\n").encode()
    if cfg["mode"] == "plaintext":
        proc = as_daemon(cfg, ["dd", "of=" + output, "status=none"], data)
    else:
        if cfg["mode"] == "extra":
            recipients = recipients + [cfg["extra"]]
        elif cfg["mode"] == "last_only":
            recipients = recipients[-1:]
        argv = ["gpg", "--homedir", cfg["gnupghome"], "--batch", "--yes", "--no-tty", "--quiet", "--trust-model",
                "always", "--armor", "--encrypt", "--output", output]
        for fingerprint in recipients:
            argv += ["--recipient", fingerprint]
        proc = as_daemon(cfg, argv, data)
    if proc.returncode != 0:
        sys.stderr.write("vh: cannot write %%s: %%s\n" %% (output, proc.stderr.decode().strip()))
        return 1
    print("Exported %%s to %%s (encrypted for %%s)" %% (what, output, ", ".join(recipients)))
    return 0


sys.exit(main(sys.argv[1:]))
'''


def run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, check=True, **kwargs)


def gpg(home, *args, **kwargs):
    return run(["gpg", "--homedir", home, "--batch", "--no-tty", "--passphrase", ""] + list(args), **kwargs)


def fingerprint_of(home, uid):
    out = gpg(home, "--with-colons", "--list-keys", uid).stdout.decode()
    return re.search(r"^fpr:+([0-9A-F]{40}):", out, re.MULTILINE).group(1)


def encryption_key_ids(home, fpr):
    out = gpg(home, "--with-colons", "--fixed-list-mode", "--list-keys", fpr).stdout.decode()
    return sorted(line.split(":")[4] for line in out.splitlines()
                  if line.split(":")[0] in ("pub", "sub") and "e" in line.split(":")[11])


def listed_key_ids(path):
    home = tempfile.mkdtemp()
    try:
        out = gpg(home, "--list-only", "--list-packets", path).stdout.decode()
    finally:
        shutil.rmtree(home)
    return sorted(re.findall(r"^:pubkey enc packet: .*keyid ([0-9A-F]{16})", out, re.MULTILINE))


class World(object):
    """A daemon user with a keyring of recipients, the keys' maker (holding the secret keys), planted secrets."""

    def __init__(self, base):
        self.maker = os.path.join(base, "maker-gnupg")
        os.mkdir(self.maker, 0o700)
        self.user = "vhtest-%s" % secrets.token_hex(4)
        self.home = "/var/tmp/%s" % self.user
        run(["useradd", "--system", "--create-home", "--home-dir", self.home, "--shell", "/usr/sbin/nologin",
             self.user])
        self.gnupghome = os.path.join(self.home, ".gnupg")
        import pwd
        entry = pwd.getpwnam(self.user)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        self.fpr = {}
        for name, algo, usage, expire, faked in [
                ("good", "future-default", "default", "never", None),
                ("other", "future-default", "default", "never", None),
                ("signonly", "ed25519", "sign", "never", None),
                ("expired", "future-default", "default", "2021-01-01", "20200101T000000"),
                ("revoked", "future-default", "default", "never", None)]:
            uid = "%s <%s@vh-export.test>" % (name, name)
            extra = ["--faked-system-time", faked] if faked else []
            gpg(self.maker, *(extra + ["--quick-gen-key", uid, algo, usage, expire]))
            self.fpr[name] = fingerprint_of(self.maker, uid)
        self.fpr["missing"] = secrets.token_hex(20).upper()
        public = gpg(self.maker, "--armor", "--export", *[self.fpr[name] for name in
                                                          ("good", "other", "signonly", "expired", "revoked")]).stdout
        with open(os.path.join(self.maker, "openpgp-revocs.d", self.fpr["revoked"] + ".rev"), "rb") as handle:
            revocation = re.sub(rb"(?m)^:-----", b"-----", handle.read())
        for data in (public, revocation):
            run(["runuser", "-u", self.user, "--", "gpg", "--homedir", self.gnupghome, "--batch", "--import"],
                input=data)
        self.key_ids = {name: encryption_key_ids(self.maker, self.fpr[name]) for name in ("good", "other")}
        self.payload = {
            "vault_keys": [
                {"vault_id": number, "vault_name": name, "key": base64.b64encode(os.urandom(32)).decode(),
                 "key_info": {"type": "AES-256-GCM", "key_version": 1, "created_at": "2026-11-01T00:00:00Z",
                              "exported_at": "2026-11-21T10:15:00Z"}}
                for number, name in ((1, "local-docs"), (2, "s3-secure"))],
            "secrets": [{"name": "db-password", "secret": secrets.token_urlsafe(24)},
                        {"name": "jwt-secret", "secret": secrets.token_hex(32)}],
        }
        self.planted = [item["key"] for item in self.payload["vault_keys"]] + [
            item["secret"] for item in self.payload["secrets"]]

    def decrypt(self, path):
        return json.loads(gpg(self.maker, "--decrypt", path).stdout.decode())

    def close(self):
        subprocess.run(["gpgconf", "--homedir", self.maker, "--kill", "all"], capture_output=True, check=False)
        subprocess.run(["runuser", "-u", self.user, "--", "gpgconf", "--homedir", self.gnupghome, "--kill", "all"],
                       capture_output=True, check=False)
        subprocess.run(["userdel", "--remove", self.user], capture_output=True, check=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    created = World(str(tmp_path_factory.mktemp("vh-export")))
    yield created
    created.close()


class VhDouble(object):
    def __init__(self, directory, world, mode="normal"):
        self.path = os.path.join(directory, "vh")
        self.config = os.path.join(directory, "vh-double.json")
        self.log = os.path.join(directory, "vh-calls.log")
        self.world = world
        with open(self.path, "w") as handle:
            handle.write(DOUBLE % {"python": sys.executable, "config": self.config})
        os.chmod(self.path, 0o755)
        self.set_mode(mode)

    def set_mode(self, mode):
        with open(self.config, "w") as handle:
            json.dump({"mode": mode, "log": self.log, "uid": self.world.uid, "gid": self.world.gid,
                       "home": self.world.home, "gnupghome": self.world.gnupghome,
                       "extra": self.world.fpr["other"], "payload": self.world.payload}, handle)

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as handle:
            return [json.loads(line) for line in handle]


@pytest.fixture
def vh(tmp_path, world):
    directory = tmp_path / "bin"
    directory.mkdir()
    return VhDouble(str(directory), world)


@pytest.fixture
def dest(tmp_path):
    path = tmp_path / "recovery set ✓"
    path.mkdir(mode=0o700)
    return path


@pytest.fixture
def handoff_parent():
    """A work_dir the daemon user can reach (pytest's tmp_path is not: /tmp/pytest-of-root is 0700)."""
    path = tempfile.mkdtemp(prefix="vh-export-test-", dir="/var/tmp")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path)


def args_for(world, vh, dest, recipients=("good",), **more):
    args = {"recipients": [world.fpr[name] for name in recipients], "dest_dir": str(dest), "vh_path": vh.path,
            "vh_user": world.user}
    args.update(more)
    return args


def assert_no_leak(ansible, world):
    printed = ansible.everything_printed()
    for value in world.planted:
        assert value not in printed


def test_exports_are_encrypted_to_exactly_the_recipient_and_published_0600(ansible, world, vh, dest):
    result = ansible.run(MODULE, args_for(world, vh, dest))
    assert not result.get("failed"), result["msg"]
    assert result["changed"] and result["vh_version"] == VERSION
    good = world.fpr["good"]
    assert [item["kind"] for item in result["artifacts"]] == ["vault_keys", "secrets", "version"]
    published = sorted(os.listdir(str(dest)))
    names = ["vaulthalla-vault-keys.json.gpg", "vaulthalla-secrets.json.gpg", "vaulthalla-version.txt"]
    assert published == sorted(names + [name + ".manifest.json" for name in names])
    for name in published:
        info = os.stat(str(dest / name))
        assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o600, 0), name
    for item, kind in zip(result["artifacts"][:2], ("vault_keys", "secrets")):
        with open(item["manifest"]) as handle:
            manifest = json.load(handle)
        digest = run(["sha256sum", item["path"]]).stdout.decode().split()[0]
        assert manifest["sha256"] == item["sha256"] == digest
        assert manifest["size"] == item["size"] == os.path.getsize(item["path"])
        assert (manifest["kind"], manifest["export"], manifest["vh_version"]) == ("vh_export", kind, VERSION)
        assert manifest["recipients"] == item["recipients"] == [good]
        used = listed_key_ids(item["path"])
        assert len(used) == 1 and used[0] in world.key_ids["good"]
        assert manifest["key_ids"] == item["key_ids"] == used
        assert manifest["recipient_key_ids"] == {good: used}
        assert manifest["format"] == "openpgp-armored" and manifest["encrypted"] is True
        assert world.decrypt(item["path"]) == world.payload[kind]
    version = result["artifacts"][2]
    with open(version["path"]) as handle:
        assert handle.read() == VERSION + "\n"
    with open(version["manifest"]) as handle:
        assert json.load(handle)["kind"] == "vh_export"
    assert not os.path.exists(result["work_dir"])
    calls = vh.calls()
    assert calls[0] == ["version"]
    assert [call[:4] for call in calls[1:]] == [["vault", "keys", "export", "all"],
                                                ["secret", "export", "all", "--recipient"]]
    assert all(call[call.index("--recipient") + 1] == good for call in calls[1:])
    assert_no_leak(ansible, world)


def test_two_recipients_are_both_proven(ansible, world, vh, dest, handoff_parent):
    result = ansible.run(MODULE, args_for(world, vh, dest, recipients=("good", "other"), exports=["secrets"],
                                          work_dir=handoff_parent, name_prefix="vh1"))
    assert not result.get("failed"), result["msg"]
    item = result["artifacts"][0]
    assert item["path"] == str(dest / "vh1-secrets.json.gpg")
    used = listed_key_ids(item["path"])
    assert len(used) == 2 and set(used) & set(world.key_ids["good"]) and set(used) & set(world.key_ids["other"])
    assert item["recipients"] == [world.fpr["good"], world.fpr["other"]]
    assert os.listdir(handoff_parent) == []
    assert_no_leak(ansible, world)


@pytest.mark.parametrize("recipient, problem, words", [
    ("missing", "missing", "is not in the GnuPG keyring of user"),
    ("expired", "expired", "expired on 2021-01-01"),
    ("revoked", "revoked", "is revoked"),
    ("signonly", "not_encryption_capable", "cannot encrypt"),
])
def test_unusable_recipient_is_refused_before_vh_runs(ansible, world, vh, dest, recipient, problem, words):
    result = ansible.run(MODULE, args_for(world, vh, dest, recipients=("good", recipient)))
    assert result["failed"] and result["problem"] == problem, result["msg"]
    assert words in result["msg"] and world.fpr[recipient] in result["msg"]
    if problem == "missing":
        assert "sudo -u %s gpg --homedir %s --import" % (world.user, world.gnupghome) in result["msg"]
    assert vh.calls() == []
    assert os.listdir(str(dest)) == []


def test_keyring_the_daemon_user_cannot_read_is_refused(ansible, world, vh, dest):
    """The classic slip: `sudo gpg --homedir ~vaulthalla/.gnupg --import` leaves a root-owned keyring behind."""
    keyring = os.path.join(world.gnupghome, "pubring.kbx")
    mode = stat.S_IMODE(os.stat(keyring).st_mode)
    os.chown(keyring, 0, 0)
    os.chmod(keyring, 0o600)
    try:
        result = ansible.run(MODULE, args_for(world, vh, dest))
    finally:
        os.chown(keyring, world.uid, world.gid)
        os.chmod(keyring, mode)
    assert result["failed"] and result["problem"] == "keyring_unreadable", result["msg"]
    assert "Permission denied" in result["msg"] and "chown -R %s" % world.user in result["msg"]
    assert vh.calls() == [] and os.listdir(str(dest)) == []


def test_plaintext_export_is_refused_and_nothing_is_published(ansible, world, vh, dest, handoff_parent):
    vh.set_mode("plaintext")
    result = ansible.run(MODULE, args_for(world, vh, dest, work_dir=handoff_parent))
    assert result["failed"] and result["problem"] == "plaintext", result["msg"]
    assert "PLAINTEXT" in result["msg"] and "vault keys" in result["msg"]
    assert os.listdir(str(dest)) == [] and os.listdir(handoff_parent) == []
    assert [call[:3] for call in vh.calls()] == [["version"], ["vault", "keys", "export"]]
    assert_no_leak(ansible, world)


@pytest.mark.parametrize("mode, recipients, problem", [
    ("extra", ("good",), "extra_recipient"),
    ("last_only", ("good", "other"), "missing_recipient"),
])
def test_wrong_recipients_are_refused(ansible, world, vh, dest, mode, recipients, problem):
    vh.set_mode(mode)
    result = ansible.run(MODULE, args_for(world, vh, dest, recipients=recipients))
    assert result["failed"] and result["problem"] == problem, result["msg"]
    assert os.listdir(str(dest)) == []
    assert_no_leak(ansible, world)


def test_missing_vh_is_named(ansible, world, vh, dest):
    result = ansible.run(MODULE, args_for(world, vh, dest, vh_path="/nonexistent/vh"))
    assert result["failed"] and result["problem"] == "vh_missing"
    assert "install Vaulthalla" in result["msg"]
    result = ansible.run(MODULE, args_for(world, vh, dest, vh_path="vh-not-installed-%s" % secrets.token_hex(3)),
                         name="on-path")
    assert result["failed"] and result["problem"] == "vh_missing" and "not found on PATH" in result["msg"]


def test_daemon_down_is_named_and_nothing_is_exported(ansible, world, vh, dest):
    vh.set_mode("down")
    result = ansible.run(MODULE, args_for(world, vh, dest))
    assert result["failed"] and result["problem"] == "daemon_down"
    assert "connect: No such file or directory" in result["msg"] and "systemctl start" in result["msg"]
    assert vh.calls() == [["version"]]
    assert os.listdir(str(dest)) == []


def test_existing_target_is_refused_untouched(ansible, world, vh, dest):
    existing = dest / "vaulthalla-secrets.json.gpg"
    existing.write_bytes(b"older export")
    result = ansible.run(MODULE, args_for(world, vh, dest))
    assert result["failed"] and result["problem"] == "target_exists"
    assert existing.read_bytes() == b"older export" and os.listdir(str(dest)) == [existing.name]
    assert vh.calls() == []


def test_work_dir_the_daemon_user_cannot_reach_is_refused(ansible, world, vh, dest, tmp_path):
    result = ansible.run(MODULE, args_for(world, vh, dest, work_dir=str(tmp_path)))
    assert result["failed"] and result["problem"] == "work_dir_unreachable", result["msg"]
    assert [call for call in vh.calls() if call[0] != "version"] == []
    assert not [name for name in os.listdir(str(tmp_path)) if name.startswith(".vh-export-")]


def test_check_mode_checks_and_writes_nothing(ansible, world, vh, dest, handoff_parent):
    result = ansible.run(MODULE, args_for(world, vh, dest, work_dir=handoff_parent), check_mode=True)
    assert not result.get("failed"), result["msg"]
    assert result["changed"] and result["vh_version"] == VERSION and result["vh_status"] == "vh status: healthy"
    assert result["would_write"] == [str(dest / name) for name in (
        "vaulthalla-vault-keys.json.gpg", "vaulthalla-secrets.json.gpg", "vaulthalla-version.txt")]
    assert result["recipient_keys"][0]["fingerprint"] == world.fpr["good"]
    assert os.listdir(str(dest)) == [] and os.listdir(handoff_parent) == []
    assert vh.calls() == [["version"], ["status"]]
    result = ansible.run(MODULE, args_for(world, vh, dest, recipients=("revoked",)), check_mode=True,
                         name="refused")
    assert result["failed"] and result["problem"] == "revoked"

"""The Vaulthalla lab host (scripts/vaulthalla-lab.sh, lab/vaulthalla/): the stand-in
behaves like shared/notes/product-facts.md says the product does, hazards included.

One container for the module (about 1.5 minutes to bring up); the destructive
checks (missing sealed blob, daemon down) run last and put the host back."""

import base64
import hashlib
import json
import os

import pytest
from support.vaulthalla_lab import lab_host, needs_podman

CONTAINER = os.environ.get("VH_LAB_TEST_CONTAINER", "vaultops-lab-vh-pytest")
UNITS = ["vaulthalla.service", "vaulthalla-web.service", "vaulthalla-cli.socket", "vaulthalla-swtpm.service",
         "vaulthalla-lab-s3.service", "postgresql.service"]
SEALED = ["psql", "master", "vault_master"]
OUT = "/var/lib/vaulthalla-lab/exports"  # writable by user vaulthalla (exports run as that user)
pytestmark = needs_podman


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with lab_host(CONTAINER, str(tmp_path_factory.mktemp("vh-gnupg"))) as (host, inventory):
        with open(inventory) as handle:
            assert 'vaulthalla_backup_recipient: "%s"' % host.facts["recipient_fingerprint"] in handle.read()
        host.sh("install -d -o vaulthalla -g vaulthalla -m 0700 %s" % OUT)
        yield host


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def aes_gcm_decrypt(key, iv, blob):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key).decrypt(iv, blob, None)


def test_status_healthy_and_version(lab):
    status = lab.vh("status").stdout.decode().splitlines()
    assert status[0] == "vh status: healthy", status
    assert lab.vh("version").stdout == b"Vaulthalla v1.1.0\n"


def test_units_paths_and_sealed_blobs(lab):
    for unit in UNITS:
        assert lab.run("systemctl", "is-active", unit, check=False).stdout.strip() == b"active", unit
    for name in SEALED:
        for ext in ("priv", "pub"):
            path = "/var/lib/vaulthalla/.sealed_%s.blob/%s.%s" % (name, name, ext)
            assert lab.run("stat", "-c", "%U %s", path).stdout.split()[0] == b"vaulthalla", path
    # read once, then deleted (sealed as psql)
    assert lab.run("test", "-e", "/run/vaulthalla/db_password", check=False).returncode != 0
    assert lab.run("stat", "-c", "%F %U", "/run/vaulthalla/cli.sock").stdout.strip() == b"socket vaulthalla"
    assert lab.sh("ls -A /var/lib/swtpm/vaulthalla").stdout.strip()
    import yaml

    config = yaml.safe_load(lab.run("cat", "/etc/vaulthalla/config.yaml").stdout)
    assert set(config["database"]) == {"host", "port", "name", "user", "pool_size"}
    for block in ("auth", "sharing", "caching", "websocket_server", "http_preview_server"):
        assert block in config


def test_database_seed(lab):
    counts = {table: int(lab.sql("SELECT count(*) FROM %s" % table)) for table in (
        "users", "groups", "group_members", "vault", "vault_keys", "s3", "files", "vault_role",
        "vault_role_assignments", "share_link", "s3_price_budget_policy", "internal_secrets")}
    assert counts == {"users": 4, "groups": 2, "group_members": 4, "vault": 3, "vault_keys": 3, "s3": 2,
                      "files": len(lab.facts["files"]), "vault_role": 2, "vault_role_assignments": 2,
                      "share_link": 1, "s3_price_budget_policy": 3, "internal_secrets": 1}
    assert lab.sql("SELECT string_agg(scope || ':' || mode, ',' ORDER BY id) FROM s3_price_budget_policy") == \
        "global:warn,provider:report,vault:enforce"
    # keys are ciphertext in the database, not 32 plain bytes
    assert lab.sql("SELECT min(length(encrypted_key)) FROM vault_keys") == "48"


def test_read_known_files_through_the_key_chain(lab):
    assert {f["storage"] for f in lab.facts["files"]} == {"local", "s3", "s3-encrypted"}
    for item in lab.facts["files"]:
        body = lab.vh("vault", "cat", item["vault"], item["path"]).stdout
        assert sha256(body) == item["sha256"], item
    # S3 bodies in the bucket: plain for s3-media, AES-256-GCM ciphertext for s3-secure
    for item in lab.known("s3") + lab.known("s3-encrypted"):
        bucket = lab.facts["vaults"][item["vault"]]["bucket"]
        raw = lab.s3_object(bucket, item["path"].lstrip("/"))
        assert (sha256(raw) == item["sha256"]) == (item["storage"] == "s3"), item
    versions = [f for f in lab.facts["files"] if f["versions"] > 1]
    assert {f["storage"] for f in versions} == {"s3", "s3-encrypted"}


def _exported_keys(lab):
    out = "%s/keys.json.gpg" % OUT
    answer = lab.vh("vault", "keys", "export", "all", "--recipient", lab.facts["recipient_fingerprint"],
                    "--output", out)
    assert b"encrypted for" in answer.stdout
    assert lab.run("stat", "-c", "%U %a", out).stdout.split() == [b"vaulthalla", b"600"]
    armored = lab.run("cat", out).stdout
    assert armored.startswith(b"-----BEGIN PGP MESSAGE-----")
    return json.loads(lab.gpg_decrypt(armored))


def test_vault_keys_export_decrypts_known_files(lab):
    keys = _exported_keys(lab)
    assert isinstance(keys, list) and len(keys) == 3
    for entry in keys:
        assert set(entry) == {"vault_id", "vault_name", "key", "key_info"}
        assert len(base64.b64decode(entry["key"])) == 32
        assert entry["key_info"]["type"] == "AES-256-GCM"
        assert {"key_version", "created_at", "exported_at"} <= set(entry["key_info"])
    by_name = {entry["vault_name"]: base64.b64decode(entry["key"]) for entry in keys}

    # A local body on disk, decrypted by hand with the exported key and the DB's nonce.
    item = lab.known("local")[0]
    mount, iv = lab.sql("SELECT trim(v.mount_point) || ' ' || encode(f.encryption_iv, 'hex') FROM files f "
                        "JOIN vault v ON v.id = f.vault_id WHERE v.name = '%s' AND f.path = '%s'"
                        % (item["vault"], item["path"])).split()
    blob = lab.run("cat", "/var/lib/vaulthalla/vaults/%s%s" % (mount, item["path"])).stdout
    assert sha256(aes_gcm_decrypt(by_name[item["vault"]], bytes.fromhex(iv), blob)) == item["sha256"]

    # An upstream-encrypted S3 object, likewise.
    item = lab.known("s3-encrypted")[0]
    iv = lab.sql("SELECT encode(f.encryption_iv, 'hex') FROM files f JOIN vault v ON v.id = f.vault_id "
                 "WHERE v.name = '%s' AND f.path = '%s'" % (item["vault"], item["path"]))
    blob = lab.s3_object(lab.facts["vaults"][item["vault"]]["bucket"], item["path"].lstrip("/"))
    assert sha256(aes_gcm_decrypt(by_name[item["vault"]], bytes.fromhex(iv), blob)) == item["sha256"]

    # single vault: an object, not an array
    single = json.loads(lab.vh("vault", "keys", "export", "local-docs").stdout)
    assert single["vault_name"] == "local-docs" and single["key"] == base64.b64encode(by_name["local-docs"]).decode()


def test_export_rules(lab):
    fpr = lab.facts["recipient_fingerprint"]
    answer = lab.vh("vault", "keys", "export", "all", "--recipient", fpr, check=False)
    assert answer.returncode != 0 and b"--recipient requires --output" in answer.stderr
    answer = lab.vh("vault", "keys", "export", "all", "--recipient", fpr, "--recipient", fpr, "--output",
                    "%s/two.gpg" % OUT, check=False)
    assert answer.returncode != 0 and b"only once" in answer.stderr
    # the daemon writes as user vaulthalla: /root is not writable for it
    answer = lab.vh("vault", "keys", "export", "all", "--recipient", fpr, "--output", "/root/keys.gpg", check=False)
    assert answer.returncode != 0 and b"Permission denied" in answer.stderr
    # the recipient's key must be in the vaulthalla user's keyring
    answer = lab.vh("secret", "export", "all", "--recipient", "0123456789ABCDEF0123456789ABCDEF01234567",
                    "--output", "%s/x.gpg" % OUT, check=False)
    assert answer.returncode != 0 and b"No public key" in answer.stderr
    # only a super-admin may export: bob is a plain user linked to a Linux account
    lab.sh("id bob >/dev/null 2>&1 || useradd -M -G vaulthalla bob")
    uid = lab.run("id", "-u", "bob").stdout.decode().strip()
    lab.sql("UPDATE users SET linux_uid = %s WHERE name = 'bob'" % uid)
    answer = lab.run("runuser", "-u", "bob", "--", "vh", "vault", "keys", "export", "all", check=False)
    assert answer.returncode != 0 and b"permission denied" in answer.stderr
    assert lab.run("runuser", "-u", "bob", "--", "vh", "version").stdout == b"Vaulthalla v1.1.0\n"


def test_secret_export(lab):
    out = "%s/secrets.json.gpg" % OUT
    lab.vh("secret", "export", "all", "--recipient", lab.facts["recipient_fingerprint"], "--output", out)
    secrets = json.loads(lab.gpg_decrypt(lab.run("cat", out).stdout))
    assert [s["name"] for s in secrets] == ["db-password", "jwt-secret"]
    assert all(set(s) == {"name", "secret"} and s["secret"] for s in secrets)
    # the exported database password is the real one
    lab.run("env", "PGPASSWORD=%s" % secrets[0]["secret"], "psql", "-XAt", "-h", "localhost", "-U", "vaulthalla",
            "-d", "vaulthalla", "-c", "SELECT 1")
    one = json.loads(lab.vh("secret", "export", "jwt-secret").stdout)
    assert one == [secrets[1]]


def test_vault_sync_info(lab):
    for name, vault in lab.facts["vaults"].items():
        answer = lab.vh("vault", "sync", "info", name, check=False)
        if vault["type"] == "local":
            assert answer.returncode != 0 and b"local vault" in answer.stderr
            continue
        text = answer.stdout.decode()
        assert answer.returncode == 0, answer.stderr
        assert "Bucket:              %s\n" % vault["bucket"] in text
        assert "Bucket versioning:   Enabled\n" in text
        assert "State:               in sync\n" in text
        expected = "enabled" if vault["storage"] == "s3-encrypted" else "disabled"
        assert "Upstream encryption: %s\n" % expected in text


def _restart(lab, *prepare):
    lab.run("systemctl", "stop", "vaulthalla.service", "vaulthalla-web.service", "vaulthalla-cli.socket")
    for script in prepare:
        lab.sh(script)
    lab.run("systemctl", "start", "vaulthalla.service", "vaulthalla-web.service", "vaulthalla-cli.socket")


def test_missing_sealed_blob_starts_healthy_but_nothing_decrypts(lab):
    blob = "/var/lib/vaulthalla/.sealed_vault_master.blob"
    before = lab.run("sha256sum", blob + "/vault_master.priv").stdout.split()[0]
    _restart(lab, "mv %s /root/vault_master.blob.saved" % blob)
    try:
        # the hazard: a new key was made and sealed silently, and the daemon says healthy
        assert lab.vh("status").stdout.decode().splitlines()[0] == "vh status: healthy"
        assert lab.run("sha256sum", blob + "/vault_master.priv").stdout.split()[0] != before
        for storage in ("local", "s3", "s3-encrypted"):
            item = lab.known(storage)[0]
            answer = lab.vh("vault", "cat", item["vault"], item["path"], check=False)
            assert answer.returncode != 0, item
            assert b"decryption failed" in answer.stderr, answer.stderr
        answer = lab.vh("vault", "keys", "export", "all", check=False)
        assert answer.returncode != 0 and b"decryption failed" in answer.stderr
    finally:
        _restart(lab, "rm -rf %s && mv /root/vault_master.blob.saved %s" % (blob, blob))
    assert lab.run("sha256sum", blob + "/vault_master.priv").stdout.split()[0] == before
    for storage in ("local", "s3", "s3-encrypted"):
        item = lab.known(storage)[0]
        assert sha256(lab.vh("vault", "cat", item["vault"], item["path"]).stdout) == item["sha256"]


def test_daemon_down_vh_fails_with_enoent(lab):
    lab.run("systemctl", "stop", "vaulthalla.service")
    try:
        for args in (["status"], ["version"], ["vault", "keys", "export", "all"]):
            answer = lab.vh(*args, check=False)
            assert answer.returncode != 0, args
            assert b"connect: No such file or directory" in answer.stderr, answer.stderr
    finally:
        lab.run("systemctl", "start", "vaulthalla.service")
    assert lab.vh("status").stdout.decode().splitlines()[0] == "vh status: healthy"

"""s3_bucket_copy against a moto S3 server: every version copied with proven checksums, verified, restored.

Every test drives the module through ansible-playbook (the `ansible` fixture).
The source bucket holds what makes copies hard: keys with spaces, quotes,
unicode, slashes, "..", a tab; several versions per key; delete markers
(one key deleted and written again); empty and random binary bodies (like
AES-256-GCM ciphertext); and a multipart upload with uneven parts over 5 MiB.
The tests compare against the SHA-256 of the bytes they uploaded. The secret
key passed to the module is planted and must appear in no output.
"""

import hashlib
import json
import os
import stat

import pytest

from support.moto_server import ACCESS_KEY, REGION, free_port

MODULE = "vaultops.recovery.s3_bucket_copy"
PLANTED = "planted-S3-secret-7f3a9c41d2"
MiB = 1024 * 1024


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class VaultBucket(object):
    """A versioned bucket and, per key, the events that made it: ("put", version id, sha256, size) or ("delete", id)."""

    KEYS = ["docs/report 2026.pdf", "quotes \"double\" 'single'", "unicode/ü✓ 🔐 été.bin", "../escape",
            "a/../../etc/passwd", "./dot", "/leading//slashes", "trailing/", "tab\tkey", "100% literal %41"]

    def __init__(self, client, name):
        self.client, self.name, self.events = client, name, {}
        client.create_bucket(Bucket=name)
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})

    def put(self, key, body, **extra):
        answer = self.client.put_object(Bucket=self.name, Key=key, Body=body, **extra)
        self.events.setdefault(key, []).append(("put", answer["VersionId"], sha256(body), len(body)))

    def delete(self, key):
        answer = self.client.delete_object(Bucket=self.name, Key=key)
        self.events.setdefault(key, []).append(("delete", answer["VersionId"]))

    def put_multipart(self, key, parts):
        upload = self.client.create_multipart_upload(Bucket=self.name, Key=key, ContentType="application/x-vault")
        done = []
        for number, data in enumerate(parts, 1):
            answer = self.client.upload_part(Bucket=self.name, Key=key, UploadId=upload["UploadId"],
                                             PartNumber=number, Body=data)
            done.append({"PartNumber": number, "ETag": answer["ETag"]})
        answer = self.client.complete_multipart_upload(Bucket=self.name, Key=key, UploadId=upload["UploadId"],
                                                       MultipartUpload={"Parts": done})
        body = b"".join(parts)
        self.events.setdefault(key, []).append(("put", answer["VersionId"], sha256(body), len(body)))

    @property
    def versions(self):
        return dict(((key, event[1]), event[2]) for key, events in self.events.items() for event in events
                    if event[0] == "put")

    @property
    def markers(self):
        return set((key, event[1]) for key, events in self.events.items() for event in events
                   if event[0] == "delete")

    def latest(self):
        """key -> sha256 of its current body, or None when its latest entry is a delete marker."""
        return dict((key, events[-1][2] if events[-1][0] == "put" else None) for key, events in self.events.items())

    def put_history(self, key):
        return [event[2] for event in self.events[key] if event[0] == "put"]

    @property
    def total_bytes(self):
        return sum(event[3] for events in self.events.values() for event in events if event[0] == "put")


@pytest.fixture(scope="module")
def vault(moto):
    bucket = VaultBucket(moto.client(), "vault-src")
    for number, key in enumerate(VaultBucket.KEYS):
        for generation in range(1 + number % 3):
            bucket.put(key, os.urandom(1000 * number + generation), ContentType="application/octet-stream",
                       Metadata={"vh-generation": str(generation)})
    bucket.put("docs/report 2026.pdf", b"", CacheControl="no-store")  # an empty body
    bucket.put("tagged", os.urandom(300), Tagging="vault=docs&kind=cipher%20text")
    bucket.delete("docs/report 2026.pdf")  # deleted: the delete marker is latest
    bucket.delete("./dot")
    bucket.put("./dot", os.urandom(77))  # deleted, then written again
    bucket.put_multipart("vault/big.bin", [os.urandom(5 * MiB + 1), os.urandom(5 * MiB), os.urandom(1000)])
    return bucket


def connection(moto, **args):
    return moto.module_args(secret_key=PLANTED, **args)


def assert_no_leak(ansible):
    assert PLANTED not in ansible.everything_printed()


def fresh_bucket(moto, name, versioned=True):
    client = moto.client()
    client.create_bucket(Bucket=name)
    if versioned:
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return client


def body_of(client, bucket, key, version_id):
    return client.get_object(Bucket=bucket, Key=key, VersionId=version_id)["Body"].read()


def assert_same_content(client, bucket, vault):
    """The bucket's current objects and version histories are the vault bucket's (new version ids)."""
    listing = client.list_object_versions(Bucket=bucket)
    versions, markers = listing.get("Versions", []), listing.get("DeleteMarkers", [])
    latest = {}
    for key in vault.events:
        mine = [item for item in versions if item["Key"] == key]  # newest first
        history = [sha256(body_of(client, bucket, key, item["VersionId"])) for item in reversed(mine)]
        assert history == vault.put_history(key), key
        latest_marker = [item for item in markers if item["Key"] == key and item["IsLatest"]]
        latest_version = [item for item in mine if item["IsLatest"]]
        latest[key] = None if latest_marker else sha256(body_of(client, bucket, key, latest_version[0]["VersionId"]))
    assert latest == vault.latest()
    assert len(markers) == len(vault.markers)


def test_directory_copy_verify_restore_and_tamper(moto, vault, ansible, tmp_path):
    dest = tmp_path / "copies ✓ 'x'"
    dest.mkdir()
    result = ansible.run(MODULE, connection(moto, bucket=vault.name, dest_dir=str(dest)), name="copy")
    assert not result.get("failed"), result
    name, copy = result["copy_name"], result["path"]
    assert name.startswith("vault-src-s3-") and copy == str(dest / name)
    assert sorted(os.listdir(dest)) == [name, name + ".manifest.json"], "no partial or stray entries"
    assert result["object_count"] == len(vault.versions)
    assert result["delete_marker_count"] == len(vault.markers) == 2
    assert result["total_bytes"] == vault.total_bytes
    assert result["source"]["versioning"] == "Enabled"

    with open(os.path.join(copy, "index.json"), "rb") as handle:
        index_bytes = handle.read()
    index = json.loads(index_bytes)
    entries = index["entries"]
    stored = dict(((e["key"], e["version_id"]), e) for e in entries if not e["delete_marker"])
    assert dict((ident, e["sha256"]) for ident, e in stored.items()) == vault.versions
    assert set((e["key"], e["version_id"]) for e in entries if e["delete_marker"]) == vault.markers
    for (key, _version), entry in stored.items():
        path = os.path.join(copy, *entry["path"].split("/"))
        with open(path, "rb") as handle:
            assert sha256(handle.read()) == entry["sha256"], key
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert key not in entry["path"]
        expected_check = "multipart-md5" if key == "vault/big.bin" else "md5"
        assert entry["etag_check"] == expected_check, key
    for directory in (copy, os.path.join(copy, "objects")):
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    latest = dict((e["key"], None if e["delete_marker"] else e["sha256"]) for e in entries if e["is_latest"])
    assert latest == vault.latest()
    tagged = [e for e in entries if e["key"] == "tagged"][0]
    assert tagged["tags"] == {"vault": "docs", "kind": "cipher text"}
    assert [e for e in entries if e["key"] == "vault/big.bin"][0]["content_type"] == "application/x-vault"

    manifest_path = str(dest / (name + ".manifest.json"))
    with open(manifest_path) as handle:
        manifest = json.load(handle)
    assert manifest["kind"] == "s3_bucket_copy" and manifest["sha256"] == sha256(index_bytes)
    assert manifest["object_count"] == len(vault.versions) and manifest["total_bytes"] == vault.total_bytes
    assert stat.S_IMODE(os.stat(manifest_path).st_mode) == 0o600

    verified = ansible.run(MODULE, {"state": "verify", "path": copy}, name="verify")
    assert verified.get("verified") is True and verified["changed"] is False, verified

    client = fresh_bucket(moto, "vault-replacement")
    restored = ansible.run(MODULE, connection(moto, state="restore", path=copy, bucket="vault-replacement"),
                           name="restore")
    assert not restored.get("failed"), restored
    assert restored["restored"] == len(vault.versions) + len(vault.markers)
    assert_same_content(client, "vault-replacement", vault)

    again = ansible.run(MODULE, connection(moto, state="restore", path=copy, bucket="vault-replacement"),
                        name="restore-again")
    assert again.get("failed") and "already holds objects" in again["msg"], again

    victim = stored[("unicode/ü✓ 🔐 été.bin", vault.events["unicode/ü✓ 🔐 été.bin"][0][1])]
    victim_path = os.path.join(copy, *victim["path"].split("/"))
    with open(victim_path, "r+b") as handle:
        first = handle.read(1)
        handle.seek(0)
        handle.write(bytes([first[0] ^ 0x01]))
    broken = ansible.run(MODULE, {"state": "verify", "path": copy}, name="verify-tampered")
    assert broken.get("failed"), broken
    assert "fails verification, 1 problem(s)" in broken["msg"] and "fails its checksum" in broken["msg"]
    assert "été.bin" in broken["msg"]

    fresh_bucket(moto, "vault-untouched")
    refused = ansible.run(MODULE, connection(moto, state="restore", path=copy, bucket="vault-untouched"),
                          name="restore-tampered")
    assert refused.get("failed") and "fails verification" in refused["msg"], refused
    assert "Versions" not in client.list_object_versions(Bucket="vault-untouched")
    assert_no_leak(ansible)


def test_bucket_copy_keeps_every_version_with_checksums(moto, vault, ansible):
    client = fresh_bucket(moto, "vault-replica")
    args = connection(moto, bucket=vault.name, dest_bucket="vault-replica", dest_prefix="backup/",
                      part_size=5 * MiB)
    result = ansible.run(MODULE, args, name="copy-to-bucket")
    assert not result.get("failed"), result
    assert result["manifest"] == "backup/.vaultops-s3-copy/%s.manifest.json" % result["copy_name"]
    index_bytes = client.get_object(Bucket="vault-replica", Key=result["index"])["Body"].read()
    manifest = json.loads(client.get_object(Bucket="vault-replica", Key=result["manifest"])["Body"].read())
    assert manifest["sha256"] == sha256(index_bytes)
    entries = json.loads(index_bytes)["entries"]
    for entry in entries:
        if entry["delete_marker"]:
            continue
        answer = client.get_object(Bucket="vault-replica", Key=entry["dest_key"], VersionId=entry["dest_version_id"])
        assert entry["dest_key"] == "backup/" + entry["key"]
        assert sha256(answer["Body"].read()) == vault.versions[(entry["key"], entry["version_id"])]
        assert answer["Metadata"]["vaultops-sha256"] == entry["sha256"]
        assert answer["Metadata"]["vaultops-source-version-id"] == entry["version_id"]
        source = client.head_object(Bucket=vault.name, Key=entry["key"], VersionId=entry["version_id"])
        assert dict((name, value) for name, value in answer["Metadata"].items()
                    if not name.startswith("vaultops-")) == source["Metadata"]
        assert answer["ContentType"] == source["ContentType"]
    big = [e for e in entries if e["key"] == "vault/big.bin"][0]
    assert big["dest_etag"].endswith('-3"'), "10 MiB in 5 MiB parts is a 3-part upload"
    listing = client.list_object_versions(Bucket="vault-replica", Prefix="backup/")
    copied = [item for item in listing["Versions"] if ".vaultops-s3-copy/" not in item["Key"]]
    assert len(copied) == len(vault.versions)
    assert "DeleteMarkers" not in listing, "delete markers are recorded in the index, not copied"

    verify = dict(connection(moto), state="verify", dest_bucket="vault-replica", dest_prefix="backup/",
                  copy_name=result["copy_name"])
    verified = ansible.run(MODULE, verify, name="verify-bucket")
    assert verified.get("verified") is True, verified

    victim = [e for e in entries if e["key"] == "quotes \"double\" 'single'" and not e["delete_marker"]][0]
    client.delete_object(Bucket="vault-replica", Key=victim["dest_key"], VersionId=victim["dest_version_id"])
    broken = ansible.run(MODULE, verify, name="verify-bucket-missing")
    assert broken.get("failed") and "is missing" in broken["msg"], broken
    assert_no_leak(ansible)


def test_wrong_credentials_fail_clearly_and_leave_nothing(moto, vault, ansible, tmp_path):
    with moto.credentials_checked():
        result = ansible.run(MODULE, connection(moto, bucket=vault.name, dest_dir=str(tmp_path)), name="bad-keys")
    assert result.get("failed"), result
    assert "rejected the credentials (InvalidAccessKeyId)" in result["msg"]
    assert "access_key, secret_key" in result["msg"]
    assert os.listdir(str(tmp_path)) == ["ansible"], "no copy, no manifest, no partial directory"
    assert_no_leak(ansible)


def test_failure_mid_copy_removes_what_was_written(moto, ansible, tmp_path):
    client = fresh_bucket(moto, "vault-with-archive")
    for number in range(6):
        client.put_object(Bucket="vault-with-archive", Key="k%d" % number, Body=os.urandom(2000))
    client.put_object(Bucket="vault-with-archive", Key="zz-cold", Body=b"old", StorageClass="GLACIER")
    dest = tmp_path / "dest"
    dest.mkdir()
    result = ansible.run(MODULE, connection(moto, bucket="vault-with-archive", dest_dir=str(dest), concurrency=2),
                         name="archived-to-dir")
    assert result.get("failed") and "archived" in result["msg"] and "'zz-cold'" in result["msg"], result
    assert "no manifest" in result["msg"]
    assert os.listdir(str(dest)) == []

    replica = fresh_bucket(moto, "vault-archive-replica")
    result = ansible.run(MODULE, connection(moto, bucket="vault-with-archive", dest_bucket="vault-archive-replica"),
                         name="archived-to-bucket")
    assert result.get("failed") and "archived" in result["msg"], result
    listing = replica.list_object_versions(Bucket="vault-archive-replica")
    assert "Versions" not in listing, "the versions the failed copy created were deleted"
    assert_no_leak(ansible)


def test_unreachable_endpoint_and_missing_bucket(moto, vault, ansible, tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    down = "http://127.0.0.1:%d" % free_port()
    result = ansible.run(MODULE, connection(moto, endpoint_url=down, bucket=vault.name, dest_dir=str(dest)),
                         name="down")
    assert result.get("failed"), result
    assert "Cannot reach the source S3 endpoint %s" % down in result["msg"] and "endpoint_url" in result["msg"]

    result = ansible.run(MODULE, connection(moto, bucket="no-such-vault", dest_dir=str(dest)), name="missing")
    assert result.get("failed"), result
    assert "bucket no-such-vault does not exist" in result["msg"] and "check bucket" in result["msg"]
    assert os.listdir(str(dest)) == []
    assert_no_leak(ansible)


def test_check_mode_reports_and_writes_nothing(moto, vault, ansible, tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    result = ansible.run(MODULE, connection(moto, bucket=vault.name, dest_dir=str(dest)), check_mode=True,
                         name="check-dir")
    assert result["changed"] and not result.get("failed"), result
    assert result["object_count"] == len(vault.versions) and result["total_bytes"] == vault.total_bytes
    assert "would copy %d versions (%d bytes)" % (len(vault.versions), vault.total_bytes) in result["plan"]
    assert os.listdir(str(dest)) == []

    client = fresh_bucket(moto, "vault-check-replica")
    result = ansible.run(MODULE, connection(moto, bucket=vault.name, dest_bucket="vault-check-replica"),
                         check_mode=True, name="check-bucket")
    assert result["changed"] and not result.get("failed"), result
    assert "Versions" not in client.list_object_versions(Bucket="vault-check-replica")
    assert_no_leak(ansible)


def test_default_credential_chain_and_an_unversioned_bucket(moto, ansible, tmp_path, monkeypatch):
    client = fresh_bucket(moto, "plain-vault", versioned=False)
    client.put_object(Bucket="plain-vault", Key="a", Body=b"first")
    client.put_object(Bucket="plain-vault", Key="a", Body=b"second")  # replaces: no history without versioning
    client.put_object(Bucket="plain-vault", Key="b/c", Body=os.urandom(4096))
    for name, value in (("AWS_ACCESS_KEY_ID", ACCESS_KEY), ("AWS_SECRET_ACCESS_KEY", PLANTED),
                        ("AWS_ENDPOINT_URL", moto.url), ("AWS_DEFAULT_REGION", REGION)):
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    result = ansible.run(MODULE, {"bucket": "plain-vault", "dest_dir": str(tmp_path)}, name="env-chain")
    assert not result.get("failed"), result
    assert result["source"]["endpoint"] == moto.url and result["source"]["versioning"] == "Disabled"
    assert result["object_count"] == 2
    assert any("only the current objects" in warning for warning in result.get("warnings", [])), result
    with open(os.path.join(result["path"], "index.json")) as handle:
        entries = json.load(handle)["entries"]
    assert sorted((e["key"], e["version_id"], e["sha256"]) for e in entries) == [
        ("a", "null", sha256(b"second")), ("b/c", "null", sha256(body_of(client, "plain-vault", "b/c", "null")))]

    fresh_bucket(moto, "plain-replica", versioned=False)
    result = ansible.run(MODULE, {"bucket": "plain-vault", "dest_bucket": "plain-replica"}, name="unversioned-dest")
    assert result.get("failed") and "versioning" in result["msg"] and "versions=latest" in result["msg"], result
    result = ansible.run(MODULE, {"bucket": "plain-vault", "dest_bucket": "plain-replica", "versions": "latest"},
                         name="latest-to-unversioned")
    assert not result.get("failed") and result["object_count"] == 2, result
    assert_no_leak(ansible)

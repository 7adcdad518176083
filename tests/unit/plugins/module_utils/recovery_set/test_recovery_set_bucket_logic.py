"""recovery_set_bucket against an in-memory bucket: upload order and checksums, idempotence, refusals, paths."""

import base64
import hashlib
import os
import stat

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.recovery_set import recovery_set, recovery_set_bucket
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import write_json_atomic
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError


class Body(object):
    def __init__(self, data):
        self.data = data

    def iter_chunks(self, size):
        for start in range(0, len(self.data), size):
            yield self.data[start:start + size]

    def close(self):
        pass


class FakeS3(object):
    """Just enough of S3Connection for the set's objects: put, head, get, list; it records every call."""

    endpoint = "http://fake"

    def __init__(self):
        self.objects = {}  # key -> (bytes, metadata)
        self.calls = []

    def call(self, action, method, bucket=None, key=None, **kwargs):
        self.calls.append((method, kwargs))
        if method == "put_object":
            body = kwargs["Body"].read(kwargs["ContentLength"])
            self.objects[kwargs["Key"]] = (body, dict(kwargs.get("Metadata") or {}))
            return {"ETag": '"%s"' % hashlib.md5(body).hexdigest()}
        if kwargs["Key"] not in self.objects:
            raise RecoveryError("missing", code="404")
        body, metadata = self.objects[kwargs["Key"]]
        answer = {"ContentLength": len(body), "Metadata": metadata, "ETag": '"%s"' % hashlib.md5(body).hexdigest()}
        if method == "get_object":
            answer["Body"] = Body(body)
        return answer

    def pages(self, action, operation, bucket, Prefix=""):
        yield {"Contents": [{"Key": key, "Size": len(body), "ETag": '"%s"' % hashlib.md5(body).hexdigest()}
                            for key, (body, _meta) in sorted(self.objects.items()) if key.startswith(Prefix)]}

    def puts(self):
        return [kwargs for method, kwargs in self.calls if method == "put_object"]


def sealed_set(parent, name="vh1-20261121T101500Z", payload=b"dump"):
    set_dir = parent / name
    (set_dir / "s3copy" / "objects").mkdir(parents=True)
    (set_dir / "db.dump").write_bytes(payload * 1000)
    write_json_atomic(str(set_dir / "db.dump.manifest.json"), {"kind": "pg_dump"})
    (set_dir / "s3copy" / "objects" / "ab").write_bytes(os.urandom(3000))
    return str(set_dir), recovery_set.seal(str(set_dir), {"tpm_mode": "swtpm"}, [])


@pytest.fixture
def s3():
    return FakeS3()


def target(s3, prefix="sets/", name="vh1-20261121T101500Z"):
    return recovery_set_bucket.BucketSet(s3, "backup", prefix, name)


def test_upload_sends_each_manifest_sha256_and_puts_manifest_last(tmp_path, s3):
    set_dir, document = sealed_set(tmp_path)
    facts = recovery_set_bucket.upload(target(s3), set_dir, document, 8 * 1024 * 1024, False)
    keys = [put["Key"] for put in s3.puts()]
    assert keys[-1] == "sets/vh1-20261121T101500Z/manifest.json"
    assert sorted(keys[:-1]) == ["sets/vh1-20261121T101500Z/" + rel for rel in sorted(document["files"])]
    for put in s3.puts():
        rel = put["Key"].split("/", 2)[2]
        expected = document["files"][rel]["sha256"] if rel in document["files"] else hashlib.sha256(
            open(os.path.join(set_dir, rel), "rb").read()).hexdigest()
        assert put["ChecksumSHA256"] == base64.b64encode(bytes.fromhex(expected)).decode()
        assert put["Metadata"] == {"vaultops-sha256": expected}
    assert facts["changed"] and facts["uploaded"][-1] == "manifest.json" and facts["already_stored"] == 0
    assert facts["upload_bytes"] == document["total_bytes"] + os.path.getsize(os.path.join(set_dir, "manifest.json"))


def test_second_upload_changes_nothing_and_check_mode_puts_nothing(tmp_path, s3):
    set_dir, document = sealed_set(tmp_path)
    planned = recovery_set_bucket.upload(target(s3), set_dir, document, 8 * 1024 * 1024, True)
    assert planned["changed"] and s3.puts() == [] and planned["uploaded"][-1] == "manifest.json"
    recovery_set_bucket.upload(target(s3), set_dir, document, 8 * 1024 * 1024, False)
    s3.calls = []
    again = recovery_set_bucket.upload(target(s3), set_dir, document, 8 * 1024 * 1024, False)
    assert not again["changed"] and again["uploaded"] == [] and s3.puts() == []
    assert again["already_stored"] == len(document["files"]) + 1


def test_upload_repairs_a_damaged_object_of_the_same_set(tmp_path, s3):
    set_dir, document = sealed_set(tmp_path)
    recovery_set_bucket.upload(target(s3), set_dir, document, 8 * 1024 * 1024, False)
    key = "sets/vh1-20261121T101500Z/db.dump"
    s3.objects[key] = (b"damaged", {})
    again = recovery_set_bucket.upload(target(s3), set_dir, document, 8 * 1024 * 1024, False)
    assert again["uploaded"] == ["db.dump"]
    assert s3.objects[key][0] == open(os.path.join(set_dir, "db.dump"), "rb").read()


def test_upload_refuses_another_set_under_the_same_name(tmp_path, s3):
    first_dir, first = sealed_set(tmp_path / "a")
    second_dir, second = sealed_set(tmp_path / "b", payload=b"other")
    recovery_set_bucket.upload(target(s3), first_dir, first, 8 * 1024 * 1024, False)
    before = dict(s3.objects)
    with pytest.raises(RecoveryError, match="already holds another recovery set.*another set_name or prefix"):
        recovery_set_bucket.upload(target(s3), second_dir, second, 8 * 1024 * 1024, False)
    assert s3.objects == before


def test_download_checks_every_object_and_leaves_nothing_on_mismatch(tmp_path, s3):
    set_dir, document = sealed_set(tmp_path / "src")
    recovery_set_bucket.upload(target(s3), set_dir, document, 8 * 1024 * 1024, False)
    dest = tmp_path / "dest"
    dest.mkdir()
    out = str(dest / "copy")
    facts, verified = recovery_set_bucket.download(target(s3), out, True, lambda path, **_: None, False)
    assert facts["changed"] and verified["files"] == document["files"]
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(out, "s3copy", "objects")).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(out, "db.dump")).st_mode) == 0o600
    again, _doc = recovery_set_bucket.download(target(s3), out, True, lambda path, **_: None, False)
    assert not again["changed"] and again["downloaded"] == []

    key = "sets/vh1-20261121T101500Z/s3copy/objects/ab"
    body, meta = s3.objects[key]
    s3.objects[key] = (bytes([body[0] ^ 1]) + body[1:], meta)  # same size, one bit flipped
    with pytest.raises(RecoveryError, match=r"s3://backup/%s does not match the set's manifest.json.*upload the"
                                            % key):
        recovery_set_bucket.download(target(s3), str(dest / "tampered"), True, lambda path, **_: None, False)
    assert sorted(os.listdir(str(dest))) == ["copy"]


def test_download_refuses_a_signature_check_failure_before_fetching_files(tmp_path, s3):
    set_dir, document = sealed_set(tmp_path / "src")
    recovery_set_bucket.upload(target(s3), set_dir, document, 8 * 1024 * 1024, False)
    s3.calls = []

    def forged(path, **_):
        raise RecoveryError("not a good signature")
    with pytest.raises(RecoveryError, match="not a good signature"):
        recovery_set_bucket.download(target(s3), str(tmp_path / "out"), True, forged, False)
    fetched = [kwargs["Key"] for method, kwargs in s3.calls if method == "get_object"]
    assert fetched == ["sets/vh1-20261121T101500Z/manifest.json"]
    assert sorted(os.listdir(str(tmp_path))) == ["src"]


@pytest.mark.parametrize("rel", ["../escape", "/etc/passwd", "a//b", "a/./b", "manifest.json", "x/..", ""])
def test_a_manifest_from_the_bucket_cannot_name_paths_outside_the_set(rel):
    with pytest.raises(RecoveryError, match="not a file path inside a recovery set"):
        recovery_set_bucket.check_relative(rel, "s3://b/manifest.json")


@pytest.mark.parametrize("set_dir, name, expected", [
    ("/srv/sets/vh1-x/", None, "vh1-x"), ("/srv/sets/vh1-x", "other", "other")])
def test_set_name(set_dir, name, expected):
    assert recovery_set_bucket.set_name_for(set_dir, name) == expected


@pytest.mark.parametrize("name", ["a/b", "..", "."])
def test_set_name_must_be_one_segment(name):
    with pytest.raises(RecoveryError, match="cannot name a recovery set"):
        recovery_set_bucket.set_name_for("/srv/x", name)

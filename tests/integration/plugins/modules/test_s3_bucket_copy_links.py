"""s3_bucket_copy never reads a body through a symbolic link, even when the index was edited to match.

The audit's case: a body of a directory copy replaced by a link to a file outside
the copy, and the index (and the manifest's digest of the index) edited to that
file's SHA-256. Verify must fail naming the link, and restore must put nothing
in the target bucket.
"""

import hashlib
import json
import os

import pytest


MODULE = "vaultops.recovery.s3_bucket_copy"


def _rewrite_index(copy, manifest_path, change):
    index_path = os.path.join(copy, "index.json")
    with open(index_path, "rb") as handle:
        index = json.loads(handle.read())
    change(index["entries"])
    data = (json.dumps(index, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
    with open(index_path, "wb") as handle:
        handle.write(data)
    with open(manifest_path) as handle:
        manifest = json.load(handle)
    manifest.update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    with open(manifest_path, "w") as handle:
        json.dump(manifest, handle)


@pytest.mark.parametrize("link", ["body", "parent directory"])
def test_a_linked_body_fails_verify_and_restore_uploads_nothing(moto, ansible, tmp_path, link):
    client = moto.client()
    source, target = "links-src-%d" % len(link), "links-dst-%d" % len(link)
    client.create_bucket(Bucket=source)
    for number in range(3):
        client.put_object(Bucket=source, Key="file-%d" % number, Body=os.urandom(500 + number))
    dest = tmp_path / "copies"
    dest.mkdir()
    result = ansible.run(MODULE, moto.module_args(bucket=source, dest_dir=str(dest)), name="copy")
    assert not result.get("failed"), result
    copy, manifest_path = result["path"], result["manifest"]

    with open(os.path.join(copy, "index.json")) as handle:
        victim = json.load(handle)["entries"][1]
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = os.urandom(victim["size"])  # same size: only the digest in the index needs editing
    body = os.path.join(copy, *victim["path"].split("/"))
    if link == "body":
        (outside / "secret").write_bytes(secret)
        os.unlink(body)
        os.symlink(str(outside / "secret"), body)
        named = victim["path"]
    else:
        fan_out = os.path.dirname(body)
        for name in os.listdir(fan_out):
            os.rename(os.path.join(fan_out, name), str(outside / name))
        (outside / os.path.basename(body)).write_bytes(secret)
        os.rmdir(fan_out)
        os.symlink(str(outside), fan_out)
        named = os.path.dirname(victim["path"])

    def point_at_secret(entries):
        for entry in entries:
            if entry["path"] == victim["path"]:
                entry["sha256"] = hashlib.sha256(secret).hexdigest()
    _rewrite_index(copy, manifest_path, point_at_secret)

    verified = ansible.run(MODULE, {"state": "verify", "path": copy}, name="verify")
    assert verified.get("failed"), verified
    assert "%s is a symbolic link, not a regular file" % named in verified["msg"], verified["msg"]

    client.create_bucket(Bucket=target)
    restored = ansible.run(MODULE, moto.module_args(state="restore", path=copy, bucket=target), name="restore")
    assert restored.get("failed") and "symbolic link" in restored["msg"], restored
    assert "Contents" not in client.list_objects_v2(Bucket=target), "nothing may be uploaded"

"""recovery_set state=upload/download against a moto S3 server, through ansible-playbook.

A sealed, signed recovery set (with a nested directory, an empty file and a
file large enough for a multipart upload) goes to the bucket and comes back;
the tests compare bytes, modes and what the bucket holds, and plant the S3
secret key, which must appear in no output.
"""

import hashlib
import itertools
import os
import re
import stat

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.recovery_set import recovery_set
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import write_json_atomic
from ansible_collections.vaultops.recovery.plugins.module_utils.openpgp.gpg_signature import sign_detached
from support.gpg_keys import make_key


MODULE = "vaultops.recovery.recovery_set"
PLANTED = "planted-S3-secret-recovery-set-5e81"
MiB = 1024 * 1024
SET = "vh1-20261121T101500Z"
PART = 5 * MiB
_names = itertools.count()


@pytest.fixture(scope="module")
def gnupg(tmp_path_factory):
    home = tmp_path_factory.mktemp("gnupg")
    os.chmod(str(home), 0o700)
    return str(home), make_key(home, "set signer <signer@vaultops.invalid>"), make_key(home, "other <o@x.invalid>")


@pytest.fixture(scope="module")
def sealed(tmp_path_factory, gnupg):
    """A signed set: {relative path: sha256} of everything in it, and its directory."""
    set_dir = tmp_path_factory.mktemp("sets") / "vh1-20261121T101500Z"
    (set_dir / "s3copy" / "objects" / "3f").mkdir(parents=True)
    (set_dir / "db.dump").write_bytes(os.urandom(PART + 123456))  # multipart with part_size 5 MiB
    write_json_atomic(str(set_dir / "db.dump.manifest.json"), {"kind": "pg_dump"})
    (set_dir / "s3copy" / "objects" / "3f" / "3fa9 body 'q' ✓").write_bytes(os.urandom(4000))
    (set_dir / "empty").write_bytes(b"")
    recovery_set.seal(str(set_dir), {"tpm_mode": "swtpm", "vaulthalla_version": "Vaulthalla v1.1.0"}, ["pg_dump"])
    sign_detached("gpg", gnupg[0], gnupg[1], str(set_dir / "manifest.json"))
    files = {}
    for dirpath, _dirs, names in os.walk(str(set_dir)):
        for name in names:
            path = os.path.join(dirpath, name)
            files[os.path.relpath(path, str(set_dir))] = hashlib.sha256(open(path, "rb").read()).hexdigest()
    return str(set_dir), files


@pytest.fixture
def bucket(moto):
    name = "recovery-sets-%d" % next(_names)
    moto.client().create_bucket(Bucket=name)
    return name


def args(moto, bucket, set_dir, **extra):
    """Module arguments; set_dir None leaves it out (a download into dest_dir)."""
    if set_dir:
        extra["set_dir"] = set_dir
    return moto.module_args(secret_key=PLANTED, bucket=bucket, prefix="vh1/", part_size=PART, **extra)


def stored(moto, bucket):
    """{key: (sha256 of the body, vaultops-sha256 metadata)} of the bucket."""
    client = moto.client()
    found = {}
    for item in client.list_objects_v2(Bucket=bucket).get("Contents", []):
        answer = client.get_object(Bucket=bucket, Key=item["Key"])
        found[item["Key"]] = (hashlib.sha256(answer["Body"].read()).hexdigest(),
                              answer["Metadata"].get("vaultops-sha256"))
    return found


def tree(path):
    result = {}
    for dirpath, dirs, names in os.walk(path):
        for name in dirs:
            result[os.path.relpath(os.path.join(dirpath, name), path) + "/"] = stat.S_IMODE(
                os.stat(os.path.join(dirpath, name)).st_mode)
        for name in names:
            full = os.path.join(dirpath, name)
            result[os.path.relpath(full, path)] = (hashlib.sha256(open(full, "rb").read()).hexdigest(),
                                                   stat.S_IMODE(os.stat(full).st_mode))
    return result


def writes_to(moto, bucket):
    """Keys written in the bucket, in the order the server received them (from its request log)."""
    pattern = re.compile(r'"(?:PUT|POST) /%s/(vh1/[^ ?]+)' % re.escape(bucket))
    keys = [match.group(1) for match in map(pattern.search, moto.lines) if match]
    return [key for index, key in enumerate(keys) if index == 0 or keys[index - 1] != key]  # parts of one upload


def upload(ansible, moto, bucket, sealed, gnupg, check_mode=False):
    return ansible.run(MODULE, args(moto, bucket, sealed[0], state="upload", signed_by=gnupg[1],
                                    gnupg_home=gnupg[0]), check_mode=check_mode)


def test_round_trip_upload_download_verify(ansible, moto, bucket, sealed, gnupg, tmp_path):
    set_dir, files = sealed
    first = upload(ansible, moto, bucket, sealed, gnupg)
    assert not first.get("failed"), first
    assert first["changed"] and first["location"] == "s3://%s/vh1/vh1-20261121T101500Z/" % bucket
    assert first["uploaded"][-2:] == ["manifest.json.asc", "manifest.json"] and first["already_stored"] == 0
    assert sorted(first["uploaded"]) == sorted(files)
    in_bucket = stored(moto, bucket)
    assert in_bucket == dict(("vh1/vh1-20261121T101500Z/" + rel, (digest, digest)) for rel, digest in files.items())
    order = writes_to(moto, bucket)
    assert order[-1] == "vh1/vh1-20261121T101500Z/manifest.json" and order.count(order[-1]) == 1, order

    again = upload(ansible, moto, bucket, sealed, gnupg)
    assert not again.get("failed") and again["changed"] is False and again["uploaded"] == [], again
    assert again["already_stored"] == len(files)

    dest = tmp_path / "restore"
    dest.mkdir()
    out = str(dest / "vh1-20261121T101500Z")
    down_args = args(moto, bucket, out, state="download", signed_by=gnupg[1], gnupg_home=gnupg[0])
    planned = ansible.run(MODULE, down_args, check_mode=True)
    assert not planned.get("failed") and planned["changed"], planned
    assert sorted(planned["downloaded"]) == sorted(files) and os.listdir(str(dest)) == []
    assert planned["download_bytes"] == sum(os.path.getsize(os.path.join(set_dir, rel)) for rel in files)

    got = ansible.run(MODULE, down_args)
    assert not got.get("failed") and got["changed"], got
    assert got["complete"] and got["signature"] == out + "/manifest.json.asc"
    assert tree(out) == dict([(rel, (digest, 0o600)) for rel, digest in files.items()] + [
        ("s3copy/", 0o700), ("s3copy/objects/", 0o700), ("s3copy/objects/3f/", 0o700)])
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o700 and os.listdir(str(dest)) == ["vh1-20261121T101500Z"]

    verified = ansible.run(MODULE, dict(state="verify", set_dir=out, signed_by=gnupg[1], gnupg_home=gnupg[0]))
    assert not verified.get("failed") and verified["file_count"] == len(files) - 2, verified
    repeat = ansible.run(MODULE, down_args)
    assert not repeat.get("failed") and repeat["changed"] is False and repeat["downloaded"] == [], repeat
    assert PLANTED not in ansible.everything_printed()


def test_check_mode_upload_writes_nothing(ansible, moto, bucket, sealed, gnupg):
    planned = upload(ansible, moto, bucket, sealed, gnupg, check_mode=True)
    assert not planned.get("failed") and planned["changed"], planned
    assert sorted(planned["uploaded"]) == sorted(sealed[1])
    assert planned["upload_bytes"] == sum(os.path.getsize(os.path.join(sealed[0], rel)) for rel in sealed[1])
    assert stored(moto, bucket) == {}
    assert PLANTED not in ansible.everything_printed()


def test_tampered_object_is_refused_and_nothing_is_left(ansible, moto, bucket, sealed, gnupg, tmp_path):
    upload(ansible, moto, bucket, sealed, gnupg)
    key = "vh1/vh1-20261121T101500Z/s3copy/objects/3f/3fa9 body 'q' ✓"
    client = moto.client()
    original = client.get_object(Bucket=bucket, Key=key)
    body = bytearray(original["Body"].read())
    body[100] ^= 0x01  # same size, same metadata: only the bytes tell
    client.put_object(Bucket=bucket, Key=key, Body=bytes(body), Metadata=original["Metadata"])
    dest = tmp_path / "restore"
    dest.mkdir()
    refused = ansible.run(MODULE, args(moto, bucket, str(dest / "set"), state="download", set_name=SET))
    assert refused.get("failed"), refused
    assert "s3://%s/%s does not match the set's manifest.json" % (bucket, key) in refused["msg"]
    assert "Nothing was written" in refused["msg"] and "Fix: upload the set again" in refused["msg"]
    assert os.listdir(str(dest)) == []

    # An upload trusts what the bucket records (size, vaultops-sha256) and does not re-read bodies; an object
    # truncated behind its back is one it sees and replaces.
    client.put_object(Bucket=bucket, Key=key, Body=bytes(body[:10]), Metadata=original["Metadata"])
    repaired = upload(ansible, moto, bucket, sealed, gnupg)
    assert repaired["uploaded"] == ["s3copy/objects/3f/3fa9 body 'q' ✓"], repaired
    got = ansible.run(MODULE, args(moto, bucket, None, state="download", set_name=SET, dest_dir=str(dest)))
    assert not got.get("failed") and got["set_dir"] == str(dest / SET), got
    assert tree(got["set_dir"])["s3copy/objects/3f/3fa9 body 'q' ✓"][0] == sealed[1]["s3copy/objects/3f/3fa9 body 'q' ✓"]
    assert PLANTED not in ansible.everything_printed()


def test_missing_manifest_or_object_is_refused_and_an_upload_resumes(ansible, moto, bucket, sealed, gnupg, tmp_path):
    upload(ansible, moto, bucket, sealed, gnupg)
    client = moto.client()
    client.delete_object(Bucket=bucket, Key="vh1/vh1-20261121T101500Z/manifest.json")  # an interrupted upload
    dest = tmp_path / "restore"
    dest.mkdir()
    refused = ansible.run(MODULE, args(moto, bucket, str(dest / "set"), state="download", set_name=SET))
    assert refused.get("failed"), refused
    assert "vh1-20261121T101500Z/manifest.json does not exist: the set in the bucket is incomplete" in refused["msg"]
    assert os.listdir(str(dest)) == []

    resumed = upload(ansible, moto, bucket, sealed, gnupg)
    assert resumed["changed"] and resumed["uploaded"] == ["manifest.json"], resumed

    client.delete_object(Bucket=bucket, Key="vh1/vh1-20261121T101500Z/db.dump")
    missing = ansible.run(MODULE, args(moto, bucket, str(dest / "set"), state="download", set_name=SET))
    assert missing.get("failed") and "lacks s3://%s/vh1/vh1-20261121T101500Z/db.dump" % bucket in missing["msg"]
    assert os.listdir(str(dest)) == []
    assert PLANTED not in ansible.everything_printed()


def test_other_set_under_the_same_name_and_a_forged_signature_are_refused(ansible, moto, bucket, sealed, gnupg,
                                                                          tmp_path):
    upload(ansible, moto, bucket, sealed, gnupg)
    before = stored(moto, bucket)
    other = tmp_path / "vh1-20261121T101500Z"
    other.mkdir()
    (other / "db.dump").write_bytes(b"another backup")
    recovery_set.seal(str(other), {}, [])
    refused = ansible.run(MODULE, args(moto, bucket, str(other), state="upload"))
    assert refused.get("failed") and "already holds another recovery set" in refused["msg"], refused
    assert stored(moto, bucket) == before

    dest = tmp_path / "restore"
    dest.mkdir()
    stranger = ansible.run(MODULE, args(moto, bucket, str(dest / "set"), state="download", set_name=SET,
                                        signed_by=gnupg[2], gnupg_home=gnupg[0]))
    assert stranger.get("failed") and "not a good signature by %s" % gnupg[2] in stranger["msg"], stranger
    assert os.listdir(str(dest)) == []
    assert PLANTED not in ansible.everything_printed()

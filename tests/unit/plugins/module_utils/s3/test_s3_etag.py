"""What an S3 ETag proves: single-part MD5, multipart MD5 over part sizes, and the ETags that prove nothing."""

import hashlib
import os

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.s3 import s3_etag
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError


def feed(digest, data, chunk):
    for start in range(0, len(data), chunk):
        digest.update(data[start:start + chunk])
    return digest


def test_clean_and_part_counts():
    assert s3_etag.clean('"D41D8CD98F00B204E9800998ECF8427E"') == "d41d8cd98f00b204e9800998ecf8427e"
    assert s3_etag.parts_in('"d41d8cd98f00b204e9800998ecf8427e"') == 0
    assert s3_etag.parts_in('"0f48892c01255ce4e445ee1a8a6e9171-3"') == 3
    assert s3_etag.parts_in('"0f48892c01255ce4e445ee1a8a6e9171-0"') is None
    assert s3_etag.parts_in("W/abc") is None
    assert s3_etag.parts_in("") is None


def test_etags_that_prove_nothing_say_why():
    md5 = '"%s"' % hashlib.md5(b"x").hexdigest()
    assert s3_etag.not_checkable(md5) is None
    assert "aws:kms" in s3_etag.not_checkable(md5, sse="aws:kms")
    assert "SSE-C" in s3_etag.not_checkable(md5, sse_customer="AES256")
    assert s3_etag.not_checkable(md5, sse="AES256") is None
    assert "not an MD5" in s3_etag.not_checkable('"opaque-etag-from-a-gateway"')


@pytest.mark.parametrize("chunk", [1, 7, 4096, 10 ** 6])
def test_single_part_md5_and_sha256_whatever_the_chunking(chunk):
    data = os.urandom(20000)
    digest = feed(s3_etag.BodyDigest(), data, chunk)
    assert digest.etag() == hashlib.md5(data).hexdigest()
    assert digest.sha256 == hashlib.sha256(data).hexdigest()
    assert digest.size == len(data)


@pytest.mark.parametrize("chunk", [1000, 4096, 6000, 10 ** 6])
def test_multipart_etag_over_uneven_parts_across_chunk_boundaries(chunk):
    parts = [os.urandom(5000), os.urandom(7000), os.urandom(13)]
    expected = hashlib.md5(b"".join(hashlib.md5(part).digest() for part in parts)).hexdigest() + "-3"
    digest = feed(s3_etag.BodyDigest([len(part) for part in parts], sha256=False), b"".join(parts), chunk)
    assert digest.etag() == expected
    assert digest.sha256 is None
    assert s3_etag.check_body(digest, sum(map(len, parts)), '"%s"' % expected, "obj") == s3_etag.MULTIPART


def test_multipart_with_extra_bytes_never_matches():
    parts = [b"a" * 10, b"b" * 10]
    expected = s3_etag.multipart_etag([hashlib.md5(part).digest() for part in parts])
    digest = feed(s3_etag.BodyDigest([10, 10]), b"".join(parts) + b"tail", 3)
    assert digest.etag() != expected


def test_check_body_names_truncation_and_corruption():
    data = b"ciphertext" * 100
    good = '"%s"' % hashlib.md5(data).hexdigest()
    assert s3_etag.check_body(feed(s3_etag.BodyDigest(), data, 64), len(data), good, "k") == s3_etag.MD5
    with pytest.raises(RecoveryError, match="received 999 bytes but S3 announced 1000"):
        s3_etag.check_body(feed(s3_etag.BodyDigest(), data[:-1], 64), len(data), good, "k")
    flipped = bytes([data[0] ^ 1]) + data[1:]
    with pytest.raises(RecoveryError, match="do not match the object's ETag"):
        s3_etag.check_body(feed(s3_etag.BodyDigest(), flipped, 64), len(data), good, "k")
    skipped = s3_etag.check_body(feed(s3_etag.BodyDigest(), flipped, 64), len(data), good, "k", skip_reason="kms")
    assert skipped == "not checked: kms"


def test_empty_object():
    digest = s3_etag.BodyDigest()
    assert s3_etag.check_body(digest, 0, '"d41d8cd98f00b204e9800998ecf8427e"', "empty") == s3_etag.MD5

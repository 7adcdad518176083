# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an S3 ETag proves about the bytes received, and the digests that check it.

A single-part upload stored without SSE-KMS/SSE-C has the MD5 of its body as
ETag. A multipart upload has MD5(concatenated binary MD5s of the parts) +
"-<part count>", which can be checked when the part sizes are known (HEAD
with partNumber tells them). Any other ETag proves nothing and is not checked;
the result says why.
"""

import hashlib
import re

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

_SINGLE = re.compile(r"^[0-9a-f]{32}$")
_MULTIPART = re.compile(r"^[0-9a-f]{32}-([0-9]{1,5})$")
_NOT_MD5_SSE = ("aws:kms", "aws:kms:dsse")

MD5 = "md5"
MULTIPART = "multipart-md5"


def clean(etag):
    """The ETag without quotes (S3 sends it quoted), lower case."""
    return (etag or "").strip().strip('"').lower()


def parts_in(etag):
    """Part count of a multipart ETag, 0 for a single-part one, None when it is no MD5 form at all."""
    etag = clean(etag)
    if _SINGLE.match(etag):
        return 0
    match = _MULTIPART.match(etag)
    if match and int(match.group(1)) >= 1:
        return int(match.group(1))
    return None


def not_checkable(etag, sse=None, sse_customer=None):
    """Why the ETag cannot be checked (a short text), or None when it can."""
    if sse_customer:
        return "SSE-C object: its ETag is not an MD5"
    if sse in _NOT_MD5_SSE:
        return "%s object: its ETag is not an MD5" % sse
    if parts_in(etag) is None:
        return "ETag %r is not an MD5" % clean(etag)
    return None


def multipart_etag(part_digests):
    """The ETag S3 gives a multipart upload whose parts have these binary MD5s."""
    return "%s-%d" % (hashlib.md5(b"".join(part_digests)).hexdigest(), len(part_digests))


class BodyDigest(object):
    """SHA-256, size and the ETag-style MD5 of a body, fed chunk by chunk.

    part_sizes: the sizes of the multipart upload's parts, in order, to compute
    the multipart ETag; None computes the plain MD5 of the whole body.
    """

    def __init__(self, part_sizes=None, sha256=True):
        self.size = 0
        self._sha256 = hashlib.sha256() if sha256 else None
        self._md5 = hashlib.md5()
        self._part_sizes = list(part_sizes) if part_sizes else None
        self._part_left = self._part_sizes[0] if self._part_sizes else None
        self._part_digests = []
        self._current_bytes = 0

    def update(self, data):
        self.size += len(data)
        if self._sha256 is not None:
            self._sha256.update(data)
        if self._part_sizes is None:
            self._md5.update(data)
            return
        view = memoryview(data)
        while view:
            if self._part_left == 0:
                self._next_part()
            take = len(view) if self._part_left is None else min(len(view), self._part_left)
            self._md5.update(view[:take])
            self._current_bytes += take
            if self._part_left is not None:
                self._part_left -= take
            view = view[take:]

    def _next_part(self):
        self._part_digests.append(self._md5.digest())
        self._md5 = hashlib.md5()
        self._current_bytes = 0
        index = len(self._part_digests)
        # More bytes than the parts announce: count them in an extra part, so the ETag cannot match.
        self._part_left = self._part_sizes[index] if index < len(self._part_sizes) else None

    @property
    def sha256(self):
        return self._sha256.hexdigest() if self._sha256 is not None else None

    def etag(self):
        """The ETag these bytes would have (plain MD5, or the multipart form)."""
        if self._part_sizes is None:
            return self._md5.hexdigest()
        digests = list(self._part_digests)
        if self._current_bytes or not digests:
            digests.append(self._md5.copy().digest())
        return multipart_etag(digests)


def check_body(digest, expected_size, etag, what, skip_reason=None):
    """Raise when the bytes received are not the object's; return how the ETag was checked.

    Size first (truncation), then the ETag unless skip_reason says why it cannot prove anything.
    """
    if digest.size != expected_size:
        raise RecoveryError("%s: received %d bytes but S3 announced %d (truncated or changed in transit)." % (
            what, digest.size, expected_size), fix="run again; if it persists, the object or the endpoint is broken.")
    if skip_reason:
        return "not checked: %s" % skip_reason
    expected = clean(etag)
    actual = digest.etag()
    if actual != expected:
        raise RecoveryError(
            "%s: the bytes received do not match the object's ETag (MD5 %s, ETag %s): corrupted in transit or"
            " in storage." % (what, actual, expected),
            fix="run again; if it persists, the stored object is damaged and cannot be copied faithfully.")
    return MULTIPART if parts_in(expected) else MD5

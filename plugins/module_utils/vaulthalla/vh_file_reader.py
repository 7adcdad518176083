# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a file back out of a Vaulthalla vault and hash it, without keeping it.

Reading is what proves the key chain: a host restored without its sealed
blobs or TPM state starts "healthy" with new keys, and only a read fails.
Two readers:
- fuse: the product's FUSE mount (/mnt/vaulthalla/<vault>/<path>), as on a
  real host;
- vh_cat: ``vh vault cat <vault> <path>`` to stdout, which the lab's
  stand-in offers because the lab has no FUSE.
The content is streamed into SHA-256 and never returned or logged.
"""

import hashlib
import os

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import StageFailure, run_pipeline

READ_SIZE = 1024 * 1024
HAZARD = ("a restore without the matching sealed key blobs (/var/lib/vaulthalla/.sealed_*.blob) or without the"
          " TPM state makes Vaulthalla start with NEW keys; restore both from the same recovery set")


class _Digest(object):
    def __init__(self):
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk):
        self.hash.update(chunk)
        self.size += len(chunk)


def _fuse_path(mount, vault, path):
    relative = path.lstrip("/")
    full = os.path.normpath(os.path.join(mount, vault, relative))
    if not full.startswith(os.path.join(os.path.normpath(mount), vault) + os.sep):
        raise RecoveryError("File path %r leaves vault %r." % (path, vault),
                            fix="give the path inside the vault, such as /docs/readme.txt.")
    return full


def read_digest(vault, path, reader, vh=None, mount="/mnt/vaulthalla"):
    """(sha256 hex, size) of the file's plaintext, or RecoveryError saying why it cannot be read."""
    digest = _Digest()
    where = "%s in vault %s" % (path, vault)
    if reader == "fuse":
        full = _fuse_path(mount, vault, path)
        try:
            with open(full, "rb") as handle:
                for chunk in iter(lambda: handle.read(READ_SIZE), b""):
                    digest.write(chunk)
        except OSError as exc:
            fix = ("check that the file exists and that the vault is mounted at %s; an I/O error on a file that"
                   " exists means its key does not decrypt it: %s." % (mount, HAZARD))
            raise RecoveryError("Cannot read %s through %s: %s." % (where, full, exc.strerror or exc), fix=fix,
                                problem="unreadable")
        return digest.hash.hexdigest(), digest.size
    try:
        run_pipeline([[vh, "vault", "cat", vault, path]], sink=digest, cwd="/")
    except StageFailure as exc:
        message = (exc.stderr or "").strip().splitlines()
        said = message[-1] if message else "exit code %s" % exc.returncode
        fix = "check the vault and path (vh vault ls %s)." % vault
        if "decryption failed" in said or "does not decrypt" in said:
            fix = HAZARD + "."
        raise RecoveryError("Cannot read %s: %s" % (where, said), fix=fix, problem="unreadable")
    except OSError as exc:
        raise RecoveryError("Cannot run %s: %s." % (vh, exc.strerror or exc), fix="check vh_path.",
                            problem="vh_missing")
    return digest.hash.hexdigest(), digest.size

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which host is this? machine-id, recorded without exposing it.

machine-id(5) asks that the raw ID be treated as confidential and that
applications record an application-specific digest instead. We record
HMAC-SHA256(key=machine-id, message=APP_ID): equal on the same host, unequal
across hosts, and useless for recovering the ID. An operator can compute it by
hand with::

    printf %s 'vaultops.recovery swtpm_archive' | openssl dgst -sha256 -hmac "$(cat /etc/machine-id)"
"""

import hashlib
import hmac
import re
import socket

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

APP_ID = b"vaultops.recovery swtpm_archive"
_MACHINE_ID = re.compile(r"^[0-9a-f]{32}$")

SAME = "same"
DIFFERENT = "different"
UNKNOWN = "unknown"


def read_machine_id(path):
    """The 32 lowercase hex digits in path; RecoveryError (with the fix) otherwise."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(4096)
    except (IOError, OSError) as exc:
        raise RecoveryError("cannot read the machine identity from %s (%s)." % (path, exc.strerror or exc),
                            fix="run systemd-machine-id-setup (or point machine_id_path at this host's machine-id).")
    text = raw.decode("ascii", "replace").strip()
    if text == "uninitialized" or not text:
        raise RecoveryError("%s is empty or uninitialized, so this host has no identity yet." % path,
                            fix="run systemd-machine-id-setup, then run the task again.")
    if not _MACHINE_ID.match(text):
        raise RecoveryError("%s does not hold a machine-id (32 lowercase hexadecimal digits)." % path,
                            fix="repair it with systemd-machine-id-setup or point machine_id_path at the right file.")
    return text


def machine_id_digest(machine_id):
    return hmac.new(machine_id.encode("ascii"), APP_ID, hashlib.sha256).hexdigest()


def local_identity(machine_id_path):
    """{hostname, machine_id_digest, machine_id_error}; the digest is None when unreadable."""
    identity = dict(hostname=socket.gethostname(), machine_id_digest=None, machine_id_error=None)
    try:
        identity["machine_id_digest"] = machine_id_digest(read_machine_id(machine_id_path))
    except RecoveryError as exc:
        identity["machine_id_error"] = exc.message
    return identity


def compare(source_digest, target_digest):
    """SAME only when both identities are known and equal."""
    if not source_digest or not target_digest:
        return UNKNOWN
    return SAME if hmac.compare_digest(source_digest, target_digest) else DIFFERENT


HOST_CHANGE_WHY = (
    "The swtpm state directory holds the software TPM's secrets: the seeds from which the TPM re-derives the keys"
    " that unseal Vaulthalla's sealed key blobs (the database password, the master key and the vault master key)."
    " Whoever runs a TPM from this state can unseal those keys, so moving it to another host moves the ability to"
    " decrypt the vaults. That must be a deliberate, recorded decision.")


def host_change_refusal(relation, source, target, archive_path):
    """The RecoveryError for a restore onto a host that is not provably the archive's source."""
    if relation == DIFFERENT:
        what = "%s was taken on host %s (machine identity %s...), and this host (%s, %s...) is a different machine." % (
            archive_path, source.get("hostname"), (source.get("machine_id_digest") or "")[:12], target["hostname"],
            (target["machine_id_digest"] or "")[:12])
    else:
        missing = []
        if not source.get("machine_id_digest"):
            missing.append("the archive records no machine identity")
        if not target["machine_id_digest"]:
            missing.append("this host's machine identity is unreadable (%s)" % target["machine_id_error"])
        what = "cannot prove that %s comes from this host: %s." % (archive_path, "; ".join(missing))
    return RecoveryError(
        "Refusing to restore swtpm state: %s %s Nothing was changed." % (what, HOST_CHANGE_WHY),
        fix="if this host is meant to take over the software TPM (disaster recovery onto new hardware), set"
            " allow_host_change: true; the restore is then recorded as a security event in syslog and the recovery log.",
        host_change=True)

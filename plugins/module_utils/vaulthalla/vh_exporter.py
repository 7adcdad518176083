# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vh_export's steps, in the order that keeps them safe.

1. Refuse before vh runs: bad fingerprints, an unwritable destination,
   existing targets, no vh, a recipient that is missing from the daemon user's
   keyring, expired, revoked, disabled or unable to encrypt.
2. ``vh version`` (read-only; also proves the daemon answers).
3. Each export: vh writes into a private hand-off directory owned by the
   daemon user; the file is streamed into a hidden partial file in dest_dir
   (root's, 0600, hashed on the way) and that copy is proven to be one OpenPGP
   message encrypted to exactly the recipients.
4. Only when every export is proven: publish each file, then its manifest;
   the version record last. Any failure before that publishes nothing.
"""

import contextlib
import datetime
import os
import socket
import time

from ansible_collections.vaultops.recovery.plugins.module_utils.openpgp import gpg_recipient, openpgp_proof

from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla import vh_cli
from ansible_collections.vaultops.recovery.plugins.module_utils.common.artifact_manifest import manifest_path_for
from ansible_collections.vaultops.recovery.plugins.module_utils.common.artifact_name import check_plain_name
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import (
    AtomicFile, check_writable_directory, write_json_atomic)
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla.handoff_dir import HandoffDir
from ansible_collections.vaultops.recovery.plugins.module_utils.common.process import RunAs

PRODUCER = "vaultops.recovery.vh_export"
MANIFEST_KIND = "vh_export"
MANIFEST_VERSION = 1
EXPORT_ORDER = ("vault_keys", "secrets")
LABELS = {"vault_keys": "vault keys", "secrets": "internal secrets", "version": "version record"}
VERSION_SUFFIX = "version.txt"
MISSING_OUTPUT_HINT = (
    " The daemon writes it, so it may see another /tmp (systemd PrivateTmp=) or be kept from writing there"
    " (ProtectSystem=, ReadWritePaths=).")


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_prefix(prefix):
    return check_plain_name(prefix, "name_prefix %r cannot start a file name." % prefix,
                            fix="use a plain name such as vaulthalla (no '/', not starting with '.').")


def ordered_exports(exports):
    wanted = set(exports or [])
    if not wanted:
        raise RecoveryError("exports is empty; nothing would be exported.", fix="list vault_keys and/or secrets.")
    return [name for name in EXPORT_ORDER if name in wanted]


def targets(dest_dir, prefix, exports):
    """[(kind, final path)] of every file the task publishes, the version record last."""
    planned = [(kind, os.path.join(dest_dir, "%s-%s" % (prefix, vh_cli.EXPORTS[kind][1]))) for kind in exports]
    planned.append(("version", os.path.join(dest_dir, "%s-%s" % (prefix, VERSION_SUFFIX))))
    return planned


def refuse_existing(planned):
    for dummy, path in planned:
        for existing in (path, manifest_path_for(path)):
            if os.path.lexists(existing):
                raise RecoveryError("%s already exists; it was left untouched and nothing was exported." % existing,
                                    fix="choose another dest_dir or name_prefix, or move the existing file away.",
                                    problem="target_exists")


def vh_user(name):
    try:
        return RunAs(name)
    except KeyError:
        raise RecoveryError("user %s does not exist on this host; the Vaulthalla daemon runs as it and encrypts"
                            " with its keyring." % name,
                            fix="install Vaulthalla, or set vh_user to the user the daemon runs as.",
                            problem="vh_user_missing")


def recipient_facts(keys, now):
    return [{"fingerprint": key.fingerprint, "uid": key.uids[0] if key.uids else None,
             "encryption_key_ids": key.usable_encryption_key_ids(now),
             "expires": key.primary.expires} for key in keys]


def _openpgp_only(label, shown):
    def inspect(head, read_all):
        openpgp_proof.sniff_head(head, label, shown, read_all)
    return inspect


def _flat(key_ids):
    return sorted(set(keyid for keyids in key_ids.values() for keyid in keyids))


def _publish(kind, out, path, document, fingerprints):
    out.commit()
    document.update(size=out.size, sha256=out.sha256, published_at=utc_now())
    manifest = manifest_path_for(path)
    write_json_atomic(manifest, document)
    return {"kind": kind, "path": path, "manifest": manifest, "sha256": out.sha256, "size": out.size,
            "recipients": list(fingerprints) if kind != "version" else [],
            "key_ids": document.get("key_ids", [])}


def export(p, check_mode, get_bin_path):
    clock = time.time()
    started = utc_now()
    fingerprints = gpg_recipient.normalise_fingerprints(p["recipients"])
    exports = ordered_exports(p["exports"])
    prefix = check_prefix(p["name_prefix"])
    dest_dir = p["dest_dir"]
    check_writable_directory(dest_dir)
    planned = targets(dest_dir, prefix, exports)
    refuse_existing(planned)
    vh = vh_cli.find_vh(p["vh_path"], get_bin_path)
    gpg = get_bin_path("gpg")
    if not gpg:
        raise RecoveryError("gpg was not found on this host; it is needed to check the recipients and prove the"
                            " exports are encrypted.", fix="install gnupg (apt-get install gnupg).",
                            problem="gpg_missing")
    run_as = vh_user(p["vh_user"])
    gnupg_home = p["gnupg_home"] or os.path.join(run_as.home, ".gnupg")
    keys = gpg_recipient.load_recipients(fingerprints, gpg, gnupg_home, run_as, time.time())
    version_line, version_text = vh_cli.version(vh)
    result = dict(changed=True, recipients=fingerprints, recipient_keys=recipient_facts(keys, time.time()),
                  vh_version=version_line, vh_user=run_as.name, gnupg_home=gnupg_home, dest_dir=dest_dir,
                  exports=exports)
    if check_mode:
        result["vh_status"] = vh_cli.status(vh)
        result["would_write"] = [path for dummy, path in planned]
        result["plan"] = "would run %s for %s and publish %s with their manifests" % (
            " and ".join("vh " + " ".join(vh_cli.EXPORTS[kind][0]) for kind in exports), ", ".join(fingerprints),
            ", ".join(path for dummy, path in planned))
        return result
    hostname = socket.gethostname()
    common = dict(manifest_version=MANIFEST_VERSION, kind=MANIFEST_KIND, producer=PRODUCER, hostname=hostname,
                  vh_version=version_line, vh_user=run_as.name, started_at=started)
    with contextlib.ExitStack() as stack:
        handoff = stack.enter_context(HandoffDir(p["work_dir"], run_as))
        result["work_dir"] = handoff.path
        pending = []
        for kind, path in planned[:-1]:
            name = os.path.basename(path)
            command = vh_cli.export(vh, kind, fingerprints, handoff.file_path(name))
            shown = "%s (as written by vh)" % name
            out = stack.enter_context(AtomicFile(path, mode=0o600))
            # plaintext is refused before a byte of it reaches dest_dir (which may be replicated off the host)
            handoff.take_over(name, out, missing_hint=MISSING_OUTPUT_HINT, inspect=_openpgp_only(LABELS[kind], shown))
            proof = openpgp_proof.prove(out.temp_path, keys, gpg, LABELS[kind], shown=shown)
            document = dict(common, export=kind, file=name, command=command, exported_at=utc_now(), encrypted=True,
                            format="openpgp-" + proof["format"], recipients=fingerprints,
                            recipient_key_ids=proof["key_ids"], key_ids=_flat(proof["key_ids"]),
                            recipient_uids=dict((key.fingerprint, key.uids[0] if key.uids else None) for key in keys),
                            gnupg_home=gnupg_home)
            pending.append((kind, out, path, document))
        version_path = planned[-1][1]
        out = stack.enter_context(AtomicFile(version_path, mode=0o600))
        out.write(version_text.encode("utf-8"))
        pending.append(("version", out, version_path, dict(common, export="version", file=os.path.basename(
            version_path), command=["vh", "version"], format="text", encrypted=False)))
        result["artifacts"] = [_publish(kind, out, path, document, fingerprints)
                               for kind, out, path, document in pending]
    result["duration"] = round(time.time() - clock, 3)
    return result

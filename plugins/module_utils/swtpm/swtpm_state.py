# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Archive and restore the swtpm state directory: the steps, in the order that keeps them safe.

Archive: check, stop the unit, prove no swtpm holds the state, stream the tar
into an atomic 0600 file (hashed on the way), publish the manifest, start the
unit again whatever happened.

Restore: verify everything (manifest, size, SHA-256, every tar member, every
file hash) and the host identity before anything changes; unpack into a
private directory beside the state; stop the unit; swap directories (the old
one becomes the safety copy); start the unit; put the old state back if the
unit does not start.
"""

import os
import time

from ansible_collections.vaultops.recovery.plugins.module_utils.common import artifact_manifest, dir_swap, machine_identity, security_event, state_tree
from ansible_collections.vaultops.recovery.plugins.module_utils.swtpm import state_tar, swtpm_lock, swtpm_manifest
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import (
    AtomicFile, check_writable_directory, write_json_atomic)
from ansible_collections.vaultops.recovery.plugins.module_utils.common.artifact_name import is_inside, render_name, utc_now
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

DEFAULT_PATTERNS = {"gzip": "{hostname}-swtpm-%Y%m%d-%H%M%S.tar.gz", "none": "{hostname}-swtpm-%Y%m%d-%H%M%S.tar"}
HOST_CHANGE_EVENT = "swtpm_state_restored_on_another_host"


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def archive_name(pattern, hostname, compression, moment):
    """Render name_pattern: {hostname} literally, then strftime codes in UTC."""
    return render_name(pattern or DEFAULT_PATTERNS[compression], {"hostname": hostname}, moment)


def _after_restart(exc, service, restart_error):
    """exc, with what happened to the service appended and the service facts attached."""
    if restart_error:
        tail = " Also, %s; swtpm is down." % restart_error
        fix = "%s Then start it: systemctl start %s." % (exc.fix or "", service.name)
    elif service.restarted:
        tail = " %s was started again." % service.name
        fix = exc.fix
    else:
        tail, fix = "", exc.fix
    facts = dict(exc.facts)
    facts["service"] = service.facts()
    return RecoveryError(exc.message + tail, fix=fix, **facts)


def _while_stopped(service, body):
    """Stop the unit, run body, and on any failure start the unit again before the error travels on."""
    service.stop()
    try:
        return body()
    except RecoveryError as exc:
        raise _after_restart(exc, service, service.restart())
    except BaseException:
        service.restart()
        raise


def _entries_summary(entries):
    files = [entry for entry in entries if entry["type"] == "file"]
    return len(files), sum(entry["size"] for entry in files)


# ---------------------------------------------------------------- archive

def archive(p, service, check_mode):
    started = utc_now()
    clock = time.time()
    state_dir = p["state_dir"]
    state_tree.require_state_dir(state_dir)
    check_writable_directory(p["dest_dir"])
    if is_inside(p["dest_dir"], state_dir):
        raise RecoveryError("dest_dir %s is inside state_dir %s; the archive would contain itself." % (
            p["dest_dir"], state_dir), fix="write the archive to a directory outside the swtpm state.")
    identity = machine_identity.local_identity(p["machine_id_path"])
    path = os.path.join(p["dest_dir"], archive_name(p["name_pattern"], identity["hostname"], p["compressor"], started))
    manifest_path = artifact_manifest.manifest_path_for(path)
    for existing in (path, manifest_path):
        if os.path.lexists(existing):
            raise RecoveryError("%s already exists; it was left untouched." % existing,
                                fix="choose another name (name_pattern) or move the existing file away.")
    service.query()
    result = dict(path=path, manifest=manifest_path, state_dir=state_dir, hostname=identity["hostname"],
                  machine_id_digest=identity["machine_id_digest"])
    warnings = []
    if identity["machine_id_error"]:
        warnings.append("the archive records no machine identity (%s); restoring it will require"
                        " allow_host_change: true." % identity["machine_id_error"])
    if service.state_before == "not-found":
        warnings.append("systemd does not know %s; nothing was stopped. The swtpm lock on the state was checked"
                        " instead." % service.name)
    if not service.would_stop:
        swtpm_lock.require_unlocked(state_dir, "an archive taken now")
    if check_mode:
        entries, skipped = state_tree.inventory(state_dir)
        count, total = _entries_summary(entries)
        result.update(changed=True, service=service.facts(), file_count=count, state_bytes=total, skipped=skipped,
                      warnings=warnings,
                      plan="would archive %d file(s), %d bytes, from %s to %s (mode 0600) with its manifest; %s" % (
                          count, total, state_dir, path, service.plan()))
        return result

    def body():
        swtpm_lock.require_unlocked(state_dir, "an archive taken now")
        with AtomicFile(path, mode=0o600) as out:
            entries, skipped = state_tar.write_tree(state_dir, out, p["compressor"])
            out.commit()
        service_record = dict(name=service.name, state_before=service.state_before,
                              stopped_by_module=service.stopped_by_module, stopped_by_caller=service.caller_stopped)
        manifest = swtpm_manifest.build(path, p["compressor"], os.path.abspath(state_dir), identity, entries,
                                        skipped, out.size, out.sha256, iso(started), iso(utc_now()), service_record)
        try:
            write_json_atomic(manifest_path, manifest, mode=0o600)
        except BaseException:
            os.unlink(path)  # an archive without its manifest is incomplete: do not leave one behind
            raise
        return manifest

    manifest = _while_stopped(service, body)
    restart_error = service.restart()
    if restart_error:
        raise RecoveryError("%s and its manifest were written, but %s; swtpm is down." % (path, restart_error),
                            fix="see systemctl status %s and start it." % service.name, path=path,
                            manifest=manifest_path, service=service.facts())
    result.update(changed=True, manifest_data=manifest, sha256=manifest["sha256"], size=manifest["size"],
                  file_count=manifest["file_count"], state_bytes=manifest["state_bytes"], skipped=manifest["skipped"],
                  service=service.facts(), warnings=warnings, duration=round(time.time() - clock, 3))
    return result


# ---------------------------------------------------------------- restore

def verify(archive_path, manifest_path=None):
    """Everything that can be checked without touching the host; returns the verified facts."""
    manifest, manifest_path = swtpm_manifest.load(archive_path, manifest_path)
    sha256, size = swtpm_manifest.check_archive_file(archive_path, manifest)
    entries = state_tar.read_entries(archive_path)
    state_tar.compare_with_manifest(entries, swtpm_manifest.manifest_entries(manifest), archive_path)
    return dict(manifest=manifest, manifest_path=manifest_path, sha256=sha256, size=size, entries=entries)


def _host_change_event(p, verified, target, relation, state_dir, safety_base):
    manifest = verified["manifest"]
    event = dict(
        event=HOST_CHANGE_EVENT, module="vaultops.recovery.swtpm_archive", archive=os.path.abspath(p["path"]),
        archive_sha256=verified["sha256"], identity=relation,
        source=dict(hostname=manifest["hostname"], machine_id_digest=manifest["machine_id_digest"],
                    state_dir=manifest["state_dir"], archived_at=manifest.get("completed_at")),
        target=dict(hostname=target["hostname"], machine_id_digest=target["machine_id_digest"], state_dir=state_dir),
        safety_copy=safety_base if os.path.lexists(state_dir) else None, allow_host_change=True)
    summary = ("SECURITY: swtpm state from host %s (archive %s, sha256 %s) is being restored into %s on host %s"
               " (machine identity %s); allow_host_change was set. The TPM secrets that unseal Vaulthalla's keys"
               " now exist on this host." % (
                   manifest["hostname"], os.path.basename(p["path"]), verified["sha256"][:16], state_dir,
                   target["hostname"], relation))
    return event, summary


def _restore_plan(p, state_dir, count, total, service, relation, safety):
    plan = "would restore %d file(s), %d bytes, from %s into %s" % (count, total, p["path"], state_dir)
    if safety:
        plan += ", keeping the current state as %s" % safety
    plan += "; " + service.plan()
    if relation != machine_identity.SAME:
        plan += "; would record a security event (syslog and %s) because the archive comes from %s" % (
            p["recovery_log"], "another host" if relation == machine_identity.DIFFERENT else "an unproven host")
    return plan


def _unpack(p, entries, state_dir):
    """Unpack into a private directory beside state_dir and prove it matches; returns (staging, remapped owners)."""
    by_name = p["owners"] == "by_name"
    staging = dir_swap.make_staging(state_dir)
    try:
        remapped = state_tar.extract(p["path"], staging, entries, by_name=by_name)
        problems = state_tree.differences(state_tree.inventory(staging)[0], entries, by_name=by_name)
        if problems:
            raise RecoveryError("the unpacked state does not match the archive: %s. Nothing was changed." % "; ".join(
                problems[:5]), fix="check the file system under %s (space, permissions)." % os.path.dirname(state_dir))
    except BaseException:
        dir_swap.remove_tree(staging)
        raise
    return staging, remapped


def restore(p, service, logger_path, check_mode):
    clock = time.time()
    state_dir = os.path.abspath(p["state_dir"])
    verified = verify(p["path"], p["manifest"])
    manifest, entries = verified["manifest"], verified["entries"]
    if os.path.islink(state_dir):
        raise RecoveryError("state_dir %s is a symbolic link; the restore replaces the directory itself." % state_dir,
                            fix="set state_dir to the directory the link points to.")
    if os.path.lexists(state_dir) and not os.path.isdir(state_dir):
        raise RecoveryError("state_dir %s exists and is not a directory." % state_dir, fix="check state_dir.")
    target = machine_identity.local_identity(p["machine_id_path"])
    relation = machine_identity.compare(manifest["machine_id_digest"], target["machine_id_digest"])
    host_change = relation != machine_identity.SAME
    if host_change and not p["allow_host_change"]:
        raise machine_identity.host_change_refusal(relation, manifest, target, p["path"])
    count, total = _entries_summary(entries)
    result = dict(path=p["path"], manifest=verified["manifest_path"], sha256=verified["sha256"], size=verified["size"],
                  state_dir=state_dir, archived_from=dict(hostname=manifest["hostname"], state_dir=manifest["state_dir"],
                                                          completed_at=manifest.get("completed_at")),
                  host_change=host_change, identity=relation, file_count=count, state_bytes=total,
                  safety_copy=None, security_event=None, owners_remapped=[])
    if os.path.isdir(state_dir):
        current, _skipped = state_tree.inventory(state_dir)
        if not state_tree.differences(current, entries, by_name=p["owners"] == "by_name"):
            result.update(changed=False, service=service.facts(),
                          msg="%s already holds exactly this state (every file, mode and owner); nothing to do."
                              % state_dir, duration=round(time.time() - clock, 3))
            return result
    dir_swap.parent_of(state_dir)
    service.query()
    safety_base = dir_swap.free_name("%s.pre-restore-%s" % (state_dir, utc_now().strftime("%Y%m%dT%H%M%SZ")))
    has_current = os.path.lexists(state_dir)
    if has_current and not service.would_stop:
        # Before a plan or a security event claims a restore that the running swtpm would then block.
        swtpm_lock.require_unlocked(state_dir, "a restore now")
    if check_mode:
        result.update(changed=True, service=service.facts(), safety_copy=safety_base if has_current else None,
                      plan=_restore_plan(p, state_dir, count, total, service, relation,
                                         safety_base if has_current else None))
        return result
    if host_change:
        event, summary = _host_change_event(p, verified, target, relation, state_dir, safety_base)
        result["security_event"] = security_event.record(event, summary, p["recovery_log"], logger_path)
    staging, result["owners_remapped"] = _unpack(p, entries, state_dir)

    def body():
        if has_current:
            swtpm_lock.require_unlocked(state_dir, "a restore now")
        return dir_swap.swap_in(staging, state_dir, safety_base)

    try:
        safety = _while_stopped(service, body)
    except BaseException:
        dir_swap.remove_tree(staging)  # after a successful swap it no longer exists
        raise
    restart_error = service.restart()
    if restart_error:
        dir_swap.roll_back(state_dir, safety, dir_swap.free_name(staging))
        second_error = service.restart()
        raise RecoveryError(
            "the archive was restored into %s, but %s, so the restore was rolled back: %s; %s." % (
                state_dir, restart_error,
                "the previous state is back in place" if safety else "state_dir is absent again, as it was before",
                "%s is running again" % service.name if not second_error else
                "%s still does not start (%s)" % (service.name, second_error)),
            fix="see journalctl -u %s for why swtpm rejected the restored state." % service.name,
            service=service.facts(), security_event=result["security_event"])
    if safety and not p["keep_safety_copy"]:
        dir_swap.remove_tree(safety)
        safety = None
    result.update(changed=True, safety_copy=safety, service=service.facts(), duration=round(time.time() - clock, 3))
    return result

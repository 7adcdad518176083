# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The safety rules of a Vaulthalla restore, decided before anything on the host is touched.

``plan_restore`` is pure: plain dicts in (the set's manifest.json, the target's vh_host_facts, the options and
what the controller knows about the set), plain dicts out. Each rule is a small function that returns a refusal
(rule, message with its Fix) or None; ``plan_restore`` runs them all, so every reason a restore is refused is
named at once, and returns the decisions the role acts on, the plan it shows and its planned result.

The cryptographic check of the signature stays with recovery_set (state=verify); the plan decides the policy.
"""

import os
import re

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.openpgp.gpg_signature import signature_policy

KEY_BLOBS = ("psql", "master", "vault_master")
SWTPM_GAP = "swtpm state (the set records TPM mode swtpm but has no swtpm_state archive)"
SECRETS_ARTIFACT = re.compile(r"secrets[.]json[.]gpg$")
VERSION = re.compile(r"[0-9]+(\.[0-9]+)+")

DEFAULT_OPTIONS = dict(
    set_dir="", target_host="", timestamp="", check_mode=False,
    compatible_versions=[], ignore_version_mismatch=False, allow_host_change=False,
    allow_incomplete_key_chain=False, reseed_db_password="auto", db_password_given=False,
    gnupg_home="", signed_by="", signature_present=False, controller_manifest_sha256=None,
    staging_dir="/var/backups/vaultops", keep_staging=False, safety_copy=True, services=[], paths=[],
    swtpm_state_dir="/var/lib/swtpm/vaulthalla", db_name="vaulthalla", db_login_host="",
)


def _refusal(rule, message, fix):
    return dict(rule=rule, message="%s Fix: %s" % (message, fix), fix=fix)


def _first(artifacts, kind):
    return next((a["name"] for a in artifacts if a.get("kind") == kind), "")


def _missing_blobs(manifest):
    recorded = [re.sub(r"[.]blob$", "", re.sub(r"^[.]sealed_", "", os.path.basename(blob)))
                for blob in manifest.get("sealed_key_blobs") or []]
    return [blob for blob in KEY_BLOBS if blob not in recorded]


def decide(manifest, host, artifacts, options):
    """The facts every rule and the role decide on."""
    set_dir = options["set_dir"]
    set_name = os.path.basename(set_dir)
    same_host = host.get("machine_id_sha256") == manifest.get("machine_id_sha256", "")
    found = VERSION.search(manifest.get("vaulthalla_version") or "")
    set_version = found.group(0) if found else "unknown"
    target_version = host.get("package_release", "")
    version_ok = target_version == set_version or target_version in options["compatible_versions"]
    set_tpm = manifest.get("tpm_mode", "unknown")
    swtpm_artifact = _first(artifacts, "swtpm_state")
    missing_blobs = _missing_blobs(manifest)
    gaps = ([SWTPM_GAP] if set_tpm == "swtpm" and not swtpm_artifact else []) \
        + (["sealed key blob " + ", ".join(missing_blobs)] if missing_blobs else [])
    mode = options["reseed_db_password"]
    reseed = mode == "always" or (mode == "auto" and (not same_host or bool(options["db_login_host"])
                                                      or bool(options["db_password_given"])))
    staged_manifest = "%s/%s/manifest.json" % (options["staging_dir"], set_name)
    controller_digest = options["controller_manifest_sha256"]
    host_checksums = host.get("checksums") or {}
    # The role asks vh_host_facts for exactly this file; its only entry counts too, since the host expands the
    # path itself (a "~" in staging_dir is the host's home there and the controller's here).
    staged_digest = host_checksums.get(staged_manifest,
                                       next(iter(host_checksums.values())) if len(host_checksums) == 1 else None)
    stage_reused = bool(controller_digest) and staged_digest == controller_digest
    host_paths = host.get("paths") or {}
    core = [_first(artifacts, "path_archive"), _first(artifacts, "pg_dump")] + ([swtpm_artifact] if swtpm_artifact else [])
    s3_artifacts = [a["name"] for a in artifacts if a.get("kind") == "s3_bucket_copy"]
    return dict(
        set_dir=set_dir,
        set_name=set_name,
        same_host=same_host,
        host_changed=not same_host,
        set_version=set_version,
        target_version=target_version,
        version_ok=version_ok,
        version_mismatch_overridden=not version_ok,
        set_tpm=set_tpm,
        target_tpm="hardware" if host.get("tpm_devices_present") else "swtpm",
        key_chain_gaps=gaps,
        reseed=reseed,
        signed_set=bool(options["signature_present"]),
        stage_reused=stage_reused,
        # A host copy with the controller's manifest.json is hashed where it is used (stage.yml); then the controller's
        # copy needs only its completeness, sizes and signature proven. Check mode stages nothing, so it hashes here.
        checksums_on_controller=bool(options["check_mode"]) or not stage_reused,
        stage_dir="%s/%s%s" % (options["staging_dir"], "" if stage_reused else "restore-", set_name),
        # What is copied to the host when its copy is not reused: each artifact and its manifest.
        stage_files=[name + suffix for name in core for suffix in ("", ".manifest.json")]
        + [name + suffix for name in s3_artifacts for suffix in ("/", ".manifest.json")],
        # The host's own copy stays (vaulthalla_backup keeps it); a copy the restore made goes unless kept.
        remove_stage=not stage_reused and not options["keep_staging"],
        timestamp=options["timestamp"],
        safety_dir="%s/pre-restore-%s" % (options["staging_dir"], options["timestamp"]),
        # The result's safety_copy: the safety copy directory, or '' when none is taken
        safety_copy_dir="%s/pre-restore-%s" % (options["staging_dir"], options["timestamp"]) if options["safety_copy"] else "",
        db_artifact=_first(artifacts, "pg_dump"),
        state_artifact=_first(artifacts, "path_archive"),
        swtpm_artifact=swtpm_artifact,
        s3_artifacts=s3_artifacts,
        secrets_artifact=next((a["name"] for a in artifacts if SECRETS_ARTIFACT.search(a["name"])), ""),
        s3_vault_buckets=manifest.get("s3_vault_buckets") or {},
        sync_vaults=list((manifest.get("s3_vault_buckets") or {}).keys()),
        known_files=manifest.get("known_files") or [],
        # What exists before the restore, for the safety copy and the rollback
        existing_paths=[p for p in options["paths"] if (host_paths.get(p) or {}).get("exists")],
        # ... and what did not exist, which a rollback removes again
        absent_paths=[p for p in options["paths"] if not (host_paths.get(p) or {}).get("exists")],
        had_swtpm=(host.get("swtpm_state_files") or 0) > 0,
        had_db=bool(options["db_login_host"]) or bool(host.get("database_exists")),
    )


# The rules. Each takes (decisions, manifest, options) and returns a refusal or None.

def rule_signed_set_without_signer(d, manifest, o):
    if d["signed_set"] and not o["signed_by"]:
        return _refusal(
            "signed_set_without_signer",
            "The set %s is signed (manifest.json.asc) but vaulthalla_restore_signed_by is empty, so the signature"
            " cannot be checked." % d["set_dir"],
            "set vaulthalla_restore_signed_by to the fingerprint that signs your sets (and"
            " vaulthalla_restore_gnupg_home to a GnuPG home holding its public key).")
    return None


def rule_unsigned_set_when_required(d, manifest, o):
    """A signer given makes the signature required (recovery_set's require_signature default)."""
    try:
        signature_policy(o["signed_by"], None, d["signed_set"], d["set_dir"])
    except RecoveryError as exc:
        return _refusal("unsigned_set", exc.message,
                        "use the signed copy of the set. Only for a set taken before signing was configured, restore it"
                        " unsigned on purpose with vaulthalla_restore_signed_by=''.")
    return None


def rule_required_artifacts(d, manifest, o):
    missing = [kind for kind, key in (("pg_dump", "db_artifact"), ("path_archive", "state_artifact")) if not d[key]]
    if missing:
        return _refusal("required_artifacts",
                        "The set %s has no %s artifact, so there is nothing to restore it from. Nothing was changed."
                        % (d["set_name"], " and no ".join(missing)),
                        "use a complete Vaulthalla recovery set (vaulthalla_backup writes both).")
    return None


def rule_version(d, manifest, o):
    if d["version_ok"] or o["ignore_version_mismatch"]:
        return None
    return _refusal(
        "version_mismatch",
        "The set %s was taken with Vaulthalla %s (%s), but %s has %s installed. Nothing was changed." % (
            d["set_name"], d["set_version"], manifest.get("vaulthalla_version", "unknown"), o["target_host"],
            d["target_version"]),
        "install Vaulthalla %s on the target (the seed: same version where possible), list %s in"
        " vaulthalla_restore_compatible_versions if the release notes say so, or set"
        " vaulthalla_restore_ignore_version_mismatch=true (recorded in the recovery log)." % (
            d["set_version"], d["target_version"]))


def rule_hardware_tpm_elsewhere(d, manifest, o):
    if d["set_tpm"] == "hardware" and not d["same_host"]:
        return _refusal(
            "hardware_tpm_host_change",
            "The set %s comes from a host with a hardware TPM, and %s is another machine. The sealed key blobs in"
            " /var/lib/vaulthalla/.sealed_*.blob can only be unsealed by the TPM chip that sealed them: restored here,"
            " Vaulthalla would not start or would silently make NEW keys. Nothing was changed." % (
                d["set_name"], o["target_host"]),
            "restore onto the original machine; for another machine the recovery path is the set's GPG-encrypted"
            " vault-key export (vaulthalla-vault-keys.json.gpg) and secret export, decrypted with the recipient's key"
            " and re-entered by hand, since Vaulthalla has no key import command.")
    return None


def rule_swtpm_host_change(d, manifest, o):
    if d["swtpm_artifact"] and not d["same_host"] and not o["allow_host_change"]:
        return _refusal(
            "swtpm_host_change",
            "The set %s was taken on another machine (machine-id differs), so its swtpm state would replace this"
            " host's TPM identity. Nothing was changed." % d["set_name"],
            "set vaulthalla_restore_allow_host_change=true for a replacement host (recorded as a security event),"
            " or pick the set of this host.")
    return None


def rule_key_chain(d, manifest, o):
    """The silent-new-key hazard: without its blobs or its TPM state Vaulthalla starts with NEW keys (or not at all)."""
    if d["key_chain_gaps"] and not o["allow_incomplete_key_chain"]:
        return _refusal(
            "incomplete_key_chain",
            "The set %s lacks %s. Restored without it, Vaulthalla cannot unseal its keys: it either does not start"
            " or silently makes NEW keys, and no vault file decrypts. Nothing was changed." % (
                d["set_name"], " and ".join(d["key_chain_gaps"])),
            "restore a complete set; to prove this failure in a drill, set"
            " vaulthalla_restore_allow_incomplete_key_chain=true.")
    return None


def rule_reseed_source(d, manifest, o):
    if d["reseed"] and not o["db_password_given"] and not o["gnupg_home"]:
        return _refusal(
            "reseed_without_password",
            "The database password must be reseeded (target %s), but neither vaulthalla_restore_db_password nor"
            " vaulthalla_restore_gnupg_home (with the secret key of the set's GPG recipient %s, to decrypt %s) is"
            " set. Nothing was changed." % (
                "is another machine" if not d["same_host"] else "asked for it",
                ", ".join(manifest.get("gpg_recipients") or []), d["secrets_artifact"] or "the secret export"),
            "set one of them.")
    return None


RULES = (rule_signed_set_without_signer, rule_unsigned_set_when_required, rule_required_artifacts, rule_version,
         rule_hardware_tpm_elsewhere, rule_swtpm_host_change, rule_key_chain, rule_reseed_source)


def rule_no_set(options):
    if options["set_dir"]:
        return None
    return _refusal(
        "no_set",
        "No recovery set given for %s." % options["target_host"],
        "set vaulthalla_restore_set_dir to a set directory on the controller (the one with manifest.json),"
        " or vaulthalla_restore_set_bucket/_prefix/_name for a set in a backup bucket.")


def show(d, manifest, o):
    """The plan as the role shows it (what stops, what is replaced from what, in which order)."""
    db_where = ("on " + o["db_login_host"]) if o["db_login_host"] else "(local)"
    return {
        "set": d["set_dir"],
        "recovery_point": manifest.get("started_at", "unknown"),
        "source_host": manifest.get("host", "unknown"),
        "target_is_source_machine": d["same_host"],
        "version": "set %s, target %s%s" % (
            d["set_version"], d["target_version"], " (MISMATCH, overridden)" if not d["version_ok"] else ""),
        "services_stopped_in_order": list(o["services"]),
        "safety_copy": ("%s (config, state, swtpm state, database dump); automatic rollback on failure" % d["safety_dir"])
        if o["safety_copy"] else "none: a failed restore cannot be rolled back",
        "replaced_in_order": [
            "database %s %s from %s (owner role and database created when missing), in the background while the next"
            " three run" % (o["db_name"], db_where, d["db_artifact"]),
            "%s from %s" % (" and ".join(o["paths"]), d["state_artifact"]),
            ("%s from %s" % (o["swtpm_state_dir"], d["swtpm_artifact"])) if d["swtpm_artifact"]
            else "no swtpm state in the set (TPM mode %s)" % d["set_tpm"],
            "S3/R2 buckets filled from the set when missing or empty: %s" % (", ".join(d["s3_artifacts"]) or "none"),
            "then, once the database restore ended well: %s" % (
                "/run/vaulthalla/db_password reseeded" if d["reseed"] else "database password not reseeded"),
        ],
        "services_started_in_order": list(o["services"]),
        "checks_after_start": "vh status healthy, vh vault sync info for %s, read %d known files" % (
            ", ".join(d["sync_vaults"]) or "no S3/R2 vault", len(d["known_files"])),
    }


def planned_result(d, manifest, o):
    """The role's result fact as planned (record.yml adds what the restore did)."""
    return dict(
        status="planned",
        set_name=d["set_name"],
        set_dir=d["set_dir"],
        recovery_point=manifest.get("started_at", "unknown"),
        source_host=manifest.get("host", "unknown"),
        target_host=o["target_host"],
        host_changed=not d["same_host"],
        set_version=d["set_version"],
        target_version=d["target_version"],
        version_mismatch_overridden=not d["version_ok"],
        key_chain_gaps=list(d["key_chain_gaps"]),
        db_password_reseeded=d["reseed"],
    )


def plan_restore(manifest, host, artifacts, options):
    """Decide a restore: {decisions, refusals, plan, result}; refusals empty means it may go ahead.

    manifest: the set's manifest.json ({} without a set); host: vh_host_facts' result; artifacts: the set's
    [{name, kind}] (manifest.json's artifacts); options: see DEFAULT_OPTIONS (the role's inputs, booleans for
    secrets, and the controller's view of the set: signature_present, controller_manifest_sha256).
    """
    o = dict(DEFAULT_OPTIONS)
    o.update((k, v) for k, v in (options or {}).items() if v is not None)
    manifest = manifest or {}
    host = host or {}
    artifacts = artifacts or []
    no_set = rule_no_set(o)
    if no_set:
        return dict(decisions={}, refusals=[no_set], plan={}, result={})
    d = decide(manifest, host, artifacts, o)
    refusals = [r for r in (rule(d, manifest, o) for rule in RULES) if r]
    return dict(decisions=d, refusals=refusals, plan=show(d, manifest, o), result=planned_result(d, manifest, o))


def refusal_message(refusals):
    """One message naming every refusal, each with its Fix."""
    if len(refusals) == 1:
        return refusals[0]["message"]
    return "The restore is refused for %d reasons: %s" % (
        len(refusals), " ".join("(%d) %s" % (n, r["message"]) for n, r in enumerate(refusals, 1)))

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A restore drill's report: the same content as JSON (for tools) and Markdown (for people).

Both files are rendered in memory first and published with atomic_file (0600,
never replacing an existing file), the JSON last: a report whose JSON exists is
complete. Rendering is deterministic, so writing the same report again changes
nothing; a different report under an existing name is refused, never merged.

drill_checks names a Vaulthalla drill's checks from the raw results of its
steps (restore, vh_db_facts, vh_check, vh_export, vh_export_read), so the
role passes registered results instead of building checks in Jinja.
"""

import json
import os

from ansible_collections.vaultops.recovery.plugins.module_utils.common.artifact_name import check_plain_name
from ansible_collections.vaultops.recovery.plugins.module_utils.common.atomic_file import (
    check_writable_directory, write_bytes_atomic)
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

REPORT_VERSION = 1


def check_name(name):
    return check_plain_name(name, "name %r cannot be a file name." % name,
                            fix="use a plain name such as drill-vh1-20261121T101500Z (no '/', not starting with '.').")


def check_checks(checks):
    names = [check["name"] for check in checks]
    duplicates = sorted(set(name for name in names if names.count(name) > 1))
    if duplicates:
        raise RecoveryError("check name(s) %s appear more than once in checks." % ", ".join(duplicates),
                            fix="give every check its own name.")
    empty = [index for index, name in enumerate(names) if not name.strip()]
    if empty:
        raise RecoveryError("checks[%d] has an empty name." % empty[0], fix="name every check.")


def build(title, checks, facts):
    """The report as a dict (the JSON document)."""
    failed = [check["name"] for check in checks if not check["passed"]]
    return {
        "report_version": REPORT_VERSION,
        "title": title,
        "passed": bool(checks) and not failed,
        "check_count": len(checks),
        "failed_checks": failed,
        "checks": [{"name": check["name"], "passed": bool(check["passed"]), "detail": check.get("detail") or ""}
                   for check in checks],
        "facts": facts,
    }


def verdict(report):
    """The one-line outcome, e.g. 'FAILED: 2 of 7 checks failed: a, b'."""
    if not report["check_count"]:
        return "FAILED: no checks were run"
    if report["passed"]:
        return "PASSED: all %d checks passed" % report["check_count"]
    failed = report["failed_checks"]
    return "FAILED: %d of %d checks failed: %s" % (len(failed), report["check_count"], ", ".join(failed))


def escape_cell(value):
    """Text that stays inside one Markdown table cell and shows literally (GFM)."""
    text = value if isinstance(value, str) else fact_text(value)
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\\", "\\\\"), ("|", "\\|")):
        text = text.replace(raw, escaped)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def fact_text(value):
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(fact_text(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def render_markdown(report):
    title = " ".join(report["title"].split()) or "Restore drill"
    lines = ["# %s" % escape_cell(title), "", "**%s**" % escape_cell(verdict(report)), "", "## Facts", ""]
    if report["facts"]:
        lines += ["| Fact | Value |", "|---|---|"]
        lines += ["| %s | %s |" % (escape_cell(str(key)), escape_cell(value)) for key, value in report["facts"].items()]
    else:
        lines.append("(none recorded)")
    lines += ["", "## Checks", ""]
    if report["checks"]:
        lines += ["| Check | Result | Detail |", "|---|---|---|"]
        lines += ["| %s | %s | %s |" % (escape_cell(check["name"]), "PASS" if check["passed"] else "**FAIL**",
                                        escape_cell(check["detail"])) for check in report["checks"]]
    else:
        lines.append("(no checks were run)")
    return ("\n".join(lines) + "\n").encode("utf-8")


def render_json(report):
    return (json.dumps(report, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _existing(path):
    if not os.path.lexists(path):
        return None
    if not os.path.isfile(path) or os.path.islink(path):
        return b""  # never equal to a rendering: refused below
    with open(path, "rb") as handle:
        return handle.read()


def write(dest_dir, name, report, check_mode=False):
    """Publish <name>.md then <name>.json; returns {json_path, markdown_path, changed}."""
    check_writable_directory(dest_dir)
    paths = {"markdown_path": os.path.join(dest_dir, check_name(name) + ".md"),
             "json_path": os.path.join(dest_dir, name + ".json")}
    contents = {"markdown_path": render_markdown(report), "json_path": render_json(report)}
    pending = []
    for key in ("markdown_path", "json_path"):
        existing = _existing(paths[key])
        if existing is None:
            pending.append(key)
        elif existing != contents[key]:
            raise RecoveryError(
                "%s already exists with another report; both report files were left untouched." % paths[key],
                fix="give this drill its own name (for example with the drill time in it) or move the old report"
                    " away.")
    if not check_mode:
        for key in pending:
            write_bytes_atomic(paths[key], contents[key])
    return dict(paths, changed=bool(pending))


# The drill's named checks, built from the raw results of its tasks. Every detail is text the probes already
# reported (counts, digests, states, error messages); no secret value is read here, and the key check compares
# digests only (vh_export_read).

DB_CHECKS = (("database_row_counts", "row_counts"), ("user_record", "records_users"),
             ("group_record", "records_groups"), ("role_record", "records_vault_role"),
             ("share_record", "records_share_link"), ("cost_control_policy", "s3_price_budget_policy"))
FILE_KINDS = (("local_vault_file", "local"), ("s3_vault_file", "s3"), ("s3_encrypted_upstream_file", "encrypted"))
KEY_CHAIN_GAP_TEXT = ("the set lacks %s: on a fresh host its sealed keys cannot be unsealed, so Vaulthalla fails"
                      " to start or makes new keys. This host: ")


def _check(name, passed, detail):
    return {"name": name, "passed": bool(passed), "detail": "" if detail is None else str(detail)}


def _named(checks, name):
    """The first check called ``name``, or None."""
    return next((check for check in checks if check.get("name") == name), None)


def _probe_checks(result):
    return (result or {}).get("checks") or []


def restore_note(restore_error):
    """'restore failed: <why>' when the restore failed, else ''."""
    return "" if restore_error is None else "restore failed: %s" % restore_error


def restore_check(restore_error, recovery_seconds):
    """restore_completed: passes unless the restore failed; says how long the restore took."""
    seconds = "?" if recovery_seconds is None else recovery_seconds
    return _check("restore_completed", restore_error is None,
                  restore_note(restore_error) or "restored in %s s" % seconds)


def database_checks(db):
    """The six database checks, from vh_db_facts' checks; the module's error when it did not run."""
    db = db or {}
    error = db.get("msg", "database facts not collected")
    checks = []
    for name, source in DB_CHECKS:
        found = _named(_probe_checks(db), source)
        if found:
            checks.append(_check(name, found.get("passed"), found.get("detail", "")))
        else:
            checks.append(_check(name, False, error))
    return checks


def vh_status_check(vh):
    """vh_status_healthy, from vh_check's vh_status check; the module's error when it did not run."""
    vh = vh or {}
    status = _named(_probe_checks(vh), "vh_status")
    if status:
        return _check("vh_status_healthy", status.get("passed"), status.get("detail", ""))
    return _check("vh_status_healthy", False, vh.get("msg", "vh not reached"))


def sync_info_checks(vh):
    """vh_check's sync_info_<vault> checks, as they are."""
    return [_check(check["name"], check.get("passed"), check.get("detail", ""))
            for check in _probe_checks(vh) if str(check.get("name", "")).startswith("sync_info_")]


def encrypted_upstream_vaults(sync):
    """Vaults whose C(vh vault sync info) says Upstream encryption: enabled."""
    return [vault for vault, fields in (sync or {}).items()
            if isinstance(fields, dict) and fields.get("Upstream encryption") == "enabled"]


def is_file_kind(kind, vault, s3_vaults, encrypted_vaults):
    """Whether a file of ``vault`` counts for ``kind``: V(local) (not an S3 vault), V(s3) (an S3 vault without
    upstream encryption) or V(encrypted) (upstream encryption enabled)."""
    if kind == "local":
        return vault not in s3_vaults
    if kind == "s3":
        return vault in s3_vaults and vault not in encrypted_vaults
    return vault in encrypted_vaults


def file_vault(check):
    """The vault of a file_<vault>:<path> check."""
    return check["name"][len("file_"):].split(":")[0]


def file_checks(vh, s3_vaults, note=""):
    """local_vault_file, s3_vault_file, s3_encrypted_upstream_file: every file of the kind read back correctly.

    A kind without any file read fails (a drill must prove each kind), with the restore note when the restore
    failed.
    """
    encrypted = encrypted_upstream_vaults((vh or {}).get("sync"))
    files = [check for check in _probe_checks(vh) if str(check.get("name", "")).startswith("file_")]
    checks = []
    for name, kind in FILE_KINDS:
        picked = [check for check in files if is_file_kind(kind, file_vault(check), s3_vaults, encrypted)]
        if picked:
            checks.append(_check(name, all(check.get("passed") for check in picked),
                                 "; ".join(str(check.get("detail", "")) for check in picked)))
        else:
            checks.append(_check(name, False, "no known file of this kind was read" + (" (%s)" % note if note else "")))
    return checks


def key_chain_gap_text(gaps):
    """Why a set with key chain gaps cannot bring its keys to a fresh host, or '' without gaps."""
    return KEY_CHAIN_GAP_TEXT % " and ".join(gaps) if gaps else ""


def keys_check(keys, export, gaps, note=""):
    """vault_keys_are_exported_keys: the host's vault keys equal the set's export (by digest) and the set has no
    key chain gaps."""
    keys = keys or {}
    if "match" in keys:
        detail = keys["detail"] if "detail" in keys else keys.get("msg", "")
    elif note:
        detail = "the restored host could not export its keys (%s)" % note
    else:
        detail = "the restored host could not export its keys: %s" % (export or {}).get(
            "msg", "vh status was not healthy")
    return _check("vault_keys_are_exported_keys", keys.get("match", False) and not gaps,
                  key_chain_gap_text(gaps) + str(detail))


def drill_checks(results):
    """The drill's named checks, in report order, from the raw results of its steps.

    ``results`` holds: restore (whether the drill restored), restore_error (why the restore failed, or None),
    recovery_seconds, key_chain_gaps (from vaulthalla_restore_result), db (vh_db_facts' result), vh (vh_check's),
    s3_vault_buckets (the manifest's), export (vh_export's) and keys (vh_export_read's).
    """
    error = results.get("restore_error")
    note = restore_note(error)
    gaps = results.get("key_chain_gaps") or []
    checks = [restore_check(error, results.get("recovery_seconds"))] if results.get("restore") else []
    checks += database_checks(results.get("db"))
    checks.append(vh_status_check(results.get("vh")))
    checks += sync_info_checks(results.get("vh"))
    checks += file_checks(results.get("vh"), list(results.get("s3_vault_buckets") or {}), note)
    checks.append(keys_check(results.get("keys"), results.get("export"), gaps, note))
    return checks

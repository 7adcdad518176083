# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A restore drill's report: the same content as JSON (for tools) and Markdown (for people).

Both files are rendered in memory first and published with atomic_file (0600,
never replacing an existing file), the JSON last: a report whose JSON exists is
complete. Rendering is deterministic, so writing the same report again changes
nothing; a different report under an existing name is refused, never merged.
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

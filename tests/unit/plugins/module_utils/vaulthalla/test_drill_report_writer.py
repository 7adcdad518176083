"""drill_report's writer: verdict, Markdown escaping (proven by splitting the table back into cells), atomic
0600 files, idempotence, refusal to replace another report, check mode."""

import html
import json
import os
import stat

import pytest

from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla import drill_report_writer as writer
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

NASTY = "a | b \\| c \\\\ d\nsecond line\r\nthird\r<script>&amp; `x` |"
CHECKS = [
    {"name": "row_counts", "passed": True, "detail": "21 tables equal"},
    {"name": "vault_keys", "passed": False, "detail": NASTY},
    {"name": "share | link", "passed": False, "detail": ""},
]
FACTS = {"recovery_point": "2026-11-21T10:15:00Z", "recovery_time_seconds": 412, "gpg_recipients": ["AB", "CD"],
         "tpm_mode": None, "pipe | fact": {"b": 1, "a": "x|y"}, "swtpm": True}


def split_row(line):
    """Cells of a GFM table row: an unescaped | separates, a backslash escapes the next character."""
    assert line.startswith("|") and line.endswith("|"), line
    cells, cell, index = [], "", 1
    while index < len(line):
        char = line[index]
        if char == "\\" and index + 1 < len(line):
            cell += line[index + 1]
            index += 2
            continue
        if char == "|":
            cells.append(cell.strip())
            cell = ""
        else:
            cell += char
        index += 1
    return cells


def shown(cell):
    """What a reader sees in a cell: <br> is a line break, entities are decoded."""
    return html.unescape(cell.replace("<br>", "\n"))


def table(markdown, header):
    lines = markdown.splitlines()
    start = lines.index(header)
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([shown(cell) for cell in split_row(line)])
    return rows


def report(checks=None, title="Drill of vh1 | set"):
    return writer.build(title, CHECKS if checks is None else checks, FACTS)


def test_verdict_and_failed_checks_in_order():
    document = report()
    assert (document["passed"], document["failed_checks"]) == (False, ["vault_keys", "share | link"])
    assert writer.verdict(document) == "FAILED: 2 of 3 checks failed: vault_keys, share | link"
    passing = report(checks=CHECKS[:1])
    assert passing["passed"] is True and writer.verdict(passing) == "PASSED: all 1 checks passed"


def test_no_checks_is_a_failed_drill():
    document = report(checks=[])
    assert document["passed"] is False and document["failed_checks"] == []
    assert writer.verdict(document) == "FAILED: no checks were run"
    assert "(no checks were run)" in writer.render_markdown(document).decode()


def test_markdown_tables_keep_every_value_in_its_cell():
    markdown = writer.render_markdown(report()).decode("utf-8")
    normalised = NASTY.replace("\r\n", "\n").replace("\r", "\n")
    assert table(markdown, "| Check | Result | Detail |") == [
        ["row_counts", "PASS", "21 tables equal"],
        ["vault_keys", "**FAIL**", normalised],
        ["share | link", "**FAIL**", ""]]
    assert table(markdown, "| Fact | Value |") == [
        ["recovery_point", "2026-11-21T10:15:00Z"], ["recovery_time_seconds", "412"], ["gpg_recipients", "AB, CD"],
        ["tpm_mode", "(none)"], ["pipe | fact", '{"a": "x|y", "b": 1}'], ["swtpm", "yes"]]
    lines = markdown.splitlines()
    assert lines[0] == "# Drill of vh1 \\| set"
    assert lines[2] == "**FAILED: 2 of 3 checks failed: vault_keys, share \\| link**"
    assert "<script>" not in markdown and "\r" not in markdown


def test_title_newlines_stay_in_the_heading():
    markdown = writer.render_markdown(report(title="Drill\nof vh1")).decode()
    assert markdown.splitlines()[0] == "# Drill of vh1"


def test_json_report_holds_everything(tmp_path):
    written = writer.write(str(tmp_path), "drill-1", report())
    with open(written["json_path"]) as handle:
        document = json.load(handle)
    assert document["checks"][1] == {"name": "vault_keys", "passed": False, "detail": NASTY}
    assert document["facts"]["pipe | fact"] == {"b": 1, "a": "x|y"}
    assert document["passed"] is False and document["report_version"] == 1


def test_files_are_0600_and_a_second_identical_write_changes_nothing(tmp_path):
    first = writer.write(str(tmp_path), "drill-1", report())
    assert first["changed"] is True
    for key in ("json_path", "markdown_path"):
        assert stat.S_IMODE(os.stat(first[key]).st_mode) == 0o600
    before = {key: os.stat(first[key]).st_mtime_ns for key in ("json_path", "markdown_path")}
    again = writer.write(str(tmp_path), "drill-1", report())
    assert again["changed"] is False
    assert before == {key: os.stat(again[key]).st_mtime_ns for key in ("json_path", "markdown_path")}
    assert sorted(os.listdir(str(tmp_path))) == ["drill-1.json", "drill-1.md"]  # no partial files left


def test_another_report_under_the_same_name_is_refused_and_both_files_stay(tmp_path):
    first = writer.write(str(tmp_path), "drill-1", report())
    contents = {key: open(first[key], "rb").read() for key in ("json_path", "markdown_path")}
    with pytest.raises(RecoveryError, match="already exists with another report") as info:
        writer.write(str(tmp_path), "drill-1", report(checks=CHECKS[:1]))
    assert "Fix: give this drill its own name" in str(info.value)
    assert contents == {key: open(first[key], "rb").read() for key in ("json_path", "markdown_path")}


def test_a_missing_markdown_file_is_written_next_to_an_equal_json(tmp_path):
    first = writer.write(str(tmp_path), "drill-1", report())
    os.unlink(first["markdown_path"])
    assert writer.write(str(tmp_path), "drill-1", report())["changed"] is True
    assert os.path.exists(first["markdown_path"])


def test_check_mode_writes_nothing(tmp_path):
    result = writer.write(str(tmp_path), "drill-1", report(), check_mode=True)
    assert result["changed"] is True and result["json_path"] == str(tmp_path / "drill-1.json")
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".hidden"])
def test_a_name_that_is_not_a_plain_file_name_is_refused(tmp_path, name):
    with pytest.raises(RecoveryError, match="cannot be a file name"):
        writer.write(str(tmp_path), name, report())
    assert os.listdir(str(tmp_path)) == []


def test_a_missing_dest_dir_is_refused_with_the_fix(tmp_path):
    with pytest.raises(RecoveryError, match="dest_dir .* does not exist. Fix: create it"):
        writer.write(str(tmp_path / "nope"), "drill-1", report())


def test_duplicate_and_empty_check_names_are_refused():
    with pytest.raises(RecoveryError, match="row_counts appear more than once"):
        writer.check_checks(CHECKS + [{"name": "row_counts", "passed": True, "detail": ""}])
    with pytest.raises(RecoveryError, match=r"checks\[1\] has an empty name"):
        writer.check_checks([CHECKS[0], {"name": " ", "passed": True, "detail": ""}])

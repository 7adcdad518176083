#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: drill_report
short_description: Write a restore drill's report (JSON and Markdown) and fail when a check failed
version_added: "0.1.0"
description:
  - Writes C(<dest_dir>/<name>.md) and then C(<dest_dir>/<name>.json), each atomically and with mode 0600,
    from the drill's named checks and its facts (recovery point, measured recovery time, Vaulthalla version,
    package source, database version, TPM mode, GPG recipients, set name, source and drill host, ...).
  - The checks are given either ready-made in O(checks), or as the raw results of a Vaulthalla drill's steps in
    O(results), from which the module names the checks itself (this is how role vaultops.recovery.vaulthalla_drill
    reports).
  - "From O(results) the checks are, in this order: C(restore_completed) (only with O(results.restore));
    C(database_row_counts), C(user_record), C(group_record), C(role_record), C(share_record) and
    C(cost_control_policy) (from the C(row_counts), C(records_users), C(records_groups), C(records_vault_role),
    C(records_share_link) and C(s3_price_budget_policy) checks of O(results.db), each failing with the module's
    error when it is missing); C(vh_status_healthy) (the C(vh_status) check of O(results.vh)); every
    C(sync_info_<vault>) check of O(results.vh) as it is; C(local_vault_file), C(s3_vault_file) and
    C(s3_encrypted_upstream_file) (the C(file_<vault>:<path>) checks of O(results.vh) by the kind of their vault,
    failing when no file of the kind was read); C(vault_keys_are_exported_keys) (the comparison in O(results.keys),
    failing also when O(results.key_chain_gaps) is not empty)."
  - No secret value goes into the report; the key check carries the comparison's detail, which compares digests.
  - The Markdown has the title, a PASSED or FAILED line, a facts table and a checks table (check, result,
    detail); pipes, backslashes, HTML characters and line breaks in values are escaped so each stays in its cell.
  - A drill passes when it ran at least one check and every check passed.
  - Existing report files are never replaced. Writing the same report again changes nothing; a different
    report under the same name fails and leaves both files untouched.
  - With O(fail_when_failed), a failed drill fails the task after the report is written, so the play (and
    C(ansible-playbook)) exits non-zero while the report stays for the operator.
  - Runs where the report should be kept, usually the controller (C(delegate_to=localhost)).
author:
  - vaultops.recovery contributors (@vaultops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vaultops.recovery.attributes
attributes:
  check_mode:
    details: Writes nothing; returns the paths and the verdict it would write (and fails the same way).
options:
  dest_dir:
    description: Existing directory for the report files.
    type: path
    required: true
  name:
    description: File name of the report without extension; a plain name (no C(/), not starting with C(.)).
    type: str
    required: true
  title:
    description: Title of the report (the Markdown heading).
    type: str
    default: Restore drill
  checks:
    description:
      - The drill's checks, in the order to report them. Names must be unique.
      - Exactly one of O(checks) and O(results) is required.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the check, for example V(row_counts) or V(vault_keys).
        type: str
        required: true
      passed:
        description: Whether the check passed.
        type: bool
        required: true
      detail:
        description: What was compared and, on failure, what differed or was missing.
        type: str
        default: ""
  results:
    description:
      - The raw results of a Vaulthalla drill's steps; the module builds the named checks from them (see above).
      - Registered results are passed as they are, also from a failed or skipped task (its C(msg) becomes the
        failed check's detail).
      - Exactly one of O(checks) and O(results) is required.
    type: dict
    suboptions:
      restore:
        description: Whether the drill restored the set into the host first (adds the C(restore_completed) check).
        type: bool
        default: false
      restore_error:
        description: Why the restore failed; null or absent when it did not fail.
        type: str
      recovery_seconds:
        description: Seconds the restore took (C(recovery_seconds) of the vaulthalla_restore role's result); shown
          in the C(restore_completed) check, V(?) when absent.
        type: raw
      key_chain_gaps:
        description:
          - What the set lacks to bring its sealed vault keys to a fresh host (C(key_chain_gaps) of the
            vaulthalla_restore role's result), for example V(the swtpm state). Any gap fails
            C(vault_keys_are_exported_keys).
        type: list
        elements: str
        default: []
      db:
        description: The registered result of M(vaultops.recovery.vh_db_facts) (its C(checks), or its C(msg)).
        type: dict
        default: {}
      vh:
        description:
          - The registered result of M(vaultops.recovery.vh_check) (its C(checks), C(sync), or its C(msg)).
        type: dict
        default: {}
      s3_vault_buckets:
        description: The set manifest's C(s3_vault_buckets), vault name to bucket; its vaults keep their files in S3/R2.
        type: dict
        default: {}
      export:
        description: The registered result of M(vaultops.recovery.vh_export) on the host (its C(msg) when it failed).
        type: dict
        default: {}
      keys:
        description:
          - The registered result of M(vaultops.recovery.vh_export_read) comparing the host's key export with the
            set's (C(match), C(detail), or its C(msg)); a result without C(match) means the host's keys were not
            exported.
        type: dict
        default: {}
  facts:
    description:
      - Facts about the drill, shown in the order given. Values may be strings, numbers, lists or dicts.
      - Never put secrets here.
    type: dict
    default: {}
  fail_when_failed:
    description:
      - Fail the task (after writing the report) when the drill did not pass, naming the failed checks and the
        report. With V(false), the verdict is only returned.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Write the drill report and fail the play when a check failed
  vaultops.recovery.drill_report:
    dest_dir: /srv/drills
    name: "drill-{{ inventory_hostname }}-20261121T101500Z"
    title: Restore drill of vh1-20261121T101500Z
    checks:
      - name: known_local_file
        passed: true
        detail: local-docs:/reports/q3.pdf sha256 equal
      - name: vault_keys
        passed: "{{ key_check.match }}"
        detail: "{{ key_check.detail }}"
    facts:
      recovery_point: "2026-11-21T10:15:00Z"
      recovery_time_seconds: 412
      vaulthalla_version: Vaulthalla v1.1.0
      tpm_mode: swtpm
      gpg_recipients: [0123456789ABCDEF0123456789ABCDEF01234567]
  delegate_to: localhost

- name: Report the checks vh_db_facts returned plus one more, and decide later
  vaultops.recovery.drill_report:
    dest_dir: /srv/drills
    name: drill-vh1-20261121T101500Z
    checks: "{{ db_facts.checks + [{'name': 'vault_keys', 'passed': key_check.match, 'detail': key_check.detail}] }}"
    facts:
      set_name: vh1-20261121T101500Z
    fail_when_failed: false
  delegate_to: localhost
  register: drill

- name: Name the checks from a Vaulthalla drill's raw results and write the report
  vaultops.recovery.drill_report:
    dest_dir: /srv/drills
    name: drill-vh1-20261121T101500Z
    title: Restore drill of vh1-20261121T101500Z
    results:
      restore: true
      restore_error: "{{ restore_error | default(none) }}"
      recovery_seconds: "{{ vaulthalla_restore_result.recovery_seconds | default('?') }}"
      key_chain_gaps: "{{ vaulthalla_restore_result.key_chain_gaps | default([]) }}"
      db: "{{ db_facts }}"
      vh: "{{ vh_checked }}"
      s3_vault_buckets: "{{ manifest.s3_vault_buckets | default({}) }}"
      export: "{{ key_export }}"
      keys: "{{ key_comparison }}"
    facts:
      recovery_set: vh1-20261121T101500Z
  delegate_to: localhost
"""

RETURN = r"""
json_path:
  description: Path of the JSON report.
  returned: always
  type: str
markdown_path:
  description: Path of the Markdown report.
  returned: always
  type: str
passed:
  description: Whether at least one check ran and every check passed.
  returned: always
  type: bool
failed_checks:
  description: Names of the checks that failed, in report order.
  returned: always
  type: list
  elements: str
check_count:
  description: Number of checks in the report.
  returned: always
  type: int
verdict:
  description: The PASSED or FAILED line of the report.
  returned: always
  type: str
  sample: "FAILED: 1 of 7 checks failed: vault_keys"
checks:
  description: The checks as reported, in order (built from O(results), or O(checks) as given).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the check.
      type: str
    passed:
      description: Whether it passed.
      type: bool
    detail:
      description: What was compared and, on failure, what differed or was missing.
      type: str
  sample:
    - {name: vh_status_healthy, passed: true, detail: healthy after 3.1 s}
    - {name: vault_keys_are_exported_keys, passed: false, detail: "s3-secure: key differs"}
fix:
  description: How to fix the error, when the module failed on one it knows.
  returned: failure
  type: str
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.vaultops_module import run_module
from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla import drill_report_writer as writer

RESULTS_OPTIONS = dict(
    restore=dict(type="bool", default=False),
    restore_error=dict(type="str"),
    recovery_seconds=dict(type="raw"),
    key_chain_gaps=dict(type="list", elements="str", default=[], no_log=False),
    db=dict(type="dict", default={}),
    vh=dict(type="dict", default={}),
    s3_vault_buckets=dict(type="dict", default={}),
    export=dict(type="dict", default={}),
    keys=dict(type="dict", default={}, no_log=False),
)


def argument_spec():
    return dict(
        dest_dir=dict(type="path", required=True),
        name=dict(type="str", required=True),
        title=dict(type="str", default="Restore drill"),
        checks=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            passed=dict(type="bool", required=True),
            detail=dict(type="str", default=""),
        )),
        results=dict(type="dict", options=RESULTS_OPTIONS),
        facts=dict(type="dict", default={}),
        fail_when_failed=dict(type="bool", default=True),
    )


def report_drill(module):
    p = module.params
    checks = p["checks"] if p["results"] is None else writer.drill_checks(p["results"])
    writer.check_checks(checks)
    report = writer.build(p["title"], checks, p["facts"])
    written = writer.write(p["dest_dir"], p["name"], report, check_mode=module.check_mode)
    result = dict(written, passed=report["passed"], failed_checks=report["failed_checks"],
                  check_count=report["check_count"], verdict=writer.verdict(report), checks=report["checks"])
    if p["fail_when_failed"] and not report["passed"]:
        raise RecoveryError("restore drill %s. Report: %s%s" % (
            result["verdict"], result["markdown_path"], " (check mode: not written)" if module.check_mode else ""),
            **result)
    return result


def main():
    run_module(report_drill, argument_spec(), required_one_of=[("checks", "results")],
               mutually_exclusive=[("checks", "results")])


if __name__ == "__main__":
    main()

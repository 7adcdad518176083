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
    description: The drill's checks, in the order to report them. Names must be unique.
    type: list
    elements: dict
    required: true
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
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vaultops.recovery.plugins.module_utils.vaulthalla import drill_report_writer as writer
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest_dir=dict(type="path", required=True),
            name=dict(type="str", required=True),
            title=dict(type="str", default="Restore drill"),
            checks=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                passed=dict(type="bool", required=True),
                detail=dict(type="str", default=""),
            )),
            facts=dict(type="dict", default={}),
            fail_when_failed=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        writer.check_checks(p["checks"])
        report = writer.build(p["title"], p["checks"], p["facts"])
        written = writer.write(p["dest_dir"], p["name"], report, check_mode=module.check_mode)
    except RecoveryError as exc:
        module.fail_json(msg=str(exc))
    result = dict(written, passed=report["passed"], failed_checks=report["failed_checks"],
                  check_count=report["check_count"], verdict=writer.verdict(report))
    if p["fail_when_failed"] and not report["passed"]:
        module.fail_json(msg="restore drill %s. Report: %s%s" % (
            result["verdict"], result["markdown_path"], " (check mode: not written)" if module.check_mode else ""),
            **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

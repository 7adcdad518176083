#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: unit_sequence
short_description: Start or stop a list of systemd units one after another, in the given order, in one task
version_added: "0.1.0"
description:
  - Brings every unit of O(units) to O(state), one unit at a time and in the order listed, in a single task
    (instead of one M(ansible.builtin.systemd_service) task per unit, each a round trip to the host).
  - First one C(systemctl show) asks about all units. A unit systemd does not know (C(LoadState=not-found)), or,
    for O(state=started), one that is not loaded (masked, broken unit file), fails the task before anything is
    changed.
  - Then, in order, a unit already in the wanted state is skipped (V(started) - C(ActiveState) C(active),
    C(activating) or C(reloading); V(stopped) - C(inactive) or C(failed)); every other one gets
    C(systemctl start -- <unit>) or C(systemctl stop -- <unit>).
  - C(systemctl start) returns when the unit's start job is done, which for C(Type=notify) services is when the
    service reports it is ready, and C(systemctl stop) when the unit has stopped; so the next unit is only acted on
    after that, and no extra wait is needed for the job. Whether the service itself is ready to serve (answers on
    its socket, says it is healthy) is for the caller to check.
  - The first C(systemctl) call that fails ends the task with one message naming the unit, what systemctl said,
    the units already changed (they are left so, not rolled back), and where to look. Later units are not touched.
  - After any change one more C(systemctl show) reports the states reached. A unit that crashed right after its
    start (C(failed), or C(auto-restart)), or that is active again right after its stop (re-activated by a socket,
    for example), is reported with a warning, not an error. Anything C(systemctl start) or C(stop) writes to
    stderr is shown as a warning too.
  - Needs systemd as the host's init and the right to manage units (C(become=true) for system units).
    C(systemctl) runs with argument lists, never through a shell.
author:
  - vaultops.recovery contributors (@vaultops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vaultops.recovery.attributes
attributes:
  check_mode:
    details:
      - Asks systemd about the units (one C(systemctl show)) and reports which units would be started or stopped,
        in which order, and the units that would be reset. Changes nothing.
options:
  units:
    description:
      - The units, by full name with their type suffix (V(vaulthalla.service), V(vaulthalla-cli.socket)), in the
        order to act on them.
      - Names that are empty, start with C(-), contain a glob or a space, lack the type suffix, or are listed twice
        are refused.
    type: list
    elements: str
    required: true
  state:
    description:
      - V(started) starts every unit that is not running; V(stopped) stops every unit that is.
    type: str
    required: true
    choices: [started, stopped]
  reset_failed:
    description:
      - With O(state=started), run C(systemctl reset-failed) on O(units) and O(reset_failed_units) first, so units
        that crash-looped into their start rate limit (C(start-limit-hit)) can be started again.
      - Its exit status is ignored, since resetting a unit that is unknown or not failed does nothing.
      - Resetting alone does not make the task changed.
    type: bool
    default: false
  reset_failed_units:
    description:
      - Further units to reset (with O(reset_failed=true)) but not start, for example a helper unit another unit
        pulls in (C(vaulthalla-swtpm.service)).
    type: list
    elements: str
    default: []
notes:
  - Units are acted on one by one, so a later unit never starts before an earlier one's start job finished. Units
    that one of them pulls in (C(Requires=), C(Wants=)) are started by systemd as usual.
seealso:
  - module: ansible.builtin.systemd_service
"""

EXAMPLES = r"""
- name: Stop Vaulthalla before a restore, the daemon first, its socket last
  vaultops.recovery.unit_sequence:
    units:
      - vaulthalla.service
      - vaulthalla-web.service
      - vaulthalla-cli.socket
    state: stopped
  become: true

- name: Start it again afterwards, clearing a start rate limit left by a crash loop
  vaultops.recovery.unit_sequence:
    units:
      - vaulthalla-cli.socket
      - vaulthalla.service
      - vaulthalla-web.service
    state: started
    reset_failed: true
    reset_failed_units:
      - vaulthalla-swtpm.service
  become: true
  register: vh_units

- name: Show the state each unit reached
  ansible.builtin.debug:
    msg: "{{ vh_units.units | map(attribute='after') | list }}"
"""

RETURN = r"""
units:
  description:
    - Every unit of O(units), in order, with its C(ActiveState) before and after the task.
    - In check mode C(after) is the state a changed unit would reach (V(active) or V(inactive)).
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The unit.
      type: str
      sample: vaulthalla.service
    before:
      description: Its C(ActiveState) before anything was done.
      type: str
      sample: failed
    after:
      description: Its C(ActiveState) after the task.
      type: str
      sample: active
    changed:
      description: Whether it was started or stopped (in check mode, would be).
      type: bool
      sample: true
  sample:
    - {"name": "vaulthalla-cli.socket", "before": "active", "after": "active", "changed": false}
    - {"name": "vaulthalla.service", "before": "failed", "after": "active", "changed": true}
changed_units:
  description:
    - The units started or stopped, in the order acted on (in check mode, that would be).
    - When the task fails midway, the units changed before the failure (they are left so).
  returned: always
  type: list
  elements: str
  sample: [vaulthalla.service, vaulthalla-web.service]
reset_failed:
  description:
    - The units C(systemctl reset-failed) was run on (in check mode, would be), or empty when O(reset_failed) is
      false.
  returned: success, and when a start or stop fails
  type: list
  elements: str
  sample: [vaulthalla-cli.socket, vaulthalla.service, vaulthalla-web.service, vaulthalla-swtpm.service]
journal_tail:
  description:
    - When a C(systemctl start) or C(stop) fails, the last lines the failing unit wrote to the journal (at most 12,
      each cut at 300 characters), also quoted in the error message. Empty when the journal could not be read.
  returned: when a start or stop fails
  type: list
  elements: str
  sample: ["OSError: [Errno 98] Address already in use", "vaulthalla-web.service: Failed with result 'exit-code'."]
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.common import unit_sequence
from ansible_collections.vaultops.recovery.plugins.module_utils.common.vaultops_module import run_module


def argument_spec():
    return dict(
        units=dict(type="list", elements="str", required=True),
        state=dict(type="str", required=True, choices=["started", "stopped"]),
        reset_failed=dict(type="bool", default=False),
        reset_failed_units=dict(type="list", elements="str", default=[]),
    )


def run(module):
    return unit_sequence.apply(module.params, module.get_bin_path, module.check_mode)


def main():
    run_module(run, argument_spec())


if __name__ == "__main__":
    main()

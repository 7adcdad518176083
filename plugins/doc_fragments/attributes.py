# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attributes every module of the collection shares; list it after ansible.builtin.action_common_attributes.

Every module supports check mode, shows no diff and runs on POSIX managed hosts. A module says in its own
attributes what check mode does (check_mode details) and overrides diff_mode when it shows one; Ansible merges
each attribute's keys, the module's winning.
"""


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

    # A module that only reads: check mode runs it unchanged. Listed after the DOCUMENTATION fragment.
    READ_ONLY = r"""
options: {}
attributes:
  check_mode:
    details:
      - The module only reads, so it runs in check mode too and returns the same result.
"""

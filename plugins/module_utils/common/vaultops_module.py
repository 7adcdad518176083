# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one module wrapper: argument spec in, result or error (with its facts and Fix) out.

Every module of the collection runs through ``run_module``, so a RecoveryError
always fails with its message, its Fix and its facts (what state it left, and
``changed`` when something was already changed), warnings reach the task
result the same way everywhere, and a missing Python library is named with
the pip package to install.
"""

import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError


class VaultopsModule(AnsibleModule):
    """AnsibleModule that knows the collection's errors and its optional libraries."""

    def require_library(self, name, present, import_error=None):
        """Fail with the pip name of ``name`` when it could not be imported."""
        if not present:
            self.fail_json(msg=missing_required_lib(name), exception=import_error)

    def fail_recovery(self, exc, **facts):
        """Fail with the error's message and Fix, its facts, and ``facts`` given here."""
        self.fail_json(**error_result(exc, **facts))


def error_result(exc, **facts):
    """The failure arguments for ``exc``: message, Fix and facts (the error's facts win)."""
    merged = dict(facts)
    merged.update(exc.facts)
    if exc.fix:
        merged.setdefault("fix", exc.fix)
    merged["msg"] = str(exc)
    return merged


def run_module(operation, argument_spec, timed=False, failure_facts=None, **module_kwargs):
    """Build the module, run ``operation(module)`` and exit with its result.

    ``operation`` returns the result dict; an optional ``warnings`` list in it
    becomes Ansible warnings. ``timed`` adds ``duration`` (seconds); it may be a
    callable ``timed(module)`` for modules that return ``duration`` for some states only.
    ``failure_facts(module)`` returns facts every failure carries (for example
    the directory the module worked on). Check mode is always supported.
    """
    module_kwargs.setdefault("supports_check_mode", True)
    module = VaultopsModule(argument_spec=argument_spec, **module_kwargs)
    started = time.time()
    try:
        result = operation(module)
    except RecoveryError as exc:
        module.fail_recovery(exc, **(failure_facts(module) if failure_facts else {}))
    for warning in result.pop("warnings", None) or []:
        module.warn(warning)
    if timed is True or (callable(timed) and timed(module)):
        result["duration"] = round(time.time() - started, 3)
    module.exit_json(**result)

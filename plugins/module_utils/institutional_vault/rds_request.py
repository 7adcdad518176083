# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""restore_options and the whole RDS restore request, checked against botocore's operation model before any change.

A restore to an instance's own name renames that instance first; a request the API would refuse must therefore be
refused before the rename. botocore checks parameters on the client side only when the call is made, so the same
ParamValidator runs here, on the request exactly as it will be sent. No message names a value: restore_options may
carry secrets (TdeCredentialPassword), and botocore's own report prints values.
"""

import difflib

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

try:
    from botocore.validate import ParamValidator
except ImportError:  # the module reports the missing boto3 before this is used
    ParamValidator = None


def check_option_keys(options, operation_model, module_keys):
    """Every key of restore_options must be a parameter of the operation that the module does not set itself."""
    members = list(operation_model.input_shape.members)
    module_keys = [key for key in module_keys if key in members]
    problems = []
    for key in sorted(options or {}):
        if key in module_keys:
            problems.append("%s: set by the module itself (from snapshot_name, instance, target, restore_time and"
                            " tags), not a restore option" % key)
        elif key not in members:
            near = difflib.get_close_matches(key, [name for name in members if name not in module_keys], n=1)
            problems.append("%s: not a parameter of %s%s" % (
                key, operation_model.name, "; did you mean %s?" % near[0] if near else ""))
    if problems:
        raise RecoveryError("restore_options is not valid: %s." % "; ".join(problems),
                            fix="use the parameter names of the RDS API %s (case matters), and the module's own"
                                " options for what it sets itself; nothing was changed." % operation_model.name)


def _describe(reason, name, details):
    """One botocore validation finding, in words that never include the value."""
    name = name.lstrip(".") or "the request"
    if reason == "invalid type":
        return "%s must be of type %s" % (name, " or ".join(details.get("valid_types", ())))
    if reason == "invalid range":
        return "%s must be at least %s" % (name, details.get("min_allowed"))
    if reason == "invalid length":
        return "%s must be at least %s long" % (name, details.get("min_allowed"))
    if reason == "missing required field":
        return "%s needs %s" % (name, details.get("required_name"))
    if reason == "unknown field":
        return "%s has no member %s" % (name, details.get("unknown_param"))
    return "%s: %s" % (name, reason)


def check_request(params, operation_model):
    """The request (module-built parameters with restore_options merged in) must pass botocore's validation."""
    report = ParamValidator().validate(params, operation_model.input_shape)
    if not report.has_errors():
        return
    # generate_report() would print the offending values; the findings themselves carry name and reason only.
    findings = [_describe(reason, name, details) for reason, name, details in report._errors]
    raise RecoveryError("The %s request is not valid: %s." % (operation_model.name, "; ".join(findings)),
                        fix="correct restore_options (values of the types the RDS API documents for %s; for a"
                            " boolean write true or false without quotes, for a number no quotes); nothing was"
                            " changed." % operation_model.name)

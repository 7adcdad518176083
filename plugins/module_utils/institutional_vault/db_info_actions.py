# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The three things db_info_secret does (update, rollback, emp_check), from its parameters to its result.

Each returns (result, sensitive) where result holds only what may be printed
(hosts, ports, database names, secret names, version ids, match/differs/
missing) and sensitive lists the secret strings the module must mask from any
output on top of that (belt and braces: results never contain them).
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import db_info_emp, db_info_plan, db_info_target
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.db_info_naming import SecretNaming
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.secret_store_aws import AwsSecretStore
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.secret_store_azure import AzureSecretStore

SOURCE = "source_"


def open_store(params, side="", target=None):
    """The secret store of the target (side "") or of the source environment (side "source_").

    On Azure the source shares the target's credential (one token for both vaults).
    """
    if params["provider"] == "aws":
        return AwsSecretStore(params, prefix=side)
    if side:
        return AzureSecretStore(params, params.get("source_vault_url") or params.get("vault_url"),
                                "source_vault_url" if params.get("source_vault_url") else "vault_url",
                                connection=target.connection if target is not None else None)
    return AzureSecretStore(params, params.get("vault_url"))


def db_info_names(params):
    naming = SecretNaming(params["provider"], params["name_template"], "name_template",
                          params.get("key_vault_name_template"), "key_vault_name_template")
    return naming.names(params["environment"], params["namespace"], params["services"])


def emp_names(params, environment, namespace):
    naming = SecretNaming(params["provider"], params["emp_name_template"], "emp_name_template",
                          params.get("emp_key_vault_name_template"), "emp_key_vault_name_template")
    return naming.names(environment, namespace, params["emp_nodes"])


def _source(params):
    return params["source_environment"], params.get("source_namespace") or params["namespace"]


def emp_check(params, target_store=None):
    """Compare the EMPs of the source and target environments by digest; fail when any is not carried over."""
    target_store = target_store or open_store(params)
    source_store = open_store(params, SOURCE, target_store)
    environment, namespace = _source(params)
    report = db_info_emp.compare(params["emp_nodes"], source_store, emp_names(params, environment, namespace),
                                 target_store, emp_names(params, params["environment"], params["namespace"]))
    problem = db_info_emp.failure(report)
    if problem:
        raise problem
    source = {"environment": environment, "namespace": namespace, "store": source_store.describe}
    return {"changed": False, "emp": report, "source": source}, []


def _guard(params, names, action):
    db_info_emp.refuse_emp_names(names.values(), db_info_emp.compile_pattern(params["emp_pattern"]), action)


def _result(store, changes):
    """Per service before/after and version ids (version_after is None for a change check mode only planned)."""
    services = [change.result() for change in changes]
    return {
        "changed": any(service["changed"] for service in services),
        "services": services,
        "versions_before": dict((s["service"], s["version_before"]) for s in services),
        "versions_after": dict((s["service"], s["version_after"]) for s in services),
        "store": store.describe,
        "diff": {"before": _diff_text(services, "before"), "after": _diff_text(services, "after")},
    }


def _diff_text(services, side):
    lines = []
    for service in services:
        connection = service[side] or {}
        shown = ["%s=%s" % (key, connection.get(field)) for key, field in (
            ("DB_HOST", "host"), ("DB_PORT", "port"), ("DB_NAME", "name")) if connection.get(field) is not None]
        lines.append("%s (%s): %s\n" % (service["service"], service["secret_name"], " ".join(shown) or "unreadable"))
    return "".join(lines)


def update(params, check_mode):
    names = db_info_names(params)
    _guard(params, names, "write")
    store = open_store(params)
    emp = None
    if params.get("source_environment"):
        emp = emp_check(params, store)[0]["emp"]
    changes = db_info_plan.plan_update(store, names, params["db_host"], params.get("db_port"), params.get("db_name"))
    if not check_mode:
        db_info_plan.apply(store, changes)
    result = _result(store, changes)
    if emp is not None:
        result["emp"] = emp
    return result, db_info_plan.sensitive_values(changes)


def rollback(params, check_mode):
    names = db_info_names(params)
    _guard(params, names, "roll back")
    store = open_store(params)
    changes = db_info_plan.plan_rollback(store, names, params.get("rollback_versions"))
    if not check_mode:
        db_info_plan.apply(store, changes)
    return _result(store, changes), db_info_plan.sensitive_values(changes)


def run(params, check_mode):
    state = params["state"]
    if state == "update":
        if not params.get("db_host"):
            raise RecoveryError("state=update needs db_host.", fix="pass db_host, the new database server's host.")
        db_info_target.check_connection(params["db_host"], params.get("db_port"), params.get("db_name"))
        return update(params, check_mode)
    if state == "rollback":
        return rollback(params, check_mode)
    if not params.get("source_environment"):
        raise RecoveryError("state=emp_check needs source_environment.",
                            fix="pass the environment the database backup comes from.")
    return emp_check(params)

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""db_info_secret's EMP states from its parameters to its result; the rest goes on to db_info_actions.

- state=emp_digests: the SHA-256 digests of the environment's EMPs (for a recovery set).
- state=emp_check with expected_emp_digests: the target's EMPs against recorded digests.
- state=update with expected_emp_digests: that check first, then the update (nothing written on a mismatch).
- state=emp_check with source_environment and a source_provider other than provider: the source/target
  comparison across providers.
- state=emp_carry_over: emp_carry_over.CarryOver.

Sides and their options: the target is `provider` with the unprefixed options (AWS: endpoint_url, region,
access_key...; Azure: vault_url). The source is `source_provider` (default provider): on AWS the source_*
AWS options, each falling back to its unprefixed one; on Azure source_vault_url (falling back to vault_url
only when the target is Azure too). The Azure credential options (tenant_id, client_id, secret...) and the
TLS options (validate_certs, aws_ca_bundle, azure_ca_bundle) serve whichever side uses that provider.

run() takes `seen`, a list it fills with every secret value read, so the module can mask them even when the
run fails.
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import (
    db_info_actions, db_info_emp, db_info_target, emp_carry_over)
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.db_info_naming import SecretNaming
from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.secret_store_aws import AwsSecretStore
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.secret_store_azure import AzureSecretStore

SOURCE = "source_"


def providers(params):
    """(source provider, target provider)."""
    return params.get("source_provider") or params["provider"], params["provider"]


def open_target(params):
    if params["provider"] == "aws":
        return AwsSecretStore(params)
    return AzureSecretStore(params, params.get("vault_url"))


def open_source(params, target):
    source_provider = providers(params)[0]
    if source_provider == "aws":
        return AwsSecretStore(params, prefix=SOURCE)
    shared = target.connection if isinstance(target, AzureSecretStore) else None
    if params.get("source_vault_url"):
        return AzureSecretStore(params, params["source_vault_url"], "source_vault_url", connection=shared)
    if params["provider"] != "azure":
        raise RecoveryError("source_provider=azure with provider=aws needs source_vault_url.",
                            fix="pass source_vault_url, the Key Vault of the source environment.")
    return AzureSecretStore(params, params.get("vault_url"), "vault_url", connection=shared)


def same_store(params, source, target):
    """Whether source and target are one store (then the same names mean the same secrets)."""
    source_provider, target_provider = providers(params)
    if source_provider != target_provider:
        return False
    if target_provider == "aws":
        # Other credentials may mean another account behind the same endpoint.
        return source.describe == target.describe and source.credential_prefix == ""
    return source.vault_url.rstrip("/").lower() == target.vault_url.rstrip("/").lower()


def emp_names(params, provider, environment, namespace):
    naming = SecretNaming(provider, params["emp_name_template"], "emp_name_template",
                          params.get("emp_key_vault_name_template"), "emp_key_vault_name_template")
    return naming.names(environment, namespace, params["emp_nodes"])


def _source_env(params):
    return params["source_environment"], params.get("source_namespace") or params["namespace"]


def _target_names(params):
    return emp_names(params, params["provider"], params["environment"], params["namespace"])


def emp_digests(params, seen):
    store = open_target(params)
    names = _target_names(params)
    digests = db_info_emp.digests_of(db_info_emp.read_values(store, names, seen))
    report = db_info_emp.digests_report(params["emp_nodes"], names, digests, store.describe)
    return {"changed": False, "emp_digests": digests, "emp": report, "store": store.describe,
            "environment": params["environment"], "namespace": params["namespace"]}


def check_expected(params, seen, store=None):
    """The target's EMPs against expected_emp_digests; raises on any difference. Returns the emp_check result."""
    expected = db_info_emp.normalise_expected(params["expected_emp_digests"], params["emp_nodes"])
    store = store or open_target(params)
    names = _target_names(params)
    digests = db_info_emp.digests_of(db_info_emp.read_values(store, names, seen))
    report = db_info_emp.check_expected(params["emp_nodes"], expected, digests, names)
    problem = db_info_emp.expected_failure(report, store.describe)
    if problem:
        problem.facts["emp_digests"] = digests
        raise problem
    return {"changed": False, "emp": report, "emp_digests": digests, "store": store.describe}


def check_across(params):
    """state=emp_check with source_environment when the source is in another provider's store."""
    target = open_target(params)
    source = open_source(params, target)
    environment, namespace = _source_env(params)
    source_provider = providers(params)[0]
    source_names = emp_names(params, source_provider, environment, namespace)
    report = db_info_emp.compare(params["emp_nodes"], source, source_names, target, _target_names(params))
    problem = db_info_emp.failure(report)
    if problem:
        raise problem
    return {"changed": False, "emp": report, "source": {
        "environment": environment, "namespace": namespace, "store": source.describe, "provider": source_provider}}


def carry_over(params, check_mode, seen):
    if not params.get("source_environment"):
        raise RecoveryError("state=emp_carry_over needs source_environment.",
                            fix="pass the environment whose EMPs the restored database was encrypted with.")
    target = open_target(params)
    source = open_source(params, target)
    environment, namespace = _source_env(params)
    source_provider = providers(params)[0]
    source_names = emp_names(params, source_provider, environment, namespace)
    target_names = _target_names(params)
    emp_carry_over.refuse_same_store(same_store(params, source, target), source_names, target_names)
    result = emp_carry_over.CarryOver(params["emp_nodes"], source, source_names, target, target_names,
                                      params["provider"], seen).run(check_mode)
    result["source"] = {"environment": environment, "namespace": namespace, "store": source.describe,
                        "provider": source_provider}
    return result


def _refuse_misplaced(params):
    state = params["state"]
    if params.get("expected_emp_digests") is not None and state not in ("emp_check", "update"):
        raise RecoveryError("expected_emp_digests applies to state=emp_check and state=update, not state=%s."
                            % state, fix="leave expected_emp_digests out for state=%s." % state)
    if params.get("source_provider") and params["source_provider"] != params["provider"] and state not in (
            "emp_check", "emp_carry_over"):
        raise RecoveryError("source_provider applies to state=emp_check and state=emp_carry_over, not state=%s."
                            % state, fix="leave source_provider out, or set it to provider.")
    if params.get("source_environment") and params.get("expected_emp_digests") is not None:
        raise RecoveryError("source_environment and expected_emp_digests are mutually exclusive.",
                            fix="check against the source environment or against the recorded digests, not both.")


def run(params, check_mode, seen):
    """(result, sensitive) like db_info_actions.run; `seen` gets every EMP value read, also on failure."""
    _refuse_misplaced(params)
    state = params["state"]
    expected = params.get("expected_emp_digests") is not None
    if state == "emp_digests":
        return emp_digests(params, seen), []
    if state == "emp_carry_over":
        return carry_over(params, check_mode, seen), []
    if state == "emp_check" and expected:
        return check_expected(params, seen), []
    if state == "emp_check" and providers(params)[0] != params["provider"]:
        if not params.get("source_environment"):
            raise RecoveryError("state=emp_check needs source_environment or expected_emp_digests.",
                                fix="pass the environment the database backup comes from, or the digests the"
                                    " recovery set recorded.")
        return check_across(params), []
    if state == "update" and expected:
        if not params.get("db_host"):
            raise RecoveryError("state=update needs db_host.", fix="pass db_host, the new database server's host.")
        db_info_target.check_connection(params["db_host"], params.get("db_port"), params.get("db_name"))
        emp = check_expected(params, seen)["emp"]
        result, sensitive = db_info_actions.run(params, check_mode)
        result["emp"] = emp
        return result, sensitive
    if state == "emp_check" and not params.get("source_environment"):
        raise RecoveryError("state=emp_check needs source_environment or expected_emp_digests.",
                            fix="pass the environment the database backup comes from, or the digests the recovery"
                                " set recorded.")
    return db_info_actions.run(params, check_mode)

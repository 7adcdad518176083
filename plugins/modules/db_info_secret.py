#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: db_info_secret
short_description: Point the Institutional Vault db-info secrets at a restored database, roll back, check the EMPs
version_added: "0.2.0"
description:
  - After a B(redirected restore) of the Institutional Vault database (a new RDS instance or flexible server), the
    services must be told the new database host. Each service reads its connection from the secret
    C(<environment>.<namespace>.<service>.db-info) in AWS Secrets Manager or Azure Key Vault.
  - O(db_host), O(db_port) and O(db_name) are checked first (host name or IP address, port range, database name
    rules); a bad value fails with one error naming the option before any secret is read or written.
  - O(state=update) sets C(DB_HOST) (and C(DB_PORT), C(DB_NAME) when given) in the db-info secret of every service
    in O(services). Every other key and its value are kept byte for byte (only the text of those values is
    replaced, and the result is proven to differ in nothing else). A secret whose host already matches is not
    written.
  - All secrets are read and checked first; if any is missing, is not a JSON object, or lacks C(DB_HOST), the task
    fails naming every such secret and B(no secret is written). If a write fails half way, the secrets already
    written are put back.
  - On AWS a write is C(PutSecretValue), so the previous content stays as the C(AWSPREVIOUS) version. On Azure
    each write is a new secret version; it keeps the content type and tags of the version it replaces and gets the
    tag C(vaultops-previous-version) naming it.
  - O(state=rollback) makes the earlier versions current again - those named in O(rollback_versions) (the
    RV(versions_before) of an update), else the version that was current before the current one. On AWS this moves
    the C(AWSCURRENT) label back to that version. B(On Azure) Key Vault cannot make an old version current, so the
    earlier version's value is written again as a new version (same content, new version id).
  - B(Encryptor Master Password) (EMP) guard - each policy node's EMP encrypts its key share and must never be
    changed. The module refuses to write any secret whose name matches O(emp_pattern), whatever the templates say.
  - O(state=emp_check) compares the EMP secrets of a source environment (O(source_environment)) with those of the
    target (O(environment)) by SHA-256 digest and fails when any differs or is missing. It reports per node only
    C(match), C(differs) or C(missing) - never a value or a digest. A cross-environment restore needs the target to
    hold exactly the source's EMPs; O(state=update) with O(source_environment) runs this check first and writes
    nothing when it fails.
  - The EMP comparison is a state of this module rather than a module of its own because it uses the same
    provider, connection options, naming rule and secret stores.
  - B(Azure names) - Key Vault secret names allow only letters, digits and dashes, so on Azure the name rendered
    from O(name_template) is mapped by replacing every other character with a dash
    (C(prod.iv.policy-node0.db-info) becomes C(prod-iv-policy-node0-db-info)). O(key_vault_name_template) replaces
    that rule when a deployment names its secrets otherwise. Two services mapping to one name are refused.
  - Secret values never appear in the output, in diff mode or in error messages; values of keys that look
    like passwords are also masked from any output should they appear by accident.
author:
  - vaultops.recovery contributors (@vaultops)
extends_documentation_fragment:
  - vaultops.recovery.aws_connection
  - vaultops.recovery.azure_connection
  - ansible.builtin.action_common_attributes
  - vaultops.recovery.attributes
attributes:
  check_mode:
    details:
      - Reads and checks every secret and reports per service the host before and after and whether it would
        change; writes nothing.
  diff_mode:
    support: full
    details:
      - Shows C(DB_HOST), C(DB_PORT) and C(DB_NAME) per service before and after. Never passwords or other keys.
options:
  provider:
    description:
      - Where the secrets are. V(aws) is AWS Secrets Manager (the O(endpoint_url), O(region) and credential options
        apply). V(azure) is Azure Key Vault at O(vault_url) (the O(tenant_id), O(client_id), O(secret) and other
        Azure options apply).
    type: str
    required: true
    choices: [aws, azure]
  state:
    description:
      - V(update) points every service's db-info secret at O(db_host).
      - V(rollback) makes the earlier versions of the db-info secrets current again.
      - V(emp_check) compares the Encryptor Master Password secrets of O(source_environment) and O(environment) and
        changes nothing.
    type: str
    default: update
    choices: [update, rollback, emp_check]
  environment:
    description:
      - The environment part of the secret names (the target environment of a restore).
    type: str
    required: true
  namespace:
    description:
      - The Kubernetes namespace part of the secret names.
    type: str
    required: true
  services:
    description:
      - The services whose db-info secrets are changed or rolled back.
    type: list
    elements: str
    default: [orchestrator, policy-node0, policy-node1, policy-node2, wallet]
  db_host:
    description:
      - The new C(DB_HOST), for example the endpoint of the restored RDS instance or the host name of the restored
        flexible server. Required for O(state=update).
      - A DNS host name (labels of 1 to 63 letters, digits and hyphens, not starting or ending with a hyphen, at
        most 253 characters, an optional trailing dot) or an IPv4 or IPv6 address. Write IPv6 bare (C(fd00::5)),
        as libpq takes it; brackets are refused. Anything else (spaces, quotes, newlines) fails before any secret
        is read, in check mode too.
    type: str
  db_port:
    description:
      - The new C(DB_PORT). Left as it is when unset. A port stored as a JSON number stays a number, one stored
        as a string stays a string. A secret without C(DB_PORT) is refused when this is set.
      - Must be from 1 to 65535; checked before any secret is read.
    type: int
  db_name:
    description:
      - The new C(DB_NAME). Left as it is when unset. A secret without C(DB_NAME) is refused when this is set.
      - Must be 1 to 63 bytes (PostgreSQL cuts longer names) without control characters such as newlines or NUL;
        checked before any secret is read.
    type: str
  rollback_versions:
    description:
      - For O(state=rollback), the version id to go back to per service, as RV(versions_before) of the update
        returned. A service not listed goes back to its previous version (C(AWSPREVIOUS) on AWS; on Azure the version
        named by the tag C(vaultops-previous-version), else the newest older one).
      - Prefer passing it. Without it a second rollback goes back to what the first rolled back from.
    type: dict
  name_template:
    description:
      - Name of a service's db-info secret. C({environment}), C({namespace}) and C({service}) are replaced.
      - On Azure the rendered name is mapped to a Key Vault name (every character other than a letter, digit or
        dash becomes a dash) unless O(key_vault_name_template) is set.
      - An AWS secret ARN may be given here, for secrets shared from another account.
    type: str
    default: "{environment}.{namespace}.{service}.db-info"
  key_vault_name_template:
    description:
      - On Azure, the db-info secret name used instead of the mapped O(name_template), for example
        C({environment}-{namespace}-{service}-dbinfo). It must render to letters, digits and dashes.
    type: str
  vault_url:
    description:
      - URL of the Azure Key Vault, such as C(https://iv-prod.vault.azure.net). Required with O(provider=azure).
    type: str
  emp_pattern:
    description:
      - Python regular expression (searched in the secret name) that marks Encryptor Master Password secrets. The
        module never writes a secret whose name matches it.
      - The vendor does not publish the EMP secret names, so the default matches any name containing
        C(encryptor), C(master-password) (with C(-), C(_), C(.) or nothing between the words, any case) or C(emp)
        as a word.
    type: str
    default: "(?i)encryptor|master[-_.]?pass(word)?|(^|[-._/:])emp([-._/]|$)"
  emp_nodes:
    description:
      - The services that hold an Encryptor Master Password (the policy nodes), for O(state=emp_check).
    type: list
    elements: str
    default: [policy-node0, policy-node1, policy-node2]
  emp_name_template:
    description:
      - Name of a node's EMP secret, with C({environment}), C({namespace}) and C({service}) (the node) replaced.
        Set it to your deployment's naming; on Azure it is mapped like O(name_template).
    type: str
    default: "{environment}.{namespace}.{service}.encryptor-master-password"
  emp_key_vault_name_template:
    description:
      - On Azure, the EMP secret name used instead of the mapped O(emp_name_template).
    type: str
  source_environment:
    description:
      - The environment the database backup comes from. Required for O(state=emp_check). With O(state=update) the
        EMP check runs first and nothing is written unless every EMP matches.
    type: str
  source_namespace:
    description:
      - The namespace of the source environment. Defaults to O(namespace).
    type: str
  source_vault_url:
    description:
      - On Azure, the Key Vault of the source environment. Defaults to O(vault_url). The same Azure credential must
        be able to read both.
    type: str
  source_endpoint_url:
    description:
      - On AWS, the Secrets Manager endpoint of the source environment. Defaults to O(endpoint_url).
    type: str
  source_region:
    description:
      - On AWS, the region of the source environment's secrets. Defaults to O(region).
    type: str
  source_access_key:
    description:
      - On AWS, an access key ID for the source environment (another account). When none of the C(source_)
        credential options is set, the target's credentials are used for the source too.
    type: str
  source_secret_key:
    description:
      - Secret access key of O(source_access_key). It never appears in any output.
    type: str
  source_session_token:
    description:
      - Session token for the source environment. It never appears in any output.
    type: str
  source_profile:
    description:
      - Named AWS profile for the source environment.
    type: str
notes:
  - "Permissions: on AWS C(secretsmanager:GetSecretValue) and C(secretsmanager:DescribeSecret) to read and check,
    plus C(secretsmanager:PutSecretValue) and C(secretsmanager:UpdateSecretVersionStage) to update and roll back (and
    C(kms:Decrypt)/C(kms:GenerateDataKey) on a customer-managed key). On Azure the secrets get, set and list
    permissions (role Key Vault Secrets Officer, or Key Vault Secrets User for O(state=emp_check))."
  - Between reading and writing a secret, another writer could change it; neither Secrets Manager nor Key Vault
    offers a conditional write. Run it while the services are stopped, as the restore procedure says.
  - Restart the services afterwards; they read the secrets when they start.
seealso:
  - module: vaultops.recovery.managed_snapshot
"""

EXAMPLES = r"""
- name: Point every service at the restored RDS instance (AWS Secrets Manager)
  vaultops.recovery.db_info_secret:
    provider: aws
    region: eu-west-1
    environment: prod
    namespace: institutional-vault
    db_host: iv-prod-restored.abcdefghijkl.eu-west-1.rds.amazonaws.com
  register: db_info

- name: Undo it, going back to exactly the versions the update replaced
  vaultops.recovery.db_info_secret:
    provider: aws
    region: eu-west-1
    environment: prod
    namespace: institutional-vault
    state: rollback
    rollback_versions: "{{ db_info.versions_before }}"

- name: Prove the staging environment holds the production EMPs before restoring production's backup there
  vaultops.recovery.db_info_secret:
    provider: azure
    vault_url: https://iv-staging.vault.azure.net
    source_vault_url: https://iv-prod.vault.azure.net
    state: emp_check
    environment: staging
    namespace: iv
    source_environment: prod

- name: Redirect the staging services to the restored flexible server (EMPs checked first)
  vaultops.recovery.db_info_secret:
    provider: azure
    vault_url: https://iv-staging.vault.azure.net
    source_vault_url: https://iv-prod.vault.azure.net
    environment: staging
    namespace: iv
    source_environment: prod
    db_host: iv-staging-restored.postgres.database.azure.com
    db_name: wallet
  diff: true

- name: Key Vault secrets named differently, service principal from variables
  vaultops.recovery.db_info_secret:
    provider: azure
    vault_url: https://iv-prod.vault.azure.net
    tenant_id: "{{ azure_tenant_id }}"
    client_id: "{{ azure_client_id }}"
    secret: "{{ azure_client_secret }}"
    environment: prod
    namespace: iv
    key_vault_name_template: "{service}-dbinfo-{environment}"
    services: [orchestrator, wallet]
    db_host: iv-prod-2.postgres.database.azure.com
"""

RETURN = r"""
services:
  description: One entry per service, in the order of O(services).
  returned: O(state=update) and O(state=rollback)
  type: list
  elements: dict
  contains:
    service:
      description: The service.
      type: str
      sample: policy-node0
    secret_name:
      description: Its secret's name in the store (after the Azure mapping).
      type: str
      sample: prod.iv.policy-node0.db-info
    changed:
      description: Whether the secret was (in check mode, would be) written.
      type: bool
    before:
      description: C(host), C(port) and C(name) (C(DB_HOST), C(DB_PORT), C(DB_NAME); null when absent) before.
      type: dict
      sample: {"host": "iv-prod.abcdefghijkl.eu-west-1.rds.amazonaws.com", "port": "5432", "name": "wallet"}
    after:
      description: The same after the change.
      type: dict
    version_before:
      description: The version id that was current before.
      type: str
      sample: 3f1c0b9e-0000-4000-8000-000000000001
    version_after:
      description: The version id current after; null for a change check mode only planned.
      type: str
versions_before:
  description: Service to version id before the change; pass it as O(rollback_versions) to undo an update.
  returned: O(state=update) and O(state=rollback)
  type: dict
  sample: {"wallet": "3f1c0b9e-0000-4000-8000-000000000001"}
versions_after:
  description: Service to version id after the change.
  returned: O(state=update) and O(state=rollback)
  type: dict
store:
  description: Where the secrets are (service and endpoint or vault URL).
  returned: O(state=update) and O(state=rollback)
  type: str
  sample: AWS Secrets Manager at https://secretsmanager.eu-west-1.amazonaws.com (region eu-west-1)
emp:
  description:
    - Per policy node whether the target's EMP equals the source's. No values, no digests.
    - On failure the same list is returned with the error.
  returned: O(state=emp_check), and O(state=update) with O(source_environment)
  type: list
  elements: dict
  contains:
    node:
      description: The node (an entry of O(emp_nodes)).
      type: str
    status:
      description: V(match), V(differs) or V(missing).
      type: str
    missing_in:
      description: V(source), V(target) or both, for V(missing).
      type: list
      elements: str
    source_secret:
      description: The source's EMP secret name.
      type: str
    target_secret:
      description: The target's EMP secret name.
      type: str
source:
  description: The source environment, namespace and store compared with.
  returned: O(state=emp_check)
  type: dict
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import db_info_actions, db_info_naming
from ansible_collections.vaultops.recovery.plugins.module_utils.cloud.aws_client import (
    BOTO3_IMPORT_ERROR, HAS_BOTO3, aws_argument_spec)
from ansible_collections.vaultops.recovery.plugins.module_utils.cloud.azure_client import (
    AZURE_IMPORT_ERROR, HAS_AZURE, azure_argument_spec)
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.db_info_emp import DEFAULT_EMP_PATTERN
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.secret_store_azure import (
    HAS_KEY_VAULT, KEY_VAULT_IMPORT_ERROR)
from ansible_collections.vaultops.recovery.plugins.module_utils.common.vaultops_module import run_module

# Secrets shorter than this are not masked: masking every occurrence of, say, "db" would garble the output.
MIN_MASKED_LENGTH = 6


def argument_spec():
    spec = aws_argument_spec()
    spec.update(aws_argument_spec("source_"))
    spec.update(azure_argument_spec())
    spec.update(
        provider=dict(type="str", required=True, choices=["aws", "azure"]),
        state=dict(type="str", default="update", choices=["update", "rollback", "emp_check"]),
        environment=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        services=dict(type="list", elements="str", default=list(db_info_naming.DEFAULT_SERVICES)),
        db_host=dict(type="str"),
        db_port=dict(type="int"),
        db_name=dict(type="str"),
        rollback_versions=dict(type="dict"),
        name_template=dict(type="str", default=db_info_naming.DB_INFO_TEMPLATE),
        key_vault_name_template=dict(type="str", no_log=False),
        vault_url=dict(type="str"),
        emp_pattern=dict(type="str", default=DEFAULT_EMP_PATTERN),
        emp_nodes=dict(type="list", elements="str", default=list(db_info_naming.DEFAULT_EMP_NODES)),
        emp_name_template=dict(type="str", default=db_info_naming.EMP_TEMPLATE),
        emp_key_vault_name_template=dict(type="str", no_log=False),
        source_environment=dict(type="str"),
        source_namespace=dict(type="str"),
        source_vault_url=dict(type="str"),
    )
    return spec


def update_secrets(module):
    params = module.params
    if params["provider"] == "aws":
        module.require_library("boto3", HAS_BOTO3, BOTO3_IMPORT_ERROR)
    else:
        module.require_library("azure-identity", HAS_AZURE, AZURE_IMPORT_ERROR)
        module.require_library("azure-keyvault-secrets", HAS_KEY_VAULT, KEY_VAULT_IMPORT_ERROR)
    result, sensitive = db_info_actions.run(params, module.check_mode)
    module.no_log_values.update(value for value in sensitive if len(value) >= MIN_MASKED_LENGTH)
    diff = result.pop("diff", None)
    if module._diff and diff is not None:
        result["diff"] = diff
    return result


def main():
    run_module(update_secrets, argument_spec(),
               required_if=[("state", "update", ["db_host"]), ("state", "emp_check", ["source_environment"]),
                            ("provider", "azure", ["vault_url"])])


if __name__ == "__main__":
    main()

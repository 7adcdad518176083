#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: db_info_secret
short_description: Point the Institutional Vault db-info secrets at a restored database; check and carry over the EMPs
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
    changed. O(state=update) and O(state=rollback) refuse to write any secret whose name matches O(emp_pattern),
    whatever the templates say. O(state=emp_carry_over) is the only path that writes an EMP secret, and only with
    a value it has just read from the source environment.
  - The seed's rule for a restore into another environment - the Encryptor Master Password secrets must be carried
    over unchanged from the original environment; they cannot be regenerated or substituted.
  - O(state=emp_digests) reads the EMP secret of each node in O(emp_nodes) of O(environment)/O(namespace) and
    returns RV(emp_digests), the SHA-256 (hex) of each value's UTF-8 bytes. A recovery set records these (never the
    values) so that a later restore can check its target. Any missing EMP fails the task, naming every missing node
    and its secret. Reads only.
  - O(state=emp_check) compares the target's EMPs (O(environment)) either with those of a source environment
    (O(source_environment)) or with recorded digests (O(expected_emp_digests)); exactly one of the two is given. It
    fails when any differs or is missing and reports per node C(match), C(differs) or C(missing), never a value.
    Against a source environment no digest is returned; against recorded digests the target's are returned as
    RV(emp_digests). O(state=update) with O(source_environment) or O(expected_emp_digests) runs the check first and
    writes nothing when it fails.
  - O(state=emp_carry_over) is the guarded environment-migration step. It copies each node's EMP secret from the
    source environment's store (O(source_provider), O(source_environment), O(source_namespace)) to the target's
    (O(provider), O(environment), O(namespace)) byte for byte. It reads every source EMP (all must exist) and every
    target EMP (missing ones are created) first, writes only the nodes whose target differs (a rerun changes
    nothing), then re-reads the target and checks every digest against the source's. On AWS a write is
    C(PutSecretValue) (C(CreateSecret) when absent); on Azure a new secret version.
  - If a write or that verification fails, every node written is rolled back - on AWS the C(AWSCURRENT) label
    moves back to the version that was current, on Azure the previous value is written again as a new version; a
    secret the carry-over created is deleted (AWS C(ForceDeleteWithoutRecovery); Azure delete, then purge). The
    task then fails with RV(rolled_back) and C(changed=true) (the stores hold the extra versions even when the
    values in effect are the earlier ones); a rollback that could not finish is named per node in the message and
    in C(rollback_left).
  - The carry-over refuses to run when source and target are the same store (same provider, same endpoint and
    region with the same credentials, or the same Key Vault) and the same secret names.
  - B(Which options serve which side) - the target uses O(provider) - on AWS O(endpoint_url), O(region),
    O(access_key), O(secret_key), O(session_token), O(profile); on Azure O(vault_url). The source uses
    O(source_provider) (default O(provider)) - on AWS O(source_endpoint_url), O(source_region) and the source
    credentials (O(source_access_key), O(source_secret_key), O(source_session_token), O(source_profile)), each
    unset one falling back to its unprefixed option (credentials as a group); on Azure O(source_vault_url), which
    falls back to O(vault_url) only when the target is on Azure too. The Azure credential options (O(tenant_id),
    O(client_id), O(secret), ...) and the TLS options (O(validate_certs), O(aws_ca_bundle), O(azure_ca_bundle))
    serve whichever side uses that provider - one Azure identity reads and writes both vaults.
  - The EMP states belong to this module rather than to a module of their own because they use the same
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
        change; writes nothing. O(state=emp_carry_over) reads both sides and reports in RV(carried) the nodes it
        would write.
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
      - V(emp_check) compares the Encryptor Master Password secrets of O(environment) with those of
        O(source_environment) or with O(expected_emp_digests) and changes nothing.
      - V(emp_digests) returns the SHA-256 digests of the EMP secrets of O(environment) and changes nothing.
      - V(emp_carry_over) copies the EMP secrets of O(source_environment) to O(environment) unchanged.
    type: str
    default: update
    choices: [update, rollback, emp_check, emp_digests, emp_carry_over]
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
      - The services that hold an Encryptor Master Password (the policy nodes), for O(state=emp_check),
        O(state=emp_digests) and O(state=emp_carry_over).
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
  expected_emp_digests:
    description:
      - Node to SHA-256 hex digest of its EMP, as RV(emp_digests) of O(state=emp_digests) recorded them (in a
        recovery set). With O(state=emp_check) the target's EMPs are checked against them instead of against a
        source environment; with O(state=update) that check runs first and nothing is written unless every EMP
        matches.
      - Its nodes must be exactly O(emp_nodes). Mutually exclusive with O(source_environment).
    type: dict
  source_provider:
    description:
      - Where the source environment's EMP secrets are, for O(state=emp_carry_over) and O(state=emp_check) with
        O(source_environment). Defaults to O(provider). V(aws) uses the C(source_) AWS options, V(azure) uses
        O(source_vault_url) (see the description for which options serve which side).
    type: str
    choices: [aws, azure]
  source_environment:
    description:
      - The environment the database backup comes from. Required for O(state=emp_carry_over); for
        O(state=emp_check) this or O(expected_emp_digests) is required. With O(state=update) the EMP check runs
        first and nothing is written unless every EMP matches.
    type: str
  source_namespace:
    description:
      - The namespace of the source environment. Defaults to O(namespace).
    type: str
  source_vault_url:
    description:
      - When the source is on Azure, the Key Vault of the source environment. Defaults to O(vault_url) when the
        target is on Azure too; required with O(source_provider=azure) and O(provider=aws). The same Azure
        credential must be able to read both.
    type: str
  source_endpoint_url:
    description:
      - When the source is on AWS, the Secrets Manager endpoint of the source environment. Defaults to
        O(endpoint_url).
    type: str
  source_region:
    description:
      - When the source is on AWS, the region of the source environment's secrets. Defaults to O(region).
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
    permissions (role Key Vault Secrets Officer, or Key Vault Secrets User for O(state=emp_check) and
    O(state=emp_digests)). O(state=emp_carry_over) needs read on the source, and on the target on AWS
    C(secretsmanager:CreateSecret), C(PutSecretValue), C(UpdateSecretVersionStage) and C(DeleteSecret) (rollback),
    on Azure get, set, delete and purge."
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

- name: Record the production EMP digests (never the values) in the recovery set
  vaultops.recovery.db_info_secret:
    provider: aws
    region: eu-west-1
    state: emp_digests
    environment: prod
    namespace: iv
  register: emp

- name: Before restoring that set, prove the target holds the recorded EMPs
  vaultops.recovery.db_info_secret:
    provider: aws
    region: eu-west-1
    state: emp_check
    environment: prod
    namespace: iv
    expected_emp_digests: "{{ emp.emp_digests }}"

# Environment migration: production's backup (AWS) is restored into a new Azure environment. The EMPs go first,
# unchanged; then the restore; then the db-info secrets (checked against the recorded digests).
- name: Carry the EMPs over from production (AWS, eu-west-1) to the new environment's Key Vault
  vaultops.recovery.db_info_secret:
    provider: azure
    vault_url: https://iv-dr.vault.azure.net
    state: emp_carry_over
    environment: dr
    namespace: iv
    source_provider: aws
    source_environment: prod
    source_region: eu-west-1
  register: carried

- name: Point the new environment's services at the restored server, EMPs checked against the recovery set first
  vaultops.recovery.db_info_secret:
    provider: azure
    vault_url: https://iv-dr.vault.azure.net
    environment: dr
    namespace: iv
    expected_emp_digests: "{{ emp.emp_digests }}"
    db_host: iv-dr-restored.postgres.database.azure.com

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
  returned: O(state=update), O(state=rollback), O(state=emp_digests), O(state=emp_carry_over) and O(state=emp_check)
    with O(expected_emp_digests)
  type: str
  sample: AWS Secrets Manager at https://secretsmanager.eu-west-1.amazonaws.com (region eu-west-1)
emp:
  description:
    - Per policy node whether the target's EMP equals the source's (or the recorded digest). No values.
    - For O(state=emp_digests), per node C(node), C(secret_name) and C(status) (V(present) or V(missing)).
    - On failure the same list is returned with the error.
  returned: O(state=emp_check), O(state=emp_digests), and O(state=update) with O(source_environment) or
    O(expected_emp_digests)
  type: list
  elements: dict
  contains:
    node:
      description: The node (an entry of O(emp_nodes)).
      type: str
    status:
      description: V(match), V(differs) or V(missing); V(present) or V(missing) for O(state=emp_digests).
      type: str
    missing_in:
      description: V(source), V(target) or both, for V(missing).
      type: list
      elements: str
    source_secret:
      description: The source's EMP secret name (not with O(expected_emp_digests)).
      type: str
    secret_name:
      description: The EMP secret's name, for O(state=emp_digests).
      type: str
    target_secret:
      description: The target's EMP secret name.
      type: str
source:
  description: The source environment, namespace and store compared with or carried from (and its provider).
  returned: O(state=emp_check) with O(source_environment), and O(state=emp_carry_over)
  type: dict
emp_digests:
  description:
    - Node to the SHA-256 (hex) of its EMP secret's value (UTF-8 bytes); null for a missing one (emp_check).
  returned: O(state=emp_digests), and O(state=emp_check) with O(expected_emp_digests) (also on failure)
  type: dict
  sample: {"policy-node0": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
emp_before:
  description: Node to the digest of the target's EMP before the carry-over (null when it did not exist).
  returned: O(state=emp_carry_over) (also on failure)
  type: dict
emp_after:
  description:
    - Node to the digest of the target's EMP afterwards (after a rollback, on failure). In check mode, what the
      target would hold.
  returned: O(state=emp_carry_over) (also on failure)
  type: dict
source_emp_digests:
  description: Node to the digest of the source's EMP.
  returned: O(state=emp_carry_over) (also on failure once the source was read)
  type: dict
carried:
  description: The nodes written (in check mode, that would be written); empty when the target already matched.
  returned: O(state=emp_carry_over)
  type: list
  elements: str
rolled_back:
  description:
    - Whether a failed carry-over put every node it had written back (then the values in effect are those of
      RV(emp_before)). False on success. On failure C(written) lists the nodes written, C(rollback_left) what
      could not be put back and C(rollback_notes) what is worth knowing about nodes that were.
  returned: O(state=emp_carry_over)
  type: bool
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import emp_actions, db_info_naming
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
        state=dict(type="str", default="update",
                   choices=["update", "rollback", "emp_check", "emp_digests", "emp_carry_over"]),
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
        source_provider=dict(type="str", choices=["aws", "azure"]),
        expected_emp_digests=dict(type="dict", no_log=False),
        source_namespace=dict(type="str"),
        source_vault_url=dict(type="str"),
    )
    return spec


def update_secrets(module):
    params = module.params
    in_use = set([params["provider"], params.get("source_provider") or params["provider"]])
    if "aws" in in_use:
        module.require_library("boto3", HAS_BOTO3, BOTO3_IMPORT_ERROR)
    if "azure" in in_use:
        module.require_library("azure-identity", HAS_AZURE, AZURE_IMPORT_ERROR)
        module.require_library("azure-keyvault-secrets", HAS_KEY_VAULT, KEY_VAULT_IMPORT_ERROR)
    seen = []  # every EMP value read: masked from any output, also when the run fails
    try:
        result, sensitive = emp_actions.run(params, module.check_mode, seen)
    finally:
        module.no_log_values.update(value for value in seen if len(value) >= MIN_MASKED_LENGTH)
    module.no_log_values.update(value for value in sensitive if len(value) >= MIN_MASKED_LENGTH)
    diff = result.pop("diff", None)
    if module._diff and diff is not None:
        result["diff"] = diff
    return result


def main():
    run_module(update_secrets, argument_spec(),
               required_if=[("state", "update", ["db_host"]),
                            ("state", "emp_check", ["source_environment", "expected_emp_digests"], True),
                            ("state", "emp_carry_over", ["source_environment"]),
                            ("provider", "azure", ["vault_url"])],
               mutually_exclusive=[("source_environment", "expected_emp_digests")])


if __name__ == "__main__":
    main()

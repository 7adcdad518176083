#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: iv_checks
short_description: Verify an Institutional Vault restoration - pods Ready, wallet health, accounts count
version_added: "0.1.0"
description:
  - "The seed's Step 5 (Verify restoration) as checks, in this order: C(pods_ready) (every pod of O(namespace) is
    Ready and none is terminating, like C(kubectl get pods -n <namespace>)), C(wallet_health) (C(GET
    <wallet_url>/health) answers HTTP 200 with a JSON C(status) of C(ok) or C(healthy)) and C(accounts_count)
    (C(GET <wallet_url>/api/v2/accounts) lists O(expected_accounts) accounts)."
  - "C(pods_ready) fails on an empty list (C(no pods in namespace X)) and names every pod that is not Ready or is
    terminating, with its reason (for example C(container policy-node CrashLoopBackOff)). Pods in phase
    C(Succeeded) (completed Jobs) are listed but do not fail it."
  - "C(accounts_count) takes the answer's C(total) when it has one, else pages through the list by C(limit) and
    C(offset) and counts. Without O(expected_accounts) the check reports the count and passes when the API
    answered: it proves account data can be read, not that it is complete. Give the count recorded at backup
    time to compare."
  - A check whose data cannot be read (wallet unreachable, TLS failure, HTTP 401, a bad Kubernetes token) fails
    with a detail that names the cause and the option to fix; the module itself does not fail.
  - The checks are in the shape module M(vaultops.recovery.drill_report) takes in its C(checks) option.
  - With O(database), the number of pending operations is counted (RV(pending_operations)) to compare with the
    count recorded at backup time; operations in flight after the restore point may need re-submitting.
  - The module does not fail when a check fails, unless O(fail_on_failed_check) is true.
  - Runs on the controller (C(delegate_to=localhost)); it only reads.
author:
  - vaultops.recovery contributors (@vaultops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vaultops.recovery.attributes
  - vaultops.recovery.attributes.read_only
  - vaultops.recovery.k8s_connection
attributes:
  idempotent:
    description: Whether running the module twice with the same arguments changes nothing the second time.
    support: full
    details:
      - It only reads; C(changed) is always false.
options:
  namespace:
    description:
      - The environment's namespace, whose pods C(pods_ready) checks. Without it C(pods_ready) is not run (and
        cannot be asked for).
    type: str
  pod_selector:
    description: A label selector (C(k=v,k2=v2)) limiting the pods C(pods_ready) checks; all pods when omitted.
    type: str
  wallet_url:
    description:
      - Base URL of the wallet, for example V(https://wallet.example.com). Without it C(wallet_health) and
        C(accounts_count) are not run (and cannot be asked for).
      - Must not carry credentials; give the token in O(wallet_api_token).
    type: str
  wallet_validate_certs:
    description:
      - Verify the wallet's TLS certificate. Prefer O(wallet_ca_cert) to turning this off.
      - Not O(validate_certs), which is the Kubernetes API server's.
    type: bool
    default: true
  wallet_ca_cert:
    description:
      - PEM file of the certificate authority that signed the wallet's certificate; the system's trust store
        when omitted. Not O(ca_cert), which is the Kubernetes API server's.
    type: path
  wallet_api_token:
    description:
      - "API token of the wallet, sent as C(Authorization: Bearer <token>) on each request; none when omitted."
      - It never appears in any output.
    type: str
  timeout:
    description: Seconds each request to the wallet (and the database's connect) may take.
    type: int
    default: 10
  expected_accounts:
    description:
      - The accounts count recorded at backup time; C(accounts_count) passes only when the wallet lists exactly
        this many.
      - Omitted, C(accounts_count) passes when the API answered, and reports the count.
    type: int
  checks:
    description:
      - The checks to run; they always run in the order V(pods_ready), V(policy_nodes_ready), V(wallet_health),
        V(accounts_count).
      - V(policy_nodes_ready) - each of O(policy_nodes) has a pod and all its pods are Ready; a policy node is
        Ready only once it decrypted its key share with its EMP, so this proves the EMPs fit the data.
      - Omitted, every check but V(policy_nodes_ready) whose input is given (O(namespace), O(wallet_url)).
    type: list
    elements: str
    choices: [pods_ready, policy_nodes_ready, wallet_health, accounts_count]
  policy_nodes:
    description: The policy nodes V(policy_nodes_ready) checks; their pods are named C(<node>-...).
    type: list
    elements: str
    default: [policy-node0, policy-node1, policy-node2]
  wait_timeout:
    description:
      - V(0) checks once. Above 0, runs all the checks again every O(poll_interval) seconds until all pass or
        this many seconds have passed, and returns the last round (services that were just started take a
        while to be Ready).
    type: int
    default: 0
  poll_interval:
    description: Seconds between two rounds of checks when O(wait_timeout) is above 0.
    type: float
    default: 5.0
  database:
    description:
      - The wallet's database, to count pending operations (RV(pending_operations)). Not counted when omitted.
      - The password goes in O(database_password); it reaches psql through an anonymous file, never argv or the
        environment.
    type: dict
    suboptions:
      host:
        description: Host name or address of the PostgreSQL server.
        type: str
        required: true
      port:
        description: Port of the PostgreSQL server.
        type: int
        default: 5432
      name:
        description: Name of the database.
        type: str
        required: true
      user:
        description: Role to connect as; read access to the table of O(pending_operations_sql) is enough.
        type: str
        required: true
      ssl_mode:
        description: libpq's sslmode.
        type: str
        default: prefer
        choices: [disable, allow, prefer, require, verify-ca, verify-full]
      ca_cert:
        description: PEM file of the certificate authority of the server's certificate (for V(verify-ca) and
          V(verify-full)).
        type: path
      pg_bin_dir:
        description: Directory of the PostgreSQL client programs (psql); found on PATH when omitted.
        type: path
  database_password:
    description: Password of O(database.user). It never appears in any output.
    type: str
  pending_operations_sql:
    description:
      - The query that counts pending operations; it must return one integer. When the table it reads does not
        exist, RV(pending_operations) is null (not a failure).
    type: str
    default: SELECT count(*) FROM pending_operations
  fail_on_failed_check:
    description:
      - Fail the task when a check failed, with a message naming every failed check and its detail. With
        V(false), the checks are only returned (the caller reports and decides, for example with
        M(vaultops.recovery.drill_report)).
    type: bool
    default: false
requirements:
  - psql (the PostgreSQL client) on the controller, only with O(database)
seealso:
  - module: vaultops.recovery.drill_report
  - module: vaultops.recovery.service_tiers
"""

EXAMPLES = r"""
- name: Verify the restoration against the counts recorded at backup time
  vaultops.recovery.iv_checks:
    kubeconfig: /etc/vaultops/prod.kubeconfig
    namespace: iv-prod
    wallet_url: https://wallet.example.com
    wallet_ca_cert: /etc/vaultops/wallet-ca.pem
    wallet_api_token: "{{ vault_wallet_api_token }}"
    expected_accounts: "{{ recovery_set.accounts_count }}"
    database: {host: db.example.com, name: wallet, user: wallet_readonly}
    database_password: "{{ vault_wallet_db_password }}"
    wait_timeout: 300
  delegate_to: localhost
  register: verified

- name: Put the checks into the drill report
  vaultops.recovery.drill_report:
    dest_dir: /srv/drills
    name: iv-drill-20261207
    checks: "{{ verified.checks }}"
    facts:
      accounts_total: "{{ verified.accounts_total }}"
      pending_operations: "{{ verified.pending_operations }}"
  delegate_to: localhost

- name: Only the wallet, failing the play when it is not healthy
  vaultops.recovery.iv_checks:
    wallet_url: https://wallet.example.com
    checks: [wallet_health]
    fail_on_failed_check: true
  delegate_to: localhost
"""

RETURN = r"""
checks:
  description: The checks run, in the order pods_ready, policy_nodes_ready, wallet_health, accounts_count (the shape of
    M(vaultops.recovery.drill_report)'s C(checks)).
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
      description: What was found and, on failure, why (a connection failure names the option to fix).
      type: str
  sample:
    - {name: pods_ready, passed: false, detail: "1 of 6 pods in namespace iv-prod not Ready: policy-node1-7d9c
       (container policy-node CrashLoopBackOff, 4 restarts)"}
    - {name: wallet_health, passed: true, detail: "https://wallet.example.com/health: HTTP 200, status 'ok'"}
    - {name: accounts_count, passed: true, detail: "1042 accounts, as expected"}
passed:
  description: Whether at least one check ran and all passed.
  returned: always
  type: bool
failed_checks:
  description: Names of the checks that failed.
  returned: always
  type: list
  elements: str
pods:
  description: The pods of the namespace (C(name), C(phase), C(ready), C(reason)); empty when not read.
  returned: always
  type: list
  elements: dict
  sample: [{name: wallet-5f7c9, phase: Running, ready: true, reason: ready}]
health:
  description: C(status_code) and the body's C(status) of C(GET /health); null when not read.
  returned: always
  type: dict
  sample: {status_code: 200, status: ok}
accounts_total:
  description: The number of accounts the wallet lists; null when not read.
  returned: always
  type: int
pending_operations:
  description: The count of O(pending_operations_sql); null without O(database) or when its table does not exist.
  returned: always
  type: int
pending_operations_detail:
  description: How RV(pending_operations) was obtained, or why it is null.
  returned: always
  type: str
rounds:
  description: How many rounds of checks ran (more than 1 only with O(wait_timeout)).
  returned: always
  type: int
changed:
  description: Always false; the module only reads.
  returned: always
  type: bool
"""

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError
from ansible_collections.vaultops.recovery.plugins.module_utils.common.vaultops_module import run_module
from ansible_collections.vaultops.recovery.plugins.module_utils.common.waiter import wait_until
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault import iv_checks, iv_probes
from ansible_collections.vaultops.recovery.plugins.module_utils.institutional_vault.wallet_api import WalletApi
from ansible_collections.vaultops.recovery.plugins.module_utils.k8s import connection as k8s_connection
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.client_tools import ClientTools
from ansible_collections.vaultops.recovery.plugins.module_utils.postgres.pg_connection import PgConnection, SSL_MODES

DATABASE_OPTIONS = dict(
    host=dict(type="str", required=True),
    port=dict(type="int", default=5432),
    name=dict(type="str", required=True),
    user=dict(type="str", required=True),
    ssl_mode=dict(type="str", default="prefer", choices=SSL_MODES),
    ca_cert=dict(type="path"),
    pg_bin_dir=dict(type="path"),
)


def argument_spec():
    spec = k8s_connection.k8s_argument_spec()
    spec.update(
        namespace=dict(type="str"),
        pod_selector=dict(type="str"),
        wallet_url=dict(type="str"),
        wallet_validate_certs=dict(type="bool", default=True),
        wallet_ca_cert=dict(type="path"),
        wallet_api_token=dict(type="str", no_log=True),
        timeout=dict(type="int", default=10),
        expected_accounts=dict(type="int"),
        checks=dict(type="list", elements="str", choices=list(iv_checks.CHECK_NAMES)),
        policy_nodes=dict(type="list", elements="str", default=list(iv_checks.DEFAULT_POLICY_NODES)),
        wait_timeout=dict(type="int", default=0),
        poll_interval=dict(type="float", default=5.0),
        database=dict(type="dict", options=DATABASE_OPTIONS),
        database_password=dict(type="str", no_log=True),
        pending_operations_sql=dict(type="str", default="SELECT count(*) FROM pending_operations"),
        fail_on_failed_check=dict(type="bool", default=False),
    )
    return spec


class Verification(object):
    """One round of the selected checks; the connections are made once and reused by every round."""

    def __init__(self, module, selected):
        self.params, self.selected = module.params, selected
        self.k8s = self.k8s_error = self.wallet = self.listing_failure = None
        if iv_checks.PODS_READY in selected or iv_checks.POLICY_NODES_READY in selected:
            module.require_library("kubernetes", k8s_connection.HAS_KUBERNETES,
                                   k8s_connection.KUBERNETES_IMPORT_ERROR)
            try:
                self.k8s = k8s_connection.K8sConnection(self.params)
            except RecoveryError as exc:
                self.k8s_error = exc  # a bad kubeconfig fails the check, not the module
        if self.params["wallet_url"]:
            p = self.params
            self.wallet = WalletApi(p["wallet_url"], p["wallet_api_token"], p["wallet_validate_certs"],
                                    p["wallet_ca_cert"], p["timeout"])

    def list_pods(self, result):
        """Lists the namespace's pods into result["pods"]; a failed check (why they could not be listed) or None."""
        p = self.params
        if self.k8s_error is not None:
            return iv_checks.error_check(iv_checks.PODS_READY, self.k8s_error)
        try:
            pods = iv_probes.namespace_pods(self.k8s, p["namespace"], p["pod_selector"])
        except RecoveryError as exc:
            return iv_checks.error_check(iv_checks.PODS_READY, exc)
        result["pods"] = iv_checks.pod_rows(pods)
        return None

    def pods(self, result):
        self.listing_failure = self.list_pods(result)
        return self.listing_failure or iv_checks.pods_check(self.params["namespace"], result["pods"],
                                                            self.params["pod_selector"])

    def policy_nodes(self, result):
        failure = self.listing_failure if iv_checks.PODS_READY in self.selected else self.list_pods(result)
        if failure:
            return iv_checks.check(iv_checks.POLICY_NODES_READY, False, failure["detail"])
        return iv_checks.policy_nodes_check(self.params["policy_nodes"], result["pods"])

    def health(self, result):
        try:
            result["health"] = iv_probes.wallet_health(self.wallet)
        except RecoveryError as exc:
            return iv_checks.error_check(iv_checks.WALLET_HEALTH, exc)
        return iv_checks.health_check(self.wallet.url(iv_probes.HEALTH_PATH), result["health"])

    def accounts(self, result):
        try:
            total, how = iv_probes.wallet_accounts(self.wallet)
        except RecoveryError as exc:
            return iv_checks.error_check(iv_checks.ACCOUNTS_COUNT, exc)
        result["accounts_total"] = total
        return iv_checks.accounts_check(total, how, self.params["expected_accounts"])

    def __call__(self):
        result = dict(pods=[], health=None, accounts_total=None)
        runners = {iv_checks.PODS_READY: self.pods, iv_checks.POLICY_NODES_READY: self.policy_nodes,
                   iv_checks.WALLET_HEALTH: self.health,
                   iv_checks.ACCOUNTS_COUNT: self.accounts}
        result["checks"] = [runners[name](result) for name in self.selected]
        return result


def count_pending(module):
    p = module.params
    if not p["database"]:
        return None, "not counted: no database given"
    db = p["database"]
    params = dict(login_host=db["host"], port=db["port"], login_user=db["user"], login_password=p["database_password"],
                  login_unix_socket=None, ssl_mode=db["ssl_mode"], ca_cert=db["ca_cert"], ssl_cert=None, ssl_key=None,
                  connect_timeout=p["timeout"], os_user=None)
    tools = ClientTools(module.get_bin_path, db["pg_bin_dir"])
    with PgConnection(params, tools.path) as conn:
        return iv_probes.pending_operations(conn, db["name"], p["pending_operations_sql"])


def run(module):
    p = module.params
    selected = iv_checks.select_checks(p["checks"], {"namespace": p["namespace"], "wallet_url": p["wallet_url"]})
    probe = iv_checks.CheckRound(Verification(module, selected))
    if p["wait_timeout"] > 0:
        try:
            wait_until(probe, "the restoration checks", p["wait_timeout"], "wait_timeout", p["poll_interval"])
        except RecoveryError:
            pass  # the last round's failed checks are the answer
    else:
        probe()
    result = probe.last
    result["passed"], result["failed_checks"] = iv_checks.summary(result["checks"])
    result["rounds"] = probe.rounds
    result["changed"] = False
    try:
        result["pending_operations"], result["pending_operations_detail"] = count_pending(module)
    except RecoveryError as exc:
        raise RecoveryError("counting pending operations failed: %s" % exc.message, fix=exc.fix, **result)
    if p["fail_on_failed_check"] and result["failed_checks"]:
        raise iv_checks.failed_checks_error(result["checks"], result)
    return result


def main():
    run_module(run, argument_spec())


if __name__ == "__main__":
    main()

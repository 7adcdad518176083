# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secret names: the db-info and Encryptor Master Password names of each service, and their Key Vault form.

The vendor names the db-info secrets <environment>.<namespace>.<service>.db-info.
Azure Key Vault allows only letters, digits and dashes (1 to 127 characters),
so on Azure a name is mapped: every other character becomes a dash
(prod.wallet.policy-node0.db-info -> prod-wallet-policy-node0-db-info).
A key_vault_name_template replaces that rule when a deployment names its
secrets differently; its result must already be a valid Key Vault name.
"""

import re

from ansible_collections.vaultops.recovery.plugins.module_utils.common.errors import RecoveryError

DEFAULT_SERVICES = ("orchestrator", "policy-node0", "policy-node1", "policy-node2", "wallet")
DEFAULT_EMP_NODES = ("policy-node0", "policy-node1", "policy-node2")
DB_INFO_TEMPLATE = "{environment}.{namespace}.{service}.db-info"
EMP_TEMPLATE = "{environment}.{namespace}.{service}.encryptor-master-password"
PLACEHOLDERS = ("environment", "namespace", "service")

_KEY_VAULT_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")
_NOT_KEY_VAULT = re.compile(r"[^0-9A-Za-z-]")


def render(template, option, environment, namespace, service):
    """template with {environment}, {namespace} and {service} replaced; any other {...} is an error."""
    values = {"environment": environment, "namespace": namespace, "service": service}
    unknown = sorted(set(re.findall(r"\{([^{}]*)\}", template)) - set(PLACEHOLDERS))
    if unknown:
        raise RecoveryError("%s %r uses unknown placeholder(s) %s." % (option, template, ", ".join(unknown)),
                            fix="use only {environment}, {namespace} and {service}.")
    name = template
    for key, value in values.items():
        name = name.replace("{%s}" % key, value)
    if not name.strip():
        raise RecoveryError("%s %r renders to an empty name." % (option, template), fix="set %s." % option)
    return name


def key_vault_name(name):
    """The documented Azure mapping: each character other than a letter, digit or dash becomes a dash."""
    return _NOT_KEY_VAULT.sub("-", name)


def check_key_vault_name(name, option):
    if not _KEY_VAULT_NAME.match(name):
        raise RecoveryError("%r is not a valid Azure Key Vault secret name (letters, digits and dashes only, 1 to"
                            " 127 characters)." % name,
                            fix="change %s so that it renders to letters, digits and dashes." % option)
    return name


class SecretNaming(object):
    """Maps services to secret names for one provider.

    template / template_option: the provider-neutral name (db-info or EMP).
    key_vault_template / key_vault_option: the Azure override, or None for the mapping rule.
    """

    def __init__(self, provider, template, template_option, key_vault_template=None, key_vault_option=None):
        self.provider = provider
        self.template, self.template_option = template, template_option
        self.key_vault_template, self.key_vault_option = key_vault_template, key_vault_option

    def name(self, environment, namespace, service):
        if self.provider != "azure":
            return render(self.template, self.template_option, environment, namespace, service)
        if self.key_vault_template:
            return check_key_vault_name(
                render(self.key_vault_template, self.key_vault_option, environment, namespace, service),
                self.key_vault_option)
        mapped = key_vault_name(render(self.template, self.template_option, environment, namespace, service))
        return check_key_vault_name(mapped, self.template_option)

    def names(self, environment, namespace, services):
        """{service: name}; two services that end up with the same name are an error."""
        if not services:
            raise RecoveryError("services is empty.", fix="list at least one service.")
        duplicates = sorted(set(service for service in services if list(services).count(service) > 1))
        if duplicates:
            raise RecoveryError("services lists %s more than once." % ", ".join(duplicates),
                                fix="list each service once.")
        names = dict((service, self.name(environment, namespace, service)) for service in services)
        seen = {}
        for service in services:
            other = seen.setdefault(names[service], service)
            if other != service:
                raise RecoveryError("Services %s and %s both map to secret %s." % (other, service, names[service]),
                                    fix="use a name template (on Azure key_vault_name_template) that keeps them"
                                        " apart.")
        return names

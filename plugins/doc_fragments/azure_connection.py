# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of every module that talks to Azure (ARM, Key Vault) through the azure SDK.

The options are those of plugins/module_utils/cloud/azure_client.py azure_argument_spec().
"""


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  tenant_id:
    description:
      - Microsoft Entra ID (Azure AD) tenant of the service principal. Together with O(client_id) and O(secret).
      - When none of the three is given, C(DefaultAzureCredential) of the managed host is used; it tries
        the C(AZURE_TENANT_ID)/C(AZURE_CLIENT_ID)/C(AZURE_CLIENT_SECRET) (or C(AZURE_CLIENT_CERTIFICATE_PATH))
        environment, workload identity, managed identity, then the Azure CLI's C(az login).
    type: str
    aliases: [tenant]
  client_id:
    description:
      - Application (client) ID of the service principal.
    type: str
  secret:
    description:
      - Client secret of the service principal. It never appears in any output.
    type: str
  managed_identity_client_id:
    description:
      - Client ID of a user-assigned managed identity, for C(DefaultAzureCredential) on an Azure VM, AKS node or
        other Azure compute with several identities. Not used with O(client_id).
    type: str
  subscription_id:
    description:
      - Azure subscription of the resources. Defaults to C(AZURE_SUBSCRIPTION_ID). Needed for resource manager
        (ARM) calls, not for Key Vault.
    type: str
  authority_host:
    description:
      - Microsoft Entra ID endpoint that issues tokens, for example C(login.microsoftonline.us) for Azure
        Government. Defaults to C(AZURE_AUTHORITY_HOST), else Azure's public cloud.
      - Instance discovery is turned off for hosts other than Azure's own, so a private or test token endpoint
        works.
    type: str
  resource_manager_url:
    description:
      - Azure Resource Manager endpoint, for example C(https://management.usgovcloudapi.net) for Azure Government
        or a test server. The token is requested for C(<resource_manager_url>/.default). Defaults to
        C(https://management.azure.com).
    type: str
  azure_ca_bundle:
    description:
      - File with the certificate authorities that sign the Azure endpoints' (and O(authority_host)'s)
        certificates, for a TLS-inspecting proxy or a test server. Defaults to the system's trust store.
    type: path
  polling_interval:
    description:
      - Seconds between two polls of a long-running Azure operation when the service does not say
        (C(Retry-After)). Defaults to the SDK's (30).
    type: float
requirements:
  - azure-identity on the managed host
notes:
  - Credentials are read on the managed host, not on the controller. The identity needs a role on the resources
    that allows the calls the module makes (see its description).
"""

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of every module that talks to the Kubernetes API through the kubernetes client.

The options are those of plugins/module_utils/k8s/connection.py k8s_argument_spec(); names, aliases and environment
variables follow kubernetes.core, so one module_defaults block serves both collections.
"""


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path of the kubeconfig file. Defaults to C(K8S_AUTH_KUBECONFIG), else C(~/.kube/config) when O(host) is not
        given.
      - The file is read, never written (a refreshed token is not saved back).
    type: path
  context:
    description:
      - The kubeconfig context to use; its current context when omitted. Defaults to C(K8S_AUTH_CONTEXT).
    type: str
  host:
    description:
      - URL of the API server, for example C(https://10.0.0.1:6443); overrides the kubeconfig's. Defaults to
        C(K8S_AUTH_HOST).
    type: str
  api_key:
    description:
      - Bearer token for the API server; overrides the kubeconfig user's. Defaults to C(K8S_AUTH_API_KEY).
      - It never appears in any output.
    type: str
  validate_certs:
    description:
      - Verify the API server's TLS certificate; the kubeconfig's setting when omitted. Prefer O(ca_cert) to
        turning this off. Defaults to C(K8S_AUTH_VERIFY_SSL).
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - File with the certificate authority that signed the API server's certificate; overrides the kubeconfig's.
        Defaults to C(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
requirements:
  - kubernetes (the Python client) on the host that runs the module, usually the controller
notes:
  - The options are those of kubernetes.core's modules, so C(module_defaults) of the group
    C(group/kubernetes.core.k8s) can be repeated for these modules.
"""

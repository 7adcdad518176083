# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of every module that talks to AWS (or an S3-compatible service) through boto3.

The options are those of plugins/module_utils/cloud/aws_client.py aws_argument_spec(); the names and aliases follow
amazon.aws.
"""


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  endpoint_url:
    description:
      - URL of the service's API to use instead of AWS's, for example a VPC endpoint, a local test server, or
        an S3-compatible service.
      - Defaults to the C(AWS_ENDPOINT_URL) (or service-specific C(AWS_ENDPOINT_URL_<SERVICE>)) environment variable
        or the shared AWS configuration of the managed host, else AWS.
    type: str
    aliases: [aws_endpoint_url]
  region:
    description:
      - AWS region. Defaults to C(AWS_REGION), C(AWS_DEFAULT_REGION) or the profile's.
    type: str
    aliases: [aws_region]
  access_key:
    description:
      - Access key ID. Together with O(secret_key); mutually exclusive with O(profile).
      - When neither keys nor O(profile) are given, the default credential chain of the managed host is used
        (C(AWS_ACCESS_KEY_ID)/C(AWS_SECRET_ACCESS_KEY)/C(AWS_SESSION_TOKEN), C(AWS_PROFILE), the shared
        credentials and config files, web identity, container and instance roles), as with the AWS CLI.
    type: str
    aliases: [aws_access_key_id, aws_access_key]
  secret_key:
    description:
      - Secret access key of O(access_key). It never appears in any output.
    type: str
    aliases: [aws_secret_access_key, aws_secret_key]
  session_token:
    description:
      - Session token for temporary credentials (an assumed role). It never appears in any output.
    type: str
    aliases: [aws_session_token]
  profile:
    description:
      - Named profile of the shared AWS configuration files of the managed host (which may assume a role).
    type: str
    aliases: [aws_profile]
  validate_certs:
    description:
      - Verify the TLS certificate of the endpoints. Prefer O(aws_ca_bundle) to turning this off.
    type: bool
    default: true
  aws_ca_bundle:
    description:
      - File with the certificate authorities that sign the endpoints' certificates.
    type: path
requirements:
  - boto3 on the managed host
notes:
  - Credentials and configuration files are read on the managed host, not on the controller.
"""

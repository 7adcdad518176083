# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of the modules that talk to S3-compatible object storage (AWS S3, Cloudflare R2, MinIO)."""


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  endpoint_url:
    description:
      - URL of the S3 API to use instead of AWS's, for example C(https://<account id>.r2.cloudflarestorage.com)
        for Cloudflare R2 or C(http://127.0.0.1:9000) for MinIO.
      - Defaults to the C(AWS_ENDPOINT_URL) (or C(AWS_ENDPOINT_URL_S3)) environment variable or the shared AWS
        configuration of the managed host, else AWS.
    type: str
    aliases: [aws_endpoint_url]
  region:
    description:
      - Region of the bucket (C(auto) for R2). Defaults to C(AWS_REGION), C(AWS_DEFAULT_REGION) or the profile's.
    type: str
    aliases: [aws_region]
  access_key:
    description:
      - Access key ID. Together with O(secret_key); mutually exclusive with O(profile).
      - When neither keys nor O(profile) are given, the default credential chain of the managed host is used
        (C(AWS_ACCESS_KEY_ID)/C(AWS_SECRET_ACCESS_KEY)/C(AWS_SESSION_TOKEN), C(AWS_PROFILE), the shared
        credentials and config files, container and instance roles), as with the AWS CLI.
    type: str
    aliases: [aws_access_key_id, aws_access_key]
  secret_key:
    description:
      - Secret access key of O(access_key). It never appears in any output.
    type: str
    aliases: [aws_secret_access_key, aws_secret_key]
  session_token:
    description:
      - Session token for temporary credentials. It never appears in any output.
    type: str
    aliases: [aws_session_token]
  profile:
    description:
      - Named profile of the shared AWS configuration files of the managed host.
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
  - boto3 on the managed host (not needed to verify a copy directory)
notes:
  - Credentials and configuration files are read on the managed host, not on the controller.
"""

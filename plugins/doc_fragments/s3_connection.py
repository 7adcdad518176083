# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the modules that talk to S3-compatible object storage (AWS S3, Cloudflare R2, MinIO) add to the connection.

The connection options themselves come from vaultops.recovery.aws_connection; list this fragment after it.
"""


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options: {}
notes:
  - S3-compatible services other than AWS S3 are reached through O(endpoint_url), for example
    C(https://<account id>.r2.cloudflarestorage.com) for Cloudflare R2 (with O(region=auto)) or
    C(http://127.0.0.1:9000) for MinIO. C(AWS_ENDPOINT_URL_S3) on the managed host sets it for S3 alone.
"""

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vaultops.recovery contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An orderly TPM2_Shutdown before swtpm is stopped.

Stopping swtpm without TPM2_Shutdown is an unorderly shutdown to the TPM: it
counts against dictionary-attack protection, and after a few such stops (one
per backup) the TPM refuses to load DA-protected objects ("DA lockout mode"),
so Vaulthalla can no longer unseal its keys. Seen in the lab; real TPM semantics.
"""

import os

from ansible_collections.vaultops.recovery.plugins.module_utils.common import process


def orderly_shutdown(tcti, find_binary, runner=process.run):
    """Send TPM2_Shutdown(CLEAR) through tcti. Returns None, or a warning text."""
    tool = find_binary("tpm2_shutdown")
    if not tool:
        return ("tpm2_shutdown (tpm2-tools) was not found, so swtpm was stopped without an orderly TPM shutdown;"
                " repeated unorderly stops can put the TPM into dictionary-attack lockout.")
    rc, out, err = runner([tool], env=dict(os.environ, TPM2TOOLS_TCTI=tcti))
    if rc != 0:
        return "tpm2_shutdown through %s failed before swtpm was stopped: %s" % (tcti, (err or out).strip())
    return None

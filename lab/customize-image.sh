#!/usr/bin/env bash
# mmdebstrap customize hook for the lab image; $1 is the root of the new system.
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/err-trap.sh"
root=$1
# Containers have no consoles or logins: these units would only fail at boot.
chroot "$root" systemctl mask systemd-logind.service getty.target console-getty.service >/dev/null
echo vaultops-lab > "$root/etc/hostname"
# Empty machine-id: every container boots with an identity of its own, as separate hosts do.
rm -f "$root/etc/machine-id"
: > "$root/etc/machine-id"

#!/usr/bin/env bash
# Stop and remove the lab container (LAB_CONTAINER, default vaultops-lab-pg).
# Artifacts already fetched to lab-output/ stay on the controller.
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/err-trap.sh"
name=${LAB_CONTAINER:-vaultops-lab-pg}
if podman container exists "$name"; then
  podman rm -f -t 10 "$name" >/dev/null
  echo "lab/down.sh: removed $name" >&2
else
  echo "lab/down.sh: no container $name" >&2
fi

#!/usr/bin/env bash
# Recovery time of playbooks/restore.yml on a lab host with 1 GiB of vault data and a 1 GiB database, per step,
# against the bare commands it runs (zstd | tar -x, zstd | pg_restore) on the same artifacts in the same run.
# Usage: bench/restore.sh [--data-mb 1024] [--db-mb 1024] [--container vh-bench-restore] [--no-intact] [--keep]
#        bench/restore.sh --table bench/results/restore-<UTC>.json   (print the table of an earlier run)
# Needs podman and the Vaulthalla lab image (scripts/vaulthalla-lab.sh builds it); about 10-15 min on 2 cores.
# VENV: the virtualenv with ansible-playbook (default .venv at the repository root). Result: bench/results/restore-*.json
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/err-trap.sh"
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export VENV="${VENV:-$bench/../.venv}"
for needed in "$VENV/bin/ansible-playbook" "$(command -v podman || echo podman)"; do
    [[ -x "$needed" ]] || { echo "restore.sh: $needed is missing (set VENV; the lab needs podman)" >&2; exit 2; }
done
exec "$VENV/bin/python" "$bench/restore_bench.py" "$@"

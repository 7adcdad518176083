#!/usr/bin/env bash
# Ordered stop and start of the Institutional Vault services in the IV lab: the role (playbooks/
# institutional_vault_services.yml's role, through ansible-playbook) against bare kubectl doing the same order
# with the same polling, per tier. Usage: bench/iv_services.sh [--rounds 3] [--poll 0.25] [--provider aws|azure]
# About 2 min on 2 cores. VENV: the virtualenv (default .venv at the repository root).
# Result: bench/results/iv_services-<UTC>.json and a table.
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/err-trap.sh"
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export VENV="${VENV:-$bench/../.venv}"
for needed in "$VENV/bin/ansible-playbook" "$(command -v kubectl || echo kubectl)"; do
    [[ -x "$needed" ]] || { echo "iv_services.sh: $needed is missing (set VENV; scripts/setup.sh installs kubectl)" >&2; exit 2; }
done
exec "$VENV/bin/python" "$bench/iv_services_bench.py" "$@"

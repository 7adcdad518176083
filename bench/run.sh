#!/usr/bin/env bash
# Benchmark pg_backup against bare pg_dump and community.postgresql.postgresql_db.
# Usage: bench/run.sh [--size-gb 1.1] [--repeat 3] [...]   (bench/run.sh --help for all options)
#        bench/run.sh --profile [--size-gb 1.1] [--repeat 3]  (where the time goes: profile_pg_backup.py)
# Uses the virtualenv in $VENV (default: .venv at the repository root). Results: bench/results/*.json
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/err-trap.sh"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${VENV:-$here/../.venv}"
if [[ ! -x "$venv/bin/python" ]]; then
    echo "no virtualenv at $venv (set VENV, or create it: python3 -m venv .venv && .venv/bin/pip install -r requirements-dev.txt)" >&2
    exit 2
fi
export PATH="$venv/bin:$PATH"
script="$here/pg_backup_bench.py"
if [[ "${1:-}" == "--profile" ]]; then
    shift
    script="$here/profile_pg_backup.py"
fi
exec "$venv/bin/python" "$script" "$@"

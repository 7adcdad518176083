#!/usr/bin/env bash
# Benchmark path_archive (zstd, multithreaded) against the seed's tar -czf on a 1 GiB Vaulthalla-like tree.
# Usage: bench/path_archive.sh [--size-gb 1] [--repeat 3] [--workdir DIR] [--keep]
# Uses the virtualenv in $VENV (default: .venv at the repository root). Result: bench/results/path_archive-*.json
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
exec "$venv/bin/python" "$here/path_archive_bench.py" "$@"

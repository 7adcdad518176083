#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine, as root (README command 2;
# .ci/run runs exactly this). Sets everything up first, then: collection build,
# ansible-lint, ansible-test sanity, Molecule, pytest (unit + integration).
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/err-trap.sh"
repo=$(cd "$(dirname "$0")/.." && pwd)
export VENV=${VENV:-$repo/.venv}
"$repo/scripts/setup.sh"
export PATH="$VENV/bin:$PATH"
cd "$repo"
started=$SECONDS
step() { printf '\n==> %s (%ds)\n' "$*" "$((SECONDS - started))"; }

step "collection: build, install, ansible-doc"
rm -rf .tmp/dist .tmp/installed
mkdir -p .tmp/dist .tmp/installed
ansible-galaxy collection build --output-path .tmp/dist .
ansible-galaxy collection install --offline -p .tmp/installed .tmp/dist/vaultops-recovery-*.tar.gz
# From here on, Ansible (lint, Molecule) uses the collection as built and installed.
export ANSIBLE_COLLECTIONS_PATH="$repo/.tmp/installed"
ansible-doc vaultops.recovery.pg_backup > .tmp/dist/pg_backup.txt
grep -q "verifies the archive (size, checksum" .tmp/dist/pg_backup.txt ||
  { echo "ansible-doc did not render pg_backup from the installed collection" >&2; exit 1; }

step "ansible-lint (production profile)"
ansible-lint

step "ansible-test sanity"
scripts/sanity.sh

step "molecule"
scripts/molecule.sh

step "pytest: unit and integration (real PostgreSQL)"
pytest

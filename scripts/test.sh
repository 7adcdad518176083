#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine, as root (README command 2;
# .ci/run runs it). Sets everything up first, then: collection build, ansible-lint
# beside ansible-test sanity, then Molecule (then the IV procedure tests) beside pytest (unit + integration).
# Each pair runs side by side: each half is mostly one busy core (one ansible
# process at a time), and the machine has two. A half's output is printed when it
# ends. Every stage's wall time is printed at the end and kept in
# .tmp/test-stages.tsv (stage, seconds, exit status).
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/err-trap.sh"
repo=$(cd "$(dirname "$0")/.." && pwd)
export VENV=${VENV:-$repo/.venv}
cd "$repo"
mkdir -p .tmp/test-logs
stages=.tmp/test-stages.tsv
: > "$stages"
started=$SECONDS

# stage NAME COMMAND...: run in the foreground, record its time.
stage() {
  local name=$1 begun=$SECONDS status=0
  shift
  printf '\n==> %s (at %ds)\n' "$name" "$((SECONDS - started))"
  "$@" || status=$?
  printf '%s\t%d\t%d\n' "$name" "$((SECONDS - begun))" "$status" >> "$stages"
  return "$status"
}

# in_background NAME COMMAND...: start a stage beside the others, its output to a log.
background_names=() background_logs=() background_pids=()
in_background() {
  local log=.tmp/test-logs/${1//[^A-Za-z0-9_-]/_}.log
  printf '\n==> %s (at %ds, in the background; output in %s)\n' "$1" "$((SECONDS - started))" "$log"
  stage "$@" > "$log" 2>&1 &
  background_names+=("$1") background_logs+=("$log") background_pids+=("$!")
}

# await_background: wait for every background stage, print each one's output in turn.
await_background() {
  local status=0 i
  for i in "${!background_pids[@]}"; do
    wait "${background_pids[i]}" || status=1
    printf '\n==> output of %s\n' "${background_names[i]}"
    cat "${background_logs[i]}"
  done
  background_names=() background_logs=() background_pids=()
  return "$status"
}

# shellcheck disable=SC2317  # run through stage, which shellcheck does not follow
collection() {
  rm -rf .tmp/dist .tmp/installed
  mkdir -p .tmp/dist .tmp/installed
  ansible-galaxy collection build --output-path .tmp/dist .
  ansible-galaxy collection install --offline -p .tmp/installed .tmp/dist/vaultops-recovery-*.tar.gz
  ansible-doc vaultops.recovery.pg_backup > .tmp/dist/pg_backup.txt
  if ! grep -q "verifies the archive (size, checksum" .tmp/dist/pg_backup.txt; then
    echo "ansible-doc did not render pg_backup from the installed collection" >&2
    return 1
  fi
}

# shellcheck disable=SC2317  # the EXIT trap runs it
summary() {
  local status=$?
  printf '\n==> stage times (total %ds)\n' "$((SECONDS - started))"
  column -t -s $'\t' -N stage,seconds,exit "$stages" || cat "$stages"
  exit "$status"
}
trap summary EXIT

stage "setup (apt, venv, lab images)" "$repo/scripts/setup.sh"
export PATH="$VENV/bin:$PATH"
# From here on, Ansible (ansible-doc, lint, Molecule) uses the collection as built and installed.
export ANSIBLE_COLLECTIONS_PATH="$repo/.tmp/installed"
stage "collection: build, install, ansible-doc" collection
failed=0
in_background "ansible-lint (production profile)" ansible-lint
stage "ansible-test sanity" scripts/sanity.sh || failed=1
await_background || failed=1
((failed == 0)) || exit 1
# The Institutional Vault procedure tests (ansible-playbook against the IV lab, mostly waiting on pods) run in
# Molecule's half once Molecule is done, so they overlap the long rest of pytest instead of adding to it.
iv_procedures=tests/integration/roles/test_institutional_vault_procedures.py
# shellcheck disable=SC2317  # run through stage, which shellcheck does not follow
molecule_then_iv_procedures() {
  local status=0
  scripts/molecule.sh || status=1
  printf '\n==> pytest %s (after Molecule)\n' "$iv_procedures"
  pytest "$iv_procedures" || status=1
  return "$status"
}
in_background "molecule, then the IV procedure tests" molecule_then_iv_procedures
stage "pytest: unit and integration (real PostgreSQL)" pytest --ignore="$iv_procedures" || failed=1
await_background || failed=1
exit "$failed"

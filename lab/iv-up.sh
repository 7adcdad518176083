#!/usr/bin/env bash
# Start (or reuse) the Institutional Vault lab: two PostgreSQL 15 clusters, the secret store (moto Secrets
# Manager for aws, the Key Vault stand-in for azure), the Kubernetes API stand-in whose pods are real
# processes, the wallet's HTTPS URL (a Service stand-in, lab CA) and a stopped drill namespace
# (tests/support/iv_lab.py serve, kept running in the background).
#
#   lab/iv-up.sh [--provider aws|azure]   -> prints the inventory path on stdout (progress on stderr)
#   lab/iv-down.sh                        stops it
#
# Environment:
#   IV_LAB_DIR       the lab's directory (default <repo>/.tmp/iv-lab): lab.json once ready, lab.log, inventory
#   IV_LAB_PROVIDER  aws or azure (default aws; --provider wins)
#   IV_LAB_TIMEOUT   seconds to wait for the lab to be ready (default 180)
#   VENV             the virtualenv (default <repo>/.venv)
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/err-trap.sh"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
VENV=${VENV:-$repo/.venv}
dir=$(realpath -m "${IV_LAB_DIR:-$repo/.tmp/iv-lab}")
provider=${IV_LAB_PROVIDER:-aws}
asked=${IV_LAB_PROVIDER:+1}   # a provider was asked for (env or --provider), so a reused lab of another is worth a note
timeout_s=${IV_LAB_TIMEOUT:-180}

log() { echo "lab/iv-up.sh: $*" >&2; }
usage() { echo "usage: lab/iv-up.sh [--provider aws|azure]" >&2; exit 2; }

while (( $# )); do
  case $1 in
    --provider) (( $# >= 2 )) || usage; provider=$2; asked=1; shift 2 ;;
    --provider=*) provider=${1#--provider=}; asked=1; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) usage ;;
  esac
done
case $provider in aws|azure) ;; *) log "provider is aws or azure, not '$provider'"; exit 2 ;; esac
[[ $timeout_s =~ ^[0-9]+$ ]] || { log "IV_LAB_TIMEOUT must be a number of seconds, not '$timeout_s'"; exit 2; }

ready=$dir/lab.json
pidfile=$dir/serve.pid
lablog=$dir/lab.log

# lab.json's fields, one a line (pid inventory kubeconfig namespace provider wallet_url wallet_ca_cert drill_namespace)
read_ready() {
  "$VENV/bin/python" -c 'import json, sys
lab = json.load(open(sys.argv[1]))
print("\n".join(str(lab.get(key, "")) for key in ("pid", "inventory", "kubeconfig", "namespace", "provider", "wallet_url", "wallet_ca_cert",
                                           "drill_namespace")))' "$ready"
}
# true when pid $1 is alive and is this lab's serve process (not a reused pid)
is_serve() {
  local pid=$1 cmdline
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *iv_lab.py\ serve\ --dir\ "$dir"\ * ]]
}
report() {   # stdout: the inventory; stderr: how to look at it
  local fields
  mapfile -t fields < <(read_ready)
  if [[ -n $asked && -n ${fields[4]} && ${fields[4]} != "$provider" ]]; then
    log "note: the running lab's provider is ${fields[4]}, not $provider (lab/iv-down.sh first to change it)"
  fi
  log "IV lab up (pid ${fields[0]}, provider ${fields[4]:-?}, dir $dir)"
  log "  kubectl --kubeconfig ${fields[2]} get pods -n ${fields[3]}"
  if [[ -n ${fields[5]} ]]; then
    log "  curl --cacert ${fields[6]} ${fields[5]}/health   (the wallet through its Service stand-in)"
    log "  drill namespace (stopped): ${fields[7]}"
  fi
  log "  ansible-playbook -i ${fields[1]} playbooks/institutional_vault_services.yml -e institutional_vault_services_state=stopped"
  log "  lab/iv-down.sh stops it"
  echo "${fields[1]}"
}

pid=""
ours=0
if [[ -f $ready ]]; then
  mapfile -t fields < <(read_ready)
  pid=${fields[0]}
  if is_serve "$pid"; then
    log "reusing the IV lab running from $dir"
    report
    exit 0
  fi
  log "stale $ready (pid $pid is gone); starting a new lab"
  rm -f "$ready"
  pid=""
fi
if [[ -f $pidfile ]] && is_serve "$(cat "$pidfile")"; then
  pid=$(cat "$pidfile")
  log "an IV lab is already starting from $dir (pid $pid); waiting for it"
else
  mkdir -p "$dir"
  chmod 700 "$dir"
  log "starting the IV lab ($provider) in $dir; its log: $lablog"
  # setsid: its own session, so it outlives this shell and the terminal; iv-down.sh stops it with SIGTERM
  setsid "$VENV/bin/python" "$repo/tests/support/iv_lab.py" serve --dir "$dir" --provider "$provider" \
    </dev/null >"$lablog" 2>&1 &
  pid=$!
  ours=1
  echo "$pid" >"$pidfile"
fi

# Wait on conditions, bounded by a deadline: lab.json (ready), the process gone (failed), or the timeout.
deadline=$((SECONDS + timeout_s))
while [[ ! -f $ready ]]; do
  if ! kill -0 "$pid" 2>/dev/null; then
    status=unknown
    if (( ours )); then wait "$pid" && status=0 || status=$?; fi
    log "the IV lab process $pid exited (status $status) before it was ready; the end of $lablog:"
    tail -n 40 "$lablog" >&2 || true
    rm -f "$pidfile"
    exit 1
  fi
  if (( SECONDS >= deadline )); then
    log "the IV lab was not ready within ${timeout_s}s; stopping it (pid $pid). The end of $lablog:"
    tail -n 40 "$lablog" >&2 || true
    kill -TERM "$pid" 2>/dev/null || true
    # SIGTERM before ready makes it stop what it started; give it a bounded while, then force
    stop_deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && (( SECONDS < stop_deadline )); do
      sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
    exit 1
  fi
  sleep 0.2   # the interval between two looks at the conditions above, not a wait in itself
done
report

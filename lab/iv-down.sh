#!/usr/bin/env bash
# Stop the Institutional Vault lab that lab/iv-up.sh started from IV_LAB_DIR (default <repo>/.tmp/iv-lab),
# then check that nothing of it is left: the serve process, its pods (real processes whose output goes to
# files under the lab directory), its two PostgreSQL postmasters and lab.json. Nothing running: says so, exit 0.
#
# Environment: IV_LAB_DIR, IV_LAB_STOP_TIMEOUT (seconds to wait for it to stop, default 60), VENV.
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/err-trap.sh"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
VENV=${VENV:-$repo/.venv}
dir=$(realpath -m "${IV_LAB_DIR:-$repo/.tmp/iv-lab}")
timeout_s=${IV_LAB_STOP_TIMEOUT:-60}
ready=$dir/lab.json
pidfile=$dir/serve.pid

log() { echo "lab/iv-down.sh: $*" >&2; }
[[ $timeout_s =~ ^[0-9]+$ ]] || { log "IV_LAB_STOP_TIMEOUT must be a number of seconds, not '$timeout_s'"; exit 2; }

is_serve() {   # pid $1 is alive and is this lab's serve process (not a reused pid)
  local pid=$1 cmdline
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *iv_lab.py\ serve\ --dir\ "$dir"\ * ]]
}
# processes (pid and command line) that still hold a file under the lab directory open or run in it
lab_processes() {
  local entry pid
  # find complains (and fails) about processes that end while it looks: only its matches count
  { find /proc/[0-9]*/fd /proc/[0-9]*/cwd -maxdepth 1 \( -lname "$dir" -o -lname "$dir/*" \) 2>/dev/null || true; } | cut -d/ -f3 | sort -un |
    while read -r pid; do
      entry=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
      echo "$pid $entry"
    done
}

pid="" postmasters=()
if [[ -f $ready ]]; then
  pid=$("$VENV/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["pid"])' "$ready")
  mapfile -t datadirs < <("$VENV/bin/python" -c 'import json, sys
print("\n".join(json.load(open(sys.argv[1])).get("clusters", [])))' "$ready")
  for datadir in "${datadirs[@]}"; do
    [[ -n $datadir && -f $datadir/postmaster.pid ]] && postmasters+=("$(head -n 1 "$datadir/postmaster.pid")")
  done
fi
if ! is_serve "$pid" && [[ -f $pidfile ]]; then
  pid=$(cat "$pidfile")   # still starting (no lab.json yet): SIGTERM makes it stop what it started
fi

if is_serve "$pid"; then
  log "stopping the IV lab in $dir (pid $pid)"
  kill -TERM "$pid"
  deadline=$((SECONDS + timeout_s))
  while kill -0 "$pid" 2>/dev/null; do
    if (( SECONDS >= deadline )); then
      log "pid $pid still runs ${timeout_s}s after SIGTERM; killing it. The end of $dir/lab.log:"
      tail -n 40 "$dir/lab.log" >&2 || true
      kill -KILL "$pid" 2>/dev/null || true
      exit 1
    fi
    sleep 0.2   # the interval between two looks at the condition, not a wait in itself
  done
else
  log "no IV lab is running from $dir"
fi
rm -f "$pidfile"

left=0
if [[ -f $ready ]]; then
  log "$ready is still there: the lab did not stop cleanly; the end of $dir/lab.log:"
  tail -n 20 "$dir/lab.log" >&2 || true
  rm -f "$ready"
  left=1
fi
leftovers=$(lab_processes)
if [[ -n $leftovers ]]; then
  log "processes of the lab are still running (pid, command):"
  echo "$leftovers" >&2
  left=1
fi
for postmaster in "${postmasters[@]}"; do
  if [[ $postmaster =~ ^[0-9]+$ ]] && kill -0 "$postmaster" 2>/dev/null; then
    log "PostgreSQL postmaster $postmaster of the lab is still running"
    left=1
  fi
done
(( left == 0 )) || exit 1
if [[ -n $pid ]]; then
  log "the IV lab is down: no pod, postmaster or serve process of $dir is left"
fi

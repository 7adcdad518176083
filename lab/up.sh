#!/usr/bin/env bash
# Start (or reuse) the lab container: Debian 12 booted with systemd, with
# PostgreSQL 15 running as the real postgresql@15-main service.
#
#   lab/up.sh            -> prints the inventory path on stdout (progress on stderr)
#
# Environment:
#   LAB_IMAGE      image to run (default: whatever lab/build-image.sh prints; it builds if needed)
#   LAB_CONTAINER  container name (default vaultops-lab-pg). A non-default name gets a
#                  generated inventory under .tmp/ instead of lab/inventory/pg_lab.yml.
#   LAB_BOOT_TIMEOUT seconds to wait for systemd and PostgreSQL (default 180)
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/err-trap.sh"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
name=${LAB_CONTAINER:-vaultops-lab-pg}
image=${LAB_IMAGE:-$("$here/build-image.sh")}
timeout_s=${LAB_BOOT_TIMEOUT:-180}
pg_unit=${LAB_PG_UNIT:-postgresql@15-main}

log() { echo "lab/up.sh: $*" >&2; }

image_id=$(podman image inspect --format '{{.Id}}' "$image")
if podman container exists "$name"; then
  current=$(podman container inspect --format '{{.Image}}' "$name")
  if [[ "$current" != "$image_id" ]]; then
    log "container $name runs an older image; replacing it with $image"
    podman rm -f -t 10 "$name" >/dev/null
  fi
fi
if podman container exists "$name"; then
  if [[ "$(podman container inspect --format '{{.State.Running}}' "$name")" != "true" ]]; then
    log "starting existing container $name"
    podman start "$name" >/dev/null
  else
    log "reusing running container $name"
  fi
else
  log "creating container $name from $image"
  podman run -d --name "$name" --hostname "$name" --systemd=always \
    --label vaultops.lab=pg "$image" /sbin/init >/dev/null
fi

# Wait on conditions, bounded by a deadline: first systemd's own boot-completion
# answer (`is-system-running --wait` blocks until the boot job queue is empty; the
# loop only covers the first instants, before systemd's bus socket exists), then
# the PostgreSQL unit.
deadline=$((SECONDS + timeout_s))
state=""
while :; do
  state=$(podman exec "$name" systemctl is-system-running --wait 2>/dev/null || true)
  case "$state" in
    running|degraded) break ;;
    # no answer/offline: systemd's bus is not up yet (first instants after start)
    ""|offline|unknown|initializing|starting) ;;
    *) log "systemd in $name is $state"; podman exec "$name" systemctl --failed --no-pager >&2 || true; exit 1 ;;
  esac
  if [[ "$(podman container inspect --format '{{.State.Running}}' "$name")" != "true" ]]; then
    log "container $name stopped while booting"; podman logs --tail 50 "$name" >&2 || true; exit 1
  fi
  if (( SECONDS >= deadline )); then
    log "systemd in $name did not finish booting within ${timeout_s}s (state: ${state:-no answer})"
    podman exec "$name" systemctl --failed --no-pager >&2 || true
    exit 1
  fi
done
if [[ "$state" == degraded ]]; then
  log "systemd in $name is degraded (failed units below); continuing"
  podman exec "$name" systemctl --failed --no-pager >&2 || true
fi
if ! podman exec "$name" systemctl is-active --quiet "$pg_unit"; then
  log "$pg_unit is not active in $name"
  podman exec "$name" systemctl status --no-pager "$pg_unit" >&2 || true
  exit 1
fi
log "$name is up: systemd $state, $pg_unit active"

if [[ "$name" == vaultops-lab-pg ]]; then
  inventory="$here/inventory/pg_lab.yml"
else
  mkdir -p "$repo/.tmp"
  inventory="$repo/.tmp/lab-inventory-$name.yml"
  cat >"$inventory" <<YAML
---
pg_lab:
  hosts:
    $name:
      ansible_connection: containers.podman.podman
      ansible_python_interpreter: /usr/bin/python3
YAML
fi
echo "$inventory"

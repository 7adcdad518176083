#!/usr/bin/env bash
# The Vaulthalla lab host: a systemd container of the Vaulthalla lab image
# (lab/vaulthalla/build-image.sh) provisioned by lab/vaulthalla/provision.yml.
#
#   scripts/vaulthalla-lab.sh up          build images if needed, start the container,
#                                         provision it; prints the inventory path on stdout
#   scripts/vaulthalla-lab.sh down [--purge]
#                                         remove the container (--purge: also its
#                                         controller directory, incl. the recipient's secret key)
#   scripts/vaulthalla-lab.sh inventory   print the inventory path of a running lab host
#
# Progress goes to stderr. Environment:
#   VH_LAB_CONTAINER   container name (default vaultops-lab-vh)
#   VH_LAB_IMAGE       image to run (default: what lab/vaulthalla/build-image.sh prints)
#   VH_LAB_DATA_MB     MB of random bulk file bodies to add to vault local-docs (default 0)
#   VH_LAB_GNUPGHOME   controller GNUPGHOME holding the backup recipient's secret key
#                      (default .tmp/vaulthalla-lab/<container>/gnupg)
#   VH_LAB_BOOT_TIMEOUT seconds to wait for systemd in the container (default 180)
#   VH_LAB_SEED        0: a bare installation (own keys, empty database, no vaults), as a
#                      replacement or drill host (default 1: seeded with users, vaults, files)
#   VH_LAB_GROUP       inventory group of the host (default vaulthalla; vaulthalla_drill for drill hosts)
#   VENV               Python venv with ansible (default <repo>/.venv)
#
# Controller directory .tmp/vaulthalla-lab/<container>/: inventory.yml, gnupg/,
# known-files.json (SHA-256 of the known files, recipient fingerprint), provision.log.
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/err-trap.sh"
repo=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$repo/.venv}
name=${VH_LAB_CONTAINER:-vaultops-lab-vh}
workdir=$repo/.tmp/vaulthalla-lab/$name
inventory=$workdir/inventory.yml
gnupghome=${VH_LAB_GNUPGHOME:-$workdir/gnupg}
data_mb=${VH_LAB_DATA_MB:-0}
seed=${VH_LAB_SEED:-1}
group=${VH_LAB_GROUP:-vaulthalla}
timeout_s=${VH_LAB_BOOT_TIMEOUT:-180}

log() { echo "vaulthalla-lab: $*" >&2; }
running() { [[ "$(podman container inspect --format '{{.State.Running}}' "$name" 2>/dev/null)" == true ]]; }

write_inventory() {
  local recipient=${1:-}
  mkdir -p "$workdir"
  {
    echo "---"
    echo "# Vaulthalla lab host (scripts/vaulthalla-lab.sh), reached with podman exec."
    echo "$group:"
    echo "  hosts:"
    echo "    $name:"
    echo "      ansible_connection: containers.podman.podman"
    echo "      ansible_python_interpreter: /usr/bin/python3"
    echo "  vars:"
    echo "    vaulthalla_lab_gnupghome: \"$gnupghome\""
    echo "    vaulthalla_lab_controller_dir: \"$workdir\""
    echo "    vaulthalla_lab_known_files: /var/lib/vaulthalla-lab/known-files.json"
    echo "    # Python with boto3 1.44 inside the host (Debian's boto3 is too old for amazon.aws)"
    echo "    vaulthalla_lab_s3_python: /opt/vaulthalla-lab/s3/bin/python"
    echo "    vaulthalla_lab_s3_endpoint: http://127.0.0.1:5000"
    if [[ -n "$recipient" ]]; then
      echo "    vaulthalla_backup_recipient: \"$recipient\""
      echo "    # what playbooks/backup.yml needs on this lab host"
      echo "    vaulthalla_backup_gpg_recipients: [\"$recipient\"]"
      echo "    vaulthalla_backup_s3_python: /opt/vaulthalla-lab/s3/bin/python"
      echo "    vaulthalla_backup_s3_vaults:"
      for bucket in media secure; do
        echo "      - {name: s3-$bucket, bucket: vh-lab-$bucket, endpoint_url: \"http://127.0.0.1:5000\", region: us-east-1,"
        echo "         access_key: lab-access, secret_key: lab-secret}"
      done
      echo "    # read back at backup, restore and drill time (the lab has no FUSE: the stand-in's vh vault cat)"
      echo "    vaulthalla_backup_file_reader: vh_cat"
      echo "    vaulthalla_backup_known_files:"
      echo "      - {vault: local-docs, path: /docs/readme.txt}"
      echo "      - {vault: local-docs, path: \"/docs/meeting notes ✓ été.txt\"}"
      echo "      - {vault: s3-media, path: /media/notes.txt}"
      echo "      - {vault: s3-secure, path: /finance/ledger.csv}"
      echo "    vaulthalla_restore_file_reader: vh_cat"
      echo "    vaulthalla_restore_s3_python: /opt/vaulthalla-lab/s3/bin/python"
    fi
  } >"$inventory.tmp"
  mv "$inventory.tmp" "$inventory"
}

wait_for_systemd() {
  # systemd's own answer (`is-system-running --wait` blocks until the boot job queue
  # is empty); the loop only covers the instants before systemd's bus socket exists.
  local deadline=$((SECONDS + timeout_s)) state
  while :; do
    state=$(podman exec "$name" systemctl is-system-running --wait 2>/dev/null || true)
    case "$state" in
      running|degraded) break ;;
      ""|offline|unknown|initializing|starting) ;;
      *) log "systemd in $name is $state"; podman exec "$name" systemctl --failed --no-pager >&2 || true; exit 1 ;;
    esac
    if ! running; then
      log "container $name stopped while booting"; podman logs --tail 50 "$name" >&2 || true; exit 1
    fi
    if ((SECONDS >= deadline)); then
      log "systemd in $name did not finish booting within ${timeout_s}s (state: ${state:-no answer})"
      exit 1
    fi
  done
  if [[ "$state" == degraded ]]; then
    log "systemd in $name is degraded:"; podman exec "$name" systemctl --failed --no-pager >&2 || true
  fi
}

cmd_up() {
  local image image_id started=$SECONDS
  image=${VH_LAB_IMAGE:-$(VENV=$venv "$repo/lab/vaulthalla/build-image.sh")}
  log "image $image ready after $((SECONDS - started))s"
  image_id=$(podman image inspect --format '{{.Id}}' "$image")
  if podman container exists "$name" && [[ "$(podman container inspect --format '{{.Image}}' "$name")" != "$image_id" ]]; then
    log "container $name runs an older image; replacing it"
    podman rm -f -t 10 "$name" >/dev/null
  fi
  if ! podman container exists "$name"; then
    log "creating container $name from $image"
    # VH_LAB_PODMAN_ARGS: extra podman run options, e.g. a tiny tmpfs for disk-full tests
    local extra=()
    read -r -a extra <<<"${VH_LAB_PODMAN_ARGS:-}"
    podman run -d --name "$name" --hostname vh-lab --systemd=always --label vaultops.lab=vaulthalla \
      "${extra[@]}" "$image" /sbin/init >/dev/null
  elif ! running; then
    log "starting existing container $name"
    podman start "$name" >/dev/null
  else
    log "reusing running container $name"
  fi
  wait_for_systemd
  log "systemd up in $name after $((SECONDS - started))s; provisioning"
  write_inventory
  local collections
  collections=$("$venv/bin/python" -c 'import sys; sys.path.insert(0, "tests"); from support.collection import collections_root; print(collections_root())')
  if ! (cd "$repo" && ANSIBLE_COLLECTIONS_PATH=$collections ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=0 \
        ANSIBLE_RETRY_FILES_ENABLED=0 "$venv/bin/ansible-playbook" -i "$inventory" \
        -e "vaulthalla_lab_data_mb=$data_mb" -e "vaulthalla_lab_gnupghome=$gnupghome" \
        -e "vaulthalla_lab_hosts=$group" -e "vaulthalla_lab_seed=$([[ $seed == 0 ]] && echo false || echo true)" \
        -e "vaulthalla_lab_controller_dir=$workdir" "$repo/lab/vaulthalla/provision.yml" >"$workdir/provision.log" 2>&1); then
    tail -n 60 "$workdir/provision.log" >&2
    log "provisioning failed (full log: $workdir/provision.log)"
    exit 1
  fi
  grep -E '^(PLAY RECAP|\S+ +: ok=)' "$workdir/provision.log" >&2 || true
  local recipient
  # The recipient's fingerprint, from the controller keyring that holds its secret key.
  recipient=$(gpg --homedir "$gnupghome" --batch --with-colons --list-secret-keys 2>/dev/null | awk -F: '$1 == "fpr" {print $10; exit}')
  write_inventory "$recipient"
  log "$name provisioned after $((SECONDS - started))s (recipient $recipient)"
  echo "$inventory"
}

cmd_down() {
  if podman container exists "$name"; then
    podman rm -f -t 10 "$name" >/dev/null
    log "removed $name"
  else
    log "no container $name"
  fi
  if [[ "${1:-}" == --purge ]]; then
    rm -rf "$workdir"
    log "removed $workdir"
  fi
}

cmd_inventory() {
  if ! running || [[ ! -f "$inventory" ]]; then
    log "no provisioned lab host $name (run: $0 up)"
    exit 1
  fi
  echo "$inventory"
}

case "${1:-}" in
  up) cmd_up ;;
  down) shift; cmd_down "$@" ;;
  inventory) cmd_inventory ;;
  *) echo "usage: $0 up|down [--purge]|inventory" >&2; exit 2 ;;
esac

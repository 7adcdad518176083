#!/usr/bin/env bash
# README command 1: set everything up, build the lab Vaulthalla host (a systemd
# container with the Vaulthalla stand-in, PostgreSQL 15, real swtpm and an S3 vault
# on moto), take a recovery set with playbooks/backup.yml, and print the path of
# the set's manifest on the controller. Exits non-zero if anything fails.
#
# Environment: VENV (default <repo>/.venv), LAB_OUTPUT_DIR (controller directory
# for the sets, default <repo>/lab-output/recovery-sets), LAB_KEEP=0 removes the
# lab host afterwards (default: keep it for a look; scripts/vaulthalla-lab.sh down).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export VENV=${VENV:-$repo/.venv}
cd "$repo"
"$repo/scripts/setup.sh"
started=$SECONDS

inventory=$("$repo/scripts/vaulthalla-lab.sh" up)
echo "lab inventory: $inventory"

out=$(realpath -m "${LAB_OUTPUT_DIR:-$repo/lab-output/recovery-sets}")
mkdir -p "$out"
ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$("$VENV/bin/python" -c 'import sys; sys.path.insert(0, "tests"); from support.collection import collections_root; print(collections_root())')}
export ANSIBLE_COLLECTIONS_PATH ANSIBLE_NOCOLOR=1
before=$(find "$out" -mindepth 2 -maxdepth 2 -name manifest.json | sort)
# JSON extra vars, so a path with spaces or quotes arrives intact
"$VENV/bin/ansible-playbook" -i "$inventory" "$repo/playbooks/backup.yml" \
  -e "$("$VENV/bin/python" -c 'import json, sys; print(json.dumps({"vaulthalla_backup_fetch_dir": sys.argv[1]}))' "$out")"
manifest=$(comm -13 <(echo "$before") <(find "$out" -mindepth 2 -maxdepth 2 -name manifest.json | sort) | tail -n 1)

echo
echo "== recovery set taken and verified on the controller in $((SECONDS - started)) s =="
echo "manifest: $manifest"
if [[ "${LAB_KEEP:-1}" == 0 ]]; then
  "$repo/scripts/vaulthalla-lab.sh" down --purge
else
  echo "the lab host is still running (scripts/vaulthalla-lab.sh down removes it)"
fi

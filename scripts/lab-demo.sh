#!/usr/bin/env bash
# README command 1: the whole Vaulthalla story on the lab.
#   1. set everything up (scripts/setup.sh);
#   2. start a seeded Vaulthalla lab host (systemd container: Vaulthalla stand-in,
#      PostgreSQL 15, real swtpm, S3 vaults on moto) and a bare one for the drill;
#   3. take a recovery set (playbooks/backup.yml);
#   4. destroy the host's data (config, state with the sealed key blobs, swtpm state,
#      database) as a disaster would;
#   5. restore it (playbooks/restore.yml), which verifies the set first and checks
#      vh status, the S3 vaults and the known files after the start;
#   6. drill the set on the bare host (playbooks/drill.yml: restore + named checks);
#   7. print the drill report's path;
#   8. run the Institutional Vault story on its lab (scripts/lab-iv-demo.sh: backup, the accounts table
#      dropped, restore.yml, verification, drill.yml) and print both its reports' paths.
# Exits non-zero if any step or check fails.
#
# Environment: VENV (default <repo>/.venv), LAB_OUTPUT_DIR (controller directory for
# sets and reports, default <repo>/lab-output), LAB_KEEP=0 removes the lab hosts
# afterwards (default: keep them; scripts/vaulthalla-lab.sh down removes one).
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/err-trap.sh"
repo=$(cd "$(dirname "$0")/.." && pwd)
export VENV=${VENV:-$repo/.venv}
cd "$repo"
"$repo/scripts/setup.sh"
started=$SECONDS

out=$(realpath -m "${LAB_OUTPUT_DIR:-$repo/lab-output}")
mkdir -p "$out/recovery-sets" "$out/drill-reports"
# Both hosts trust the same recovery key; its secret key stays on the controller.
export VH_LAB_GNUPGHOME=$out/gnupg
source_inventory=$(VH_LAB_CONTAINER=vaultops-lab-vh "$repo/scripts/vaulthalla-lab.sh" up)
drill_inventory=$(VH_LAB_CONTAINER=vaultops-lab-vh-drill VH_LAB_SEED=0 VH_LAB_GROUP=vaulthalla_drill \
  "$repo/scripts/vaulthalla-lab.sh" up)
echo "lab inventories: $source_inventory $drill_inventory"

ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$("$VENV/bin/python" -c 'import sys; sys.path.insert(0, "tests"); from support.collection import collections_root; print(collections_root())')}
export ANSIBLE_COLLECTIONS_PATH ANSIBLE_NOCOLOR=1
playbook() { "$VENV/bin/ansible-playbook" -i "$source_inventory" -i "$drill_inventory" "$@"; }
# JSON extra vars, so a path with spaces or quotes arrives intact
json() { "$VENV/bin/python" -c 'import json, sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2]))))' "$@"; }

echo "== 1/4 backup"
before=$(find "$out/recovery-sets" -mindepth 1 -maxdepth 1 -type d | sort)
playbook "$repo/playbooks/backup.yml" -e "$(json vaulthalla_backup_fetch_dir "$out/recovery-sets")"
set_dir=$(comm -13 <(echo "$before") <(find "$out/recovery-sets" -mindepth 1 -maxdepth 1 -type d | sort) | tail -n 1)

echo "== 2/4 destroy the host's data"
playbook "$repo/lab/playbooks/lab_destroy_vaulthalla.yml"

echo "== 3/4 restore"
restore_started=$SECONDS
playbook "$repo/playbooks/restore.yml" \
  -e "$(json vaulthalla_restore_set_dir "$set_dir" vaulthalla_restore_gnupg_home "$VH_LAB_GNUPGHOME")"
restore_seconds=$((SECONDS - restore_started))

echo "== 4/4 drill"
before=$(find "$out/drill-reports" -name '*.md' | sort)
playbook "$repo/playbooks/drill.yml" \
  -e "$(json vaulthalla_drill_set_dir "$set_dir" vaulthalla_drill_gnupg_home "$VH_LAB_GNUPGHOME" \
        vaulthalla_drill_report_dir "$out/drill-reports" vaulthalla_drill_file_reader vh_cat)"
report=$(comm -13 <(echo "$before") <(find "$out/drill-reports" -name '*.md' | sort) | tail -n 1)

echo
echo "== backup, destroy, restore (${restore_seconds} s) and drill done in $((SECONDS - started)) s =="
echo "recovery set: $set_dir"
echo "drill report: $report"
echo "              ${report%.md}.json"

echo "== Institutional Vault"
LAB_OUTPUT_DIR=$out VAULTOPS_SETUP_DONE=1 "$repo/scripts/lab-iv-demo.sh"

if [[ "${LAB_KEEP:-1}" == 0 ]]; then
  VH_LAB_CONTAINER=vaultops-lab-vh "$repo/scripts/vaulthalla-lab.sh" down --purge
  VH_LAB_CONTAINER=vaultops-lab-vh-drill "$repo/scripts/vaulthalla-lab.sh" down --purge
else
  echo "the lab hosts are still running (VH_LAB_CONTAINER=<name> scripts/vaulthalla-lab.sh down removes one)"
fi

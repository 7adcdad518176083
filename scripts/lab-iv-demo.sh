#!/usr/bin/env bash
# The Institutional Vault story on its lab (README command 1 runs it after the Vaulthalla story):
#   1. bring the IV lab up (lab/iv-up.sh: PostgreSQL 15 x2, moto Secrets Manager, the Kubernetes API stand-in
#      whose pods are real processes, the wallet's HTTPS URL);
#   2. take a recovery set with backup.yml (pg_dump; accounts, pending operations and EMP digests recorded);
#   3. the disaster: DROP TABLE accounts on the environment's database;
#   4. restore.yml in place (verify, safety backup, ordered stop, all-or-nothing restore, EMP check, ordered
#      start, pods/health/accounts verified, report);
#   5. drill.yml: the set proven in the drill namespace and a scratch database;
#   6. print both reports' paths. Exits non-zero when any step or check fails.
#
# Environment: VENV, LAB_OUTPUT_DIR (default <repo>/lab-output; sets and reports go to <dir>/iv), IV_LAB_DIR
# (default <repo>/.tmp/iv-lab), LAB_KEEP=0 stops the IV lab afterwards (default: keep it; lab/iv-down.sh stops it).
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/err-trap.sh"
repo=$(cd "$(dirname "$0")/.." && pwd)
export VENV=${VENV:-$repo/.venv}
export IV_LAB_DIR=${IV_LAB_DIR:-$repo/.tmp/iv-lab}
# run on its own, it sets everything up first (scripts/lab-demo.sh has done so already)
[[ -n "${VAULTOPS_SETUP_DONE:-}" ]] || "$repo/scripts/setup.sh"
started=$SECONDS
out=$(realpath -m "${LAB_OUTPUT_DIR:-$repo/lab-output}/iv")
mkdir -p "$out"
chmod 0700 "$out"

inventory=$("$repo/lab/iv-up.sh")
echo "IV lab inventory: $inventory"
# The store's credentials (as AWX's cloud credential injects them) and the database login (as a vault file
# would hold it) come from the lab's 0600 files, never from a command line.
# shellcheck source=/dev/null
source "$IV_LAB_DIR/controller.env"
export ANSIBLE_NOCOLOR=1
ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$("$VENV/bin/python" -c 'import sys; sys.path.insert(0, "tests"); from support.collection import collections_root; print(collections_root())')}
export ANSIBLE_COLLECTIONS_PATH
json() { "$VENV/bin/python" -c 'import json, sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2]))))' "$@"; }
playbook() { "$VENV/bin/ansible-playbook" -i "$inventory" -e "@$IV_LAB_DIR/controller-vars.json" "$@"; }
newest() { find "$1" -maxdepth 1 -name "$2" | sort | tail -n 1; }

echo "== IV 1/4 backup"
playbook "$repo/playbooks/backup.yml" -e "$(json institutional_vault_backup_dest "$out/recovery-sets")"
set_dir=$(newest "$out/recovery-sets" 'lab-*')

echo "== IV 2/4 the disaster: DROP TABLE accounts"
"$VENV/bin/python" "$repo/tests/support/iv_lab.py" disaster --dir "$IV_LAB_DIR"

echo "== IV 3/4 restore (in place) and verify"
restore_started=$SECONDS
playbook "$repo/playbooks/restore.yml" \
  -e "$(json institutional_vault_restore_set_dir "$set_dir" institutional_vault_restore_report_dir "$out/reports")"
restore_seconds=$((SECONDS - restore_started))

echo "== IV 4/4 drill"
playbook "$repo/playbooks/drill.yml" \
  -e "$(json institutional_vault_drill_set_dir "$set_dir" institutional_vault_drill_report_dir "$out/reports")"

echo
echo "== IV backup, disaster, restore (${restore_seconds} s) and drill done in $((SECONDS - started)) s =="
echo "IV recovery set:   $set_dir"
echo "IV restore report: $(newest "$out/reports" 'restore-*.md')"
echo "IV drill report:   $(newest "$out/reports" 'drill-*.md')"
if [[ "${LAB_KEEP:-1}" == 0 ]]; then
  "$repo/lab/iv-down.sh"
else
  echo "the IV lab is still running (lab/iv-down.sh stops it)"
fi

#!/usr/bin/env bash
# The PostgreSQL round trip on the lab (the first README command before the Vaulthalla lab existed): set up (scripts/setup.sh, skipped step by step when done),
# then a real PostgreSQL in a podman container, a backup taken with
# vaultops.recovery.pg_backup, a table dropped, the restore, and the rows proven
# back. Prints where the artifacts and the report are. Exits non-zero if any
# step fails or the rows are not back.
#
# Environment:
#   VENV            virtualenv with ansible-core and the collections (default <repo>/.venv)
#   ANSIBLE_COLLECTIONS_PATH  kept when set (e.g. a built and installed collection);
#                   otherwise a symlink farm that maps vaultops.recovery to this checkout
#   LAB_OUTPUT_DIR  controller directory for the archive, manifest and report
#                   (default <repo>/lab-output/<container name>)
#   LAB_KEEP=0      remove the lab container afterwards (default: keep it running for a look)
#   LAB_IMAGE, LAB_CONTAINER: see lab/up.sh
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/err-trap.sh"
repo=$(cd "$(dirname "$0")/.." && pwd)
export VENV=${VENV:-$repo/.venv}
cd "$repo"
"$repo/scripts/setup.sh"
export PATH="$VENV/bin:$PATH"

started=$SECONDS
LAB_IMAGE=$("$repo/lab/build-image.sh")
export LAB_IMAGE
echo "lab image: $LAB_IMAGE"
inventory=$("$repo/lab/up.sh")
echo "inventory: $inventory"

ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$("$VENV/bin/python" -c 'import sys; sys.path.insert(0, "tests"); from support.collection import collections_root; print(collections_root())')}
export ANSIBLE_COLLECTIONS_PATH
export ANSIBLE_FORCE_COLOR=${ANSIBLE_FORCE_COLOR:-0}

extra=()
if [[ -n "${LAB_OUTPUT_DIR:-}" ]]; then
  LAB_OUTPUT_DIR=$(realpath -m "$LAB_OUTPUT_DIR")
  # JSON extra vars, so a path with spaces or quotes arrives intact
  extra=(-e "$("$VENV/bin/python" -c 'import json, sys; print(json.dumps({"lab_pg_output_dir": sys.argv[1]}))' "$LAB_OUTPUT_DIR")")
fi
"$VENV/bin/ansible-playbook" -i "$inventory" "$repo/lab/playbooks/lab_pg_roundtrip.yml" "${extra[@]}"

host=${LAB_CONTAINER:-vaultops-lab-pg}
out=${LAB_OUTPUT_DIR:-$repo/lab-output/$host}
report="$out/report.json"
archive=$("$VENV/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["archive"]["controller_copy"])' "$report")
echo
echo "== lab round trip passed in $((SECONDS - started)) s =="
echo "archive:  $archive"
echo "manifest: $archive.manifest.json"
echo "report:   $report"
echo "report:   $out/report.md"
if [[ "${LAB_KEEP:-1}" == 0 ]]; then
  "$repo/lab/down.sh"
else
  echo "lab container ${host} is still running (lab/down.sh removes it)"
fi

#!/usr/bin/env bash
# Run a Molecule scenario of this collection (default: pg_backup) for real:
# the lab image is built if needed (lab/build-image.sh), exported as LAB_IMAGE
# for extensions/molecule/config.yml, the checkout is made importable as
# vaultops.recovery through ANSIBLE_COLLECTIONS_PATH, and molecule runs from
# the collection root.
#
# Why the collection root: Molecule 26 switches to collection mode when the
# current directory holds a galaxy.yml. It then finds scenarios as
# extensions/molecule/<scenario>/molecule.yml and uses
# extensions/molecule/config.yml as the shared base config. Run from anywhere
# else it would look for ./molecule/<scenario>/ instead and find nothing.
#
#   scripts/molecule.sh                 # molecule test, every scenario in turn
#   scripts/molecule.sh converge        # any molecule subcommand
#   MOLECULE_SCENARIO=pg_backup scripts/molecule.sh test
#
# Environment: VENV (default <repo>/.venv), MOLECULE_SCENARIO (default: all of
# extensions/molecule/*/), ANSIBLE_COLLECTIONS_PATH (kept when set).
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/err-trap.sh"
repo=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-$repo/.venv}
scenarios=${MOLECULE_SCENARIO:-$(find "$repo/extensions/molecule" -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | sort | tr '\n' ' ')}
command=${1:-test}
shift || true
cd "$repo"
export PATH="$VENV/bin:$PATH"

LAB_IMAGE=$("$repo/lab/build-image.sh")
LAB_VH_IMAGE=$(VH_LAB_BASE_IMAGE=$LAB_IMAGE "$repo/lab/vaulthalla/build-image.sh")
export LAB_IMAGE LAB_VH_IMAGE
# Keep a caller's collection path (scripts/test.sh points it at the built and
# installed collection); otherwise map vaultops.recovery to this checkout.
ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$("$VENV/bin/python" -c 'import sys; sys.path.insert(0, "tests"); from support.collection import collections_root; print(collections_root())')}
export ANSIBLE_COLLECTIONS_PATH
status=0
for scenario in $scenarios; do
  echo "molecule $command -s $scenario (LAB_IMAGE=$LAB_IMAGE, LAB_VH_IMAGE=$LAB_VH_IMAGE, ANSIBLE_COLLECTIONS_PATH=$ANSIBLE_COLLECTIONS_PATH)" >&2
  started=$SECONDS
  "$VENV/bin/molecule" "$command" -s "$scenario" "$@" || status=$?
  echo "molecule $command -s $scenario: exit $status after $((SECONDS - started)) s" >&2
  [[ $status == 0 ]] || break
done
exit "$status"

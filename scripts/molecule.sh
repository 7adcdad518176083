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
#   scripts/molecule.sh                 # molecule test -s pg_backup
#   scripts/molecule.sh converge        # any molecule subcommand, same scenario
#   MOLECULE_SCENARIO=other scripts/molecule.sh test
#
# Environment: VENV (default <repo>/.venv), MOLECULE_SCENARIO (default pg_backup),
# ANSIBLE_COLLECTIONS_PATH (kept when set).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-$repo/.venv}
scenario=${MOLECULE_SCENARIO:-pg_backup}
command=${1:-test}
shift || true
cd "$repo"
export PATH="$VENV/bin:$PATH"

LAB_IMAGE=$("$repo/lab/build-image.sh")
export LAB_IMAGE
# Keep a caller's collection path (scripts/test.sh points it at the built and
# installed collection); otherwise map vaultops.recovery to this checkout.
ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$("$VENV/bin/python" -c 'import sys; sys.path.insert(0, "tests"); from support.collection import collections_root; print(collections_root())')}
export ANSIBLE_COLLECTIONS_PATH
echo "molecule $command -s $scenario (LAB_IMAGE=$LAB_IMAGE, ANSIBLE_COLLECTIONS_PATH=$ANSIBLE_COLLECTIONS_PATH)" >&2

started=$SECONDS
status=0
"$VENV/bin/molecule" "$command" -s "$scenario" "$@" || status=$?
echo "molecule $command -s $scenario: exit $status after $((SECONDS - started)) s" >&2
exit "$status"

#!/usr/bin/env bash
# Install everything the lab, the tests and the benchmarks need on a fresh
# Debian 12 machine, as root. Safe to run again: each step is skipped when done.
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/err-trap.sh"
repo=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$repo/.venv}
export DEBIAN_FRONTEND=noninteractive

apt_packages=(podman runc mmdebstrap postgresql-15 postgresql-client-15 zstd gnupg swtpm swtpm-tools
              tpm2-tools rsync git ca-certificates util-linux shellcheck)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# kubectl, for a human's look at the Institutional Vault lab (nothing of ours runs it); the base image has a newer one.
command -v kubectl >/dev/null || missing+=(kubernetes-client)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# crun fails here ("cgroups in hybrid mode") and podman's default ulimits
# exceed this sandbox's hard limits (shared/notes/machine-facts.md). When
# CONTAINERS_CONF names a file (.ci/run does), podman reads only that one.
conf=${CONTAINERS_CONF:-/etc/containers/containers.conf}
if ! grep -q '^runtime = "runc"' "$conf" 2>/dev/null; then
  if [[ -f "$conf" ]]; then cp "$conf" "$conf.vaultops-backup"; fi
  mkdir -p "$(dirname "$conf")"
  cat > "$conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
fi

# Python tooling in a venv, reinstalled only when the pins change.
stamp="$venv/.requirements.sha256"
want=$(cat "$repo/requirements.txt" "$repo/requirements-dev.txt" | sha256sum | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python requirements into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$repo/requirements-dev.txt"
  echo "$want" > "$stamp"
fi

# The lab images (each rebuilt only when its recipe changes). VAULTOPS_SETUP_NO_IMAGES=1
# stops before them (.ci/run first proves that its container storage starts empty).
if [[ ${VAULTOPS_SETUP_NO_IMAGES:-0} == 1 ]]; then
  echo "setup: ready (venv $venv; lab images not built: VAULTOPS_SETUP_NO_IMAGES=1)" >&2
  exit 0
fi
lab_image=$("$repo/lab/build-image.sh")
vh_image=$(VENV=$venv VH_LAB_BASE_IMAGE=$lab_image "$repo/lab/vaulthalla/build-image.sh")
echo "setup: ready (venv $venv, lab images $lab_image $vh_image)" >&2

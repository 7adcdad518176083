#!/usr/bin/env bash
# Build the Vaulthalla lab image on top of the base lab image (lab/build-image.sh)
# with `podman build` (nothing is pulled: FROM names the base image by its exact
# tag). The tag is a hash of the base image reference, this script, the
# Containerfile, s3-requirements.txt and every file under rootfs/ (with its
# mode), so the image is rebuilt only when one of them changes. moto is not in
# Debian 12: its wheels are downloaded here, on the host, with pip (into
# .tmp/vaulthalla-lab/wheelhouse-<hash>, never committed). Prints the image ref.
#
# Environment: VENV (default <repo>/.venv), VH_LAB_BASE_IMAGE (default: what
# lab/build-image.sh prints), VH_LAB_IMAGE_NAME (default localhost/vaultops-lab-vaulthalla).
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/err-trap.sh"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv=${VENV:-$repo/.venv}
name=${VH_LAB_IMAGE_NAME:-localhost/vaultops-lab-vaulthalla}
base=${VH_LAB_BASE_IMAGE:-$("$repo/lab/build-image.sh")}
work=$repo/.tmp/vaulthalla-lab
mkdir -p "$work"

recipe_hash=$(
  cd "$here"
  echo "base $base"
  find build-image.sh Containerfile s3-requirements.txt rootfs -name __pycache__ -prune -o \( -type f -o -type l \) -print |
    LC_ALL=C sort |
    while read -r f; do printf '%s %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum < "$f" | cut -c1-64)"; done
)
recipe_hash=$(sha256sum <<<"$recipe_hash" | cut -c1-12)
image="$name:$recipe_hash"

# One build at a time (tests and a developer may ask together).
exec 9>"$work/build.lock"
flock 9
if podman image exists "$image"; then
  echo "$image"
  exit 0
fi

log() { echo "lab/vaulthalla/build-image.sh: $*" >&2; }
req_hash=$(sha256sum < "$here/s3-requirements.txt" | cut -c1-12)
wheelhouse="$work/wheelhouse-$req_hash"
if [[ ! -d "$wheelhouse" ]]; then
  log "downloading moto wheels for Python 3.11 / manylinux x86_64 into $wheelhouse"
  rm -rf "$wheelhouse.partial"
  "$venv/bin/pip" download -q --disable-pip-version-check --only-binary=:all: \
    --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
    -d "$wheelhouse.partial" -r "$here/s3-requirements.txt" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2 || true)
  mv "$wheelhouse.partial" "$wheelhouse"
fi

context=$(mktemp -d "$work/context.XXXXXX")
trap 'rm -rf "$context"' EXIT
cp -a "$here/Containerfile" "$here/s3-requirements.txt" "$context/"
tar -C "$here" --exclude=__pycache__ -cf - rootfs | tar -C "$context" -xf -
cp -al "$wheelhouse" "$context/wheelhouse" 2>/dev/null || cp -a "$wheelhouse" "$context/wheelhouse"
log "building $image from $base"
podman build --pull=never --build-arg "BASE_IMAGE=$base" --label "vaultops.lab=vaulthalla" \
  --label "vaultops.lab.recipe=$recipe_hash" -t "$image" -f "$context/Containerfile" "$context" >&2
podman tag "$image" "$name:latest"
# Drop this image's older builds (a build still used by a container stays).
# (No grep in this pipeline: under pipefail, grep -v exits 1 when nothing is left, which is
# exactly the case on a machine that never built the image before.)
while read -r old; do
  case "$old" in
    *":$recipe_hash" | *:latest) continue ;;
  esac
  if podman rmi "$old" >/dev/null 2>&1; then log "removed old image $old"; fi
done < <(podman images --format '{{.Repository}}:{{.Tag}}' "$name")
echo "$image"

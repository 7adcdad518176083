#!/usr/bin/env bash
# Build the lab's Debian 12 systemd image from Debian packages (no registry can
# be reached here, so nothing is pulled): mmdebstrap + podman import.
# The tag is a hash of the recipe, so the image is rebuilt only when the
# package list or this script changes. Prints the image reference.
set -euo pipefail
# shellcheck source=scripts/lib/err-trap.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/err-trap.sh"
here=$(cd "$(dirname "$0")" && pwd)
name=${LAB_IMAGE_NAME:-localhost/vaultops-lab}
recipe_hash=$(cat "$here/image-packages.txt" "$here/build-image.sh" "$here/customize-image.sh" | sha256sum | cut -c1-12)
image="$name:$recipe_hash"

if podman image exists "$image"; then
  echo "$image"
  exit 0
fi

# awk, not grep -v: under pipefail, grep exits 1 when it prints nothing.
packages=$(awk '!/^[[:space:]]*(#|$)/ {print $1}' "$here/image-packages.txt" | paste -sd, -)
if [[ -z "$packages" ]]; then
  echo "lab/build-image.sh: $here/image-packages.txt lists no packages" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "building $image from: $packages" >&2
mmdebstrap --variant=minbase --include="$packages" --customize-hook="$here/customize-image.sh" \
  bookworm "$work/lab.tar" >&2
podman import --change 'CMD=["/sbin/init"]' --change 'STOPSIGNAL=SIGRTMIN+3' "$work/lab.tar" "$image" >&2
podman tag "$image" "$name:latest"
echo "$image"

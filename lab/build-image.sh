#!/usr/bin/env bash
# Build the lab's Debian 12 systemd image from Debian packages (no registry can
# be reached here, so nothing is pulled): mmdebstrap + podman import.
# The tag is a hash of the recipe, so the image is rebuilt only when the
# package list or this script changes. Prints the image reference.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=${LAB_IMAGE_NAME:-localhost/vaultops-lab}
recipe_hash=$(cat "$here/image-packages.txt" "$here/build-image.sh" "$here/customize-image.sh" | sha256sum | cut -c1-12)
image="$name:$recipe_hash"

if podman image exists "$image"; then
  echo "$image"
  exit 0
fi

packages=$(grep -v '^\s*#' "$here/image-packages.txt" | grep -v '^\s*$' | paste -sd, -)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "building $image from: $packages" >&2
mmdebstrap --variant=minbase --include="$packages" --customize-hook="$here/customize-image.sh" \
  bookworm "$work/lab.tar" >&2
podman import --change 'CMD=["/sbin/init"]' --change 'STOPSIGNAL=SIGRTMIN+3' "$work/lab.tar" "$image" >&2
podman tag "$image" "$name:latest"
echo "$image"

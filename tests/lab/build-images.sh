#!/usr/bin/env bash
# Builds the offline lab images without any container registry:
#   localhost/homelab-lab-base  Debian 13 rootfs from debootstrap (slow: minutes)
#   localhost/homelab-lab-app   a tiny busybox httpd image for nested containers
#   localhost/homelab-lab-host  base + systemd/SSH/Podman settings + the app image archive
# Each image is tagged with a hash of its recipe and rebuilt only when the recipe
# changes, so a warm machine spends seconds here. Prints the host image reference.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/lab/common.sh
. "$here/common.sh"
lab_require_controller

mirror="${LAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suite="trixie"

recipe_hash() {  # recipe_hash FILE... -> 12 hex characters
    cat "$@" | sha256sum | cut -c1-12
}

image_exists() {
    podman image exists "$1"
}

build_base() {
    local ref="$1" rootfs
    local -a include
    mapfile -t include < <(grep -v '^\s*#' "$here/host/packages.txt" | sed '/^\s*$/d')
    rootfs="$(mktemp -d "${TMPDIR:-/tmp}/homelab-lab-rootfs.XXXXXX")"
    trap 'rm -rf "$rootfs"; trap - RETURN' RETURN
    # The directory becomes the image's /: mktemp's 0700 would lock every user but root out
    # of the whole file system (PostgreSQL runs as postgres, the base role's admin logs in).
    chmod 755 "$rootfs"
    lab_say "debootstrap $suite into a temporary rootfs (a few minutes)"
    debootstrap --variant=minbase --include="$(IFS=,; echo "${include[*]}")" \
        "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
        tail -n 30 "$rootfs.log" >&2
        lab_die "debootstrap failed (full log: $rootfs.log)"
    }
    rm -f "$rootfs.log"
    # apt caches and lists are not needed in the image.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" --numeric-owner -c . |
        podman import --change 'CMD ["/sbin/init"]' - "$ref" >/dev/null
}

build_app() {
    local ref="$1" rootfs bb
    bb="$(command -v busybox)" || lab_die "busybox is missing: apt-get install busybox-static"
    rootfs="$(mktemp -d "${TMPDIR:-/tmp}/homelab-lab-app.XXXXXX")"
    trap 'rm -rf "$rootfs"; trap - RETURN' RETURN
    chmod 755 "$rootfs"  # the image's /, as in build_base
    mkdir -p "$rootfs"/bin "$rootfs"/www/cgi-bin "$rootfs"/tmp "$rootfs"/etc
    cp "$bb" "$rootfs/bin/busybox"
    for applet in sh env sort cat printf sleep wget; do
        ln -s busybox "$rootfs/bin/$applet"
    done
    cp "$here/app/index.html" "$rootfs/www/index.html"
    cp "$here/app/cgi-env" "$rootfs/www/cgi-bin/env"
    cp "$here/app/cgi-metrics" "$rootfs/www/cgi-bin/metrics"
    printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$rootfs/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
    tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -c . |
        podman import \
            --change 'CMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]' \
            --change 'EXPOSE 8080' \
            --change 'ENV PATH=/bin' \
            - "$ref" >/dev/null
}

base_ref="localhost/homelab-lab-base:$(recipe_hash "$here/host/packages.txt" "$here/build-images.sh")"
app_ref="localhost/homelab-lab-app:$(recipe_hash "$here/app/index.html" "$here/app/cgi-env" "$here/app/cgi-metrics" "$here/build-images.sh")"
host_ref="localhost/homelab-lab-host:$(recipe_hash "$here"/host/* "$here/app/index.html" "$here/app/cgi-env" "$here/app/cgi-metrics" "$here/build-images.sh")"

if image_exists "$base_ref"; then lab_say "base image up to date: $base_ref"; else build_base "$base_ref"; fi
if image_exists "$app_ref"; then lab_say "app image up to date: $app_ref"; else
    lab_say "building app image $app_ref"
    build_app "$app_ref"
fi
podman tag "$app_ref" localhost/homelab-lab-app:latest

if image_exists "$host_ref"; then lab_say "host image up to date: $host_ref"; else
    lab_say "building host image $host_ref"
    ctx="$(mktemp -d "${TMPDIR:-/tmp}/homelab-lab-host.XXXXXX")"
    trap 'rm -rf "$ctx"' EXIT
    cp "$here"/host/* "$ctx/"
    # Inside a host the app image is always called localhost/homelab-lab-app:latest.
    podman save --format docker-archive -o "$ctx/app-image.tar" localhost/homelab-lab-app:latest >/dev/null
    podman build --quiet --build-arg BASE_IMAGE="$base_ref" -t "$host_ref" "$ctx" >/dev/null
fi
podman tag "$host_ref" localhost/homelab-lab-host:latest
echo "$host_ref"

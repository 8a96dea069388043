#!/usr/bin/env bash
# Builds the lab's PostgreSQL image without any container registry and saves it as an
# archive the catalog host loads (podman_image_archives):
#   localhost/homelab-lab-postgres:latest   Debian 13's postgresql-17 on the lab's base
#                                           rootfs, shaped like docker.io/library/postgres:17
# for what the collection uses: PGDATA=/var/lib/postgresql/data, user postgres (999:999),
# POSTGRES_USER/POSTGRES_PASSWORD(_FILE)/POSTGRES_DB/POSTGRES_HOST_AUTH_METHOD on the first
# start, trust on the local socket (so `podman exec CTR pg_dumpall -U USER` works as root
# exec), scram-sha-256 over TCP, /usr/lib/postgresql/17/bin on PATH.
# The package comes from Debian's mirror through the base rootfs's apt (the build runs with
# the host's network). Rebuilt only when this recipe changes. Prints the archive's path.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=tests/lab/common.sh
. "$here/common.sh"

cache="$root/.cache/lab"
archive="$cache/postgres-image.tar"
stamp="$cache/postgres-image.sha256"
ref="localhost/homelab-lab-postgres:latest"
sum="$(cat "${BASH_SOURCE[0]}" "$here/postgres/Containerfile" "$here/postgres/entrypoint.sh" \
    "$here/host/packages.txt" "$here/build-images.sh" | sha256sum | cut -d' ' -f1)"

if [ -f "$archive" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then
    echo "$archive"
    exit 0
fi
[ "$(id -u)" -eq 0 ] || lab_die "building the lab's PostgreSQL image needs root; run it as root, e.g. with sudo"
command -v podman >/dev/null || lab_die "podman is missing: apt-get install podman"

# The base rootfs (cached by build-images.sh) under the name it gives it.
"$here/build-images.sh" >/dev/null
base_ref="localhost/homelab-lab-base:$(cat "$here/host/packages.txt" "$here/build-images.sh" | sha256sum | cut -c1-12)"
podman image exists "$base_ref" || lab_die "build-images.sh left no $base_ref"

lab_say "building $ref from Debian 13's postgresql-17 on $base_ref"
mkdir -p "$cache"
podman build --quiet --network host --build-arg BASE_IMAGE="$base_ref" -t "$ref" "$here/postgres" >/dev/null
rm -f "$archive"
podman save --quiet --format docker-archive -o "$archive" "$ref" >/dev/null
echo "$sum" >"$stamp"
echo "$archive"

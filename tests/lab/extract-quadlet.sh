#!/usr/bin/env bash
# Copies the real Quadlet generator (Podman 5, Debian 13) out of the lab host image to
# .cache/bin/quadlet, so fast tests can validate units on the controller: the generator
# is a static-enough Go binary that runs on older glibc (see LAB-NOTES). Cached per image.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=tests/lab/common.sh
. "$here/common.sh"
image="$("$here/build-images.sh")"
target="$root/.cache/bin/quadlet"
stamp="$target.image"
if [ -x "$target" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$image" ]; then
    exit 0
fi
mkdir -p "$(dirname "$target")"
container="$(podman create "$image")"
trap 'podman rm "$container" >/dev/null' EXIT
podman cp "$container:/usr/libexec/podman/quadlet" "$target"
echo "$image" >"$stamp"
"$target" -version >/dev/null || lab_die "the extracted Quadlet generator does not run here"
lab_say "Quadlet generator $("$target" -version) at .cache/bin/quadlet"

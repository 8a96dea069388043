#!/usr/bin/env bash
# Puts Debian 13's restic (0.18) and restic-rest-server (0.13) into .cache/trixie-restic/, so
# tests on a Debian 12 controller (restic 0.14, no rest-server package) can run the versions
# the lab hosts run: restic 0.17+ tells errors apart by exit code, and the rest: backend needs
# a server. common.sh's lab_download_debs fetches the two packages from Debian 13 with apt's
# own private lists and cache (the machine's sources and state are not touched) and dpkg -x unpacks them:
# both are Go binaries that run on Debian 12's glibc. Cached; prints the directory.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=tests/lab/common.sh
. "$here/common.sh"
target="$root/.cache/trixie-restic"
if [ -x "$target/restic" ] && [ -x "$target/restic-rest-server" ]; then
    echo "$target"
    exit 0
fi
command -v dpkg >/dev/null || lab_die "fetch-trixie-restic: needs dpkg (Debian or Ubuntu)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
lab_download_debs trixie "$work/debs" restic restic-rest-server
for deb in "$work"/debs/*.deb; do
    dpkg -x "$deb" "$work/root"
done
mkdir -p "$target"
install -m 0755 "$work/root/usr/bin/restic" "$work/root/usr/bin/restic-rest-server" "$target/"
"$target/restic" version >&2
"$target/restic-rest-server" --version >&2
echo "$target"

#!/usr/bin/env bash
# Puts Debian 13's restic (0.18) and restic-rest-server (0.13) into .cache/trixie-restic/, so
# tests on a Debian 12 controller (restic 0.14, no rest-server package) can run the versions
# the lab hosts run: restic 0.17+ tells errors apart by exit code, and the rest: backend needs
# a server. apt-get downloads the two packages from Debian 13 with its own lists and cache
# under .cache (the machine's sources and state are not touched) and dpkg -x unpacks them:
# both are Go binaries that run on Debian 12's glibc. Cached; prints the directory.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="$root/.cache/trixie-restic"
if [ -x "$target/restic" ] && [ -x "$target/restic-rest-server" ]; then
    echo "$target"
    exit 0
fi
if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
    echo "fetch-trixie-restic: needs apt-get and dpkg (Debian or Ubuntu)" >&2
    exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
echo "deb http://deb.debian.org/debian trixie main" >"$work/sources.list"
apt=(apt-get -q -o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/none"
     -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "Debug::NoLocking=1"
     -o "APT::Sandbox::User=root")
"${apt[@]}" update >&2
(cd "$work/debs" && "${apt[@]}" download restic restic-rest-server >&2)
for deb in "$work"/debs/*.deb; do
    dpkg -x "$deb" "$work/root"
done
mkdir -p "$target"
install -m 0755 "$work/root/usr/bin/restic" "$work/root/usr/bin/restic-rest-server" "$target/"
"$target/restic" version >&2
"$target/restic-rest-server" --version >&2
echo "$target"

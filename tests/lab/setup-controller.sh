#!/usr/bin/env bash
# Installs what the lab and the test suite need on a Debian or Ubuntu controller.
# Safe to re-run: it only calls apt when something is missing.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "setup: run as root (apt-get install)" >&2; exit 1; }
command -v apt-get >/dev/null || {
    echo "setup: no apt-get here; install podman runc debootstrap busybox openssh rsync make git by hand" >&2
    exit 1
}
# (netavark, its DNS and iptables are named: without recommends Debian 12 brings the CNI
# backend, whose default network clashes with the nested one; shellcheck is there for
# ansible-test sanity, which checks the shell scripts with it)
packages=(podman netavark aardvark-dns iptables runc debootstrap busybox-static openssh-client rsync make git python3-venv ca-certificates shellcheck)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

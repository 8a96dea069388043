# Shared by the lab scripts: messages and the checks every lab command makes first.
# shellcheck shell=bash

# Our Podman settings, without touching the machine's own containers.conf.
CONTAINERS_CONF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/controller-containers.conf"
export CONTAINERS_CONF

lab_say() { printf 'lab: %s\n' "$*" >&2; }
lab_die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

# The lab runs privileged containers with systemd inside: that needs root and Podman.
# Checked before anything is created, so a machine that lacks them is left as it was.
lab_require_controller() {
    local missing=() tool
    [ "$(id -u)" -eq 0 ] || lab_die "the lab needs root (privileged containers with systemd inside); run it as root, e.g. with sudo"
    for tool in podman:podman runc:runc debootstrap:debootstrap busybox:busybox-static \
                ssh:openssh-client ssh-keygen:openssh-client ssh-keyscan:openssh-client; do
        command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
    done
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | sed '/^$/d')
    if [ "${#missing[@]}" -gt 0 ]; then
        lab_die "missing on this machine: ${missing[*]} - install with: apt-get install ${missing[*]} (or run tests/lab/setup-controller.sh)"
    fi
}

# lab_download_debs SUITE DIR PACKAGE...: the .debs of PACKAGE... from Debian SUITE into DIR,
# with the controller's own apt pointed at a throwaway sources list, lists and cache and the
# keys of debian-archive-keyring: the machine's sources and package state are never read
# or changed (Dir::State::status=/dev/null), and no image or root filesystem is needed.
lab_download_debs() {
    local suite="$1" dir="$2" work status=0
    shift 2
    local mirror="${LAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
    local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    command -v apt-get >/dev/null || lab_die "apt-get is missing: Debian $suite's packages are fetched with it"
    [ -f "$keyring" ] || lab_die "$keyring is missing: apt-get install debian-archive-keyring"
    work="$(mktemp -d "${TMPDIR:-/tmp}/homelab-lab-apt.XXXXXX")"
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$dir"
    echo "deb [signed-by=$keyring] $mirror $suite main" >"$work/sources.list"
    local -a apt=(apt-get -q -o APT::Sandbox::User=root
        -o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" -o Dir::State::status=/dev/null)
    lab_say "fetching $* from Debian $suite ($mirror)"
    { "${apt[@]}" update && (cd "$dir" && "${apt[@]}" download "$@"); } >"$work/apt.log" 2>&1 || status=$?
    [ "$status" -eq 0 ] || cat "$work/apt.log" >&2
    rm -rf "$work"
    [ "$status" -eq 0 ] || lab_die "fetching $* from Debian $suite failed (is $mirror reachable?)"
}

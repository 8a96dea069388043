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

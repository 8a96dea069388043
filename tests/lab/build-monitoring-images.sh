#!/usr/bin/env bash
# Builds the lab's monitoring images without any container registry, from Debian 13's
# packages of the real components, and saves each as an archive the monitoring host
# loads (podman_image_archives):
#   localhost/homelab-lab-prometheus:latest        prometheus (+ promtool)
#   localhost/homelab-lab-alertmanager:latest      prometheus-alertmanager (+ amtool)
#   localhost/homelab-lab-blackbox-exporter:latest prometheus-blackbox-exporter
#   localhost/homelab-lab-rest-server:latest       restic-rest-server (the backup layer's
#                                                  server, on every site: not monitoring, but
#                                                  made the same way)
# Each is a minimal rootfs shaped like the official prom/* image it stands in for: busybox
# (Podman runs a string health check such as `wget -q -O /dev/null http://127.0.0.1:9090/-/ready`
# through /bin/sh), Debian 13's libc6 (the binaries need nothing else), the package
# unpacked with `dpkg-deb -x`, the binary as ENTRYPOINT and only flags as CMD, the
# official config and data paths and the official user.
#
# The .debs come from Debian's mirror (reachable here, unlike any registry) through the
# controller's own apt with a private state (common.sh's lab_download_debs): no image and
# no root filesystem is needed to fetch them, so a cold build takes seconds.
# Rebuilt only when this recipe changes (the mirror's point releases are picked up then).
# Prints the archives' paths, one a line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=tests/lab/common.sh
. "$here/common.sh"

suite="trixie"
cache="$root/.cache/lab"
components=(prometheus alertmanager blackbox-exporter rest-server)
sum="$(sha256sum <"${BASH_SOURCE[0]}" | cut -d' ' -f1)"

archive_of() { echo "$cache/$1-image.tar"; }

up_to_date() {  # every archive present and stamped with this recipe
    local name
    for name in "${components[@]}"; do
        [ -f "$(archive_of "$name")" ] || return 1
        [ "$(cat "$cache/$name-image.sha256" 2>/dev/null)" = "$sum" ] || return 1
    done
}

if up_to_date; then
    for name in "${components[@]}"; do archive_of "$name"; done
    exit 0
fi

# root: the images' data directories belong to their users (chown), and the lab's Podman is root's.
[ "$(id -u)" -eq 0 ] || lab_die "building the lab's monitoring images needs root; run it as root, e.g. with sudo"
command -v podman >/dev/null || lab_die "podman is missing: apt-get install podman"

work="$(mktemp -d "${TMPDIR:-/tmp}/homelab-lab-monitoring.XXXXXX")"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/debs"
lab_download_debs "$suite" "$work/debs" libc6 busybox-static prometheus promtool \
    prometheus-alertmanager prometheus-blackbox-exporter restic-rest-server

deb() {  # deb PACKAGE: the path of its downloaded .deb
    local -a found=("$work/debs/$1"_*.deb)
    [ -f "${found[0]}" ] || lab_die "apt-get download left no $1 package"
    echo "${found[0]}"
}

base_rootfs() {  # base_rootfs DIR: merged /usr, libc6, busybox with every applet, users
    # (made once and copied for each image: the applets' links are hundreds of commands)
    local dir="$1" applet link
    mkdir -p "$dir/usr/bin" "$dir/usr/sbin" "$dir/usr/lib64" "$dir/etc" "$dir/tmp"
    chmod 1777 "$dir/tmp"
    for link in bin sbin lib lib64; do ln -s "usr/$link" "$dir/$link"; done
    dpkg-deb -x "$(deb libc6)" "$dir"
    dpkg-deb -x "$(deb busybox-static)" "$dir"
    # Locales' charset converters: a Go binary never loads them.
    rm -rf "$dir"/usr/lib/*/gconv
    for applet in $("$dir/usr/bin/busybox" --list); do
        [ -e "$dir/usr/bin/$applet" ] || ln -s busybox "$dir/usr/bin/$applet"
    done
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' \
        'blackbox_exporter:x:6170:0:blackbox_exporter:/nonexistent:/bin/false' >"$dir/etc/passwd"
    printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$dir/etc/group"
    echo 'hosts: files dns' >"$dir/etc/nsswitch.conf"
}

prune() {  # what a service in a container never reads: init scripts, units, docs
    rm -rf "$1"/etc/init.d "$1"/etc/default "$1"/etc/logrotate.d "$1"/usr/lib/systemd \
        "$1"/usr/share/doc "$1"/usr/share/man "$1"/usr/share/lintian "$1"/usr/share/initramfs-tools \
        "$1"/usr/share/bash-completion "$1"/var/log
}

save() {  # save NAME DIR CHANGE...: import the rootfs as localhost/homelab-lab-NAME:latest
    local name="$1" dir="$2" ref="localhost/homelab-lab-$1:latest" archive
    shift 2
    local -a changes=(--change 'ENV PATH=/usr/local/bin:/usr/bin:/usr/sbin')
    local change
    for change in "$@"; do changes+=(--change "$change"); done
    prune "$dir"
    tar -C "$dir" --numeric-owner -c . | podman import --quiet "${changes[@]}" - "$ref" >/dev/null
    archive="$(archive_of "$name")"
    rm -f "$archive"
    podman save --quiet --format docker-archive -o "$archive" "$ref" >/dev/null
    echo "$sum" >"$cache/$name-image.sha256"
}

mkdir -p "$cache"
base_rootfs "$work/base"
versions=""
for package in prometheus prometheus-alertmanager prometheus-blackbox-exporter restic-rest-server; do
    versions+="${versions:+, }$package $(dpkg-deb -f "$(deb "$package")" Version)"
done
lab_say "building the monitoring images from $versions"

# Prometheus: /etc/prometheus, data in /prometheus (as prom/prometheus, user nobody).
dir="$work/prometheus"
cp -a "$work/base" "$dir"
dpkg-deb -x "$(deb prometheus)" "$dir"
dpkg-deb -x "$(deb promtool)" "$dir"
mkdir -p "$dir/prometheus"
chown 65534:65534 "$dir/prometheus"
save prometheus "$dir" 'USER nobody' 'WORKDIR /prometheus' 'VOLUME /prometheus' 'EXPOSE 9090' \
    'ENTRYPOINT ["/usr/bin/prometheus"]' \
    'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]'

# Alertmanager: /etc/alertmanager, data in /alertmanager (as prom/alertmanager, user nobody).
# The official names /bin/alertmanager and /bin/amtool work too.
dir="$work/alertmanager"
cp -a "$work/base" "$dir"
dpkg-deb -x "$(deb prometheus-alertmanager)" "$dir"
mkdir -p "$dir/etc/alertmanager" "$dir/alertmanager"
mv "$dir/etc/prometheus/alertmanager.yml" "$dir/etc/alertmanager/alertmanager.yml"
rm -rf "$dir/etc/prometheus"
ln -s prometheus-alertmanager "$dir/usr/bin/alertmanager"
chown 65534:65534 "$dir/alertmanager"
save alertmanager "$dir" 'USER nobody' 'WORKDIR /alertmanager' 'VOLUME /alertmanager' 'EXPOSE 9093' \
    'ENTRYPOINT ["/usr/bin/prometheus-alertmanager"]' \
    'CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]'

# blackbox_exporter: /etc/blackbox_exporter/config.yml, user blackbox_exporter in group
# root as prom/blackbox-exporter (Podman's ping_group_range lets group 0 send ICMP echo).
dir="$work/blackbox-exporter"
cp -a "$work/base" "$dir"
dpkg-deb -x "$(deb prometheus-blackbox-exporter)" "$dir"
mkdir -p "$dir/etc/blackbox_exporter"
mv "$dir/etc/prometheus/blackbox.yml" "$dir/etc/blackbox_exporter/config.yml"
rm -rf "$dir/etc/prometheus" "$dir/var/lib/prometheus"
ln -s prometheus-blackbox-exporter "$dir/usr/bin/blackbox_exporter"
save blackbox-exporter "$dir" 'USER blackbox_exporter' 'EXPOSE 9115' \
    'ENTRYPOINT ["/usr/bin/prometheus-blackbox-exporter"]' \
    'CMD ["--config.file=/etc/blackbox_exporter/config.yml"]'

# rest-server: as restic/rest-server (its Dockerfile: the binary at /usr/bin/rest-server,
# root, data in /data, port 8000, CMD rather than ENTRYPOINT, so the catalog's command is
# the whole command line). Debian names the binary restic-rest-server.
dir="$work/rest-server"
cp -a "$work/base" "$dir"
dpkg-deb -x "$(deb restic-rest-server)" "$dir"
ln -s restic-rest-server "$dir/usr/bin/rest-server"
mkdir -p "$dir/data"
save rest-server "$dir" 'WORKDIR /data' 'VOLUME /data' 'EXPOSE 8000' \
    'CMD ["/usr/bin/rest-server", "--path", "/data"]'

for name in "${components[@]}"; do archive_of "$name"; done

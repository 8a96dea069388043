#!/bin/sh
# Prints "NAME STATE IMAGE" for each NAME IMAGE pair given as arguments: STATE is
# systemd's active state of NAME.service, IMAGE is "stale" when the image tag now points
# at another image than the one the running container was made from, else "current".
# Read-only, and one podman ps, one podman images and one systemctl call in all, so a
# no-op run costs one round trip however many services the host runs.
set -u
containers="$(podman ps -a --no-trunc --filter label=homelab.service --format '{{.Names}} {{.ImageID}}')"
images="$(podman images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}')"
units=""
index=1
while [ "$index" -le "$#" ]; do
    eval "name=\${$index}"
    units="$units $name.service"
    index=$((index + 2))
done
# shellcheck disable=SC2086  # one unit per word
states="$(systemctl is-active $units 2>/dev/null)"
while [ "$#" -ge 2 ]; do
    name="$1"
    image="$2"
    shift 2
    state="$(printf '%s\n' "$states" | sed -n 1p)"
    states="$(printf '%s\n' "$states" | sed 1d)"
    case "${image##*/}" in
        *@*) reference="" ;;                      # pinned by digest: cannot move
        *:*) reference="$image" ;;
        *) reference="$image:latest" ;;
    esac
    running="$(printf '%s\n' "$containers" | awk -v n="$name" '$1 == n { print $2; exit }')"
    current="$(printf '%s\n' "$images" | awk -v r="$reference" '$1 == r { print $2; exit }')"
    running="${running#sha256:}"
    current="${current#sha256:}"
    if [ -n "$reference" ] && [ -n "$running" ] && [ -n "$current" ] && [ "$running" != "$current" ]; then
        echo "$name $state stale"
    else
        echo "$name $state current"
    fi
done

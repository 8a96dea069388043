#!/bin/sh
# Prints the containers whose image tag now points at another image than the one they
# run (pulled by hand or by podman auto-update's pull), so only those are restarted.
# Arguments: NAME IMAGE pairs. Read-only.
while [ "$#" -ge 2 ]; do
    running="$(podman container inspect --format '{{.Image}}' "$1" 2>/dev/null)"
    current="$(podman image inspect --format '{{.Id}}' "$2" 2>/dev/null)"
    if [ -n "$running" ] && [ -n "$current" ] && [ "$running" != "$current" ]; then
        echo "$1"
    fi
    shift 2
done

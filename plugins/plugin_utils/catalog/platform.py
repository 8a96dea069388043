# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform's own services as catalog entries: what a ``platform`` kind fills in.

A user writes ``{name: traefik, host: jove, platform: traefik}`` and the entry gets the
container the collection's traefik role configures: its image, ports, configuration
mount, health check and metrics. Any field the user sets wins over the kind's default,
so an entry can pin another image or publish on one address only. The paths here are
the contract between the entry and the role that writes the files (it reads them from
the normalised entry, never from a copy).
"""

from __future__ import annotations

# Traefik: the official image pinned to a minor release.
TRAEFIK_IMAGE = "docker.io/library/traefik:v3.7"
# Where the traefik role writes the static and dynamic configuration and certificates on
# the edge host, and where the container sees them.
TRAEFIK_HOST_DIR = "/etc/homelab/traefik"
TRAEFIK_CONFIG_DIR = "/etc/traefik"
TRAEFIK_STATIC_FILE = TRAEFIK_CONFIG_DIR + "/traefik.yml"
# The entrypoint that answers ping and metrics inside the host only (never published).
TRAEFIK_INTERNAL_PORT = 8082

_DEFAULTS = {
    "traefik": {
        "image": TRAEFIK_IMAGE,
        "publish": ["80:80", "443:443"],
        "mounts": [{"source": TRAEFIK_HOST_DIR, "target": TRAEFIK_CONFIG_DIR, "readonly": True}],
        # ACME account and certificates (TLS mode acme) survive a new container.
        "volumes": [{"name": "acme", "mount": "/var/lib/traefik", "backup": "daily"}],
        "command": ["traefik", "--configFile=" + TRAEFIK_STATIC_FILE],
        "healthcheck": {"cmd": "traefik healthcheck --configFile=" + TRAEFIK_STATIC_FILE, "interval": "30s"},
        "metrics": {"port": TRAEFIK_INTERNAL_PORT, "path": "/metrics"},
    },
}

KINDS = tuple(_DEFAULTS)
# Kinds that must run on homelab_edge_host.
ON_EDGE = ("traefik",)


def with_defaults(kind: str, entry: dict) -> dict:
    """The entry with the kind's defaults under every field it leaves unset (or null)."""
    result = {field: value for field, value in _DEFAULTS[kind].items() if entry.get(field) is None}
    result.update((field, value) for field, value in entry.items() if value is not None)
    return result

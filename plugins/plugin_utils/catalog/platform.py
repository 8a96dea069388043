# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform's own services as catalog entries: what a ``platform`` kind fills in.

A user writes ``{name: traefik, host: jove, platform: traefik}`` and the entry gets the
container the collection's role of that name configures: its image, ports,
configuration mount, health check and metrics. Any field the user sets wins over the
kind's default, so an entry can pin another image or publish on one address only. The
paths here are the contract between the entry and the role that writes the files (it
reads them through the ``platform_service`` view, never from a copy).
"""

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.module_utils.traefik import SIGN_IN_UNAVAILABLE_PAGE
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import alloy, identity, monitoring, postgres, rest_server, semaphore

# Traefik: the official image pinned to a minor release.
TRAEFIK_IMAGE = "docker.io/library/traefik:v3.7"
# Where the traefik role writes the static and dynamic configuration and certificates on
# the edge host, and where the container sees them.
TRAEFIK_HOST_DIR = "/etc/homelab/traefik"
TRAEFIK_CONFIG_DIR = "/etc/traefik"
TRAEFIK_STATIC_FILE = TRAEFIK_CONFIG_DIR + "/traefik.yml"
# The entrypoint that answers ping and metrics inside the host only (published on the
# host's mesh address only when Prometheus scrapes it from another host: monitoring.py).
TRAEFIK_INTERNAL_PORT = 8082

# cloudflared: the official image pinned to a release; the tunnel's ingress file.
CLOUDFLARED_IMAGE = "docker.io/cloudflare/cloudflared:2025.11.1"
CLOUDFLARED_HOST_DIR = "/etc/homelab/cloudflared"
CLOUDFLARED_CONFIG_DIR = "/etc/cloudflared"
CLOUDFLARED_CONFIG_FILE = CLOUDFLARED_CONFIG_DIR + "/config.yml"
CLOUDFLARED_METRICS_PORT = 2000
# The secret that authenticates the connector (the tunnel's token).
CLOUDFLARED_TOKEN = "TUNNEL_TOKEN"

# The edge's own pages (sign-in unavailable): busybox's httpd serving, read-only, what
# the traefik role writes. A tiny official image whose shell runs the health check.
EDGE_PAGES_IMAGE = "docker.io/library/busybox:1.37"
EDGE_PAGES_HOST_DIR = "/etc/homelab/edge-pages"
EDGE_PAGES_DIR = "/www"
EDGE_PAGES_PORT = 8080

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
    "cloudflared": {
        "image": CLOUDFLARED_IMAGE,
        "mounts": [{"source": CLOUDFLARED_HOST_DIR, "target": CLOUDFLARED_CONFIG_DIR, "readonly": True}],
        "command": ["tunnel", "--no-autoupdate", "--config", CLOUDFLARED_CONFIG_FILE,
                    "--metrics", f"0.0.0.0:{CLOUDFLARED_METRICS_PORT}", "run"],
        "metrics": {"port": CLOUDFLARED_METRICS_PORT, "path": "/metrics"},
    },
    "edge_pages": {
        "image": EDGE_PAGES_IMAGE,
        "mounts": [{"source": EDGE_PAGES_HOST_DIR, "target": EDGE_PAGES_DIR, "readonly": True}],
        "command": ["/bin/busybox", "httpd", "-f", "-p", str(EDGE_PAGES_PORT), "-h", EDGE_PAGES_DIR],
        "healthcheck": {"cmd": f"wget -q -O /dev/null http://127.0.0.1:{EDGE_PAGES_PORT}/{SIGN_IN_UNAVAILABLE_PAGE}",
                        "interval": "30s"},
    },
    # Prometheus, Alertmanager, blackbox_exporter, Grafana and Loki (monitoring.py).
    **monitoring.DEFAULTS,
    # The log agent, one per host (alloy.py).
    **alloy.DEFAULTS,
    # restic's rest-server, where the other site's hosts back up (rest_server.py).
    **rest_server.DEFAULTS,
    # Shared PostgreSQL, whose databases apps declare in their database field (postgres.py).
    **postgres.DEFAULTS,
    # Semaphore UI, where the playbooks are run from (semaphore.py).
    **semaphore.DEFAULTS,
}

# What the role of each kind needs to know of its container: where its configuration
# directory is (the host side comes from the entry's mount there) and its files.
FACTS = {
    "traefik": {"config_dir": TRAEFIK_CONFIG_DIR, "static_file": TRAEFIK_STATIC_FILE,
                "internal_port": TRAEFIK_INTERNAL_PORT},
    "cloudflared": {"config_dir": CLOUDFLARED_CONFIG_DIR, "config_file": CLOUDFLARED_CONFIG_FILE},
    "edge_pages": {"config_dir": EDGE_PAGES_DIR, "port": EDGE_PAGES_PORT, "sign_in_page": SIGN_IN_UNAVAILABLE_PAGE},
}
# Secrets an entry of the kind must carry.
REQUIRED_SECRETS = {"cloudflared": (CLOUDFLARED_TOKEN,)}

# Authentik: one entry the catalog expands into server, worker and database (identity.py
# fills in their fields, so they have no defaults here).
FACTS.update(identity.FACTS)
FACTS.update(monitoring.FACTS)
FACTS.update(alloy.FACTS)
FACTS.update(rest_server.FACTS)
REQUIRED_SECRETS.update(identity.REQUIRED_SECRETS)
REQUIRED_SECRETS.update(postgres.REQUIRED_SECRETS)
REQUIRED_SECRETS.update(monitoring.REQUIRED_SECRETS)
REQUIRED_SECRETS.update(semaphore.REQUIRED_SECRETS)

KINDS = tuple(_DEFAULTS) + identity.KINDS
# Kinds that must run on homelab_edge_host (cloudflared reaches Traefik by name there,
# Traefik the page server).
ON_EDGE = ("traefik", "cloudflared", "edge_pages")
# Kinds with one entry per host rather than one in the catalog (alloy.check and
# rest_server.check count them).
PER_HOST = (alloy.KIND, rest_server.KIND, postgres.KIND)
# Kinds whose port every host reaches over the mesh, with why: the container port published
# on its host's mesh address only (views._mesh_binding), whoever else reaches it by name.
MESH_PUBLISHED = {**monitoring.MESH_PUBLISHED, **rest_server.MESH_PUBLISHED}


def with_defaults(kind: str, entry: dict) -> dict:
    """The entry with the kind's defaults under every field it leaves unset (or null)."""
    result = {field: value for field, value in _DEFAULTS.get(kind, {}).items() if entry.get(field) is None}
    result.update((field, value) for field, value in entry.items() if value is not None)
    return result


def mesh_published(service: dict, services: list = ()) -> list:
    """``(why, mesh port, container port)`` the kind publishes on its host's mesh address
    (empty for every other service, and for an absent one). ``services`` is the catalog:
    a postgres server publishes only when an app on another host uses it."""
    if service["platform"] == postgres.KIND:
        return postgres.mesh_published(service, services)
    wanted = MESH_PUBLISHED.get(service["platform"])
    if wanted is None or service["state"] != "present":
        return []
    why, port = wanted
    return [(why, port, port)]

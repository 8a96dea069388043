# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The monitoring platform in the catalog: Prometheus, Alertmanager, blackbox_exporter and Loki.

A user writes ``{name: prometheus, host: jove, platform: prometheus}`` (and likewise
``alertmanager`` and ``blackbox_exporter``) and the entry gets the official container the
monitoring role configures: its image, the read-only configuration mount the role writes
to, a data volume (Prometheus' TSDB, Alertmanager's silences; not backed up: both are
rebuilt from the hosts), its command with the configuration file flags, a health check
and ``metrics``, so each is scraped like any service. The images are busybox-based, so
the health check is busybox's wget against the server's own readiness endpoint.

Prometheus and Alertmanager answer on the host's loopback only (the edge's SSO route is
the way in from elsewhere); blackbox_exporter publishes nothing. Prometheus reaches
Alertmanager and blackbox_exporter by container name, so they run on its host.

Loki (``{name: loki, host: jove, platform: loki}``) keeps the hosts' logs: every host's
Alloy agent (alloy.py) pushes to it over the mesh, so its port is published on its host's
mesh address only (:func:`mesh_published`, bound like a route's ``mesh_port``); it runs
beside Prometheus, which scrapes it, and Grafana, which reads it, both by name.

Prometheus reaches every other service's metrics by name on its own host, and over the
mesh elsewhere: :func:`place_metrics` settles ``metrics.mesh_port`` as schema's
``_place_routes`` settles ``route.mesh_port``.
"""

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.module_utils import loki
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.errors import _error

PROMETHEUS = "prometheus"
ALERTMANAGER = "alertmanager"
BLACKBOX = "blackbox_exporter"
LOKI = "loki"

# The official images, pinned: Prometheus' long-term support release, the others' latest
# releases of the same season.
PROMETHEUS_IMAGE = "docker.io/prom/prometheus:v3.5.0"
ALERTMANAGER_IMAGE = "docker.io/prom/alertmanager:v0.28.1"
BLACKBOX_IMAGE = "docker.io/prom/blackbox-exporter:v0.27.0"
# Loki's 3.6 release (single binary; the tsdb index and schema v13 of loki.py).
LOKI_IMAGE = "docker.io/grafana/loki:3.6.0"

PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
BLACKBOX_PORT = 9115
LOKI_PORT = loki.HTTP_PORT

# Where the monitoring role writes each configuration on the host, and where the
# container reads it (the images' own configuration directories).
PROMETHEUS_HOST_DIR = "/etc/homelab/prometheus"
PROMETHEUS_CONFIG_DIR = "/etc/prometheus"
PROMETHEUS_CONFIG_FILE = PROMETHEUS_CONFIG_DIR + "/prometheus.yml"
PROMETHEUS_RULES_DIR = PROMETHEUS_CONFIG_DIR + "/rules"
PROMETHEUS_DATA_DIR = "/prometheus"
ALERTMANAGER_HOST_DIR = "/etc/homelab/alertmanager"
ALERTMANAGER_CONFIG_DIR = "/etc/alertmanager"
ALERTMANAGER_CONFIG_FILE = ALERTMANAGER_CONFIG_DIR + "/alertmanager.yml"
ALERTMANAGER_DATA_DIR = "/alertmanager"
BLACKBOX_HOST_DIR = "/etc/homelab/blackbox_exporter"
BLACKBOX_CONFIG_DIR = "/etc/blackbox_exporter"
BLACKBOX_CONFIG_FILE = BLACKBOX_CONFIG_DIR + "/blackbox.yml"
LOKI_HOST_DIR = "/etc/homelab/loki"
LOKI_CONFIG_DIR = "/etc/loki"
LOKI_CONFIG_FILE = LOKI_CONFIG_DIR + "/loki.yaml"
LOKI_DATA_DIR = loki.DATA_DIR  # chunks, index and the compactor's work (module_utils/loki.py)


def _server(image: str, port: int, host_dir: str, config_dir: str, command: list, data_dir: str | None = None,
            ready: str = "ready") -> dict:
    """A monitoring server's container: its configuration read-only from the host, its
    readiness endpoint as the health check (busybox's wget, in these images), its metrics
    on its HTTP port. A server with data (Prometheus, Alertmanager) keeps it in a volume
    that is not backed up, and answers on the host's loopback (``port`` also serves an SSO
    route, if the user gives it one)."""
    result = {
        "image": image,
        "mounts": [{"source": host_dir, "target": config_dir, "readonly": True}],
        "command": command,
        "healthcheck": {"cmd": f"wget -q -O /dev/null http://127.0.0.1:{port}/-/{ready}", "interval": "30s"},
        "metrics": {"port": port, "path": "/metrics"},
    }
    if data_dir is not None:
        result.update(port=port, publish=[f"127.0.0.1:{port}:{port}"],
                      volumes=[{"name": "data", "mount": data_dir, "backup": "none"}])
    return result


# The images' entrypoint is the server binary, so ``command`` holds its flags only.
DEFAULTS = {
    # The lifecycle API lets the role reload a changed configuration without a restart.
    PROMETHEUS: _server(PROMETHEUS_IMAGE, PROMETHEUS_PORT, PROMETHEUS_HOST_DIR, PROMETHEUS_CONFIG_DIR,
                        ["--config.file=" + PROMETHEUS_CONFIG_FILE, "--storage.tsdb.path=" + PROMETHEUS_DATA_DIR,
                         "--web.enable-lifecycle"], PROMETHEUS_DATA_DIR),
    # One instance: no cluster gossip port (an empty listen address turns it off).
    ALERTMANAGER: _server(ALERTMANAGER_IMAGE, ALERTMANAGER_PORT, ALERTMANAGER_HOST_DIR, ALERTMANAGER_CONFIG_DIR,
                          ["--config.file=" + ALERTMANAGER_CONFIG_FILE, "--storage.path=" + ALERTMANAGER_DATA_DIR,
                           "--cluster.listen-address="], ALERTMANAGER_DATA_DIR),
    # Publishes nothing: only Prometheus, beside it, asks it to probe.
    BLACKBOX: _server(BLACKBOX_IMAGE, BLACKBOX_PORT, BLACKBOX_HOST_DIR, BLACKBOX_CONFIG_DIR,
                      ["--config.file=" + BLACKBOX_CONFIG_FILE], ready="healthy"),
    # Published on the mesh address only (mesh_published), not on loopback: the agents of
    # every host push there, and Prometheus and Grafana beside it use its name. Its flags
    # are single-dash. No health check: since 3.6.0 the image is distroless, without a
    # shell or wget (grafana/loki#20149), so a check of /ready from inside could never pass
    # and the service role would wait for it in vain; Prometheus scrapes it (up{job="loki"}).
    LOKI: {
        "image": LOKI_IMAGE,
        "port": LOKI_PORT,
        "mounts": [{"source": LOKI_HOST_DIR, "target": LOKI_CONFIG_DIR, "readonly": True}],
        "volumes": [{"name": "data", "mount": LOKI_DATA_DIR, "backup": "none"}],
        "command": ["-config.file=" + LOKI_CONFIG_FILE],
        "metrics": {"port": LOKI_PORT, "path": "/metrics"},
    },
}

# What the monitoring role needs of each container (see views.platform_service).
FACTS = {
    PROMETHEUS: {"config_dir": PROMETHEUS_CONFIG_DIR, "config_file": PROMETHEUS_CONFIG_FILE,
                 "rules_dir": PROMETHEUS_RULES_DIR, "port": PROMETHEUS_PORT},
    ALERTMANAGER: {"config_dir": ALERTMANAGER_CONFIG_DIR, "config_file": ALERTMANAGER_CONFIG_FILE,
                   "port": ALERTMANAGER_PORT},
    BLACKBOX: {"config_dir": BLACKBOX_CONFIG_DIR, "config_file": BLACKBOX_CONFIG_FILE, "port": BLACKBOX_PORT},
    LOKI: {"config_dir": LOKI_CONFIG_DIR, "config_file": LOKI_CONFIG_FILE, "data_dir": LOKI_DATA_DIR,
           "port": LOKI_PORT},
}

KINDS = tuple(DEFAULTS)
# Kinds Prometheus reaches by container name, so they run on its host (Loki also for
# Grafana, which runs there too).
BESIDE_PROMETHEUS = (ALERTMANAGER, BLACKBOX, LOKI)
# Kinds whose port every host reaches over the mesh: the container port published on its
# host's mesh address only (views._mesh_binding), whoever else reaches it by name.
MESH_PUBLISHED = {LOKI: ("pushed to by every host's log agent over the mesh", LOKI_PORT)}


def prometheus_host(services: list) -> str | None:
    """The host of the present ``platform: prometheus`` entry, or None."""
    return next((service["host"] for service in services
                 if service["platform"] == PROMETHEUS and service["state"] == "present"), None)


def check(services: list) -> None:
    """Alertmanager and blackbox_exporter run beside Prometheus (after each kind was seen once)."""
    host = prometheus_host(services)
    for service in services:
        if service["platform"] not in BESIDE_PROMETHEUS or service["state"] != "present" or service["host"] == host:
            continue
        where = f"on {host}" if host else f"(add a present platform {PROMETHEUS} entry)"
        raise _error(service["name"], "host", f"platform {service['platform']} runs beside {PROMETHEUS} {where}")


def mesh_published(service: dict) -> list:
    """``(why, mesh port, container port)`` the kind publishes on its host's mesh address
    (empty for every other service, and for an absent one)."""
    wanted = MESH_PUBLISHED.get(service["platform"])
    if wanted is None or service["state"] != "present":
        return []
    why, port = wanted
    return [(why, port, port)]


def place_metrics(services: list) -> None:
    """Settle how Prometheus reaches each service's metrics.

    On Prometheus' host it scrapes the container by name on the host's network
    (``metrics.mesh_port`` None). On another host the metrics port is published on that
    host's mesh address only, never on every interface, as ``metrics.mesh_port``: the
    route's mesh port when the route already publishes the same container port there
    (one binding serves both), else the metrics port. Without a Prometheus entry nothing
    is published. Run after the routes are placed.
    """
    host = prometheus_host(services)
    for service in services:
        metrics = service["metrics"]
        if metrics is None:
            continue
        if host is None or service["host"] == host:
            metrics["mesh_port"] = None
        elif metrics["mesh_port"] is None:
            metrics["mesh_port"] = _route_binding(service) or metrics["port"]


def _route_binding(service: dict) -> int | None:
    """The route's mesh port when it publishes the metrics' container port, else None."""
    route = service["route"]
    if route is not None and route["mesh_port"] is not None and service["port"] == service["metrics"]["port"]:
        return route["mesh_port"]
    return None


def shares_route_binding(service: dict) -> bool:
    """Whether ``metrics.mesh_port`` is the very binding of the route's mesh port (so it is
    published once, and is no second claim on the port)."""
    metrics = service["metrics"]
    return metrics is not None and metrics["mesh_port"] is not None and metrics["mesh_port"] == _route_binding(service)

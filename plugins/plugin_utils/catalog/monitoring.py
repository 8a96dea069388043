# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The monitoring platform in the catalog: Prometheus, Alertmanager, blackbox_exporter, Grafana and Loki.

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

Grafana (``platform: grafana``) runs beside Prometheus too and reaches Prometheus,
Alertmanager and Loki by container name. It is configured through its environment
(``GF_*``): no anonymous access, its admin password the required Podman secret
``GF_SECURITY_ADMIN_PASSWORD``. The catalog hands every secret to a container as an
environment variable (Quadlet ``Secret=...,type=env``: the value reaches the container at
start, never the unit file), which Grafana reads as it is; its ``__FILE`` variant would
need a file-type secret the catalog does not make. With ``oidc`` the entry signs in
through Authentik (:func:`settle_grafana`): the login form goes away, the client secret
comes from the ``OIDC_CLIENT_SECRET`` secret identity.py delivers (Grafana expands
``$__env{...}`` in its settings, environment overrides included), and the role writes
the URLs that need the homelab's domain into ``grafana.ini`` in the provisioning
directory (module_utils/grafana.py), which ``GF_PATHS_CONFIG`` names.

Loki (``{name: loki, host: jove, platform: loki}``) keeps the hosts' logs: every host's
Alloy agent (alloy.py) pushes to it over the mesh, so its port is published on its host's
mesh address only (platform.mesh_published, bound like a route's ``mesh_port``); it runs
beside Prometheus, which scrapes it, and Grafana, which reads it, both by name.

Prometheus reaches every other service's metrics by name on its own host, and over the
mesh elsewhere: :func:`place_metrics` settles ``metrics.mesh_port`` as schema's
``_place_routes`` settles ``route.mesh_port``.
"""

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.module_utils import loki
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.errors import _error
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.identity import OIDC_CLIENT_SECRET

PROMETHEUS = "prometheus"
ALERTMANAGER = "alertmanager"
BLACKBOX = "blackbox_exporter"
GRAFANA = "grafana"
# Loki's kind (another entry of the monitoring platform): Grafana's datasource when present.
LOKI = "loki"

# The official images, pinned: Prometheus' long-term support release, the others' latest
# releases of the same season.
PROMETHEUS_IMAGE = "docker.io/prom/prometheus:v3.5.0"
ALERTMANAGER_IMAGE = "docker.io/prom/alertmanager:v0.28.1"
BLACKBOX_IMAGE = "docker.io/prom/blackbox-exporter:v0.27.0"
GRAFANA_IMAGE = "docker.io/grafana/grafana:12.3.0"
# Loki's 3.6 release (single binary; the tsdb index and schema v13 of loki.py).
LOKI_IMAGE = "docker.io/grafana/loki:3.6.0"

PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
BLACKBOX_PORT = 9115
GRAFANA_PORT = 3000
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
# Grafana's provisioning (datasources, dashboards) and the settings file the role writes
# there; its database (users, dashboards people make) in a volume backed up daily.
GRAFANA_HOST_DIR = "/etc/homelab/grafana"
GRAFANA_PROVISIONING_DIR = "/etc/grafana/provisioning"
GRAFANA_CONFIG_FILE = GRAFANA_PROVISIONING_DIR + "/grafana.ini"
GRAFANA_DASHBOARDS_DIR = GRAFANA_PROVISIONING_DIR + "/dashboards"
GRAFANA_DATA_DIR = "/var/lib/grafana"
GRAFANA_ADMIN_PASSWORD = "GF_SECURITY_ADMIN_PASSWORD"
# Members of this Authentik group are Grafana admins (the collection's admins group);
# everyone else who may sign in is a viewer.
GRAFANA_ADMIN_GROUP = "admins"
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
                      volumes=[{"name": "data", "mount": data_dir, "backup": "never"}])
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
    # The image's own entrypoint (it reads the GF_* environment); no published port:
    # people reach it through the edge's route, Prometheus by name.
    GRAFANA: {
        "image": GRAFANA_IMAGE,
        "port": GRAFANA_PORT,
        "mounts": [{"source": GRAFANA_HOST_DIR, "target": GRAFANA_PROVISIONING_DIR, "readonly": True}],
        "volumes": [{"name": "data", "mount": GRAFANA_DATA_DIR, "backup": "daily"}],
        "healthcheck": {"cmd": f"wget -q -O /dev/null http://127.0.0.1:{GRAFANA_PORT}/api/health", "interval": "30s"},
        "metrics": {"port": GRAFANA_PORT, "path": "/metrics"},
    },
    # Published on the mesh address only (mesh_published), not on loopback: the agents of
    # every host push there, and Prometheus and Grafana beside it use its name. Its flags
    # are single-dash. No health check: since 3.6.0 the image is distroless, without a
    # shell or wget (grafana/loki#20149), so a check of /ready from inside could never pass
    # and the service role would wait for it in vain; Prometheus scrapes it (up{job="loki"}).
    LOKI: {
        "image": LOKI_IMAGE,
        "port": LOKI_PORT,
        "mounts": [{"source": LOKI_HOST_DIR, "target": LOKI_CONFIG_DIR, "readonly": True}],
        "volumes": [{"name": "data", "mount": LOKI_DATA_DIR, "backup": "never"}],
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
    GRAFANA: {"config_dir": GRAFANA_PROVISIONING_DIR, "config_file": GRAFANA_CONFIG_FILE,
              "dashboards_dir": GRAFANA_DASHBOARDS_DIR, "port": GRAFANA_PORT},
    LOKI: {"config_dir": LOKI_CONFIG_DIR, "config_file": LOKI_CONFIG_FILE, "data_dir": LOKI_DATA_DIR,
           "port": LOKI_PORT},
}
# Secrets an entry of the kind must carry.
REQUIRED_SECRETS = {GRAFANA: (GRAFANA_ADMIN_PASSWORD,)}

KINDS = tuple(DEFAULTS)
# Kinds Prometheus reaches by container name, so they run on its host (Loki also for
# Grafana, which runs there too).
BESIDE_PROMETHEUS = (ALERTMANAGER, BLACKBOX, GRAFANA, LOKI)
# Kinds whose port every host reaches over the mesh (platform.mesh_published).
MESH_PUBLISHED = {LOKI: ("pushed to by every host's log agent over the mesh", LOKI_PORT)}


def prometheus_host(services: list) -> str | None:
    """The host of the present ``platform: prometheus`` entry, or None."""
    return next((service["host"] for service in services
                 if service["platform"] == PROMETHEUS and service["state"] == "present"), None)


def check(services: list) -> None:
    """Alertmanager, blackbox_exporter and Grafana run beside Prometheus (after each kind was seen once)."""
    host = prometheus_host(services)
    for service in services:
        if service["platform"] not in BESIDE_PROMETHEUS or service["state"] != "present" or service["host"] == host:
            continue
        where = f"on {host}" if host else f"(add a present platform {PROMETHEUS} entry)"
        raise _error(service["name"], "host", f"platform {service['platform']} runs beside {PROMETHEUS} {where}")


# Grafana's environment whatever the sign-in: its files, no anonymous access, no sign-up,
# no calls home.
GRAFANA_ENV = {
    "GF_PATHS_CONFIG": GRAFANA_CONFIG_FILE, "GF_PATHS_PROVISIONING": GRAFANA_PROVISIONING_DIR,
    "GF_AUTH_ANONYMOUS_ENABLED": "false", "GF_USERS_ALLOW_SIGN_UP": "false",
    "GF_ANALYTICS_REPORTING_ENABLED": "false", "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
}
# Settings an entry may not change: dashboards are never public.
GRAFANA_FIXED = ("GF_AUTH_ANONYMOUS_ENABLED",)


def grafana_env(name: str, oidc: dict | None) -> dict:
    """A Grafana entry's environment (:data:`GRAFANA_ENV`) and its sign-in settings: with
    ``oidc`` Authentik's generic OAuth (the client id is the service name, the secret the
    ``OIDC_CLIENT_SECRET`` variable, Grafana's role from Authentik's groups) and no login
    form; without it the login form, for the admin user and its secret's password."""
    if oidc is None:
        return dict(GRAFANA_ENV, GF_AUTH_DISABLE_LOGIN_FORM="false", GF_AUTH_GENERIC_OAUTH_ENABLED="false")
    return dict(
        GRAFANA_ENV,
        GF_AUTH_DISABLE_LOGIN_FORM="true",
        GF_AUTH_GENERIC_OAUTH_ENABLED="true",
        GF_AUTH_GENERIC_OAUTH_NAME="authentik",
        GF_AUTH_GENERIC_OAUTH_CLIENT_ID=name,
        GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET="$__env{OIDC_CLIENT_SECRET}",
        GF_AUTH_GENERIC_OAUTH_SCOPES=" ".join(oidc["scopes"]),
        GF_AUTH_GENERIC_OAUTH_USE_PKCE="true",
        GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_PATH=f"contains(groups[*], '{GRAFANA_ADMIN_GROUP}') && 'Admin' || 'Viewer'",
    )


def settle_grafana(services: list) -> None:
    """Give each Grafana entry its environment (:func:`grafana_env`) under the variables it
    does not set itself; refuse anonymous access, and ``oidc`` without a client secret.
    Run after identity.deliver_oidc_secrets."""
    for service in services:
        if service["platform"] != GRAFANA:
            continue
        made = grafana_env(service["name"], service["oidc"])
        for key in GRAFANA_FIXED:
            if service["env"].get(key, made[key]) != made[key]:
                raise _error(service["name"], f"env.{key}", f"must be {made[key]}: dashboards are never public")
        if service["oidc"] is not None and service["state"] == "present" and OIDC_CLIENT_SECRET not in service["secrets"]:
            raise _error(service["name"], "oidc", "needs its client secret: add a present platform authentik entry"
                         " (it makes the secret) or set secrets.OIDC_CLIENT_SECRET")
        service["env"] = {**made, **service["env"]}


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

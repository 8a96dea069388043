# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-subsystem views of a normalised catalog: a host's Quadlet units and secrets,
the edge's routes, the scrape targets and the backup sets. Pure functions; each filter
in plugins/filter/ is a thin wrapper around one of them.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.module_utils.quadlet import exec_words, literal
from ansible_collections.homelab.stack.plugins.module_utils.service_state import MANAGED_KEY, SERVICE_LABEL
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import backup as backup_field
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import identity, monitoring, platform, postgres
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.errors import _is_list, _kind, _quote
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.names import (
    NETWORK_NAME,
    is_dns_name,
    oidc_secret_env,
    secret_name,
    volume_name,
)
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.schema import FIELDS


def _catalog(catalog: object, filter_name: str) -> list:
    """Check that ``catalog`` looks like the output of :func:`normalise_catalog`."""
    if not _is_list(catalog):
        raise AnsibleFilterError(f"{filter_name}: catalog: must be a list of services, got {_kind(catalog)}")
    for index, service in enumerate(catalog):
        if not isinstance(service, Mapping) or any(field not in service for field in FIELDS):
            raise AnsibleFilterError(
                f"{filter_name}: catalog: item #{index} is not a normalised service;"
                " pass the catalog through homelab.stack.validate_catalog first")
    return list(catalog)


def _host(host: object, filter_name: str) -> str:
    if not isinstance(host, str):
        raise AnsibleFilterError(f"{filter_name}: host: must be a string, got {_kind(host)}")
    return host


def _present(catalog: list) -> list:
    return [service for service in catalog if service["state"] == "present"]


def _dependency_order(services: list) -> list:
    """Order services so that each comes after those of ``services`` it depends on.

    Dependencies on services outside the list are ignored. Among the services whose
    dependencies are placed, the one earliest in the input always comes next (a stable
    topological sort), so an input that is already in order is returned unchanged.
    """
    names = {service["name"] for service in services}
    remaining = list(services)
    placed: set = set()
    ordered = []
    while remaining:
        index = next((i for i, service in enumerate(remaining)
                      if all(dep in placed for dep in service["depends_on"] if dep in names)), None)
        if index is None:
            raise AnsibleFilterError(
                "host_units: catalog: services " + ", ".join(service["name"] for service in remaining)
                + " depend on each other; pass the catalog through homelab.stack.validate_catalog first")
        service = remaining.pop(index)
        placed.add(service["name"])
        ordered.append(service)
    return ordered


def _network_unit() -> dict:
    return {
        "name": NETWORK_NAME,
        "type": "network",
        "unit": {"Description": "homelab.stack service network", MANAGED_KEY: "true"},
        "spec": {"NetworkName": NETWORK_NAME},
        "service": {},
        "install": {},
    }


def _volume_unit(service: dict, volume: dict) -> dict:
    name = volume_name(service["name"], volume["name"])
    return {
        "name": name,
        "type": "volume",
        "unit": {"Description": f"Volume {volume['name']} of {service['name']}", MANAGED_KEY: "true"},
        "spec": {"VolumeName": name, "Label": {SERVICE_LABEL: service["name"]}},
        "service": {},
        "install": {},
    }


def _mesh_binding(service: dict, address: str | None, services: list) -> list:
    """The PublishPorts that let the edge reach a routed service of another host,
    Prometheus a scraped one, every host a kind of platform.MESH_PUBLISHED (Loki, rest_server),
    and apps of other hosts their PostgreSQL (postgres.mesh_published):
    the container port on this host's mesh address only (see schema._place_routes and
    monitoring.place_metrics); metrics that share the route's binding add none."""
    route, metrics = service["route"], service["metrics"]
    wanted = list(platform.mesh_published(service, services))
    if route is not None and route["mesh_port"] is not None:
        wanted.append(("routed by the edge on another host", route["mesh_port"], service["port"]))
    if metrics is not None and metrics["mesh_port"] is not None and not monitoring.shares_route_binding(service):
        wanted.append(("scraped by Prometheus on another host", metrics["mesh_port"], metrics["port"]))
    if wanted and not address:
        raise AnsibleFilterError(
            f"host_units: address: service {service['name']} is {wanted[0][0]}, so this host's"
            " mesh address is needed (homelab_mesh_address, else ansible_host)")
    return [f"{_bracketed(address)}:{mesh_port}:{port}" for _why, mesh_port, port in wanted]


def _bracketed(address: str) -> str:
    """An address as the host part of ``host:port`` (IPv6 in brackets)."""
    return f"[{address}]" if ":" in address else address


def _container_unit(service: dict, services: list, address: str | None = None,
                    addresses: Mapping | None = None) -> dict:
    name = service["name"]
    local_names = {other["name"] for other in services if other["host"] == service["host"]}
    unit: dict = {"Description": f"homelab service {name}", MANAGED_KEY: "true"}
    after = [f"{dep}.service" for dep in service["depends_on"] if dep in local_names]
    if after:
        unit["After"] = after
        unit["Requires"] = list(after)
    spec: dict = {
        "ContainerName": name,
        "Image": service["image"],
        "Network": f"{NETWORK_NAME}.network",
        "Label": {SERVICE_LABEL: name, **service["labels"]},
    }
    database = postgres.client(service, services, addresses, "host_units")
    env = {**service["env"], **(database["env"] if database else {})}
    if env:
        spec["Environment"] = env
    if service["secrets"]:
        spec["Secret"] = [f"{secret_name(name, key)},type=env,target={key}" for key in service["secrets"]]
    volumes = [f"{volume_name(name, volume['name'])}.volume:{volume['mount']}" for volume in service["volumes"]]
    volumes += [f"{mount['source']}:{mount['target']}" + (":ro" if mount["readonly"] else "")
                for mount in service["mounts"]]
    if volumes:
        spec["Volume"] = volumes
    publish = list(service["publish"]) + _mesh_binding(service, address, services)
    if publish:
        spec["PublishPort"] = publish
    if service["command"] is not None:
        spec["Exec"] = exec_words(service["command"], "command")
    if service["auto_update"]:
        spec["AutoUpdate"] = "registry"
    healthcheck = service["healthcheck"]
    if healthcheck is not None:
        spec["HealthCmd"] = literal(healthcheck["cmd"], "healthcheck.cmd")
        spec["HealthInterval"] = healthcheck["interval"]
        spec["HealthRetries"] = healthcheck["retries"]
        spec["HealthStartPeriod"] = healthcheck["start_period"]
    resources = service["resources"]
    podman_args = []
    if resources.get("memory") is not None:
        podman_args.append(f"--memory={resources['memory']}")
    if resources.get("cpus") is not None:
        podman_args.append(f"--cpus={resources['cpus']}")
    if podman_args:
        spec["PodmanArgs"] = podman_args
    return {
        "name": name,
        "type": "container",
        "unit": unit,
        "spec": spec,
        "service": {"Restart": "always", "TimeoutStartSec": 900},
        "install": {"WantedBy": "multi-user.target"},
    }


def host_units(catalog: object, host: object, address: object = None, addresses: object = None) -> list:
    """The Quadlet units for the present services of ``host``, in apply order.

    First the network, then every volume (catalog order), then the containers, each
    after the same-host services it depends on and otherwise in catalog order. Same-host
    dependencies become ``After``/``Requires``; dependencies on other hosts are left out
    (playbooks/services.yml converges those hosts first, see ``host_tiers``). Returns [] when the host has no present service. ``catalog``
    is a normalised catalog. ``address`` is the host's mesh address, needed when a service
    of the host is routed by an edge on another host (its port is published there only).
    ``addresses`` (the ``mesh_addresses`` filter's ``{host: address}``) is needed when an
    app of the host has its database on another host: its ``<prefix>_HOST`` is that
    host's mesh address (postgres.client).

    Each volume and container is tagged with the service that owns it, by the reserved
    ``homelab.service`` label of its spec (:func:`unit_owner` reads it); the network has
    no owner: every service of the host uses it.
    """
    host = _host(host, "host_units")
    if address is not None and not isinstance(address, str):
        raise AnsibleFilterError(f"host_units: address: must be a string, got {_kind(address)}")
    if addresses is not None and not isinstance(addresses, Mapping):
        raise AnsibleFilterError(f"host_units: addresses: must be a mapping of host to address, got {_kind(addresses)}")
    present = _present(_catalog(catalog, "host_units"))
    services = [service for service in present if service["host"] == host]
    if not services:
        return []
    units = [_network_unit()]
    units.extend(_volume_unit(service, volume) for service in services for volume in service["volumes"])
    units.extend(_container_unit(service, present, address, addresses) for service in _dependency_order(services))
    return units


def unit_owner(unit: dict) -> str | None:
    """The service that owns a unit of :func:`host_units`; None for the host's network."""
    return (unit["spec"].get("Label") or {}).get(SERVICE_LABEL)


def host_secrets(catalog: object, host: object) -> list:
    """The Podman secrets of the present services of ``host``, sorted by secret name.

    Each item is ``{name, value, service, target}``; ``name`` is :func:`secret_name`, the
    name the container units of :func:`host_units` refer to, ``target`` the variable.
    """
    host = _host(host, "host_secrets")
    result = [
        {"name": secret_name(service["name"], key), "value": value, "service": service["name"], "target": key}
        for service in _present(_catalog(catalog, "host_secrets")) if service["host"] == host
        for key, value in service["secrets"].items()
    ]
    return sorted(result, key=lambda item: item["name"])


def _upstream(service: dict, addresses: Mapping) -> str:
    """Where the edge sends a route's requests: the container by name on the edge host's
    network, or the other host's mesh address and the published mesh port."""
    mesh_port = service["route"]["mesh_port"]
    if mesh_port is None:
        return f"http://{service['name']}:{service['port']}"
    address = addresses.get(service["host"])
    if not isinstance(address, str) or not address:
        raise AnsibleFilterError(
            f"routes: addresses: no mesh address for host {service['host']} (service {service['name']} runs there);"
            " set homelab_mesh_address or ansible_host for it")
    return f"http://{_bracketed(address)}:{mesh_port}"


def _domain(domain: object, filter_name: str) -> str:
    if not isinstance(domain, str):
        raise AnsibleFilterError(f"{filter_name}: domain: must be a string, got {_kind(domain)}")
    if not is_dns_name(domain):
        raise AnsibleFilterError(f"{filter_name}: domain: {_quote(domain)} is not a valid DNS name")
    return domain


def _fqdn(route: dict, domain: str) -> str:
    """The host name a route answers first: ``<subdomain>.<domain>``."""
    return f"{route['subdomain']}.{domain}"


def routes(catalog: object, domain: object, addresses: object = None) -> list:
    """The edge routes, one per present routed service, sorted by name.

    Each is ``{name, host, fqdn, hosts, paths, port, auth, allow_from, rate_limit, public,
    groups, url}``: ``hosts`` is the FQDN followed by the route's extra host names, ``url``
    the upstream (:func:`_upstream`). ``addresses`` maps hosts to mesh addresses, needed
    for services reached over the mesh. Two routes answering one host name fail.
    """
    domain = _domain(domain, "routes")
    if addresses is None:
        addresses = {}
    if not isinstance(addresses, Mapping):
        raise AnsibleFilterError(f"routes: addresses: must be a mapping of host to address, got {_kind(addresses)}")
    result = []
    owners: dict[str, str] = {}
    for service in _present(_catalog(catalog, "routes")):
        route = service["route"]
        if route is None:
            continue
        fqdn = _fqdn(route, domain)
        for name in [fqdn] + route["hosts"]:
            if owners.setdefault(name, service["name"]) != service["name"]:
                raise AnsibleFilterError(f"service {service['name']}: route: {_quote(name)} is already routed to"
                                         f" service {owners[name]}")
        result.append({
            "name": service["name"],
            "host": service["host"],
            "fqdn": fqdn,
            "hosts": [fqdn] + route["hosts"],
            "paths": list(route["paths"]),
            "port": service["port"],
            "auth": route["auth"],
            "allow_from": list(route["allow_from"]),
            "rate_limit": dict(route["rate_limit"]) if route["rate_limit"] else None,
            "public": route["public"],
            "groups": list(route["groups"]),
            "url": _upstream(service, addresses),
        })
    return sorted(result, key=lambda item: item["name"])


def platform_service(catalog: object, kind: object, host: object = None) -> dict | None:
    """A platform kind's catalog entry (e.g. ``platform: traefik``) and where its files go.

    ``host`` limits it to that host's entry (a kind with one entry per host, such as the
    log agent ``alloy``). Returns None when the catalog has no present entry of the kind
    (on ``host``), else ``{name, host,
    image, host_dir, secrets}`` and the kind's facts (``config_dir`` and its files, see
    platform.FACTS): ``host_dir`` is the host directory the entry mounts at ``config_dir``,
    where the kind's role writes; ``secrets`` the names (never the values) of its secrets.
    """
    if not isinstance(kind, str) or kind not in platform.FACTS:
        raise AnsibleFilterError(f"platform_service: kind: {_quote(kind)} is not one of {', '.join(platform.FACTS)}")
    if host is not None and not isinstance(host, str):
        raise AnsibleFilterError(f"platform_service: host: must be a host name, got {_kind(host)}")
    facts = platform.FACTS[kind]
    for service in _present(_catalog(catalog, "platform_service")):
        if service["platform"] != kind or host not in (None, service["host"]):
            continue
        sources = [mount["source"] for mount in service["mounts"] if mount["target"] == facts["config_dir"]]
        if not sources:
            raise AnsibleFilterError(
                f"service {service['name']}: mounts: nothing is mounted at {facts['config_dir']},"
                f" where {kind} reads the configuration its role writes")
        return {"name": service["name"], "host": service["host"], "image": service["image"],
                "host_dir": sources[0], "secrets": sorted(service["secrets"]), **facts}
    return None


# Where forward auth goes when the catalog has no identity provider: a name that never
# resolves (RFC 2606), so the edge answers every auth: sso route with an error (fails closed).
NO_IDENTITY_PROVIDER = "http://identity-provider.invalid"


def sso_outpost_url(catalog: object, addresses: object = None) -> str:
    """The base URL the edge's forward auth asks: the present ``platform: authentik`` server
    as the edge reaches its route (by name on the edge host, else the mesh address and
    port, like every route), or :data:`NO_IDENTITY_PROVIDER` when there is none."""
    if addresses is None:
        addresses = {}
    if not isinstance(addresses, Mapping):
        raise AnsibleFilterError(f"sso_outpost_url: addresses: must be a mapping of host to address, got {_kind(addresses)}")
    for service in _present(_catalog(catalog, "sso_outpost_url")):
        if service["platform"] == identity.KIND:
            return _upstream(service, addresses)
    return NO_IDENTITY_PROVIDER


def sso_applications(catalog: object, domain: object) -> list:
    """The identity provider's view: one application per present service that signs in
    through it, by name.

    Each is ``{name, fqdn, forward_auth, groups, oidc}``: ``forward_auth`` for an
    ``auth: sso`` route (the edge asks the outpost), ``groups`` the groups allowed on it,
    ``oidc`` None or ``{redirect_uris, scopes, secret_env}`` for a service with its own
    OpenID Connect login; ``secret_env`` names the environment variable that carries the
    client secret to the identity provider (:func:`names.oidc_secret_env`).
    """
    domain = _domain(domain, "sso_applications")
    result = []
    for service in _present(_catalog(catalog, "sso_applications")):
        route, oidc = service["route"], service["oidc"]
        if route is None or (route["auth"] != "sso" and oidc is None):
            continue
        fqdn = _fqdn(route, domain)
        result.append({
            "name": service["name"],
            "fqdn": fqdn,
            "forward_auth": route["auth"] == "sso",
            "groups": list(route["groups"]),
            "oidc": None if oidc is None else {
                "redirect_uris": [f"https://{fqdn}{path}" for path in oidc["redirect_paths"]],
                "scopes": list(oidc["scopes"]),
                "secret_env": oidc_secret_env(service["name"]),
            },
        })
    return sorted(result, key=lambda item: item["name"])


def scrape_targets(catalog: object) -> list:
    """The metrics endpoints: one ``{job, host, port, path}`` per present service with metrics, by job."""
    result = [
        {"job": service["name"], "host": service["host"], "port": service["metrics"]["port"],
         "path": service["metrics"]["path"]}
        for service in _present(_catalog(catalog, "scrape_targets")) if service["metrics"] is not None
    ]
    return sorted(result, key=lambda item: item["job"])


def backup_sets(catalog: object) -> list:
    """The volumes to back up: ``{service, host, volume, mount, schedule, interval_seconds, keep,
    dump, pause}`` sorted by host, service, volume.

    Only volumes of present services whose schedule is not ``never``; ``volume`` is the
    Podman volume name (:func:`volume_name`), ``keep`` the effective keep policy (a dict,
    or ``all``: nothing is forgotten), ``interval_seconds`` the schedule's period.
    """
    result = []
    for service in _present(_catalog(catalog, "backup_sets")):
        for volume in service["volumes"]:
            backup = volume["backup"]
            if backup["schedule"] == backup_field.NEVER:
                continue
            keep = backup["keep"]
            result.append({
                "service": service["name"], "host": service["host"],
                "volume": volume_name(service["name"], volume["name"]), "mount": volume["mount"],
                "schedule": backup["schedule"], "interval_seconds": backup_field.interval_seconds(backup["schedule"]),
                "keep": dict(keep) if isinstance(keep, Mapping) else keep,
                "dump": backup["dump"], "pause": backup["pause"],
            })
    return sorted(result, key=lambda item: (item["host"], item["service"], item["volume"]))

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The monitoring view of a normalised catalog: what Prometheus scrapes and what the
blackbox exporter probes, so a new catalog entry is watched without another line of
configuration.

Scrape jobs: ``node`` (every host's node exporter) and one job per service with metrics
(the ``scrape_targets`` view), named after the service, except a platform entry of a kind
with a fixed job name (the traefik entry's job is ``traefik`` whatever the entry's name).
Probes: every route (the ``routes`` view) over HTTPS at the edge's mesh address, naming
the route's host, expecting 2xx without sign-on and the fail-closed answer with it; and from Prometheus' host, every other host across the
mesh (ICMP, and TCP to its node exporter). Targets of Prometheus' host are reached by
container name, the others at their host's mesh address (monitoring.place_metrics).
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import monitoring
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.errors import _error, _kind
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import (
    _bracketed,
    _catalog,
    _domain,
    _present,
    routes,
    scrape_targets,
)

NAME = "monitoring_targets"
NODE_JOB = "node"
NODE_EXPORTER_PORT = 9100
# The probe job: prometheus_config makes it from ``probes``, so no service may take its name.
BLACKBOX_JOB = "blackbox"
# A platform entry's job keeps its kind's name, whatever the entry is called.
PLATFORM_JOBS = {"traefik": "traefik", monitoring.PROMETHEUS: "prometheus",
                 monitoring.ALERTMANAGER: "alertmanager", monitoring.BLACKBOX: "blackbox_exporter",
                 monitoring.GRAFANA: "grafana", monitoring.LOKI: "loki"}
# Blackbox modules by the route's auth: without sign-on the app answers 2xx; with it the
# edge answers a fail-closed status (a redirect to sign in, or an error), never 200.
ROUTE_MODULES = {"none": "http_2xx", "sso": "http_sso"}


def _addresses(addresses: object, filter_name: str = NAME) -> dict:
    """The ``mesh_addresses`` filter's ``{host: mesh address}`` checked (every value a
    non-empty string)."""
    if not isinstance(addresses, Mapping):
        raise AnsibleFilterError(f"{filter_name}: addresses: must be a mapping of host to mesh address,"
                                 f" got {_kind(addresses)}")
    for host, address in addresses.items():
        if not isinstance(address, str):
            raise AnsibleFilterError(f"{filter_name}: addresses: host {host}: must be a string, got {_kind(address)}")
        if not address:
            raise AnsibleFilterError(f"{filter_name}: addresses: host {host}: must not be empty")
    return dict(addresses)


def _address_of(addresses: dict, host: str, service: str) -> str:
    address = addresses.get(host)
    if address is None:
        raise AnsibleFilterError(
            f"{NAME}: addresses: no mesh address for host {host} (service {service} runs there); every host of a"
            " service must be one of the addresses (hostvars | homelab.stack.mesh_addresses(...))")
    return address


def _node_job(addresses: dict) -> dict:
    return {"job": NODE_JOB, "metrics_path": "/metrics", "targets": [
        {"address": f"{_bracketed(addresses[host])}:{NODE_EXPORTER_PORT}",
         "labels": {"instance": f"{host}:{NODE_EXPORTER_PORT}", "host": host}}
        for host in sorted(addresses)]}


def _service_jobs(services: list, addresses: dict) -> list:
    """One job per service with metrics, named by :data:`PLATFORM_JOBS` or the service."""
    by_name = {service["name"]: service for service in services}
    owners = {NODE_JOB: "the node exporters' job", BLACKBOX_JOB: "the route and host probes' job"}
    jobs = []
    for target in scrape_targets(services):
        service = by_name[target["job"]]
        name = service["name"]
        job = PLATFORM_JOBS.get(service["platform"], name)
        if job in owners:
            raise _error(name, "metrics", f"its scrape job would be {job}, which is already {owners[job]};"
                         " rename the service")
        owners[job] = f"the job of service {name}"
        mesh_port = service["metrics"]["mesh_port"]
        address = _address_of(addresses, service["host"], name)
        jobs.append({"job": job, "metrics_path": target["path"], "targets": [{
            "address": f"{name}:{target['port']}" if mesh_port is None else f"{_bracketed(address)}:{mesh_port}",
            "labels": {"service": name, "host": service["host"]}}]})
    return jobs


def _edge_host(services: list) -> str | None:
    """The host of the present ``platform: traefik`` entry (the edge), or None."""
    return next((service["host"] for service in services if service["platform"] == "traefik"), None)


def _route_probes(catalog: list, domain: str, addresses: dict) -> list:
    """An HTTPS probe of every route, at its first path prefix when it has any (the rest of
    the host name is not routed to the service).

    With an edge entry the probe asks the edge's mesh address and names the route's host in
    ``hostname`` (the blackbox exporter's parameter for the Host header and the TLS server
    name): the probe then needs no DNS for the homelab's names on Prometheus' host, and
    watches the edge and the app as a client on the mesh reaches them. ``instance`` is
    always the route's URL.
    """
    edge = _edge_host(catalog)
    probes = []
    for route in routes(catalog, domain, addresses):
        path = route["paths"][0] if route["paths"] else "/"
        url = f"https://{route['fqdn']}{path}"
        labels = {"instance": url, "service": route["name"], "auth": route["auth"], "probe": "route"}
        target = url
        if edge is not None:
            target = f"https://{_bracketed(_address_of(addresses, edge, 'traefik'))}{path}"
            labels["hostname"] = route["fqdn"]
        probes.append({"module": ROUTE_MODULES[route["auth"]], "target": target, "labels": labels})
    return probes


def _host_probes(addresses: dict, prometheus_host: str | None) -> list:
    """ICMP, and TCP to the node exporter, of every host but Prometheus' own."""
    probes = []
    for host in sorted(addresses):
        if host == prometheus_host:
            continue
        labels = {"instance": host, "host": host}
        probes.append({"module": "icmp", "target": addresses[host], "labels": dict(labels, probe="icmp")})
        probes.append({"module": "tcp_connect", "target": f"{_bracketed(addresses[host])}:{NODE_EXPORTER_PORT}",
                       "labels": dict(labels, probe="tcp")})
    return probes


def monitoring_targets(catalog: object, addresses: object, domain: object) -> dict:
    """``{prometheus_host, jobs, probes}`` for the monitoring role.

    ``catalog`` is a normalised catalog, ``addresses`` the ``mesh_addresses`` filter's
    ``{host: mesh address}`` (every host with a node exporter), ``domain`` the routes'
    domain. ``prometheus_host`` is the present ``platform: prometheus`` entry's host, or
    None (the jobs and probes are still computed: the role decides; every host is then
    probed). ``jobs`` are sorted by job name, ``probes`` the routes' by service then the
    hosts' by host. A service on a host without a mesh address fails, naming both.
    """
    services = _present(_catalog(catalog, NAME))
    addresses = _addresses(addresses)
    domain = _domain(domain, NAME)
    prometheus_host = monitoring.prometheus_host(services)
    for service in services:
        if service["metrics"] is not None or service["route"] is not None or service["host"] == prometheus_host:
            _address_of(addresses, service["host"], service["name"])
    jobs = sorted([_node_job(addresses)] + _service_jobs(services, addresses), key=lambda job: job["job"])
    return {"prometheus_host": prometheus_host, "jobs": jobs,
            "probes": _route_probes(services, domain, addresses) + _host_probes(addresses, prometheus_host)}

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Grafana view of a normalised catalog: what Grafana's provisioning and settings need.

Grafana runs beside Prometheus (monitoring.check) and reaches Prometheus, Alertmanager
and Loki by container name on that host's network, so their URLs are the entries' names
and the kinds' ports (Loki's only when the catalog has it). The URLs people use need the
homelab's domain: Grafana's own route, and Authentik's when Grafana signs in through it.
"""

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.authentik_blueprint import oidc_slug
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import identity, monitoring
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.errors import _error
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import _catalog, _domain, _fqdn, _present

NAME = "grafana_provisioning"


def _entry(services: list, kind: str) -> dict | None:
    return next((service for service in services if service["platform"] == kind), None)


def _url(service: dict | None, port: int) -> str | None:
    return None if service is None else f"http://{service['name']}:{port}"


def _sign_in(services: list, grafana: dict, domain: str) -> dict | None:
    """Authentik's public URL and Grafana's application slug there (as the authentik
    blueprint names it: ``<name>-oidc`` when the route also has forward auth)."""
    if grafana["oidc"] is None:
        return None
    server = _entry(services, identity.KIND)
    if server is None or server["route"] is None:
        raise _error(grafana["name"], "oidc", f"needs a present platform {identity.KIND} entry with a route"
                     " (Grafana sends people there to sign in)")
    slug = oidc_slug(grafana["name"], grafana["route"]["auth"] == "sso")
    return {"issuer": f"https://{_fqdn(server['route'], domain)}", "slug": slug}


def grafana_view(catalog: object, domain: object) -> dict | None:
    """``{name, host, root_url, prometheus, alertmanager, loki, sign_in}`` of the present
    ``platform: grafana`` entry, or None without one. ``prometheus``, ``alertmanager`` and
    ``loki`` are the URLs Grafana's container reaches them at (None when absent; Grafana
    runs beside Prometheus, so it is there); ``root_url`` is the route's URL or None;
    ``sign_in`` is None or ``{issuer, slug}`` (module_utils/grafana.settings)."""
    services = _present(_catalog(catalog, NAME))
    domain = _domain(domain, NAME)
    grafana = _entry(services, monitoring.GRAFANA)
    if grafana is None:
        return None
    route = grafana["route"]
    return {
        "name": grafana["name"],
        "host": grafana["host"],
        "root_url": None if route is None else f"https://{_fqdn(route, domain)}/",
        "prometheus": _url(_entry(services, monitoring.PROMETHEUS), monitoring.PROMETHEUS_PORT),
        "alertmanager": _url(_entry(services, monitoring.ALERTMANAGER), monitoring.ALERTMANAGER_PORT),
        "loki": _url(_entry(services, monitoring.LOKI), monitoring.LOKI_PORT),
        "sign_in": _sign_in(services, grafana, domain),
    }

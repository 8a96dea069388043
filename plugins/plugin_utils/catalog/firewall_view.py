# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The firewall view of a normalised catalog: which ports a host's services publish, and
to whom the base role's firewall opens them.

The one rule: the edge's own ports (Traefik's ``publish``, 80 and 443 by default) are
``public``, open on every interface, since they are the site's front door; every other
port a service publishes (its ``publish`` entries, its route's and metrics' mesh ports,
the mesh ports of Loki or a rest-server) is ``mesh``, open only on the mesh zone (and to
the host's own containers). A port published on loopback only needs no opening (the
firewall admits loopback). The ports come from the same bindings the catalog check
uses (schema._bindings), so the firewall and the units agree by construction.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.schema import MESH_ADDRESS, _bindings
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import _catalog, _host, _present

# The kind whose published ports are the site's public entry.
PUBLIC_KIND = "traefik"


def _loopback(address: str | None) -> bool:
    return address not in (None, MESH_ADDRESS) and ipaddress.ip_address(address).is_loopback


def firewall_ports(catalog: object, host: object) -> list:
    """``{port, protocol, scope, services}`` for every port the present services of ``host``
    publish off loopback; ``scope`` is ``public`` or ``mesh``. One entry per (port,
    protocol, scope), sorted by port; ``services`` names who publishes it."""
    host = _host(host, "firewall_ports")
    found: dict = {}
    services = _catalog(catalog, "firewall_ports")
    for service in _present(services):
        if service["host"] != host:
            continue
        for field, _text, address, port, protocol in _bindings(service, services):
            if _loopback(address):
                continue
            public = service["platform"] == PUBLIC_KIND and field.startswith("publish[")
            key = (port, protocol, "public" if public else "mesh")
            found.setdefault(key, []).append(service["name"])
    return [{"port": port, "protocol": protocol, "scope": scope, "services": sorted(set(names))}
            for (port, protocol, scope), names in sorted(found.items())]

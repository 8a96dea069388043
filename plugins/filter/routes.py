# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import routes

DOCUMENTATION = r"""
name: routes
short_description: The reverse-proxy routes of the catalog
version_added: 0.1.0
description:
  - Returns one route per present service that has a C(route), sorted by service name.
  - The upstream URL is C(http://<name>:<port>) (the container by name on the edge host's network) for a
    service of the edge host, and C(http://<mesh address>:<mesh_port>) for a service of another host
    (see O(homelab.stack.validate_catalog#filter:edge)).
  - >-
    Fails with C(routes: domain: <problem>) when the domain is not a lower-case DNS name, with
    C(routes: addresses: ...) when a service reached over the mesh has no address, and with
    C(service <name>: route: ...) when two routes answer one host name.
positional: domain,addresses
options:
  domain:
    description: The domain the routes' subdomains belong to, usually C(homelab_domain).
    type: str
    required: true
  addresses:
    description: Inventory host name to mesh address, for the hosts whose services the edge reaches over the mesh.
    type: dict
seealso:
  - plugin: homelab.stack.validate_catalog
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Routes of the edge
  ansible.builtin.set_fact:
    edge_routes: "{{ homelab_catalog | homelab.stack.routes(homelab_domain) }}"

# A service whoami on jove, port 80, route {auth: none}, with homelab_domain lab.example.com gives
#   - {name: whoami, host: jove, fqdn: whoami.lab.example.com, hosts: [whoami.lab.example.com], paths: [],
#      port: 80, auth: none, allow_from: [], rate_limit: null, public: false, groups: [], url: "http://whoami:80"}
"""

RETURN = r"""
_value:
  description: The routes, sorted by name.
  type: list
  elements: dict
  contains:
    name:
      description: The service name.
      type: str
    host:
      description: The host the service runs on.
      type: str
    fqdn:
      description: C(<subdomain>.<domain>).
      type: str
    hosts:
      description: Every host name the route answers, C(fqdn) first, then the route's extra C(hosts).
      type: list
      elements: str
    paths:
      description: Path prefixes the route is limited to; empty for the whole host.
      type: list
      elements: str
    port:
      description: The container port to route to.
      type: int
    auth:
      description: C(sso) to put single sign-on in front of the service, C(none) for none.
      type: str
    allow_from:
      description: CIDR networks allowed to use the route; empty for every client.
      type: list
      elements: str
    rate_limit:
      description: C({average, burst}) requests per second per client, or C(null).
      type: dict
    public:
      description: Whether the Cloudflare tunnel publishes the route.
      type: bool
    groups:
      description: Authentik groups allowed on an SSO route; empty for every signed-in user.
      type: list
      elements: str
    url:
      description: The upstream URL, C(http://<name>:<port>) or C(http://<mesh address>:<mesh_port>).
      type: str
"""


class FilterModule:
    """The routes filter."""

    def filters(self):
        return {"routes": routes}

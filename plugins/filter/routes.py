# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import routes

DOCUMENTATION = r"""
name: routes
short_description: The reverse-proxy routes of the catalog
version_added: 0.1.0
description:
  - Returns one route per present service that has a C(route), sorted by service name.
  - >-
    Fails with C(routes: domain: <problem>) when the domain is not a lower-case DNS name.
positional: domain
options:
  domain:
    description: The domain the routes' subdomains belong to, usually C(homelab_domain).
    type: str
    required: true
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
#   - {name: whoami, host: jove, fqdn: whoami.lab.example.com, port: 80, auth: none, url: "http://whoami:80"}
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
    port:
      description: The container port to route to.
      type: int
    auth:
      description: C(sso) to put single sign-on in front of the service, C(none) for none.
      type: str
    url:
      description: The upstream URL, C(http://<name>:<port>).
      type: str
"""


class FilterModule:
    """The routes filter."""

    def filters(self):
        return {"routes": routes}

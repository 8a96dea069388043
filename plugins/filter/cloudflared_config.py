# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.module_utils import cloudflared

DOCUMENTATION = r"""
name: cloudflared_config
short_description: The Cloudflare tunnel's ingress for the catalog's public routes
version_added: 0.1.0
description:
  - Turns the P(homelab.stack.routes#filter) view into cloudflared's configuration, C({ingress}).
  - Every host of a route with C(public=true) goes through the tunnel to the edge at O(origin_url), presenting
    the host as TLS server name (the edge routes by name); every other host gets a plain 404 from the tunnel,
    so what is not marked public stays reachable only inside the mesh and the LAN.
  - The rules are checked as cloudflared checks them when it loads its file (a catch-all last and only last,
    no port in a host name, a wildcard only as the first label, origin URLs with a scheme and host and no path).
options:
  _input:
    description: The routes, from P(homelab.stack.routes#filter).
    type: list
    elements: dict
    required: true
  origin_url:
    description: The edge as the tunnel reaches it, e.g. C(https://traefik:443) (the container by name on the edge host).
    type: str
    required: true
  ca_pool:
    description: CA certificate file, as the cloudflared container sees it, that signs the edge's certificate
      (TLS mode C(internal)); unset for a publicly trusted certificate.
    type: str
seealso:
  - plugin: homelab.stack.routes
    plugin_type: filter
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Write the tunnel's ingress
  ansible.builtin.copy:
    content: "{{ edge_routes | homelab.stack.cloudflared_config('https://traefik:443') | to_nice_yaml(indent=2) }}"
    dest: /etc/homelab/cloudflared/config.yml
    mode: "0640"

# A route {name: blog, hosts: [blog.example.com], public: true, ...} gives
#   ingress:
#     - {hostname: blog.example.com, service: "https://traefik:443", originRequest: {originServerName: blog.example.com}}
#     - {service: "http_status:404"}
"""

RETURN = r"""
_value:
  description: cloudflared's configuration, to be written as YAML.
  type: dict
  contains:
    ingress:
      description: The ingress rules, the catch-all last.
      type: list
      elements: dict
"""


def cloudflared_config(routes, origin_url, ca_pool=None):
    """The filter: the ingress, checked as cloudflared checks it."""
    if not isinstance(routes, list):
        raise AnsibleFilterError("cloudflared_config: routes: must be the list from homelab.stack.routes")
    try:
        return cloudflared.ingress_rules(routes, origin_url, ca_pool=ca_pool)
    except cloudflared.IngressError as exc:
        raise AnsibleFilterError("cloudflared_config: %s" % exc) from None


class FilterModule:
    """The cloudflared_config filter."""

    def filters(self):
        return {"cloudflared_config": cloudflared_config}

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.firewall_view import firewall_ports

DOCUMENTATION = r"""
name: firewall_ports
short_description: The ports a host's services publish, and whether they are public or for the mesh
version_added: 0.1.0
description:
  - The firewall view of the catalog. Every port a present service of O(host) publishes off loopback - its
    C(publish) entries, its route's and metrics' mesh ports, the mesh ports of platform kinds (Loki, rest-server).
  - C(scope=public) for the edge's own ports (the C(platform=traefik) entry's C(publish), 80 and 443 by
    default), open on every interface; C(scope=mesh) for every other, open on the mesh zone only.
positional: host
options:
  host:
    description: The inventory host to look at, usually C(inventory_hostname).
    type: str
    required: true
extends_documentation_fragment:
  - homelab.stack.catalog
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: What this host's firewall opens for the catalog
  ansible.builtin.debug:
    msg: "{{ homelab_services | homelab.stack.validate_catalog(groups['all']) | homelab.stack.firewall_ports(inventory_hostname) }}"
"""

RETURN = r"""
_value:
  description: C({port, protocol, scope, services}) per published port, sorted by port.
  type: list
  elements: dict
"""


class FilterModule:
    """The firewall_ports filter."""

    def filters(self):
        return {"firewall_ports": firewall_ports}

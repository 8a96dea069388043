# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.mesh import mesh_addresses

DOCUMENTATION = r"""
name: mesh_addresses
short_description: Where each inventory host is reached on the mesh
version_added: 0.1.0
description:
  - Maps each of O(hosts) to its mesh address, the address the edge and the other sites use to reach it
    (published ports of routed services are bound there only).
  - A host's mesh address is its C(homelab_mesh_address), else its C(ansible_host), else its inventory name.
positional: hosts
options:
  _input:
    description: The C(hostvars) magic variable.
    type: dict
    required: true
  hosts:
    description: The hosts to map, usually C(groups['all']).
    type: list
    elements: str
    required: true
seealso:
  - plugin: homelab.stack.routes
    plugin_type: filter
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Routes of the edge, reaching other hosts over the mesh
  ansible.builtin.set_fact:
    edge_routes: >-
      {{ homelab_catalog | homelab.stack.routes(homelab_domain, hostvars | homelab.stack.mesh_addresses(groups['all'])) }}

# With jove (ansible_host 100.64.0.10) and kronos (homelab_mesh_address 100.64.0.11):
#   {jove: 100.64.0.10, kronos: 100.64.0.11}
"""

RETURN = r"""
_value:
  description: Inventory host name to mesh address.
  type: dict
"""


class FilterModule:
    """The mesh_addresses filter."""

    def filters(self):
        return {"mesh_addresses": mesh_addresses}

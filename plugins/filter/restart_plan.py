# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.service_plan import restart_plan

DOCUMENTATION = r"""
name: restart_plan
short_description: Which services of a host must restart after a change
version_added: 0.1.0
description:
  - A service restarts when its container unit or one of its volume units changed, when one
    of its secrets changed, or when its image tag now points at a newer image. A changed
    network unit restarts every service of the host. Nothing restarts on a no-op run.
options:
  unit_results:
    description: The C(results) of P(homelab.stack.quadlet#module) for the host's units.
    type: list
    elements: dict
    required: true
  secret_services:
    description: Names of the services whose secrets changed.
    type: list
    elements: str
    required: true
  stale_images:
    description: Names of the services whose image tag points at another image than they run.
    type: list
    elements: str
    required: true
  address:
    description:
      - The host's mesh address (P(homelab.stack.mesh_addresses#filter)), as P(homelab.stack.host_units#filter) takes it;
        needed when a service of the host is routed by the edge on another host.
    type: str
  addresses:
    description:
      - Every host's mesh address (P(homelab.stack.mesh_addresses#filter) of C(groups['all'])), as
        P(homelab.stack.host_units#filter) takes them; needed when an app of the host has its database on another host.
    type: dict
extends_documentation_fragment:
  - homelab.stack.catalog
  - homelab.stack.catalog.host
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Decide which services restart
  ansible.builtin.set_fact:
    restart: "{{ homelab_catalog | homelab.stack.restart_plan(inventory_hostname, units.results, [], []) }}"
"""

RETURN = r"""
_value:
  description: Service names in start order.
  type: list
  elements: str
"""


class FilterModule:
    """The restart_plan filter."""

    def filters(self):
        return {"restart_plan": restart_plan}

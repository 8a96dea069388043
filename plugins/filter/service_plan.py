# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.service_plan import service_plan

DOCUMENTATION = r"""
name: service_plan
short_description: What starts and what restarts on a host, from its actual state
version_added: 0.1.0
description:
  - The C(homelab.stack.service) role's plan for one host, from the state
    P(homelab.stack.service_info#module) read before the units and secrets were written,
    and what this run then changed (O(changed_now)).
  - A running service restarts when its container unit, one of its volume units or the
    network unit was written after its container was created, when one of its secrets was
    created after it, when its image tag now names another image, or when systemd has not
    reloaded its unit since it changed. A service that is not running starts.
  - Because the decision comes from the host and not from what one run wrote, a run that
    was interrupted after writing a unit restarts the service when it is run again.
  - Part of the role's internals; its result may change between minor versions.
options:
  state:
    description: The registered result of P(homelab.stack.service_info#module) for the host.
    type: dict
    required: true
  changed_now:
    description:
      - Names of services whose units or secrets this run changed (P(homelab.stack.restart_plan#filter)),
        which the state, read before, cannot show; they restart (or start when not running).
    type: list
    elements: str
    default: []
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
- name: Decide what starts and what restarts
  ansible.builtin.set_fact:
    plan: "{{ homelab_catalog | homelab.stack.service_plan(inventory_hostname, service_state) }}"

- name: Restart what changed
  ansible.builtin.systemd_service:
    name: "{{ item.name }}.service"
    state: restarted
  loop: "{{ plan | selectattr('action', 'eq', 'restart') }}"
"""

RETURN = r"""
_value:
  description: One item per present service of the host, in start order.
  type: list
  elements: dict
  contains:
    name:
      description: The service.
      type: str
    action:
      description: V(start) when it is not running, V(restart) when it runs from something that changed since, else V(keep).
      type: str
    reasons:
      description: Why it restarts (empty unless O(action) is V(restart)).
      type: list
      elements: str
    reload:
      description: Whether systemd must reload its unit before anything starts.
      type: bool
    loaded:
      description: Whether systemd knows the service yet (not when its unit is still to be written, in check mode).
      type: bool
    healthcheck:
      description: Whether the service declares a healthcheck to wait for.
      type: bool
"""


class FilterModule:
    """The service_plan filter."""

    def filters(self):
        return {"service_plan": service_plan}

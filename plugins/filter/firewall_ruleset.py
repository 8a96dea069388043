# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.module_utils.nftables import ruleset
from ansible_collections.homelab.stack.plugins.plugin_utils.firewall_zones import openings

DOCUMENTATION = r"""
name: firewall_ruleset
short_description: The host's own nftables table, as one nft -f file
version_added: 0.1.0
description:
  - Renders C(table inet homelab) - replaced atomically, never C(flush ruleset), so Podman's own tables stay -
    from the zones, the catalog's ports (the P(homelab.stack.firewall_ports#filter) view) and the base role's settings.
  - "Input: policy drop; loopback, established and related, ICMP, the controller's connection, SSH from the SSH
    zones, the host's own listeners (O(host_ports)), the containers' DNS from O(container_interfaces)."
  - "Forward: published container ports arrive DNATed; new DNATed connections are admitted by the port the client
    asked for (public ones from anywhere, mesh ones from the mesh zone and the host's containers) and all others dropped."
  - Fails when a mesh port has no declared mesh zone, naming O(mesh_zone)'s variable.
options:
  _input:
    description: The catalog's ports for the host, from P(homelab.stack.firewall_ports#filter).
    type: list
    elements: dict
    required: true
  zones:
    description: The zones C([{name, interfaces, sources}]), already checked by P(homelab.stack.firewall_zone_problems#filter).
    type: list
    elements: dict
    required: true
  mesh_zone:
    description: The zone of the published service ports.
    type: str
    default: mesh
  ssh_zones:
    description: The zones SSH is open to (those not declared are left out).
    type: list
    elements: str
    default: [management, mesh]
  ssh_port:
    description: sshd's port.
    type: int
    default: 22
  host_ports:
    description: Listeners of the host itself, C([{port, protocol, zones, comment}]); C(zones) empty is every interface.
    type: list
    elements: dict
    default: []
  controller:
    description: C({address, port}) of Ansible's own connection, always admitted; C(null) for none.
    type: dict
  container_interfaces:
    description: The host's container bridges (C(podman*)), admitted like the mesh to mesh ports and to the containers' DNS.
    type: list
    elements: str
    default: []
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Build this host's firewall
  ansible.builtin.set_fact:
    base_firewall_ruleset: >-
      {{ base_catalog | homelab.stack.firewall_ports(inventory_hostname)
         | homelab.stack.firewall_ruleset(base_firewall_zones, controller={'address': '192.0.2.10', 'port': 22}) }}
"""

RETURN = r"""
_value:
  description: The text of an C(nft -f) file.
  type: str
"""


def firewall_ruleset(ports, zones, mesh_zone="mesh", ssh_zones=("management", "mesh"), ssh_port=22,
                     host_ports=(), controller=None, container_interfaces=()):
    """The nft file for ``ports`` (the firewall_ports view) and the role's settings."""
    wanted = openings(list(ports), list(zones), mesh_zone, list(ssh_zones), ssh_port, list(host_ports))
    return ruleset(list(zones), wanted, controller=controller, trusted_interfaces=list(container_interfaces))


class FilterModule:
    """The firewall_ruleset filter."""

    def filters(self):
        return {"firewall_ruleset": firewall_ruleset}

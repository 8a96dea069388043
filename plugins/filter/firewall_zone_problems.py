# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.firewall_zones import zone_problems

DOCUMENTATION = r"""
name: firewall_zone_problems
short_description: What is wrong with the firewall zones declared for a host
version_added: 0.1.0
description:
  - Checks each zone C({name, interfaces, sources}) - a unique name, interfaces the host has (or a later layer
    creates), sources that are addresses or CIDR networks, and at least interfaces or sources.
  - Returns one message per problem naming the list item and field; the base role's preflight fails on any,
    before any change.
positional: interfaces,later_interfaces
options:
  _input:
    description: The zones.
    type: list
    elements: dict
    required: true
  interfaces:
    description: The host's interfaces, C(ansible_facts.interfaces).
    type: list
    elements: str
    required: true
  later_interfaces:
    description: Interfaces a later layer creates (C(tailscale0)), which may be named before they exist.
    type: list
    elements: str
    default: []
  variable:
    description: The variable named in the messages.
    type: str
    default: base_firewall_zones
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Refuse zones of interfaces this host does not have
  ansible.builtin.assert:
    that: base_zone_problems | length == 0
    fail_msg: "{{ base_zone_problems | join('; ') }}"
  vars:
    base_zone_problems: "{{ base_firewall_zones | homelab.stack.firewall_zone_problems(ansible_facts.interfaces, ['tailscale0']) }}"
"""

RETURN = r"""
_value:
  description: "One message per problem, C(<variable>[i].<field>: <problem>); empty when the zones are fine."
  type: list
  elements: str
"""


class FilterModule:
    """The firewall_zone_problems filter."""

    def filters(self):
        return {"firewall_zone_problems": zone_problems}

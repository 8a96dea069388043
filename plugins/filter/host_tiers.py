# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.service_plan import host_tiers

DOCUMENTATION = r"""
name: host_tiers
short_description: The order in which the services layer converges hosts
version_added: 0.1.0
description:
  - Gives each host a tier, one more than the highest tier of the hosts its present services
    depend on through C(depends_on) (0 when they need no other host). C(playbooks/services.yml)
    converges tier after tier, so a dependency on another host is started, and healthy when it
    has a healthcheck, before the services that need it.
  - Fails naming the services when hosts depend on each other, or when a chain of hosts is
    deeper than O(tiers).
options:
  hosts:
    description: The hosts to place, usually C(groups['podman_hosts']).
    type: list
    elements: str
    required: true
  tiers:
    description: How many tiers the playbook has plays for.
    type: int
    default: 4
extends_documentation_fragment:
  - homelab.stack.catalog
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Group each host by its tier
  ansible.builtin.group_by:
    key: "services_tier_{{ (homelab_catalog | homelab.stack.host_tiers(groups['podman_hosts'])
           | items2dict(key_name='host', value_name='tier'))[inventory_hostname] }}"
"""

RETURN = r"""
_value:
  description: One C({host, tier}) per host, sorted by tier, then host.
  type: list
  elements: dict
"""


class FilterModule:
    """The host_tiers filter."""

    def filters(self):
        return {"host_tiers": host_tiers}

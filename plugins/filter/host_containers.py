# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.service_plan import host_containers

DOCUMENTATION = r"""
name: host_containers
short_description: The services of one host in start order
version_added: 0.1.0
description:
  - Returns the present services placed on one host, each after the same-host services it
    depends on, as the service role starts them.
seealso:
  - plugin: homelab.stack.host_units
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
  - homelab.stack.catalog.host
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Start order of this host's services
  ansible.builtin.debug:
    msg: "{{ homelab_catalog | homelab.stack.host_containers(inventory_hostname) | map(attribute='name') }}"
"""

RETURN = r"""
_value:
  description: The services in start order.
  type: list
  elements: dict
  contains:
    name:
      description: The service name (and container name; its systemd service is C(<name>.service)).
      type: str
    image:
      description: The image reference.
      type: str
    healthcheck:
      description: Whether the service declares a health check.
      type: bool
"""


class FilterModule:
    """The host_containers filter."""

    def filters(self):
        return {"host_containers": host_containers}

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.service_plan import purge_volumes

DOCUMENTATION = r"""
name: purge_volumes
short_description: Podman volumes the catalog asks to delete on one host
version_added: 0.1.0
description:
  - Returns the Podman volume names of the services placed on a host that have
    C(state=absent) and C(purge_volumes=true). No other volume is ever returned, so data is
    deleted only when an entry says so explicitly.
extends_documentation_fragment:
  - homelab.stack.catalog
  - homelab.stack.catalog.host
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Delete volumes of removed services that asked for it
  containers.podman.podman_volume:
    name: "{{ item }}"
    state: absent
  loop: "{{ homelab_catalog | homelab.stack.purge_volumes(inventory_hostname) }}"
"""

RETURN = r"""
_value:
  description: Podman volume names.
  type: list
  elements: str
"""


class FilterModule:
    """The purge_volumes filter."""

    def filters(self):
        return {"purge_volumes": purge_volumes}

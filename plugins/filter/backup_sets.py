# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import backup_sets

DOCUMENTATION = r"""
name: backup_sets
short_description: The volumes to back up
version_added: 0.1.0
description:
  - Returns one item per volume of a present service whose C(backup) is not C(none),
    sorted by host, service and volume.
seealso:
  - plugin: homelab.stack.validate_catalog
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Backup sets of this host
  ansible.builtin.set_fact:
    backup_volumes: "{{ homelab_catalog | homelab.stack.backup_sets | selectattr('host', '==', inventory_hostname) }}"

# A service app on jove with volumes [{name: data, mount: /data, backup: daily}] gives
#   - {service: app, host: jove, volume: app-data, mount: /data, schedule: daily}
"""

RETURN = r"""
_value:
  description: The volumes to back up, sorted by host, service and volume.
  type: list
  elements: dict
  contains:
    service:
      description: The service the volume belongs to.
      type: str
    host:
      description: The host the volume lives on.
      type: str
    volume:
      description: The Podman volume name, C(<service>-<volume>).
      type: str
    mount:
      description: Where the container mounts the volume.
      type: str
    schedule:
      description: How often to back the volume up.
      type: str
      choices: [daily, weekly, monthly]
"""


class FilterModule:
    """The backup_sets filter."""

    def filters(self):
        return {"backup_sets": backup_sets}

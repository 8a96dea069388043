# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import host_secrets

DOCUMENTATION = r"""
name: host_secrets
short_description: The Podman secrets of one host's services
version_added: 0.1.0
description:
  - Returns one item per secret of the present services of one host, sorted by secret name.
  - The secret name is C(<service>-<key>) with the key lower-cased and C(_) replaced by C(-); the
    container units of P(homelab.stack.host_units#filter) refer to the same names.
  - The result holds secret values; do not log it.
positional: host
seealso:
  - plugin: homelab.stack.host_units
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
  - homelab.stack.catalog.host
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Create the Podman secrets of this host
  containers.podman.podman_secret:
    name: "{{ item.name }}"
    data: "{{ item.value }}"
  loop: "{{ homelab_catalog | homelab.stack.host_secrets(inventory_hostname) }}"
  loop_control:
    label: "{{ item.name }}"
  no_log: true

# secrets: {DB_PASS: hunter2} of service db gives
#   - {name: db-db-pass, value: hunter2, service: db, target: DB_PASS}
"""

RETURN = r"""
_value:
  description: The secrets, sorted by name.
  type: list
  elements: dict
  contains:
    name:
      description: The Podman secret name.
      type: str
    value:
      description: The secret value.
      type: str
    service:
      description: The service the secret belongs to.
      type: str
    target:
      description: The environment variable the container gets the secret as.
      type: str
"""


class FilterModule:
    """The host_secrets filter."""

    def filters(self):
        return {"host_secrets": host_secrets}

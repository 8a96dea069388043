# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import scrape_targets

DOCUMENTATION = r"""
name: scrape_targets
short_description: The metrics endpoints of the catalog
version_added: 0.1.0
description:
  - Returns one scrape target per present service that has C(metrics), sorted by service name.
seealso:
  - plugin: homelab.stack.validate_catalog
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Scrape targets for the monitoring
  ansible.builtin.set_fact:
    monitoring_targets: "{{ homelab_catalog | homelab.stack.scrape_targets }}"

# A service app on jove with metrics {port: 8000} gives
#   - {job: app, host: jove, port: 8000, path: /metrics}
"""

RETURN = r"""
_value:
  description: The scrape targets, sorted by job.
  type: list
  elements: dict
  contains:
    job:
      description: The service name.
      type: str
    host:
      description: The host the service runs on.
      type: str
    port:
      description: The metrics port.
      type: int
    path:
      description: The metrics path.
      type: str
"""


class FilterModule:
    """The scrape_targets filter."""

    def filters(self):
        return {"scrape_targets": scrape_targets}

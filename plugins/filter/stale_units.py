# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.service_plan import stale_units

DOCUMENTATION = r"""
name: stale_units
short_description: Managed Quadlet units that the catalog no longer asks for
version_added: 0.1.0
description:
  - Compares the unit files found with the service role's marker with the units a host
    should have, and returns the others as removals for P(homelab.stack.quadlet#module).
  - Containers come first, then volumes, then networks, so nothing still uses what is removed.
options:
  _input:
    description: Paths of the unit files that carry the managed marker.
    type: list
    elements: str
    required: true
  units:
    description: The host's wanted units, the output of P(homelab.stack.host_units#filter).
    type: list
    elements: dict
    required: true
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Remove units of services that left the catalog
  homelab.stack.quadlet:
    units: "{{ found.files | map(attribute='path') | homelab.stack.stale_units(homelab_units) }}"
"""

RETURN = r"""
_value:
  description: Removals, each C({name, type, state=absent}).
  type: list
  elements: dict
"""


class FilterModule:
    """The stale_units filter."""

    def filters(self):
        return {"stale_units": stale_units}

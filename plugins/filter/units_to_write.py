# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.service_plan import units_to_write

DOCUMENTATION = r"""
name: units_to_write
short_description: The Quadlet units of a host that differ from its files
version_added: 0.1.0
description:
  - Compares the units a host should have with the unit files P(homelab.stack.service_info#module)
    read there, by the SHA-256 of their text and their permissions, and returns the file names of
    those P(homelab.stack.quadlet#module) would write; the text is rendered on the controller by the
    same code as the module's.
  - An empty list means a call to the module would change nothing, so the service role makes none
    (a round trip saved on every no-op run).
  - Part of the service role's internals; its result may change between minor versions.
options:
  _input:
    description: The host's wanted units, the output of P(homelab.stack.host_units#filter).
    type: list
    elements: dict
    required: true
  files:
    description: The C(units) result of P(homelab.stack.service_info#module) for the host.
    type: dict
    required: true
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Write the units only when one differs
  homelab.stack.quadlet:
    units: "{{ homelab_units }}"
  when: homelab_units | homelab.stack.units_to_write(service_state.units) | length > 0
"""

RETURN = r"""
_value:
  description: File names (C(web.container)) of the units that are missing or differ, in the order of the input.
  type: list
  elements: str
"""


class FilterModule:
    """The units_to_write filter."""

    def filters(self):
        return {"units_to_write": units_to_write}

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.service_plan import stale_secrets

DOCUMENTATION = r"""
name: stale_secrets
short_description: Podman secrets the service role created that the catalog no longer asks for
version_added: 0.1.0
description:
  - Only secrets labelled C(homelab.managed=true) are the role's; any other label value,
    or no label, marks a secret of the user's, which is never returned.
  - Part of the C(homelab.stack.service) role's internals.
options:
  _input:
    description: The C(secrets) that P(homelab.stack.service_info#module) returns.
    type: list
    elements: dict
    required: true
  wanted:
    description: The host's secrets, as P(homelab.stack.host_secrets#filter) gives them.
    type: list
    elements: dict
    required: true
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Secrets to remove
  ansible.builtin.debug:
    msg: "{{ service_state.secrets | homelab.stack.stale_secrets(service_secrets) }}"
"""

RETURN = r"""
_value:
  description: Secret names, sorted.
  type: list
  elements: str
"""


class FilterModule:
    """The stale_secrets filter."""

    def filters(self):
        return {"stale_secrets": stale_secrets}

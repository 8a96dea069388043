# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import sso_outpost_url

DOCUMENTATION = r"""
name: sso_outpost_url
short_description: Where the edge's forward auth reaches the identity provider
version_added: 0.1.0
description:
  - The base URL of the Authentik outpost that answers the edge's forward auth, from the catalog's
    C(platform=authentik) entry (its server runs the embedded outpost).
  - The edge reaches it like any route - by container name when it runs on the edge host
    (C(http://authentik:9000)), else on the other host's mesh address and the route's mesh port.
  - Without such an entry the result is C(http://identity-provider.invalid), a name that never resolves, so
    every C(auth=sso) route fails closed with an error status.
positional: addresses
options:
  addresses:
    description: Inventory host to mesh address, from P(homelab.stack.mesh_addresses#filter); needed when the
      identity provider runs on another host than the edge.
    type: dict
seealso:
  - plugin: homelab.stack.traefik_config
    plugin_type: filter
  - plugin: homelab.stack.routes
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Find the outpost of the edge's forward auth
  ansible.builtin.set_fact:
    outpost_url: "{{ homelab_catalog | homelab.stack.sso_outpost_url(hostvars | homelab.stack.mesh_addresses(groups['all'])) }}"

# {name: authentik, host: jove, platform: authentik, ...} with jove the edge gives http://authentik:9000;
# on kronos (mesh address 100.64.0.11) it gives http://100.64.0.11:9000.
"""

RETURN = r"""
_value:
  description: The outpost's base URL.
  type: str
"""


class FilterModule:
    """The sso_outpost_url filter."""

    def filters(self):
        return {"sso_outpost_url": sso_outpost_url}

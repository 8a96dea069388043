# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.database_view import database_client

DOCUMENTATION = r"""
name: database_client
short_description: How an app reaches its database
version_added: 0.1.0
description:
  - >-
    Returns null when O(service) declares no C(database); else where its PostgreSQL is and the environment and
    secret it receives (the values P(homelab.stack.host_units#filter) renders into its unit).
  - The host is the server's container name when the app runs on the server's host (both on its C(homelab)
    network), else the mesh address of the server's host, where the server publishes its port for it.
  - >-
    Fails with C(database_client: service: ...) for a service not in the catalog, and with
    C(database_client: addresses: ...) when the server runs on another host without a mesh address in O(addresses).
positional: service,addresses
options:
  service:
    description: The app's service name.
    type: str
    required: true
  addresses:
    description:
      - Inventory host name to mesh address, the output of P(homelab.stack.mesh_addresses#filter); needed when the
        server runs on another host.
    type: dict
seealso:
  - plugin: homelab.stack.database_server
    plugin_type: filter
  - plugin: homelab.stack.mesh_addresses
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Show how wiki-js reaches its database
  ansible.builtin.debug:
    msg: >-
      {{ homelab_catalog | homelab.stack.database_client('wiki-js',
                                                        hostvars | homelab.stack.mesh_addresses(groups['all'])) }}

# With the server postgres on kronos (mesh address 100.64.0.11) and wiki-js on jove:
#   server: postgres
#   server_host: kronos
#   host: 100.64.0.11
#   port: 5432
#   name: wiki_js
#   user: wiki_js
#   env: {DATABASE_HOST: 100.64.0.11, DATABASE_PORT: "5432", DATABASE_NAME: wiki_js, DATABASE_USER: wiki_js}
#   password_secret: {name: wiki-js-database-password, target: DATABASE_PASSWORD}
"""

RETURN = r"""
_value:
  description: The app's connection, or C(null).
  type: dict
  contains:
    server:
      description: The PostgreSQL service.
      type: str
    server_host:
      description: The host it runs on.
      type: str
    host:
      description: Where the app connects, the server's container name or its host's mesh address.
      type: str
    port:
      description: The port.
      type: int
    name:
      description: The database.
      type: str
    user:
      description: The role.
      type: str
    env:
      description: The variables the app receives, C(<prefix>_HOST), C(_PORT), C(_NAME), C(_USER) (prefix
        C(database.env_prefix), default C(DATABASE)).
      type: dict
    password_secret:
      description: The Podman secret with the password, C({name, target}); C(target) is C(<prefix>_PASSWORD).
      type: dict
"""


class FilterModule:
    """The database_client filter."""

    def filters(self):
        return {"database_client": database_client}

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.database_view import database_server

DOCUMENTATION = r"""
name: database_server
short_description: The databases and roles a host's PostgreSQL serves
version_added: 0.1.0
description:
  - >-
    Returns null when O(host) runs no present C(platform=postgres) entry; else the entry's name, its superuser,
    the host directory of its unix socket (where the databases role connects, as the superuser, without a
    password: the image trusts its local socket, and the directory's parent is root-only) and one database per
    present app whose C(database.server) is that entry.
  - >-
    Each database carries its role's password (derived from the server's C(POSTGRES_PASSWORD), the value the app
    receives as a Podman secret), so use the result only in tasks with C(no_log).
  - >-
    Fails with C(service <name>: mounts: ...) when the entry mounts nothing at C(/var/run/postgresql).
positional: host
seealso:
  - plugin: homelab.stack.database_client
    plugin_type: filter
  - plugin: homelab.stack.validate_catalog
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
  - homelab.stack.catalog.host
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Find the databases this host's PostgreSQL serves
  ansible.builtin.set_fact:
    databases_server: "{{ homelab_catalog | homelab.stack.database_server(inventory_hostname) }}"
  no_log: true

# With {name: postgres, host: kronos, platform: postgres, secrets: {POSTGRES_PASSWORD: ...}} and an app
# {name: wiki-js, host: jove, database: {server: postgres}}, kronos gets
#   service: postgres
#   superuser: postgres
#   socket_dir: /var/lib/homelab/postgres/socket
#   port: 5432
#   databases:
#     - {client: wiki-js, name: wiki_js, user: wiki_js, password: <64 hex digits>}
"""

RETURN = r"""
_value:
  description: The PostgreSQL server of the host and what it serves, or C(null).
  type: dict
  contains:
    service:
      description: The server's service (and container) name.
      type: str
    superuser:
      description: Its superuser, C(env.POSTGRES_USER) or C(postgres).
      type: str
    socket_dir:
      description: The host directory of its unix socket.
      type: str
    port:
      description: The port it listens on (the socket's name, C(.s.PGSQL.<port>)).
      type: int
    databases:
      description: One per present app of the server, sorted by app.
      type: list
      elements: dict
      contains:
        client:
          description: The app's service name.
          type: str
        name:
          description: The database.
          type: str
        user:
          description: The role, which owns the database.
          type: str
        password:
          description: The role's password (a secret).
          type: str
"""


class FilterModule:
    """The database_server filter."""

    def filters(self):
        return {"database_server": database_server}

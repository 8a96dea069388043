# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.backup_view import backup_server

DOCUMENTATION = r"""
name: backup_server
short_description: Whose backups a host's rest-server keeps
version_added: 0.1.0
description:
  - Returns null when O(host) runs no present C(platform=rest_server) entry; else the entry's name, the Podman
    volume of its repositories, its port, and its clients.
  - >-
    The clients are the hosts at a site other than O(host)'s with volumes to back up (the
    P(homelab.stack.backup_sets#filter) view), sorted by name, each with its sets, whose old snapshots the
    server's host forgets by their C(keep) policy (the server is append-only to the clients themselves). A host
    without a site (null or empty in O(sites)) is a site of its own. These are exactly the hosts whose
    P(homelab.stack.backup_client#filter) view names this rest-server.
  - >-
    Fails with C(backup_server: host: ...) when O(host) is not in O(sites), and with C(backup_server: sites: ...)
    when a host with volumes to back up is not in O(sites).
positional: host,sites
options:
  host:
    description: The inventory host, usually C(inventory_hostname).
    type: str
    required: true
  sites:
    description:
      - Every host to its C(homelab_site), or null for a host without one (a site of its own).
    type: dict
    required: true
seealso:
  - plugin: homelab.stack.backup_client
    plugin_type: filter
  - plugin: homelab.stack.backup_sets
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Find whose backups this host keeps
  ansible.builtin.set_fact:
    backup_server_plan: "{{ homelab_catalog | homelab.stack.backup_server(inventory_hostname, backup_sites) }}"

# With {name: backup-a, host: jove, platform: rest_server}, jove at site a, kronos at site b and a service
# files on kronos with volumes [{name: data, mount: /data, backup: daily}], jove gets
#   service: backup-a
#   volume: backup-a-data
#   port: 8000
#   clients:
#     - client: kronos
#       sets: [{service: files, volume: files-data, keep: {daily: 30}}]
"""

RETURN = r"""
_value:
  description: The rest-server of the host and its clients, or C(null).
  type: dict
  contains:
    service:
      description: The rest-server's service name.
      type: str
    volume:
      description: The Podman volume of its repositories; a client's repository is the directory C(<client>/) in it.
      type: str
    port:
      description: The port it listens on (TLS), published on its host's mesh address.
      type: int
    clients:
      description: The hosts that back up to it, sorted by name.
      type: list
      elements: dict
      contains:
        client:
          description: The client's inventory name (its user and repository on the server).
          type: str
        sets:
          description: Its volumes, C({service, volume, keep}) sorted by service and volume; C(keep) as in
            P(homelab.stack.backup_sets#filter).
          type: list
          elements: dict
"""


class FilterModule:
    """The backup_server filter."""

    def filters(self):
        return {"backup_server": backup_server}

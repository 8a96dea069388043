# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.backup_view import backup_client

DOCUMENTATION = r"""
name: backup_client
short_description: What a host backs up, and to which rest-servers
version_added: 0.1.0
description:
  - Returns what O(host) backs up (its services' volumes with a C(backup) schedule, the
    P(homelab.stack.backup_sets#filter) view) as the backup runner's configuration has them, and the
    repositories they go to.
  - >-
    Backups cross sites: the repositories are the present C(platform=rest_server) entries at a site other than
    O(host)'s, sorted by name, at their host's mesh address, port 8000, path C(/<host>/) (the only repository
    C(--private-repos) lets O(host) open). A host without a site (null or empty in O(sites)) is a site of its own.
  - >-
    A volume with C(dump=postgres) gets C(dump_command) (C(pg_dumpall --clean --if-exists) in the service's
    container, as the service's C(env.POSTGRES_USER), default C(postgres)) and C(load_command) (C(psql) in the
    same container reading the dump on stdin).
  - >-
    No repository when O(host) has nothing to back up; and none when no rest-server runs at another site,
    which is not an error here (the volumes may go to other repositories: the backup role decides). So a host
    has a repository on a rest-server exactly when it is one of that server's clients
    (P(homelab.stack.backup_server#filter)).
  - >-
    Fails with C(backup_client: host: ...) when O(host) is not in O(sites), with C(backup_client: sites: ...)
    when a rest-server's host is not in O(sites), and with C(backup_client: addresses: ...) when a rest-server's
    host has no mesh address.
positional: host,sites,addresses
options:
  host:
    description: The inventory host that backs up, usually C(inventory_hostname).
    type: str
    required: true
  sites:
    description:
      - Every host to its C(homelab_site), or null for a host without one (a site of its own).
    type: dict
    required: true
  addresses:
    description:
      - Inventory host name to mesh address, the output of P(homelab.stack.mesh_addresses#filter).
    type: dict
    required: true
seealso:
  - plugin: homelab.stack.backup_server
    plugin_type: filter
  - plugin: homelab.stack.backup_sets
    plugin_type: filter
  - plugin: homelab.stack.mesh_addresses
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Find what this host backs up, and where to
  ansible.builtin.set_fact:
    backup_client_plan: >-
      {{ homelab_catalog | homelab.stack.backup_client(inventory_hostname, backup_sites,
                                                       hostvars | homelab.stack.mesh_addresses(groups['all'])) }}

# With {name: backup-a, host: jove, platform: rest_server} (jove at 100.64.0.10, site a), kronos at site b
# and a service files on kronos with volumes [{name: data, mount: /data, backup: daily}], kronos gets
#   repositories:
#     - {name: backup-a, server_host: jove, url: "rest:https://100.64.0.10:8000/kronos/"}
#   services:
#     files:
#       unit: files.service
#       volumes:
#         - {volume: files-data, schedule: daily, interval_seconds: 86400, keep: {daily: 30}, pause: false,
#            dump: null, dump_command: null, load_command: null, verify_load_command: null}
# and a database db (env POSTGRES_USER: app) with backup: {schedule: hourly, dump: postgres}:
#         - {volume: db-data, schedule: hourly, ..., dump: postgres,
#            dump_command: [podman, exec, db, pg_dumpall, --clean, --if-exists, -U, app],
#            load_command: [podman, exec, -i, db, psql, -X, -q, -U, app, -d, postgres],
#            verify_load_command: [podman, run, --rm, -i, --network, none, --user, postgres, --entrypoint, sh,
#                                  <db's image>, -c, <a scratch cluster: initdb, start, load stdin, query>]}
"""

RETURN = r"""
_value:
  description: The host's repositories and the services it backs up.
  type: dict
  contains:
    repositories:
      description: The rest-servers at another site, sorted by name.
      type: list
      elements: dict
      contains:
        name:
          description: The rest-server's service name, the repository's name on the host.
          type: str
        server_host:
          description: The host the rest-server runs on.
          type: str
        url:
          description: The restic repository, C(rest:https://<mesh address>:8000/<host>/) (IPv6 in brackets).
          type: str
    services:
      description: Each service of the host with volumes to back up, by service name.
      type: dict
      contains:
        unit:
          description: The service's systemd unit, C(<name>.service) (stopped around a C(pause) volume's copy).
          type: str
        volumes:
          description:
            - Its volumes to back up, by volume, each C({volume, schedule, interval_seconds, keep, pause, dump,
              dump_command, load_command, verify_load_command}); the first six as in P(homelab.stack.backup_sets#filter).
            - C(dump_command) and C(load_command) are argv lists for a C(dump) volume (the dump on stdout, a dump
              loaded from stdin), else null.
            - C(verify_load_command) loads a dump from stdin into a throw-away database of the service's own image
              (no network, gone afterwards) and queries it, for the restore drill (C(homelab.stack.backup_verify));
              null without a dump.
          type: list
          elements: dict
"""


class FilterModule:
    """The backup_client filter."""

    def filters(self):
        return {"backup_client": backup_client}

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.site_health import verify_plan

DOCUMENTATION = r"""
name: verify_plan
short_description: What the site's health report looks at on one host
version_added: 0.1.0
description:
  - Says what C(homelab.stack.verify) reads on one host, read-only, for
    P(homelab.stack.verify_report#filter) to judge.
  - >-
    C(units), the systemd units of the host's present services (the P(homelab.stack.host_units#filter) view:
    network, volumes, containers), then the backup timer C(homelab-backup-<service>.timer) of each of its
    services with backup sets.
  - >-
    C(routes), on the host of the catalog's C(platform: traefik) entry (the edge) only, every route of
    P(homelab.stack.routes#filter) to probe there: C({name, auth, url, hosts}), C(url) at the route's first path.
  - >-
    C(targets_url), on the host of the C(platform: prometheus) entry only, its targets API where the host
    publishes Prometheus' port (a wildcard address read as loopback); null elsewhere, or when it publishes none.
  - >-
    C(backups), whether the host has backup sets (the runner's metrics are read there).
positional: host,domain,addresses
options:
  host:
    description: The inventory host.
    type: str
    required: true
  domain:
    description: The domain of the routes, usually C(homelab_domain); needed when the catalog has routes.
    type: str
  addresses:
    description: Inventory host name to mesh address (P(homelab.stack.mesh_addresses#filter)).
    type: dict
seealso:
  - plugin: homelab.stack.verify_report
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: What to read on this host
  ansible.builtin.set_fact:
    verify_here: >-
      {{ homelab_catalog | homelab.stack.verify_plan(inventory_hostname, homelab_domain,
                                                      hostvars | homelab.stack.mesh_addresses(groups['all'])) }}
# On the lab's jove (the edge) this gives
#   {units: [homelab-network.service, backup-a-data-volume.service, ..., traefik.service, ...,
#            homelab-backup-traefik.timer],
#    routes: [{name: api, auth: sso, url: "https://api.lab.home.arpa/", hosts: [api.lab.home.arpa]}, ...],
#    targets_url: null, backups: true}
"""

RETURN = r"""
_value:
  description: What to read on the host.
  type: dict
  contains:
    units:
      description: systemd unit names, the catalog's first, then the backup timers.
      type: list
      elements: str
    routes:
      description: The routes to probe from this host (the edge); empty elsewhere.
      type: list
      elements: dict
    targets_url:
      description: Prometheus' C(/api/v1/targets) URL on this host, or null.
      type: str
    backups:
      description: Whether the host has backup sets.
      type: bool
"""


class FilterModule:
    """The verify_plan filter."""

    def filters(self):
        return {"verify_plan": verify_plan}

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import time

from ansible_collections.homelab.stack.plugins.plugin_utils import site_health

DOCUMENTATION = r"""
name: verify_report
short_description: The site's health report, from what was read on each host
version_added: 0.1.0
description:
  - Judges what C(homelab.stack.verify) read on each host (see P(homelab.stack.verify_plan#filter)) and returns
    one row per catalog unit, route, monitoring target and backup set, the rows as a table, and one problem
    per row that is wrong.
  - >-
    A unit must be active. An C(auth: none) route must answer 2xx over TLS the given CA verifies; an
    C(auth: sso) route must fail closed, with one of the statuses the monitoring's route probe accepts
    (302, 303, 307, 401, 403, 500, 502, 503, 504), never 2xx. Every Prometheus target must be up (one not
    scraped yet is waiting). A backup set's last good snapshot must be at most two periods of its schedule
    old (as the BackupStale alert); a set that has not run yet while its timer is active is waiting for its
    first run, not a problem.
  - A host with catalog services (of O(hosts)) that has no entry in O(observations) was not reached, and is a problem.
positional: observations,domain,addresses,now,hosts
options:
  observations:
    description:
      - Host to what was read there, each a mapping with C(units) (the output of
        C(systemctl show --property=Id,LoadState,ActiveState,SubState) of the plan's units), C(metrics) (the
        backup runner's textfiles), C(routes) (the edge's probe, a line per route, tab-separated C(url status curl-exit error))
        and C(targets) (Prometheus' targets answer, or C({error})).
    type: dict
    required: true
  domain:
    description: The domain of the routes, usually C(homelab_domain).
    type: str
  addresses:
    description: Inventory host name to mesh address (P(homelab.stack.mesh_addresses#filter)).
    type: dict
  now:
    description: The time of the check in unix seconds; the controller's clock when not given.
    type: float
  hosts:
    description:
      - The hosts the run covered, usually C(ansible_play_hosts_all); the other hosts of the catalog (left out by
        C(--limit)) are left out of the report. Every host of the catalog when not given.
    type: list
    elements: str
seealso:
  - plugin: homelab.stack.verify_plan
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Print the report
  ansible.builtin.debug:
    msg: "{{ (homelab_catalog | homelab.stack.verify_report(observed, homelab_domain, addresses)).table }}"
# what                                        where   state
# unit web.service                            jove    active
# route https://api.lab.home.arpa/ (sso)      jove    500
# target node kronos:9100                     kronos  up
# backup files-data (daily)                   kronos  waiting for its first run
"""

RETURN = r"""
_value:
  description: The report.
  type: dict
  contains:
    rows:
      description: C({what, where, state, detail, problem}) per unit, route, target and backup set, host by host.
      type: list
      elements: dict
    table:
      description: The rows as lines of text (what, where, state), a header first.
      type: list
      elements: str
    problems:
      description: "One message per wrong row, C(<where>: <what>: <state>[: <detail>])."
      type: list
      elements: str
"""


def verify_report(catalog, observations, domain=None, addresses=None, now=None, hosts=None):
    return site_health.verify_report(catalog, observations, time.time() if now is None else now, domain, addresses,
                                     hosts)


class FilterModule:
    """The verify_report filter."""

    def filters(self):
        return {"verify_report": verify_report}

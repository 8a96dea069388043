# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The service catalog of homelab.stack, one concept per module.

Users declare every service once in ``homelab_services``; from that list:

- ``schema``: each field checked and normalised, then the checks across the catalog
  (names, dependencies, derived names, published ports);
- ``names``: every name derived from a service (volumes, secrets, the network);
- ``views``: the per-subsystem views the roles consume (a host's Quadlet units and
  secrets, routes, scrape targets, backup sets); ``monitoring_view`` what the
  monitoring scrapes and probes; ``backup_view`` what a host backs up and where to, and
  whose backups a host's rest-server keeps; ``database_view`` what a PostgreSQL
  server's host creates and how an app reaches its database;
- ``platform``, ``identity``, ``monitoring``, ``alloy``, ``rest_server``, ``postgres``:
  what a ``platform`` kind fills in (``postgres`` also a service's ``database`` field);
- ``backup``: a volume's backup (schedule, retention, database dump or pause);
- ``service_plan``: the service role's internals (start order, restarts from the
  host's state, what to prune).

The filter plugins in plugins/filter/ are thin wrappers around these functions; the
names below are re-exported for them and for tests.
"""

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.database_view import (  # noqa: F401
    database_client,
    database_server,
)
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.monitoring_view import monitoring_targets  # noqa: F401
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.names import (  # noqa: F401
    NETWORK_NAME,
    is_dns_label,
    is_dns_name,
    network_service_name,
    secret_name,
    volume_name,
)
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.schema import (  # noqa: F401
    FIELDS,
    normalise_catalog,
    normalise_service,
)
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.service_plan import (  # noqa: F401
    host_containers,
    host_tiers,
    purge_volumes,
    restart_plan,
    service_plan,
    stale_secrets,
    stale_units,
    units_to_write,
)
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import (  # noqa: F401
    backup_sets,
    host_secrets,
    host_units,
    routes,
    scrape_targets,
)

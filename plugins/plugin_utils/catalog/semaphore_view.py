# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The semaphore role's view of a normalised catalog: where it reaches Semaphore's API and
as whom (semaphore.py says why on the host's loopback, not through the route)."""

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import semaphore
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import _catalog, _present


def semaphore_api(catalog: object) -> dict | None:
    """``{name, host, url, ping_path, admin, password_secret}`` of the present
    ``platform: semaphore`` entry (the secret's name, never its value), or None."""
    for service in _present(_catalog(catalog, "semaphore_api")):
        if service["platform"] == semaphore.KIND:
            return {"name": service["name"], "host": service["host"],
                    "url": f"http://{semaphore.API_ADDRESS}:{semaphore.api_port(service)}",
                    "ping_path": semaphore.PING_PATH, "admin": service["env"][semaphore.ADMIN],
                    "password_secret": semaphore.ADMIN_PASSWORD}
    return None

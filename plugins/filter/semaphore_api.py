# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.semaphore_view import semaphore_api

DOCUMENTATION = r"""
name: semaphore_api
short_description: Where the semaphore role reaches Semaphore UI's API, and as whom
version_added: 0.1.0
description:
  - Returns null when the catalog has no present C(platform=semaphore) entry; else its name and host, the API's
    base URL on that host's loopback (the port the entry publishes on C(127.0.0.1); the route is behind SSO, so
    the role does not go through the edge), the health path, the admin user's login and the name of the secret
    that holds its password (never the value).
seealso:
  - plugin: homelab.stack.validate_catalog
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Find Semaphore
  ansible.builtin.set_fact:
    semaphore_entry: "{{ homelab_catalog | homelab.stack.semaphore_api }}"

# The entry {name: semaphore, host: jove, platform: semaphore, secrets: {...}} gives
#   {name: semaphore, host: jove, url: http://127.0.0.1:3000, ping_path: /api/ping, admin: admin,
#    password_secret: SEMAPHORE_ADMIN_PASSWORD}
"""

RETURN = r"""
_value:
  description: The entry's API, or C(null).
  type: dict
  contains:
    name:
      description: The service name (also its container and systemd unit).
      type: str
    host:
      description: The host it runs on; the URL answers there only.
      type: str
    url:
      description: The API's base URL on the host's loopback, for example V(http://127.0.0.1:3000).
      type: str
    ping_path:
      description: The path that answers C(pong) once Semaphore serves requests.
      type: str
    admin:
      description: The admin user's login (the entry's C(SEMAPHORE_ADMIN)).
      type: str
    password_secret:
      description: The name of the entry's secret that holds the admin password.
      type: str
"""


class FilterModule:
    """The semaphore_api filter."""

    def filters(self):
        return {"semaphore_api": semaphore_api}

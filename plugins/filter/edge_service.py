# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import edge_service

DOCUMENTATION = r"""
name: edge_service
short_description: The edge's own catalog entry and where its configuration goes
version_added: 0.1.0
description:
  - Returns the present catalog entry with C(platform=traefik), reduced to what the traefik role needs, or
    C(null) when the catalog has none.
  - >-
    Fails with C(service <name>: mounts: ...) when the entry mounts nothing at Traefik's configuration directory.
seealso:
  - plugin: homelab.stack.validate_catalog
    plugin_type: filter
  - plugin: homelab.stack.traefik_config
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Find the edge
  ansible.builtin.set_fact:
    traefik_edge: "{{ homelab_catalog | homelab.stack.edge_service }}"

# The entry {name: traefik, host: jove, platform: traefik} gives
#   {name: traefik, host: jove, image: docker.io/library/traefik:v3.7, config_dir: /etc/homelab/traefik,
#    static_file: /etc/traefik/traefik.yml, internal_port: 8082, secrets: []}
"""

RETURN = r"""
_value:
  description: The edge entry, or C(null).
  type: dict
  contains:
    name:
      description: The service name (also its container and systemd unit).
      type: str
    host:
      description: The host it runs on (C(homelab_edge_host)).
      type: str
    image:
      description: The image it runs.
      type: str
    config_dir:
      description: The host directory mounted at Traefik's configuration directory; the traefik role writes there.
      type: str
    static_file:
      description: The static configuration file as the container sees it.
      type: str
    internal_port:
      description: The port of the internal entrypoint (ping and metrics, never published).
      type: int
    secrets:
      description: The names of the entry's secrets (never their values), e.g. C(CF_DNS_API_TOKEN).
      type: list
      elements: str
"""


class FilterModule:
    """The edge_service filter."""

    def filters(self):
        return {"edge_service": edge_service}

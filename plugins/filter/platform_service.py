# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import platform_service

DOCUMENTATION = r"""
name: platform_service
short_description: A platform kind's catalog entry and where its configuration goes
version_added: 0.1.0
description:
  - Returns the present catalog entry with C(platform=<kind>), reduced to what the kind's role needs, or
    C(null) when the catalog has none.
  - >-
    Fails with C(service <name>: mounts: ...) when the entry mounts nothing at the kind's configuration
    directory.
  - A kind with one entry per host (C(alloy), the log agent; C(rest_server)) is looked up with O(host).
positional: kind,host
options:
  kind:
    description: The platform kind.
    type: str
    required: true
    choices: [traefik, cloudflared, edge_pages, prometheus, alertmanager, blackbox_exporter, grafana, loki,
              authentik, authentik_worker, alloy, rest_server]
  host:
    description: Only the entry on this host (null, the default, any host).
    type: str
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
    traefik_edge: "{{ homelab_catalog | homelab.stack.platform_service('traefik') }}"

# The entry {name: traefik, host: jove, platform: traefik} gives
#   {name: traefik, host: jove, image: docker.io/library/traefik:v3.7, host_dir: /etc/homelab/traefik, secrets: [],
#    config_dir: /etc/traefik, static_file: /etc/traefik/traefik.yml, internal_port: 8082}

- name: Find this host's log agent
  ansible.builtin.set_fact:
    alloy_agent: "{{ homelab_catalog | homelab.stack.platform_service('alloy', inventory_hostname) }}"

# The entry {name: backup-a, host: jove, platform: rest_server}, on jove, gives
#   {name: backup-a, host: jove, image: docker.io/restic/rest-server:0.14.0, host_dir: /etc/homelab/rest-server,
#    secrets: [], config_dir: /etc/rest-server, htpasswd_file: /etc/rest-server/htpasswd,
#    tls_cert: /etc/rest-server/tls.crt, tls_key: /etc/rest-server/tls.key, data_dir: /data, port: 8000}
"""

RETURN = r"""
_value:
  description: The entry, or C(null).
  type: dict
  contains:
    name:
      description: The service name (also its container and systemd unit).
      type: str
    host:
      description: The host it runs on.
      type: str
    image:
      description: The image it runs.
      type: str
    host_dir:
      description: The host directory mounted at the kind's configuration directory; its role writes there.
      type: str
    config_dir:
      description: The configuration directory as the container sees it.
      type: str
    secrets:
      description: The names of the entry's secrets (never their values), e.g. C(CF_DNS_API_TOKEN).
      type: list
      elements: str
    static_file:
      description: (traefik) The static configuration file as the container sees it.
      type: str
    internal_port:
      description: (traefik) The port of the internal entrypoint (ping and metrics, never published).
      type: int
    config_file:
      description: (cloudflared) The tunnel's configuration file as the container sees it; (prometheus, alertmanager,
        blackbox_exporter, loki, alloy) the server's configuration file as the container sees it.
      type: str
    data_dir:
      description: (loki) Where Loki keeps its data in the container (its volume); (rest_server) where the
        rest-server keeps the repositories in the container (its volume).
      type: str
    htpasswd_file:
      description: (rest_server) The users file as the container sees it (in C(config_dir)).
      type: str
    tls_cert:
      description: (rest_server) The TLS certificate as the container sees it (in C(config_dir)).
      type: str
    tls_key:
      description: (rest_server) The TLS key as the container sees it (in C(config_dir)).
      type: str
    rules_dir:
      description: (prometheus) The directory of the rule files as the container sees it.
      type: str
    port:
      description: (edge_pages) The port the page server answers on, inside the host's network (never published);
        (authentik) the server's HTTP port (web interface, API, embedded outpost); (prometheus, alertmanager,
        blackbox_exporter, loki) the server's HTTP port (API and metrics; Loki's push API too); (rest_server) the
        port the rest-server listens on (TLS), published on its host's mesh address.
      type: int
    sign_in_page:
      description: (edge_pages) The file name of the page shown when sign-in is unavailable.
      type: str
"""


class FilterModule:
    """The platform_service filter."""

    def filters(self):
        return {"platform_service": platform_service}

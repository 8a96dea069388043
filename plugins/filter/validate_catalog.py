# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.schema import normalise_catalog

DOCUMENTATION = r"""
name: validate_catalog
short_description: Validate the service catalog and fill in its defaults
version_added: 0.1.0
description:
  - Checks every entry of C(homelab_services) and returns the catalog normalised, in input order,
    with every field present and its default filled in.
  - Fields and defaults are C(name), C(host), C(image), C(state=present), C(port=None),
    C(route=None) or C({auth, subdomain}) (C(auth=sso), C(subdomain=<name>)), C(env={}) (values as strings),
    C(secrets={}), C(volumes=[]) of C({name, mount, backup=none}), C(depends_on=[]),
    C(metrics=None) or C({port=<port>, path=/metrics}),
    C(healthcheck=None) or C({cmd, interval=30s, retries=3, start_period=10s}), C(publish=[]), C(labels={}),
    C(command=None) or a list of strings (a string is split like a shell would), C(auto_update=false),
    C(resources={}) or C({memory, cpus}), C(purge_volumes=false). A field set to C(null) takes its default.
  - It also checks the catalog as a whole. Names are unique, C(depends_on) names services that exist, that are
    not the service itself, not absent (for a present service) and form no cycle; the systemd units,
    Podman volumes and Podman secrets made for the services of one host, and the route subdomains, do not collide.
  - The input is not modified, and a normalised catalog passes through unchanged.
  - >-
    Any problem fails with C(service <name>: <field>: <problem>), or C(service #<index>: ...) when the
    entry has no valid name. Secret values are never shown.
positional: hosts
options:
  _input:
    description: The service catalog, usually C(homelab_services). C(null) counts as an empty catalog.
    type: list
    elements: dict
    required: true
  hosts:
    description: Every inventory host name, usually C(groups['all']); each service's C(host) must be one of them.
    type: list
    elements: str
    required: true
seealso:
  - plugin: homelab.stack.host_units
    plugin_type: filter
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Validate the catalog once for the play
  ansible.builtin.set_fact:
    homelab_catalog: "{{ homelab_services | homelab.stack.validate_catalog(groups['all']) }}"

# homelab_services:
#   - name: whoami
#     host: jove
#     image: docker.io/traefik/whoami:v1.10
#     port: 80
#     route: {auth: none}
# becomes
#   - name: whoami
#     host: jove
#     image: docker.io/traefik/whoami:v1.10
#     state: present
#     port: 80
#     route: {auth: none, subdomain: whoami}
#     env: {}
#     secrets: {}
#     volumes: []
#     depends_on: []
#     metrics: null
#     healthcheck: null
#     publish: []
#     labels: {}
#     command: null
#     auto_update: false
#     resources: {}
#     purge_volumes: false
"""

RETURN = r"""
_value:
  description: The normalised catalog, one dictionary per service in input order, every field present.
  type: list
  elements: dict
"""


class FilterModule:
    """The validate_catalog filter."""

    def filters(self):
        return {"validate_catalog": normalise_catalog}

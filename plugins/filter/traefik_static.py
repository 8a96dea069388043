# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.module_utils import traefik

DOCUMENTATION = r"""
name: traefik_static
short_description: Traefik's static configuration for the edge
version_added: 0.1.0
description:
  - Builds Traefik's static configuration from the entry from P(homelab.stack.platform_service#filter) (kind C(traefik)).
  - Entrypoint C(web) (:80) redirects permanently to C(websecure) (:443); the file provider watches the
    C(dynamic) directory beside the static file; C(ping) and Prometheus metrics answer on the C(internal)
    entrypoint, which the catalog entry never publishes; logs and the access log are JSON.
  - Entrypoint C(sso-gate) listens on the container's loopback (127.0.0.1:8083) for Traefik's own forward-auth
    calls, whose C(X-Forwarded-*) headers it trusts (see P(homelab.stack.traefik_config#filter), option C(pages)).
  - Every entrypoint drops request headers whose name aliases another (C(aliasHeadersStrategy=delete), e.g.
    C(X_Auth_User) for C(X-Auth-User)) and refuses a request path with an encoded NUL (C(%00)).
  - The API and dashboard are off unless O(dashboard) is true, and then only reachable through a router
    behind single sign-on (see P(homelab.stack.traefik_config#filter)).
  - With O(acme), certificates come from Let's Encrypt through Cloudflare's DNS-01 challenge
    (the token reaches the container as the Podman secret C(CF_DNS_API_TOKEN)).
options:
  _input:
    description: The edge entry, from P(homelab.stack.platform_service#filter) with kind C(traefik).
    type: dict
    required: true
  access_log:
    description: Write the JSON access log.
    type: bool
    default: true
  dashboard:
    description: Enable the API and dashboard (routed only behind SSO).
    type: bool
    default: false
  acme:
    description: C({email, staging, resolver}) for TLS mode C(acme); the account is kept in the entry's ACME volume.
    type: dict
seealso:
  - plugin: homelab.stack.traefik_config
    plugin_type: filter
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Write Traefik's static configuration
  ansible.builtin.copy:
    content: "{{ traefik_edge | homelab.stack.traefik_static(access_log=true) | to_nice_yaml(indent=2) }}"
    dest: "{{ traefik_edge.host_dir }}/traefik.yml"
    mode: "0640"
"""

RETURN = r"""
_value:
  description: Traefik's static configuration, to be written as YAML at the entry's C(static_file).
  type: dict
"""

# Where the ACME account lives in the container: the platform entry's acme volume.
ACME_STORAGE = "/var/lib/traefik/acme.json"


def traefik_static(edge, access_log=True, dashboard=False, acme=None):
    """The filter: the static file for the edge entry."""
    if not isinstance(edge, dict) or "static_file" not in edge or "internal_port" not in edge:
        raise AnsibleFilterError("traefik_static: the input must be the entry from homelab.stack.platform_service('traefik')")
    if acme is not None:
        missing = [key for key in ("email", "resolver") if not acme.get(key)]
        if missing:
            raise AnsibleFilterError("traefik_static: acme: needs %s" % ", ".join(missing))
        acme = dict(acme, storage=ACME_STORAGE)
    return traefik.static_config(edge["config_dir"] + "/dynamic", ports={"internal": ":%d" % edge["internal_port"]},
                                 access_log=access_log, dashboard=dashboard, acme=acme)


class FilterModule:
    """The traefik_static filter."""

    def filters(self):
        return {"traefik_static": traefik_static}

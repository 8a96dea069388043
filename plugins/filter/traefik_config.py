# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.module_utils import traefik
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.names import is_dns_name

DOCUMENTATION = r"""
name: traefik_config
short_description: Traefik's dynamic configuration for the catalog's routes
version_added: 0.1.0
description:
  - Turns the P(homelab.stack.routes#filter) view into the configuration of Traefik's file provider
    (the C(http) routers, services and middlewares, and the C(tls) section).
  - Every router listens on the C(websecure) entrypoint only. Its first middleware sets the security
    headers (HSTS for a year with subdomains, C(X-Content-Type-Options nosniff), frame deny,
    C(Referrer-Policy strict-origin-when-cross-origin)) and removes the C(X-authentik-*) identity
    headers a client sent itself, on every route.
  - C(auth=sso) routes then go through forward auth to the Authentik outpost, which answers with the
    identity headers passed to the app; when the outpost cannot be reached Traefik answers with an
    error status and the app is never called. Each SSO host also routes C(/outpost.goauthentik.io/)
    to the outpost (Authentik's sign-in callback).
  - With O(pages), forward auth asks the outpost through Traefik's loopback C(sso-gate) entrypoint,
    whose router answers a 5xx of the sign-in step (outpost down, unreachable or failing) with the page
    server's C(sign-in-unavailable.html) and status 500, as forward auth answers an unreachable auth
    server; the app's own answers and the outpost's denials (401, the redirect to sign in) are never
    replaced.
  - C(allow_from) becomes an IP allow list and C(rate_limit) a rate limit, both before the sign-on.
  - TLS 1.2 is the minimum, with strict SNI.
options:
  _input:
    description: The routes, from P(homelab.stack.routes#filter).
    type: list
    elements: dict
    required: true
  outpost_url:
    description: Base URL of the Authentik outpost that answers forward auth, e.g. C(http://authentik:9000) (see P(homelab.stack.sso_outpost_url#filter)).
    type: str
    required: true
  cert_resolver:
    description: The ACME certificate resolver of the static configuration (TLS mode C(acme)).
    type: str
  certificate:
    description:
      - C({certFile, keyFile}) paths, as Traefik sees them, of the certificate served for every host
        (TLS modes C(internal) and C(files)).
    type: dict
  dashboard_host:
    description: Route Traefik's dashboard on this host name, behind single sign-on. Unset, it is not routed.
    type: str
  pages:
    description:
      - The edge's page server, the entry from P(homelab.stack.platform_service#filter) with kind C(edge_pages).
        Unset (or null), a failing sign-in step answers a bare error status.
    type: dict
seealso:
  - plugin: homelab.stack.routes
    plugin_type: filter
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Render the routes for Traefik's file provider
  ansible.builtin.copy:
    content: >-
      {{ homelab_catalog | homelab.stack.routes(homelab_domain, traefik_mesh_addresses)
         | homelab.stack.traefik_config('http://authentik-server:9000',
                                        certificate={'certFile': '/certs/edge.crt', 'keyFile': '/certs/edge.key'})
         | to_nice_yaml(indent=2) }}
    dest: /etc/homelab/traefik/dynamic/routes.yml
    mode: "0640"

# A route {name: whoami, hosts: [whoami.lab.example.com], auth: none, url: http://whoami:80, ...} gives
#   http:
#     routers:
#       whoami: {rule: "Host(`whoami.lab.example.com`)", entryPoints: [websecure], service: whoami,
#                middlewares: [homelab-secure-headers], tls: {}}
#     services:
#       whoami: {loadBalancer: {servers: [{url: "http://whoami:80"}], passHostHeader: true}}
"""

RETURN = r"""
_value:
  description: Traefik's dynamic configuration (file provider), to be written as YAML.
  type: dict
  contains:
    http:
      description: C(routers), C(services) and C(middlewares); absent when there is no route and no dashboard.
      type: dict
    tls:
      description: C(options.default) (TLS 1.2 minimum, strict SNI), and C(certificates) with the default store when a certificate is given.
      type: dict
"""


def traefik_config(routes, outpost_url, cert_resolver=None, certificate=None, dashboard_host=None, pages=None):
    """The filter: check the arguments' shape, then build the configuration."""
    if not isinstance(routes, list):
        raise AnsibleFilterError("traefik_config: routes: must be the list from homelab.stack.routes")
    if not isinstance(outpost_url, str) or not outpost_url.startswith(("http://", "https://")):
        raise AnsibleFilterError("traefik_config: outpost_url: must be an http:// or https:// URL, got %r" % (outpost_url,))
    if certificate is not None and (not isinstance(certificate, dict) or set(certificate) != {"certFile", "keyFile"}):
        raise AnsibleFilterError("traefik_config: certificate: must be {certFile, keyFile}")
    if dashboard_host is not None and not is_dns_name(dashboard_host):
        raise AnsibleFilterError("traefik_config: dashboard_host: %r is not a lower-case DNS name" % (dashboard_host,))
    if cert_resolver and certificate:
        raise AnsibleFilterError("traefik_config: give cert_resolver (acme) or certificate (internal, files), not both")
    if pages is not None and (not isinstance(pages, dict) or not {"name", "port"} <= set(pages)):
        raise AnsibleFilterError("traefik_config: pages: must be the entry from homelab.stack.platform_service('edge_pages')")
    return traefik.dynamic_config(routes, outpost_url, cert_resolver=cert_resolver, certificate=certificate,
                                  dashboard_host=dashboard_host,
                                  pages_url="http://%s:%d" % (pages["name"], pages["port"]) if pages else None)


class FilterModule:
    """The traefik_config filter."""

    def filters(self):
        return {"traefik_config": traefik_config}

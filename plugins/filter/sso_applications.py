# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import sso_applications

DOCUMENTATION = r"""
name: sso_applications
short_description: The identity provider's view of the catalog
version_added: 0.1.0
description:
  - One application per present service that signs in through the identity provider (Authentik), sorted by
    name - a route with C(auth=sso) (forward auth at the edge), a service with C(oidc) (its own OpenID
    Connect login), or both.
positional: domain
options:
  domain:
    description: The domain the routes' subdomains belong to, usually C(homelab_domain).
    type: str
    required: true
seealso:
  - plugin: homelab.stack.authentik_blueprint
    plugin_type: filter
  - plugin: homelab.stack.routes
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Applications of the identity provider
  ansible.builtin.set_fact:
    sso_apps: "{{ homelab_catalog | homelab.stack.sso_applications(homelab_domain) }}"

# A service paperless with route {auth: sso, groups: [family]} and oidc {redirect_paths: [/accounts/oidc/callback/]}
# gives
#   - {name: paperless, fqdn: paperless.lab.example.com, forward_auth: true, groups: [family],
#      oidc: {redirect_uris: ["https://paperless.lab.example.com/accounts/oidc/callback/"],
#             scopes: [openid, profile, email], secret_env: HOMELAB_OIDC_PAPERLESS_SECRET}}
"""

RETURN = r"""
_value:
  description: The applications, sorted by name.
  type: list
  elements: dict
  contains:
    name:
      description: The service name (the application's slug, and the OIDC client id).
      type: str
    fqdn:
      description: The service's host name at the edge.
      type: str
    forward_auth:
      description: Whether the edge asks the identity provider before every request (C(auth=sso)).
      type: bool
    groups:
      description: The groups allowed on it; empty for every signed-in user.
      type: list
      elements: str
    oidc:
      description: C(null), or C({redirect_uris, scopes, secret_env}) for the service's OpenID Connect client.
      type: dict
"""


class FilterModule:
    """The sso_applications filter."""

    def filters(self):
        return {"sso_applications": sso_applications}

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of every module that talks to the Authentik API."""

from __future__ import annotations


class ModuleDocFragment:
    """DOCUMENTATION: the Authentik REST API v3 connection (module_utils/authentik.py,
    api_argument_spec). PROVIDER_FLOWS: the flows of a provider (provider_flows_argument_spec)."""

    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Address of Authentik, for example V(https://auth.example.com). A trailing C(/api/v3) is accepted.
      - If not set, the environment variable E(AUTHENTIK_URL) is used.
      - Set it once per play for every C(authentik_*) module with C(module_defaults) and the
        action group C(group/homelab.stack.authentik).
    type: str
  api_token:
    description:
      - An Authentik API token (C(Directory > Tokens and App passwords), intent C(API)), sent in the
        C(Authorization) header as a bearer token. Its user needs the permissions on the objects the module manages.
      - If not set, the environment variable E(AUTHENTIK_TOKEN) is used.
      - Never logged or shown in messages.
    type: str
"""

    PROVIDER_FLOWS = r"""
options:
  authorization_flow:
    description: Slug of the flow that authorizes a user for the application.
    type: str
    default: default-provider-authorization-implicit-consent
  invalidation_flow:
    description: Slug of the flow that runs when a user logs out of the application.
    type: str
    default: default-provider-invalidation-flow
"""

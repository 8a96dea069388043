# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.plugin_utils import authentik_blueprint as blueprint_format

DOCUMENTATION = r"""
name: authentik_blueprint
short_description: Authentik's blueprint for the catalog's applications
version_added: 0.1.0
description:
  - Turns the P(homelab.stack.sso_applications#filter) view into an Authentik blueprint (YAML text with
    Authentik's C(!Find), C(!KeyOf) and C(!Env) tags), for the worker to apply from its blueprints directory.
  - Each C(auth=sso) route gets a forward-auth proxy provider (mode C(forward_single)) and an application,
    and every such provider is put on the embedded outpost, which the edge's forward auth asks; the
    outpost's providers are exactly these.
  - Each C(oidc) service gets a confidential OAuth2/OpenID provider (client id the service name, strict
    redirect URIs, its scopes) and an application. The client secret is read from the worker's environment
    variable C(HOMELAB_OIDC_<NAME>_SECRET), so no secret is written into the file.
  - The groups a route names are made and bound to its applications; then only their members may use them.
positional: authentik_url
options:
  _input:
    description: The applications, from P(homelab.stack.sso_applications#filter).
    type: list
    elements: dict
    required: true
  authentik_url:
    description:
      - Where users reach Authentik, e.g. C(https://authentik.lab.example.com); it becomes the embedded
        outpost's C(authentik_host), where the outpost sends browsers to sign in. Unset leaves the
        outpost's configuration alone.
    type: str
seealso:
  - plugin: homelab.stack.sso_applications
    plugin_type: filter
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Install the applications blueprint
  ansible.builtin.copy:
    content: >-
      {{ homelab_catalog | homelab.stack.sso_applications(homelab_domain)
         | homelab.stack.authentik_blueprint('https://authentik.' ~ homelab_domain) }}
    dest: /etc/homelab/authentik/blueprints/homelab.yaml
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The blueprint as YAML text.
  type: str
"""


def authentik_blueprint(applications, authentik_url=None):
    """The filter: the blueprint's YAML text."""
    if not isinstance(applications, list):
        raise AnsibleFilterError("authentik_blueprint: applications: must be the list from homelab.stack.sso_applications")
    if authentik_url is not None and not (isinstance(authentik_url, str) and authentik_url.startswith("https://")):
        raise AnsibleFilterError("authentik_blueprint: authentik_url: must be an https:// URL, got %r" % (authentik_url,))
    return blueprint_format.dump(blueprint_format.applications_blueprint(applications, authentik_url))


class FilterModule:
    """The authentik_blueprint filter."""

    def filters(self):
        return {"authentik_blueprint": authentik_blueprint}

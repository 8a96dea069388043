# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.module_utils import grafana
from ansible_collections.homelab.stack.plugins.plugin_utils import yaml_text
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import monitoring
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.grafana_view import NAME, grafana_view

DOCUMENTATION = r"""
name: grafana_provisioning
short_description: Grafana's provisioning files and settings file, from the catalog
version_added: 0.1.0
description:
  - Returns the files the monitoring role writes into the host directory of the catalog's C(platform=grafana)
    entry (mounted read-only at C(/etc/grafana/provisioning)), as a mapping of path relative to that directory to
    file text, or C({}) when the catalog has no present Grafana entry.
  - >-
    C(datasources/homelab.yml) - Prometheus (the default datasource, uid C(prometheus)) at
    C(http://<prometheus entry>:9090), Alertmanager (type C(alertmanager), implementation C(prometheus), uid
    C(alertmanager)) at C(http://<alertmanager entry>:9093) when the catalog has one, and Loki (uid C(loki)) at
    C(http://<loki entry>:3100) when the catalog has a C(platform=loki) entry. Grafana runs beside Prometheus and
    reaches each by container name. The document is checked before it is returned - C(apiVersion) 1, every
    datasource with C(name), C(type), C(access), C(url) and C(uid), names and uids unique, one default.
  - C(dashboards/homelab.yml) - a file provider for every dashboard JSON file in
    C(/etc/grafana/provisioning/dashboards), in the folder C(homelab), not editable from the UI.
  - >-
    C(grafana.ini) - C([server] root_url) (the route's URL) and, when the entry has C(oidc), Authentik's
    endpoints at its route (C(https://<authentik route>/application/o/authorize/), C(token/), C(userinfo/)) and
    the sign-out of Grafana's application there. Everything else is in the container's environment, which the
    catalog gives the entry (C(GF_PATHS_CONFIG) names this file).
  - >-
    Fails with C(service <name>: oidc: ...) when the Grafana entry has C(oidc) but the catalog has no Authentik
    entry with a route.
positional: domain
options:
  domain:
    description: The homelab's domain (C(homelab_domain)); routes are C(<subdomain>.<domain>).
    type: str
    required: true
seealso:
  - plugin: homelab.stack.platform_service
    plugin_type: filter
  - plugin: homelab.stack.validate_catalog
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Write Grafana's provisioning files
  ansible.builtin.copy:
    content: "{{ item.value }}"
    dest: /etc/homelab/grafana/{{ item.key }}
    mode: "0644"
  loop: "{{ homelab_catalog | homelab.stack.grafana_provisioning(homelab_domain) | dict2items }}"

# With {name: prometheus, platform: prometheus}, {name: alertmanager, platform: alertmanager} and
# {name: grafana, platform: grafana, route: {auth: none}, ...} on one host, datasources/homelab.yml is
#   apiVersion: 1
#   datasources:
#   - name: Prometheus
#     type: prometheus
#     uid: prometheus
#     access: proxy
#     url: http://prometheus:9090
#     isDefault: true
#     editable: false
#   - name: Alertmanager
#     type: alertmanager
#     ...
"""

RETURN = r"""
_value:
  description: Path under the provisioning directory to the file's text - C(datasources/homelab.yml),
    C(dashboards/homelab.yml) and C(grafana.ini); empty without a Grafana entry.
  type: dict
"""


def grafana_provisioning(catalog, domain):
    """The filter: the files of the catalog's Grafana entry, path to text."""
    view = grafana_view(catalog, domain)
    if view is None:
        return {}
    try:
        return {
            grafana.DATASOURCES_FILE: yaml_text.dump(grafana.datasources(view["prometheus"], view["alertmanager"],
                                                                         view["loki"])),
            grafana.DASHBOARDS_FILE: yaml_text.dump(grafana.dashboard_provider(monitoring.GRAFANA_DASHBOARDS_DIR)),
            grafana.SETTINGS_FILE: grafana.settings(view["root_url"], view["sign_in"]),
        }
    except grafana.GrafanaError as exc:
        raise AnsibleFilterError("%s: %s" % (NAME, exc)) from None


class FilterModule:
    """The grafana_provisioning filter."""

    def filters(self):
        return {"grafana_provisioning": grafana_provisioning}

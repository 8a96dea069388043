# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.module_utils import loki
from ansible_collections.homelab.stack.plugins.plugin_utils import yaml_text

DOCUMENTATION = r"""
name: loki_config
short_description: Loki's configuration file for one single-binary Loki
version_added: 0.1.0
description:
  - Returns the text of Loki's configuration file for the catalog's C(platform=loki) entry; its input is ignored
    (call it on anything, e.g. C({})).
  - One process runs every component, without tenants (C(auth_enabled=false)), its HTTP port O(port) (push API,
    queries, C(/ready), C(/metrics)), chunks and index on the filesystem under O(data_dir) with the C(tsdb) index
    and schema C(v13), a ring in memory and one replica.
  - Logs older than O(retention) are deleted by the compactor; no usage reports are sent to Grafana Labs.
  - "Bad input fails naming the field, e.g. C(loki_config: retention: '36h' is not a whole number of days ...)."
options:
  _input:
    description: Not used.
    type: raw
    required: true
  retention:
    description: How long logs are kept, a whole number of days given as C(<n>d) or C(<n>h).
    type: str
    default: 744h
  port:
    description: Loki's HTTP port.
    type: int
    default: 3100
  data_dir:
    description: Where Loki keeps its data, as the container sees it (the entry's volume).
    type: str
    default: /loki
seealso:
  - plugin: homelab.stack.alloy_config
    plugin_type: filter
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Write Loki's configuration
  ansible.builtin.copy:
    content: "{{ {} | homelab.stack.loki_config(retention='31d') }}"
    dest: /etc/homelab/loki/loki.yaml
    mode: "0644"

# gives, among its keys,
#   auth_enabled: false
#   schema_config:
#     configs:
#     - {from: '2024-04-01', store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}
#   limits_config: {retention_period: 744h}
#   compactor: {working_directory: /loki/compactor, retention_enabled: true, delete_request_store: filesystem}
"""

RETURN = r"""
_value:
  description: The text of Loki's configuration file (C(auth_enabled), C(server), C(common), C(schema_config),
    C(limits_config), C(compactor), C(analytics)).
  type: str
"""


def loki_config(_input=None, retention=loki.DEFAULT_RETENTION, port=loki.HTTP_PORT, data_dir=loki.DATA_DIR):
    """The filter: the file as YAML text; bad input fails naming the field."""
    try:
        return yaml_text.dump(loki.loki_config(retention=retention, port=port, data_dir=data_dir))
    except loki.ConfigError as exc:
        raise AnsibleFilterError("loki_config: %s" % exc) from None


class FilterModule:
    """The loki_config filter."""

    def filters(self):
        return {"loki_config": loki_config}

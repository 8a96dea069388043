# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.module_utils import alloy

DOCUMENTATION = r"""
name: alloy_config
short_description: A host's Grafana Alloy configuration, its journal shipped to Loki
version_added: 0.1.0
description:
  - Returns the text of C(config.alloy) (Alloy's configuration syntax) for the host given as input.
  - C(loki.source.journal) reads the host's systemd journal (the units, and the containers, which Podman's journald
    log driver writes there) from O(max_age) back; C(loki.relabel) keeps the journal's unit, container name and
    priority as the labels C(unit), C(container) and C(level); every line gets the label C(host), the input.
  - C(loki.write) pushes to O(loki_url), Loki's push API as the host reaches it (over the mesh).
  - Every string is written as an Alloy string literal with backslashes, quotes and control characters escaped,
    and every component a reference names is defined in the file.
  - "Bad input fails naming the field, e.g. C(alloy_config: loki_url: must be http(s)://<host>:<port>/loki/api/v1/push, ...)."
options:
  _input:
    description: The host's inventory name (the C(host) label).
    type: str
    required: true
  loki_url:
    description: Loki's push API, C(http://<Loki's mesh address>:3100/loki/api/v1/push).
    type: str
    required: true
  max_age:
    description: How far back in the journal a new agent starts, an Alloy duration.
    type: str
    default: 12h
seealso:
  - plugin: homelab.stack.loki_config
    plugin_type: filter
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Write this host's Alloy configuration
  ansible.builtin.copy:
    content: "{{ inventory_hostname | homelab.stack.alloy_config(loki_url='http://100.64.0.10:3100/loki/api/v1/push') }}"
    dest: /etc/homelab/alloy/config.alloy
    mode: "0644"

# gives for kronos, after the relabel rules,
#   loki.source.journal "journal" {
#     max_age       = "12h"
#     relabel_rules = loki.relabel.journal.rules
#     labels        = {
#       host = "kronos",
#     }
#     forward_to    = [loki.write.loki.receiver]
#   }
#
#   loki.write "loki" {
#     endpoint {
#       url = "http://100.64.0.10:3100/loki/api/v1/push"
#     }
#   }
"""

RETURN = r"""
_value:
  description: The text of C(config.alloy), the blocks C(loki.relabel), C(loki.source.journal) and C(loki.write).
  type: str
"""


def alloy_config(host, loki_url=None, max_age=alloy.DEFAULT_MAX_AGE):
    """The filter: the file's text; bad input fails naming the field."""
    try:
        return alloy.alloy_config(host, loki_url, max_age=max_age)
    except alloy.ConfigError as exc:
        raise AnsibleFilterError("alloy_config: %s" % exc) from None


class FilterModule:
    """The alloy_config filter."""

    def filters(self):
        return {"alloy_config": alloy_config}

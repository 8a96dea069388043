# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.module_utils import alertmanager
from ansible_collections.homelab.stack.plugins.plugin_utils import yaml_text

DOCUMENTATION = r"""
name: alertmanager_config
short_description: Alertmanager's configuration file for the user's receivers
version_added: 0.1.0
description:
  - Turns a list of receivers in a short form into the text of C(alertmanager.yml).
  - Alerts are grouped by C(alertname) and C(instance) and routed by C(severity) label, C(critical) to the
    receiver named O(critical) and C(warning) to O(warning); any other alert goes to O(critical).
  - Warnings are inhibited while C(NodeDown) fires for the same C(host) label (every target of a host carries
    it, while C(instance) differs between a node and a route probe).
  - C(ntfy) and C(webhook) receivers become C(webhook_configs) (Alertmanager posts its JSON alert to the URL),
    with the bearer token read from C(token_file) when given. An ntfy topic URL gets ntfy's message templates
    in its query (C(tpl=1), a title with the status, alert name and instance, a message with each alert's
    summary; ntfy 2.10 and later), unless the URL already has C(tpl) or C(template).
    C(email) receivers become C(email_configs) through C(smarthost), the password read from
    C(auth_password_file) (Alertmanager 0.25 and later read it from the file).
  - No secret is ever written into the file; a field such as C(auth_password) or C(token), or a URL with a user
    or password, is refused.
    The URL is written as given, so an ntfy topic that must stay private wants a token as well.
  - "Bad input fails naming the field, e.g. C(receivers[1].url: required for type webhook): a missing field,
    an unknown type, a receiver name used twice, or O(critical) or O(warning) naming no receiver."
options:
  _input:
    description:
      - The receivers, each C({name, type}) and by type
        C(ntfy) or C(webhook) C({url, token_file, send_resolved}) (C(url) required), or
        C(email) C({to, from, smarthost, auth_username, auth_password_file, require_tls, send_resolved})
        (C(to), C(from) and C(smarthost) required; C(to) a string or a list; C(auth_username) and
        C(auth_password_file) together or not at all).
      - C(send_resolved) and C(require_tls) default to true.
    type: list
    elements: dict
    required: true
  critical:
    description: Name of the receiver of critical alerts (and of alerts without a known severity).
    type: str
    required: true
  warning:
    description: Name of the receiver of warnings.
    type: str
    required: true
  group_wait:
    description: How long a new group waits for more alerts before it is sent.
    type: str
    default: 30s
  group_interval:
    description: How long before a group that changed is sent again.
    type: str
    default: 5m
  repeat_interval:
    description: How long before an unchanged group that still fires is sent again.
    type: str
    default: 4h
seealso:
  - plugin: homelab.stack.prometheus_config
    plugin_type: filter
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Write alertmanager.yml
  ansible.builtin.copy:
    content: "{{ monitoring_receivers | homelab.stack.alertmanager_config(critical='phone', warning='mail') }}"
    dest: /etc/homelab/alertmanager/alertmanager.yml
    mode: "0640"
    validate: amtool check-config %s
  vars:
    monitoring_receivers:
      - {name: phone, type: ntfy, url: "https://ntfy.sh/homelab-alerts", token_file: /etc/alertmanager/ntfy-token}
      - name: mail
        type: email
        to: admin@example.com
        from: alertmanager@example.com
        smarthost: smtp.example.com:587
        auth_username: alertmanager@example.com
        auth_password_file: /etc/alertmanager/smtp-password

# gives the route
#   route:
#     receiver: phone
#     group_by: [alertname, instance]
#     routes:
#     - {matchers: ['severity="critical"'], receiver: phone}
#     - {matchers: ['severity="warning"'], receiver: mail}
#   inhibit_rules:
#   - {source_matchers: ['alertname="NodeDown"'], target_matchers: ['severity="warning"'], equal: [host]}
"""

RETURN = r"""
_value:
  description: The text of C(alertmanager.yml) (C(route), C(inhibit_rules), C(receivers)).
  type: str
"""


def alertmanager_config(receivers, critical, warning, group_wait="30s", group_interval="5m", repeat_interval="4h"):
    """The filter: the file as YAML text; bad input fails naming the field."""
    try:
        config = alertmanager.alertmanager_config(receivers, critical, warning, group_wait=group_wait,
                                                  group_interval=group_interval, repeat_interval=repeat_interval)
    except alertmanager.ConfigError as exc:
        raise AnsibleFilterError("alertmanager_config: %s" % exc) from None
    return yaml_text.dump(config)


class FilterModule:
    """The alertmanager_config filter."""

    def filters(self):
        return {"alertmanager_config": alertmanager_config}

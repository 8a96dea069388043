# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.homelab.stack.plugins.module_utils.tailscale_settings import setting_problems

DOCUMENTATION = r"""
name: tailscale_setting_problems
short_description: What is wrong with a Tailscale node's settings, before anything runs
version_added: 0.1.0
description:
  - Checks settings of the C(homelab.stack.tailscale_node) module with the module's own rules
    and gives one message per broken rule, so that a play can refuse bad input before it
    installs or changes anything (the C(tailscale) role's validation does).
  - "The rules: each of O(_input.advertise_routes) is a network address with its prefix length
    (a single address is a host route) and not a default route; each of
    O(_input.advertise_tags) is C(tag:<name>), the name a letter followed by letters, digits or
    dashes; O(_input.login_server) is an C(https://) or C(http://) URL; O(_input.timeout) is
    positive; O(_input.exit_node) is not set together with O(_input.advertise_exit_node=true)."
  - An option that is missing or V(null) is not set and not checked.
options:
  _input:
    description: The settings, named like the options of C(homelab.stack.tailscale_node).
    type: dict
    required: true
    suboptions:
      advertise_routes:
        description: Subnet routes to advertise.
        type: list
        elements: str
      advertise_tags:
        description: ACL tags to advertise.
        type: list
        elements: str
      advertise_exit_node:
        description: Whether the node offers itself as an exit node.
        type: bool
      exit_node:
        description: The exit node to use; an empty string uses none.
        type: str
      login_server:
        description: The control server URL.
        type: str
      timeout:
        description: Seconds C(tailscale up) may wait.
        type: int
  prefix:
    description:
      - Put before every option name in the messages, so that they name the variables the
        user wrote; the C(tailscale) role gives V(tailscale_).
    type: str
    default: ""
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Refuse bad Tailscale settings before installing anything
  vars:
    problems: >-
      {{ {'advertise_routes': tailscale_advertise_routes, 'advertise_tags': tailscale_advertise_tags,
          'advertise_exit_node': tailscale_advertise_exit_node, 'exit_node': tailscale_exit_node,
          'login_server': tailscale_login_server, 'timeout': tailscale_timeout}
         | homelab.stack.tailscale_setting_problems(prefix='tailscale_') }}
  ansible.builtin.assert:
    that: problems == []
    fail_msg: "{{ problems | join('; ') }}"
    quiet: true

# {'advertise_routes': ['10.0.1.5/24']} | homelab.stack.tailscale_setting_problems gives
# ["advertise_routes: '10.0.1.5/24' is not a valid network address in CIDR form: write the
#   network with its prefix length, e.g. 10.0.1.0/24"]
"""

RETURN = r"""
_value:
  description: One message per broken rule, each starting with the option's name; empty when all hold.
  type: list
  elements: str
"""


def tailscale_setting_problems(settings, prefix=""):
    """The module_utils rules applied to settings as Ansible variables hold them."""
    if not isinstance(settings, dict):
        raise AnsibleFilterError("tailscale_setting_problems: expects a dict of settings, got %s" % type(settings).__name__)
    settings = dict(settings)
    try:
        # Variables may hold YAML's spellings of these types ("yes", "60"); the module gets them converted.
        if settings.get("advertise_exit_node") is not None:
            settings["advertise_exit_node"] = boolean(settings["advertise_exit_node"])
        if settings.get("timeout") is not None:
            settings["timeout"] = int(settings["timeout"])
    except (TypeError, ValueError) as error:
        raise AnsibleFilterError("tailscale_setting_problems: %s" % error) from None
    return setting_problems(settings, prefix=prefix)


class FilterModule:
    """The tailscale_setting_problems filter."""

    def filters(self):
        return {"tailscale_setting_problems": tailscale_setting_problems}

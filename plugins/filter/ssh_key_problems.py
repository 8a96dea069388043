# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.module_utils.ssh_public_key import user_key_problems

DOCUMENTATION = r"""
name: ssh_key_problems
short_description: The admin users' SSH keys that are not usable public keys
version_added: 0.1.0
description:
  - Checks each key of each user as one C(authorized_keys) line - C(<type> <base64> [comment]) - whose
    decoded data starts with the same key type; refuses private keys, DSA keys, RSA keys under 2048 bits,
    truncated or mistyped keys.
  - Returns one message per bad key, naming the list item and the user but never repeating the key.
  - The base role's preflight fails on any, before any change.
options:
  _input:
    description: The users, C([{name, keys}]).
    type: list
    elements: dict
    required: true
  variable:
    description: The variable named in the messages.
    type: str
    default: base_admin_users
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Refuse keys that are not keys
  ansible.builtin.assert:
    that: base_key_problems | length == 0
    fail_msg: "{{ base_key_problems | join('; ') }}"
  vars:
    base_key_problems: "{{ base_admin_users | homelab.stack.ssh_key_problems }}"
"""

RETURN = r"""
_value:
  description: "One message per bad key, C(<variable>[i].keys[j] (user <name>): <problem>); empty when all are keys."
  type: list
  elements: str
"""


class FilterModule:
    """The ssh_key_problems filter."""

    def filters(self):
        return {"ssh_key_problems": user_key_problems}

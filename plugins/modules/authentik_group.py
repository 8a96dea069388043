#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: authentik_group
short_description: Make an Authentik group exist with the given settings, or not exist
version_added: 0.1.0
description:
  - Finds the group by its name (C(GET /api/v3/core/groups/?name=)) and creates, changes or deletes it
    so that it matches the options.
  - Only the settings given are compared; an option left unset is left as Authentik has it.
  - Members are not managed here; Authentik's other group fields (parents, roles, users) are kept.
author:
  - homelab.stack maintainers (@homelab-stack)
extends_documentation_fragment:
  - homelab.stack.authentik
  - homelab.stack.api_connection
attributes:
  check_mode:
    support: full
    description: Reads the group and reports what would change; sends no write request.
  diff_mode:
    support: full
    description: Shows the group's name, O(is_superuser) and O(attributes) before and after.
options:
  name:
    description: Name of the group; unique in Authentik.
    type: str
    required: true
  state:
    description: V(present) creates or updates the group, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  is_superuser:
    description: Whether members of the group are superusers. New groups get V(false) when unset.
    type: bool
  attributes:
    description:
      - The group's attributes, replaced as a whole (keys not given are removed).
      - Unset leaves the attributes alone.
    type: dict
"""

EXAMPLES = r"""
- name: The admins group, whose members administer Authentik
  homelab.stack.authentik_group:
    api_url: https://auth.example.com
    api_token: "{{ vault_authentik_token }}"
    name: admins
    is_superuser: true

- name: Groups from a list, the connection set once
  module_defaults:
    group/homelab.stack.authentik:
      api_url: https://auth.example.com
      api_token: "{{ vault_authentik_token }}"
  block:
    - name: Family members
      homelab.stack.authentik_group:
        name: family
        attributes:
          quota_gb: 50

    - name: No more guests
      homelab.stack.authentik_group:
        name: guests
        state: absent
"""

RETURN = r"""
group:
  description: The group after the task (predicted in check mode; V(null) when absent).
  returned: always
  type: dict
  sample:
    pk: 1b1a6a49-4f8b-4b6e-9d4e-7b0f0f0c1a2b
    name: admins
    is_superuser: true
    attributes: {}
diff:
  description: The managed settings before and after.
  returned: when diff mode is on
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.homelab.stack.plugins.module_utils.authentik import (
    AuthentikError,
    api_argument_spec,
    changed_fields,
    client_from_module,
    fail_json_from,
    segment,
)

GROUPS = "/core/groups/"
SETTINGS = ("is_superuser", "attributes")


def group_view(group):
    """The managed settings of an API group object (None stays None)."""
    if group is None:
        return None
    return {"pk": group.get("pk"), "name": group["name"], "is_superuser": bool(group.get("is_superuser")),
            "attributes": group.get("attributes") or {}}


def plan(params, current):
    """(before, after, request) for a group; ``current`` is the API object or None.

    ``request`` is None (nothing to do) or (method, body): ("POST", body), ("PATCH", body)
    or ("DELETE", None).
    """
    before = group_view(current)
    if params["state"] == "absent":
        return before, None, ("DELETE", None) if current is not None else None
    desired = {name: params[name] for name in SETTINGS if params.get(name) is not None}
    if current is None:
        body = dict(desired, name=params["name"])
        after = {"pk": None, "name": params["name"], "is_superuser": bool(desired.get("is_superuser")),
                 "attributes": desired.get("attributes", {})}
        return before, after, ("POST", body)
    body = changed_fields(before, desired)
    after = dict(before, **desired)
    return before, after, ("PATCH", body) if body else None


def diff_view(state):
    """What diff mode shows of a group: its settings without the pk."""
    return {key: value for key, value in state.items() if key != "pk"} if state else {}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            api_argument_spec(),
            name=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            is_superuser=dict(type="bool"),
            attributes=dict(type="dict"),
        ),
        supports_check_mode=True,
    )
    if not module.params["name"].strip():
        module.fail_json(msg="name: must not be empty")
    client = client_from_module(module)
    try:
        current = client.group(module.params["name"])
        before, after, request = plan(module.params, current)
        if request and not module.check_mode:
            method, body = request
            if method == "POST":
                after = group_view(client.create(GROUPS, body))
            elif method == "PATCH":
                after = group_view(client.update("%s%s/" % (GROUPS, segment(current["pk"])), body))
            else:
                client.delete("%s%s/" % (GROUPS, segment(current["pk"])))
    except AuthentikError as error:
        fail_json_from(module, error)
        return
    result = dict(changed=request is not None, group=after)
    if module._diff:
        result["diff"] = dict(before=diff_view(before), after=diff_view(after))
    module.exit_json(**result)


if __name__ == "__main__":
    main()

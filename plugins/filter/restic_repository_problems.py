# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.module_utils.restic import (
    ResticError, check_env, location_secrets, parse_repository)

DOCUMENTATION = r"""
name: restic_repository_problems
short_description: What is wrong with a list of restic repositories, before anything is changed
version_added: 0.1.0
description:
  - Checks each repository the way P(homelab.stack.restic_repository#module) would, without
    running restic, so that a role can refuse bad input before it changes anything - a location
    of an unknown scheme, a location carrying a password (it would end up in a file that is not
    secret; give it in C(env) as C(RESTIC_REST_PASSWORD)), a bad or reserved C(env) name,
    a name used twice.
  - Part of the C(homelab.stack.backup) role's internals.
options:
  _input:
    description: Repositories, each a dict with C(name), C(url) and optional C(env).
    type: list
    elements: dict
    required: true
  field:
    description: The variable the list comes from, for the messages.
    type: str
    default: repositories
positional: field
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Refuse bad repositories
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: "{{ backup_extra_repositories | homelab.stack.restic_repository_problems('backup_extra_repositories') }}"
"""

RETURN = r"""
_value:
  description: One message per problem, naming the entry (C(<field>[<index>].<key>)); empty when all is well.
  type: list
  elements: str
"""


def restic_repository_problems(repositories, field="repositories"):
    """Messages for the problems of ``repositories``, each naming its entry and key."""
    if not isinstance(repositories, list):
        raise AnsibleFilterError("restic_repository_problems: %s: must be a list" % field)
    problems, names = [], {}
    for index, repository in enumerate(repositories):
        where = "%s[%d]" % (field, index)
        if not isinstance(repository, Mapping):
            problems.append("%s: must be a mapping with name and url" % where)
            continue
        name = repository.get("name")
        if not isinstance(name, str) or not name:
            problems.append("%s.name: is required" % where)
        elif name in names:
            problems.append("%s.name: %s is already the name of %s[%d]" % (where, name, field, names[name]))
        else:
            names[name] = index
        url = repository.get("url")
        if not isinstance(url, str):
            problems.append("%s.url: is required" % where)
            continue
        try:
            backend, _location = parse_repository(url)
        except ResticError as error:
            problems.append("%s.url: %s" % (where, str(error).split(": ", 1)[-1]))
            continue
        if location_secrets(url):
            problems.append("%s.url: carries a password; give it in env (RESTIC_REST_PASSWORD) instead" % where)
        env = repository.get("env") or {}
        if not isinstance(env, Mapping):
            problems.append("%s.env: must be a mapping of variable names to values" % where)
            continue
        problems += ["%s.%s" % (where, problem) for problem in check_env(env, backend)]
    return problems


class FilterModule:
    """The restic_repository_problems filter."""

    def filters(self):
        return {"restic_repository_problems": restic_repository_problems}

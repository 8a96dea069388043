#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: semaphore_project
short_description: A Semaphore UI project with its keys, repositories, inventories, environments, templates and schedules
version_added: 0.1.0
description:
  - Makes a Semaphore UI project, found by O(name), hold the declared objects. Every object is declared and referred to
    by name; the module resolves the ids Semaphore uses.
  - Objects are compared with what Semaphore has and only those that differ are written, in the order Semaphore needs
    (keys, repositories, inventories, environments, templates, schedules). A C(PUT) replaces the whole object in
    Semaphore, so an update sends every field; fields the module does not manage are carried over as Semaphore has them.
  - Secrets (key passwords, private keys, passphrases and environment secrets) are write-only in Semaphore and cannot
    be compared; see O(update_secrets).
  - Objects of the project that are not declared are left alone unless O(purge=true).
  - Everything is checked before the first request is sent (names unique per kind, every reference declared, key
    types, cron expressions and, with O(playbook_root), that every template's playbook exists).
  - A new project comes with Semaphore's own key C(None) (type C(none)) and environment C(Empty); declare them to use
    them, or O(purge) removes them.
author:
  - homelab.stack maintainers (@homelab-stack)
extends_documentation_fragment:
  - homelab.stack.semaphore
  - homelab.stack.api_connection
attributes:
  check_mode:
    support: full
    description: Reads the project and reports what would change; sends no write request.
  diff_mode:
    support: full
    description: Shows each managed object before and after, secrets as C(<secret>).
options:
  name:
    description: Name of the project.
    type: str
    required: true
  state:
    description:
      - V(present) creates the project if needed and makes its objects match.
      - V(absent) deletes the project and everything in it, only together with O(remove_project=true).
    type: str
    choices: [present, absent]
    default: present
  remove_project:
    description: Confirms O(state=absent); without it the task fails and nothing is deleted.
    type: bool
    default: false
  purge:
    description:
      - Delete the objects of the project that are not declared (schedules, templates, inventories, environments,
        repositories, keys) and the secrets of declared environments that are not declared.
      - Off, undeclared objects and secrets are left alone.
    type: bool
    default: false
  update_secrets:
    description:
      - V(on_create) sends a secret only when its key or environment secret is created (or a key changes type).
      - V(always) sends every declared secret on every run, so that a changed secret reaches Semaphore; the task then
        reports a change on every run, since Semaphore cannot tell whether the secret differs.
    type: str
    choices: [on_create, always]
    default: on_create
  playbook_root:
    description:
      - A local checkout of the repository the templates run. When set, every template's O(templates[].playbook) must
        be a file below it, or the task fails naming the template before any change.
    type: path
  keys:
    description:
      - Access keys of the project.
      - O(keys[].type) is one of V(ssh) (a private key to reach hosts or clone a repository), V(login_password) (a
        password; the type Semaphore uses as an Ansible vault password) or V(none).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the key.
        type: str
        required: true
      type:
        description: V(ssh), V(login_password) or V(none); any other type fails naming the key.
        type: str
        required: true
      login:
        description:
          - User name of an V(ssh) or V(login_password) key.
          - Semaphore keeps it inside the write-only secret, so a changed login reaches Semaphore only when the secret is sent (see
            O(update_secrets)).
        type: str
      private_key:
        description: The private key (PEM or OpenSSH text) of an V(ssh) key. Required with V(ssh).
        type: str
      passphrase:
        description: Passphrase of the private key of an V(ssh) key.
        type: str
      password:
        description: The password of a V(login_password) key. Required with V(login_password).
        type: str
  repositories:
    description: Git repositories of the project.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the repository.
        type: str
        required: true
      url:
        description: Git URL, for example V(https://git.example.com/me/homelab.git) or V(git@example.com:me/homelab.git).
        type: str
        required: true
      branch:
        description: Branch to check out.
        type: str
        default: main
      key:
        description: Name of the declared key used to clone (a V(none) key for a public repository).
        type: str
        required: true
  inventories:
    description: Inventories of the project.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the inventory.
        type: str
        required: true
      type:
        description: V(file) (a path in a repository), V(static) (INI text) or V(static-yaml) (YAML text).
        type: str
        choices: [file, static, static-yaml]
        default: file
      path:
        description: Path of the inventory file or directory in the repository. Required with V(file).
        type: str
      content:
        description: The inventory text. Required with V(static) and V(static-yaml).
        type: str
      repository:
        description: Name of the declared repository that holds the file; by default the template's own repository.
        type: str
      key:
        description: Name of the declared key Ansible connects to the hosts with.
        type: str
      become_key:
        description: Name of the declared V(login_password) key used to become another user.
        type: str
  environments:
    description: Environments (variable groups) of the project.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the environment.
        type: str
        required: true
      extra_vars:
        description: Extra variables given to C(ansible-playbook --extra-vars) as JSON.
        type: dict
        default: {}
      env:
        description: Environment variables of the task (not secret; shown in Semaphore).
        type: dict
        default: {}
      secrets:
        description: Secret variables, write-only in Semaphore (see O(update_secrets)).
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: Name of the variable, for example V(SOPS_AGE_KEY).
            type: str
            required: true
          value:
            description: The secret value.
            type: str
            required: true
          type:
            description: V(env) for an environment variable of the task, V(var) for an extra variable.
            type: str
            choices: [env, var]
            default: env
  templates:
    description: Task templates of the project (Ansible playbooks).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the template.
        type: str
        required: true
      playbook:
        description: Path of the playbook in the repository, for example V(playbooks/site.yml).
        type: str
        required: true
      inventory:
        description: Name of the declared inventory.
        type: str
        required: true
      repository:
        description: Name of the declared repository.
        type: str
        required: true
      environment:
        description: Name of the declared environment.
        type: str
        required: true
      vault_key:
        description: Name of the declared V(login_password) key whose password opens the Ansible vault.
        type: str
      arguments:
        description: Extra command-line arguments of C(ansible-playbook), for example V([--diff]).
        type: list
        elements: str
        default: []
      description:
        description: Description shown in Semaphore.
        type: str
        default: ""
      survey:
        description: Variables Semaphore asks for when a task starts.
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: Name of the extra variable.
            type: str
            required: true
          title:
            description: Label of the field; by default the name.
            type: str
          description:
            description: Help text of the field.
            type: str
            default: ""
          type:
            description: V(string), V(int), V(enum) or V(secret).
            type: str
            choices: [string, int, enum, secret]
            default: string
          required:
            description: Whether a value must be given.
            type: bool
            default: false
          values:
            description: The choices of an V(enum), each C({name, value}).
            type: list
            elements: dict
            default: []
  schedules:
    description: Schedules that start a template at times given as cron.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the schedule.
        type: str
        required: true
      template:
        description: Name of the declared template to start.
        type: str
        required: true
      cron:
        description:
          - When, as five cron fields (minute hour day-of-month month day-of-week) or a descriptor such as V(@daily),
            in Semaphore's time zone. Checked as Semaphore parses it (robfig/cron) before any change.
        type: str
        required: true
      active:
        description: Whether the schedule runs.
        type: bool
        default: true
notes:
  - Semaphore UI cannot run where this collection is tested; the module is tested against a fake Semaphore that checks
    every request against Semaphore 2.16's API description (C(api-docs.yml)) and keeps state as Semaphore does.
  - The project's schedules are read with C(GET /api/project/{id}/schedules), which Semaphore serves but its API
    description does not list.
"""

EXAMPLES = r"""
- name: The homelab project, run from Semaphore
  homelab.stack.semaphore_project:
    api_url: https://semaphore.example.com
    api_token: "{{ vault_semaphore_token }}"
    name: homelab
    playbook_root: "{{ playbook_dir }}/.."
    keys:
      - {name: None, type: none}
      - name: deploy
        type: ssh
        login: ansible
        private_key: "{{ vault_deploy_ssh_key }}"
      - name: vault
        type: login_password
        password: "{{ vault_password }}"
    repositories:
      - {name: homelab, url: "https://git.example.com/me/homelab.git", branch: main, key: None}
    inventories:
      - {name: site, path: inventory/hosts.yml, key: deploy}
    environments:
      - name: site
        extra_vars: {homelab_domain: lab.example.com}
        secrets:
          - {name: SOPS_AGE_KEY, value: "{{ vault_age_key }}"}
    templates:
      - {name: site, playbook: playbooks/site.yml, inventory: site, repository: homelab, environment: site, vault_key: vault}
      - {name: verify, playbook: playbooks/verify.yml, inventory: site, repository: homelab, environment: site}
    schedules:
      - {name: verify daily, template: verify, cron: "30 6 * * *"}

- name: Send the secrets again (after rotating the age key)
  homelab.stack.semaphore_project:
    name: homelab
    update_secrets: always
    environments:
      - name: site
        secrets:
          - {name: SOPS_AGE_KEY, value: "{{ vault_age_key }}"}

- name: Remove the project and everything in it
  homelab.stack.semaphore_project:
    name: homelab
    state: absent
    remove_project: true
"""

RETURN = r"""
project:
  description: The project after the task; C(id) is V(null) when it is still to be created (check mode) or was removed.
  returned: always
  type: dict
  sample: {id: 3, name: homelab}
ids:
  description: Semaphore's id of each declared object by kind and name (V(null) when not created yet).
  returned: when O(state=present)
  type: dict
  sample: {key: {deploy: 4}, repository: {homelab: 1}, template: {site: 2}}
requests:
  description: The write requests sent (or that would be sent in check mode), as C(METHOD path (kind name)).
  returned: always
  type: list
  elements: str
  sample: ["POST /api/project/3/keys (key deploy)", "PUT /api/project/3/templates/2 (template site)"]
diff:
  description: The managed objects before and after by kind and name, secrets as C(<secret>).
  returned: when diff mode is on
  type: dict
"""

import copy
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.homelab.stack.plugins.module_utils.semaphore import (
    KEY_TYPES,
    KINDS,
    NEW_PROJECT_ENVIRONMENTS,
    NEW_PROJECT_KEYS,
    NEW_SECRET,
    SECRET,
    SURVEY_TYPES,
    SemaphoreError,
    api_argument_spec,
    client_from_module,
    collection_path,
    cron_problem,
    json_text,
    object_path,
    parsed_json,
)

# Option lists by kind, and the template fields that name other objects.
OPTION = {"key": "keys", "repository": "repositories", "inventory": "inventories", "environment": "environments",
          "template": "templates", "schedule": "schedules"}
REFERENCES = {
    "repository": (("key", "key"),),
    "inventory": (("key", "key"), ("become_key", "key"), ("repository", "repository")),
    "template": (("inventory", "inventory"), ("repository", "repository"), ("environment", "environment"),
                 ("vault_key", "key")),
    "schedule": (("template", "template"),),
}
# Template fields of Semaphore's TemplateRequest the module does not manage: carried over on PUT.
TEMPLATE_CARRIED = ("allow_override_args_in_task", "suppress_success_alerts", "git_branch", "view_id", "type",
                    "start_version", "build_template_id", "autorun")


class SettingError(Exception):
    """A problem with the options; the message names the object and the field."""


class Ref(tuple):
    """Stands in a planned body for the id of the object ``(kind, name)``, known once it exists."""

    def __new__(cls, kind, name):
        return tuple.__new__(cls, (kind, name))


# Checks of the options, before any request

def check(params, isfile=os.path.isfile, isdir=os.path.isdir):
    """Raise SettingError for the first problem of the declared objects (no request is needed)."""
    declared = {}
    for kind in KINDS:
        names = declared[kind] = {}
        for item in params.get(OPTION[kind]) or []:
            name = item.get("name")
            if not name:
                raise SettingError("%s: an item has no name" % OPTION[kind])
            if name in names:
                raise SettingError("%s %s: declared twice in %s" % (kind, name, OPTION[kind]))
            names[name] = item
    for name, key in declared["key"].items():
        if key.get("type") not in KEY_TYPES:
            raise SettingError("key %s: type: %r is not one of %s" % (name, key.get("type"), ", ".join(KEY_TYPES)))
        needed = {"ssh": "private_key", "login_password": "password"}.get(key["type"])
        if needed and not key.get(needed):
            raise SettingError("key %s: %s: required with type %s" % (name, needed, key["type"]))
    for kind, fields in REFERENCES.items():
        for name, item in declared[kind].items():
            for field, target in fields:
                wanted = item.get(field)
                if wanted is not None and wanted not in declared[target]:
                    raise SettingError("%s %s: %s: %r is not declared in %s" % (kind, name, field, wanted, OPTION[target]))
    for name, item in declared["template"].items():
        vault = item.get("vault_key")
        if vault is not None and declared["key"][vault]["type"] != "login_password":
            raise SettingError("template %s: vault_key: key %r is of type %s; a vault password is a login_password key"
                               % (name, vault, declared["key"][vault]["type"]))
        for variable in item.get("survey") or []:
            if (variable.get("type") or "string") == "enum" and not variable.get("values"):
                raise SettingError("template %s: survey: %s: an enum needs values" % (name, variable.get("name")))
    for name, item in declared["inventory"].items():
        kind = item.get("type") or "file"
        field = "path" if kind == "file" else "content"
        if not item.get(field):
            raise SettingError("inventory %s: %s: required with type %s" % (name, field, kind))
    for name, item in declared["schedule"].items():
        problem = cron_problem(item.get("cron"))
        if problem:
            raise SettingError("schedule %s: cron: %s" % (name, problem))
    root = params.get("playbook_root")
    if root:
        if not isdir(root):
            raise SettingError("playbook_root: %s is not a directory" % root)
        for name, item in declared["template"].items():
            if not isfile(os.path.join(root, item["playbook"])):
                raise SettingError("template %s: playbook: %s does not exist in playbook_root (%s)"
                                   % (name, item["playbook"], root))


# Views: an object's managed settings with names for ids, as the diff shows them

def key_view(key, secret_sent=False):
    view = {"type": key["type"]}
    if key["type"] != "none":
        view["secret"] = NEW_SECRET if secret_sent else SECRET
    return view


def survey_view(variables):
    return [{"name": v.get("name"), "title": v.get("title") or v.get("name"), "description": v.get("description") or "",
             "type": v.get("type") or "", "required": bool(v.get("required")),
             "values": [{"name": x.get("name"), "value": x.get("value")} for x in v.get("values") or []]}
            for v in variables or []]


def current_views(current):
    """{kind: {name: view}} of the objects Semaphore has (names for ids)."""
    names = {kind: {obj["id"]: obj["name"] for obj in current[kind]} for kind in KINDS}

    def name_of(kind, object_id):
        if object_id in (None, 0):
            return None
        return names[kind].get(object_id, "#%s" % object_id)

    views = {kind: {} for kind in KINDS}
    for obj in current["key"]:
        views["key"][obj["name"]] = key_view(obj)
    for obj in current["repository"]:
        views["repository"][obj["name"]] = {"url": obj.get("git_url"), "branch": obj.get("git_branch"),
                                            "key": name_of("key", obj.get("ssh_key_id"))}
    for obj in current["inventory"]:
        views["inventory"][obj["name"]] = {"type": obj.get("type"), "inventory": obj.get("inventory") or "",
                                           "key": name_of("key", obj.get("ssh_key_id")),
                                           "become_key": name_of("key", obj.get("become_key_id")),
                                           "repository": name_of("repository", obj.get("repository_id"))}
    for obj in current["environment"]:
        views["environment"][obj["name"]] = {
            "extra_vars": parsed_json(obj.get("json"), {}), "env": parsed_json(obj.get("env"), {}),
            "secrets": {"%s.%s" % (s.get("type") or "var", s["name"]): SECRET for s in obj.get("secrets") or []}}
    for obj in current["template"]:
        vaults = [name_of("key", v.get("vault_key_id")) for v in obj.get("vaults") or []]
        views["template"][obj["name"]] = {
            "playbook": obj.get("playbook"), "inventory": name_of("inventory", obj.get("inventory_id")),
            "repository": name_of("repository", obj.get("repository_id")),
            "environment": name_of("environment", obj.get("environment_id")),
            "vault_key": (vaults[0] if len(vaults) == 1 else vaults) if vaults else None,
            "arguments": parsed_json(obj.get("arguments"), []), "description": obj.get("description") or "",
            "survey": survey_view(obj.get("survey_vars"))}
    for obj in current["schedule"]:
        views["schedule"][obj["name"]] = {"template": name_of("template", obj.get("template_id")),
                                          "cron": obj.get("cron_format"), "active": bool(obj.get("active"))}
    return views


def desired_view(kind, item):
    """The view of a declared object, as current_views would show it once written."""
    if kind == "key":
        return key_view(item)
    if kind == "repository":
        return {"url": item["url"], "branch": item.get("branch") or "main", "key": item["key"]}
    if kind == "inventory":
        kind_of = item.get("type") or "file"
        return {"type": kind_of, "inventory": item["path"] if kind_of == "file" else item["content"],
                "key": item.get("key"), "become_key": item.get("become_key"), "repository": item.get("repository")}
    if kind == "environment":
        return {"extra_vars": item.get("extra_vars") or {}, "env": item.get("env") or {},
                "secrets": {"%s.%s" % (s.get("type") or "env", s["name"]): SECRET for s in item.get("secrets") or []}}
    if kind == "template":
        return {"playbook": item["playbook"], "inventory": item["inventory"], "repository": item["repository"],
                "environment": item["environment"], "vault_key": item.get("vault_key"),
                "arguments": list(item.get("arguments") or []), "description": item.get("description") or "",
                "survey": survey_view([dict(v, type=SURVEY_TYPES[v.get("type") or "string"])
                                       for v in item.get("survey") or []])}
    return {"template": item["template"], "cron": item["cron"], "active": item.get("active", True) is not False}


# Request bodies (Semaphore's *Request definitions), ids as Ref where the object may be new

def body_of(kind, item, project_id, current=None):
    """The POST (``current`` None) or PUT body of a declared object; a PUT carries the object's id."""
    body = {"name": item["name"], "project_id": project_id}
    if current is not None:
        body["id"] = current["id"]
    if kind == "key":
        body["type"] = item["type"]
        if item["type"] == "ssh":
            body["ssh"] = {"login": item.get("login") or "", "passphrase": item.get("passphrase") or "",
                           "private_key": item["private_key"]}
        elif item["type"] == "login_password":
            body["login_password"] = {"login": item.get("login") or "", "password": item["password"]}
        if current is not None:
            body["override_secret"] = True
    elif kind == "repository":
        body.update(git_url=item["url"], git_branch=item.get("branch") or "main", ssh_key_id=Ref("key", item["key"]))
    elif kind == "inventory":
        view = desired_view(kind, item)
        body.update(type=view["type"], inventory=view["inventory"])
        for field, target, api_field in (("key", "key", "ssh_key_id"), ("become_key", "key", "become_key_id"),
                                         ("repository", "repository", "repository_id")):
            if item.get(field):
                body[api_field] = Ref(target, item[field])
    elif kind == "environment":
        body.update(json=json_text(item.get("extra_vars") or {}), env=json_text(item.get("env") or {}))
        if current is not None and current.get("password") is not None:
            body["password"] = current["password"]  # the legacy vault password: kept as it is
    elif kind == "template":
        if current is not None:
            body.update({field: current[field] for field in TEMPLATE_CARRIED if current.get(field) is not None})
        body.update(playbook=item["playbook"], app="ansible", inventory_id=Ref("inventory", item["inventory"]),
                    repository_id=Ref("repository", item["repository"]),
                    environment_id=Ref("environment", item["environment"]),
                    arguments=json_text(list(item.get("arguments") or [])), description=item.get("description") or "",
                    survey_vars=[dict(v, type=v["type"]) for v in desired_view(kind, item)["survey"]],
                    vaults=[])
        if item.get("vault_key"):
            vault = {"type": "password", "vault_key_id": Ref("key", item["vault_key"])}
            old = (current or {}).get("vaults") or []
            if len(old) == 1 and old[0].get("id"):
                vault["id"] = old[0]["id"]
            body["vaults"] = [vault]
    elif kind == "schedule":
        body.update(template_id=Ref("template", item["template"]), cron_format=item["cron"],
                    active=item.get("active", True) is not False)
    return body


def secret_operations(item, current, update_secrets, purge):
    """The ``secrets`` list of an environment's body, and the secret names it writes.

    A changed secret is deleted and created again rather than sent as ``update``: Semaphore
    up to 2.10 dropped ``update`` operations silently (api/projects/environment.go).
    """
    existing = {"%s.%s" % (s.get("type") or "var", s["name"]): s for s in (current or {}).get("secrets") or []}
    operations, written = [], []
    declared = set()
    for secret in item.get("secrets") or []:
        kind_of = secret.get("type") or "env"
        label = "%s.%s" % (kind_of, secret["name"])
        declared.add(label)
        old = existing.get(label)
        if old is not None and update_secrets != "always":
            continue
        if old is not None:
            operations.append({"id": old["id"], "name": secret["name"], "type": kind_of, "operation": "delete"})
        operations.append({"name": secret["name"], "type": kind_of, "secret": secret["value"], "operation": "create"})
        written.append(label)
    if purge:
        for label, old in sorted(existing.items()):
            if label not in declared:
                operations.append({"id": old["id"], "name": old["name"], "type": old.get("type") or "var",
                                   "operation": "delete"})
    return operations, written


# The plan

def empty_project():
    """What a project has right after Semaphore creates it (ids unknown)."""
    return {"key": [dict(k, id=None) for k in NEW_PROJECT_KEYS], "repository": [], "inventory": [],
            "environment": [dict(e, id=None, secrets=[]) for e in NEW_PROJECT_ENVIRONMENTS], "template": [],
            "schedule": []}


def plan(params, current, project_id):
    """(before, after, requests) for the declared objects against ``current`` ({kind: [API objects]}).

    ``requests``: dicts with ``method``, ``kind``, ``name``, ``id`` (None for a POST) and
    ``body`` (None for a DELETE), in the order to send; bodies hold Ref for ids of objects
    that may not exist yet. Raises SettingError for objects Semaphore holds twice by name.
    """
    before = current_views(current)
    after = copy.deepcopy(before)
    by_name = {}
    for kind in KINDS:
        by_name[kind] = {}
        for obj in current[kind]:
            if obj["name"] in by_name[kind]:
                declared = any(item["name"] == obj["name"] for item in params.get(OPTION[kind]) or [])
                if declared or params.get("purge"):
                    raise SettingError("%s %s: Semaphore has several %s named %r; remove all but one"
                                       % (kind, obj["name"], OPTION[kind], obj["name"]))
            by_name[kind][obj["name"]] = obj
    always = params.get("update_secrets") == "always"
    requests = []
    for kind in KINDS:
        for item in params.get(OPTION[kind]) or []:
            name, old = item["name"], by_name[kind].get(item["name"])
            want = desired_view(kind, item)
            if kind == "key":
                sent = old is None or old["type"] != item["type"] or (always and item["type"] != "none")
                want = key_view(item, secret_sent=sent)
                differs = sent
            elif kind == "environment":
                operations, written = secret_operations(item, old, params.get("update_secrets"), params.get("purge"))
                if not params.get("purge") and old is not None:
                    # Undeclared secrets stay.
                    want["secrets"] = dict(before[kind][name]["secrets"], **want["secrets"])
                want["secrets"].update({label: NEW_SECRET for label in written})
                differs = old is None or operations or {k: v for k, v in want.items() if k != "secrets"} != \
                    {k: v for k, v in before[kind][name].items() if k != "secrets"}
            else:
                differs = old is None or want != before[kind][name]
            after[kind][name] = want
            if not differs:
                continue
            body = body_of(kind, item, project_id, old)
            if kind == "environment":
                body["secrets"] = operations
            requests.append({"method": "PUT" if old is not None else "POST", "kind": kind, "name": name,
                             "id": old and old["id"], "body": body})
    if params.get("purge"):
        for kind in reversed(KINDS):
            declared = {item["name"] for item in params.get(OPTION[kind]) or []}
            for obj in current[kind]:
                if obj["name"] not in declared:
                    requests.append({"method": "DELETE", "kind": kind, "name": obj["name"], "id": obj["id"], "body": None})
                    after[kind].pop(obj["name"], None)
    return before, after, requests


def resolve(value, ids):
    """A planned body with every Ref replaced by the id it stands for."""
    if isinstance(value, Ref):
        return ids[value]
    if isinstance(value, dict):
        return {key: resolve(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, ids) for item in value]
    return value


def path_of(request, project_id):
    if request["method"] == "POST":
        return collection_path(project_id, request["kind"])
    return object_path(project_id, request["kind"], request["id"])


def describe(request, project_id):
    """``METHOD /api/... (kind name)``; ``(new)`` for ids not known yet."""
    if project_id is None or (request["method"] != "POST" and request["id"] is None):
        where = "/api/project/%s/%s" % (project_id if project_id is not None else "(new)", request["kind"])
    else:
        where = "/api" + path_of(request, project_id)
    return "%s %s (%s %s)" % (request["method"], where, request["kind"], request["name"])


# Reading and writing

def read_contents(client, project_id):
    """{kind: [API objects]} of the project; each environment read alone, as only then are its secrets listed."""
    current = {kind: client.list(collection_path(project_id, kind)) for kind in KINDS}
    current["environment"] = [client.request("GET", object_path(project_id, "environment", env["id"]))
                              for env in current["environment"]]
    return current


def send(client, project_id, requests, ids):
    """Send planned requests in order; ``ids`` ({(kind, name): id}) gains the created objects."""
    for request in requests:
        body = resolve(request["body"], ids)
        answer = client.request(request["method"], path_of(request, project_id), body=body)
        if request["method"] == "POST":
            created = answer.get("id") if isinstance(answer, dict) else None
            if created is None:
                # Semaphore before 2.12 answered some creations with 204 and no object: find it by name.
                found = [obj["id"] for obj in client.list(collection_path(project_id, request["kind"]))
                         if obj["name"] == request["name"]]
                if not found:
                    raise SemaphoreError("%s: Semaphore created it but does not list it" % describe(request, project_id))
                created = max(found)
            ids[Ref(request["kind"], request["name"])] = created


def ids_of(current):
    return {Ref(kind, obj["name"]): obj["id"] for kind in KINDS for obj in current[kind]}


def main():
    secret = dict(type="str", no_log=True)
    module = AnsibleModule(
        argument_spec=dict(
            api_argument_spec(),
            name=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            remove_project=dict(type="bool", default=False),
            purge=dict(type="bool", default=False),
            update_secrets=dict(type="str", choices=["on_create", "always"], default="on_create", no_log=False),
            playbook_root=dict(type="path"),
            keys=dict(type="list", elements="dict", default=[], no_log=False, options=dict(
                name=dict(type="str", required=True), type=dict(type="str", required=True), login=dict(type="str"),
                private_key=secret, passphrase=secret, password=secret)),
            repositories=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True), url=dict(type="str", required=True),
                branch=dict(type="str", default="main"), key=dict(type="str", required=True, no_log=False))),
            inventories=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True), type=dict(type="str", choices=["file", "static", "static-yaml"],
                                                                default="file"),
                path=dict(type="str"), content=dict(type="str"), repository=dict(type="str"),
                key=dict(type="str", no_log=False), become_key=dict(type="str", no_log=False))),
            environments=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True), extra_vars=dict(type="dict", default={}),
                env=dict(type="dict", default={}),
                secrets=dict(type="list", elements="dict", default=[], no_log=False, options=dict(
                    name=dict(type="str", required=True), value=dict(type="str", required=True, no_log=True),
                    type=dict(type="str", choices=["env", "var"], default="env"))))),
            templates=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True), playbook=dict(type="str", required=True),
                inventory=dict(type="str", required=True), repository=dict(type="str", required=True),
                environment=dict(type="str", required=True), vault_key=dict(type="str", no_log=False),
                arguments=dict(type="list", elements="str", default=[]), description=dict(type="str", default=""),
                survey=dict(type="list", elements="dict", default=[], options=dict(
                    name=dict(type="str", required=True), title=dict(type="str"), description=dict(type="str", default=""),
                    type=dict(type="str", choices=list(SURVEY_TYPES), default="string"),
                    required=dict(type="bool", default=False), values=dict(type="list", elements="dict", default=[]))))),
            schedules=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True), template=dict(type="str", required=True),
                cron=dict(type="str", required=True), active=dict(type="bool", default=True))),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["state"] == "absent":
        if not params["remove_project"]:
            module.fail_json(msg="remove_project: state=absent deletes the project %r and everything in it; "
                                 "set remove_project=true to confirm" % params["name"])
        client = client_from_module(module)
        try:
            project = client.project(params["name"])
            if project is not None and not module.check_mode:
                client.request("DELETE", "/project/%d/" % project["id"])
        except SemaphoreError as error:
            module.fail_json(msg=str(error), status=error.status)
        requests = ["DELETE /api/project/%d/ (project %s)" % (project["id"], params["name"])] if project else []
        result = dict(changed=project is not None, project={"id": None, "name": params["name"]}, requests=requests)
        if module._diff:
            result["diff"] = dict(before={"project": project and {"id": project["id"], "name": project["name"]}},
                                  after={"project": None})
        module.exit_json(**result)

    try:
        check(params)
    except SettingError as error:
        module.fail_json(msg=str(error))
    client = client_from_module(module)
    created = []
    try:
        project = client.project(params["name"])
        project_id = project and project["id"]
        if project is None:
            created.append("POST /api/projects (project %s)" % params["name"])
            if not module.check_mode:
                project_id = client.request("POST", "/projects", body={"name": params["name"]})["id"]
        current = read_contents(client, project_id) if project_id is not None else empty_project()
        before, after, requests = plan(params, current, project_id)
        ids = ids_of(current)
        if requests and not module.check_mode:
            send(client, project_id, requests, ids)
    except SettingError as error:
        module.fail_json(msg=str(error), requests=created)
    except SemaphoreError as error:
        module.fail_json(msg=str(error), status=error.status, requests=created)
    described = created + [describe(request, project_id) for request in requests]
    result = dict(changed=bool(described), project={"id": project_id, "name": params["name"]}, requests=described,
                  ids={kind: {item["name"]: ids.get(Ref(kind, item["name"])) for item in params[OPTION[kind]]}
                       for kind in KINDS})
    if module._diff:
        if project is None:
            before = {kind: {} for kind in KINDS}
        result["diff"] = dict(before=dict(before, project=project and {"id": project["id"], "name": project["name"]}),
                              after=dict(after, project={"id": project_id, "name": params["name"]}))
    module.exit_json(**result)


if __name__ == "__main__":
    main()

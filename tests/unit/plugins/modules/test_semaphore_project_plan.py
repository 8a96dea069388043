"""The pure parts of semaphore_project: the checks of the options, the plan (before, after
and the requests) from API objects shaped as Semaphore returns them, and Semaphore's cron.
No server here; the module against the fake Semaphore is tests/integration/test_semaphore_project.py."""

import re

import pytest

from ansible_collections.homelab.stack.plugins.module_utils.semaphore import cron_problem
from ansible_collections.homelab.stack.plugins.modules import semaphore_project
from ansible_collections.homelab.stack.plugins.modules.semaphore_project import Ref, SettingError, check, plan
from module_options import argument_spec_of, options_of

SPEC = argument_spec_of(semaphore_project)


def params(**given):
    return options_of(SPEC, name="homelab", **given)


KEYS = [{"name": "None", "type": "none"}, {"name": "vault", "type": "login_password", "password": "s3cret"}]
REPOS = [{"name": "homelab", "url": "https://git.example.com/homelab.git", "branch": "main", "key": "None"}]
INVENTORIES = [{"name": "site", "type": "file", "path": "inventory/hosts.yml", "key": None}]
ENVIRONMENTS = [{"name": "site", "extra_vars": {"a": 1}, "env": {}, "secrets": [{"name": "AGE", "value": "k", "type": "env"}]}]
TEMPLATES = [{"name": "site", "playbook": "site.yml", "inventory": "site", "repository": "homelab", "environment": "site",
              "vault_key": "vault", "arguments": [], "description": "", "survey": []}]
SCHEDULES = [{"name": "nightly", "template": "site", "cron": "0 3 * * *", "active": True}]
DECLARED = dict(keys=KEYS, repositories=REPOS, inventories=INVENTORIES, environments=ENVIRONMENTS, templates=TEMPLATES,
                schedules=SCHEDULES)


def semaphore_has(**changes):
    """The declared project as Semaphore answers for it once written (ids 1.., project 7)."""
    current = {
        "key": [{"id": 1, "name": "None", "type": "none", "project_id": 7},
                {"id": 2, "name": "vault", "type": "login_password", "project_id": 7}],
        "repository": [{"id": 1, "name": "homelab", "project_id": 7, "git_url": "https://git.example.com/homelab.git",
                        "git_branch": "main", "ssh_key_id": 1}],
        "inventory": [{"id": 1, "name": "site", "project_id": 7, "type": "file", "inventory": "inventory/hosts.yml"}],
        "environment": [{"id": 1, "name": "site", "project_id": 7, "json": '{"a":1}', "env": "{}",
                         "secrets": [{"id": 9, "name": "AGE", "type": "env"}]}],
        "template": [{"id": 1, "name": "site", "project_id": 7, "playbook": "site.yml", "inventory_id": 1, "repository_id": 1,
                      "environment_id": 1, "arguments": "[]", "description": "", "app": "ansible", "survey_vars": [],
                      "vaults": [{"id": 4, "type": "password", "vault_key_id": 2}], "suppress_success_alerts": True}],
        "schedule": [{"id": 1, "name": "nightly", "project_id": 7, "template_id": 1, "cron_format": "0 3 * * *",
                      "active": True}],
    }
    current.update(changes)
    return current


def methods(requests):
    return [(r["method"], r["kind"], r["name"]) for r in requests]


def test_what_semaphore_has_matches_the_declaration_so_nothing_is_sent():
    before, after, requests = plan(params(**DECLARED), semaphore_has(), 7)
    assert requests == [] and before == after


def test_a_new_project_gets_everything_but_semaphores_none_key_in_dependency_order():
    _before, after, requests = plan(params(**DECLARED), semaphore_project.empty_project(), None)
    assert methods(requests) == [("POST", "key", "vault"), ("POST", "repository", "homelab"),
                                 ("POST", "inventory", "site"), ("POST", "environment", "site"),
                                 ("POST", "template", "site"), ("POST", "schedule", "nightly")]
    template = requests[4]["body"]
    assert template["inventory_id"] == Ref("inventory", "site") and template["vaults"] == [
        {"type": "password", "vault_key_id": Ref("key", "vault")}]
    assert requests[3]["body"]["secrets"] == [{"name": "AGE", "type": "env", "secret": "k", "operation": "create"}]
    assert after["key"]["vault"] == {"type": "login_password", "secret": "<secret: set by this task>"}
    # Semaphore's Empty environment is not declared and stays (no purge).
    assert "Empty" in after["environment"]


def test_an_update_is_a_whole_put_with_the_ids_and_unmanaged_fields_carried_over():
    changed = params(**DECLARED)
    changed["templates"] = [dict(TEMPLATES[0], playbook="site2.yml")]
    before, after, requests = plan(changed, semaphore_has(), 7)
    assert methods(requests) == [("PUT", "template", "site")]
    body = requests[0]["body"]
    assert body["id"] == 1 and body["project_id"] == 7 and body["playbook"] == "site2.yml"
    assert body["suppress_success_alerts"] is True and body["vaults"][0]["id"] == 4
    assert before["template"]["site"]["playbook"] == "site.yml" and after["template"]["site"]["playbook"] == "site2.yml"


def test_secrets_are_sent_on_create_only_unless_always():
    assert plan(params(**DECLARED, update_secrets="on_create"), semaphore_has(), 7)[2] == []
    _before, after, requests = plan(params(**DECLARED, update_secrets="always"), semaphore_has(), 7)
    assert methods(requests) == [("PUT", "key", "vault"), ("PUT", "environment", "site")]
    assert requests[0]["body"]["override_secret"] is True and requests[0]["body"]["login_password"]["password"] == "s3cret"
    # Deleted and created again: Semaphore up to 2.10 silently dropped "update".
    assert [op["operation"] for op in requests[1]["body"]["secrets"]] == ["delete", "create"]
    assert after["environment"]["site"]["secrets"] == {"env.AGE": "<secret: set by this task>"}


def test_a_key_of_another_type_is_replaced_with_its_secret():
    current = semaphore_has(key=[{"id": 1, "name": "None", "type": "none"}, {"id": 2, "name": "vault", "type": "ssh"}])
    requests = plan(params(**DECLARED), current, 7)[2]
    assert methods(requests) == [("PUT", "key", "vault")]
    assert requests[0]["body"]["type"] == "login_password" and requests[0]["body"]["override_secret"] is True


def test_purge_deletes_undeclared_objects_in_reverse_order_and_undeclared_secrets():
    current = semaphore_has()
    current["schedule"].append({"id": 2, "name": "old", "project_id": 7, "template_id": 1, "cron_format": "@daily"})
    current["key"].append({"id": 3, "name": "stale", "type": "none"})
    current["environment"][0]["secrets"].append({"id": 10, "name": "OLD", "type": "var"})
    assert plan(params(**DECLARED), current, 7)[2] == []
    _before, after, requests = plan(params(**DECLARED, purge=True), current, 7)
    assert methods(requests) == [("PUT", "environment", "site"), ("DELETE", "schedule", "old"), ("DELETE", "key", "stale")]
    assert requests[0]["body"]["secrets"] == [{"id": 10, "name": "OLD", "type": "var", "operation": "delete"}]
    assert "stale" not in after["key"] and after["environment"]["site"]["secrets"] == {"env.AGE": "<secret>"}


def test_a_declared_name_semaphore_holds_twice_is_refused():
    current = semaphore_has(inventory=semaphore_has()["inventory"] * 2)
    with pytest.raises(SettingError, match="inventory site: Semaphore has several inventories named 'site'"):
        plan(params(**DECLARED), current, 7)


@pytest.mark.parametrize("changes, message", [
    (dict(templates=[dict(TEMPLATES[0], environment="prod")]), "template site: environment: 'prod' is not declared"),
    (dict(repositories=[dict(REPOS[0], key="deploy")]), "repository homelab: key: 'deploy' is not declared in keys"),
    (dict(keys=KEYS + [{"name": "x", "type": "ssh"}]), "key x: private_key: required with type ssh"),
    (dict(keys=KEYS + [{"name": "None", "type": "none"}]), "key None: declared twice in keys"),
    (dict(inventories=[dict(INVENTORIES[0], path=None)]), "inventory site: path: required with type file"),
    (dict(schedules=[dict(SCHEDULES[0], cron="0 3 * *")]), "schedule nightly: cron: '0 3 * *' has 4 fields"),
    (dict(templates=[dict(TEMPLATES[0], survey=[{"name": "pick", "type": "enum"}])]),
     "template site: survey: pick: an enum needs values"),
])
def test_check_names_the_object_and_field(changes, message):
    with pytest.raises(SettingError, match="^" + re.escape(message)):
        check(params(**dict(DECLARED, **changes)))


def test_check_finds_playbooks_below_playbook_root():
    files = {"/repo/site.yml"}
    check(params(**DECLARED, playbook_root="/repo"), isfile=files.__contains__, isdir=lambda path: True)
    with pytest.raises(SettingError, match=r"^template site: playbook: site.yml does not exist in playbook_root \(/other\)"):
        check(params(**DECLARED, playbook_root="/other"), isfile=files.__contains__, isdir=lambda path: True)


@pytest.mark.parametrize("spec", ["30 6 * * *", "*/15 * * * *", "0 3 * * mon-fri", "0 0 1 jan,jul *", "@weekly",
                                  "@every 1h30m", "TZ=Europe/Berlin 0 3 * * *", "0 0 ? * 0"])
def test_cron_semaphore_takes(spec):
    assert cron_problem(spec) is None


@pytest.mark.parametrize("spec, problem", [
    ("0 24 * * *", "hour field '24': 24 is outside 0-23"), ("* * * * 7", "7 is outside 0-6"),
    ("0 3 * * * *", "has 6 fields"), ("@fortnightly", "is not a cron descriptor"), ("5-1 * * * *", "runs backwards"),
    ("*/x * * * *", "step 'x' is not a number"),
])
def test_cron_semaphore_refuses(spec, problem):
    assert problem in cron_problem(spec)

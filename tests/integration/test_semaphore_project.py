"""homelab.stack.semaphore_project run by ansible-playbook against the fake Semaphore
(tests/fakes/semaphore.py, which checks every request against Semaphore's api-docs.yml and
keeps state as Semaphore does)."""

import copy
import json

import pytest

from authentik_playbook import Runner, ok
from fakes.semaphore import TOKEN, FakeSemaphore

AGE_KEY = "AGE-SECRET-KEY-1FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEQ"
VAULT_PASSWORD = "vault-password-7c1e0b2a"
SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAfakefakefake\n-----END OPENSSH PRIVATE KEY-----\n"
SECRETS = (AGE_KEY, VAULT_PASSWORD, "b3BlbnNzaC1rZXktdjEAAAAAfakefakefake", TOKEN)


def homelab(name="homelab", **changes):
    """The project the collection's own example declares: the site, two layers, verify and its schedule."""
    layer = {"inventory": "site", "repository": "homelab", "environment": "site", "vault_key": "vault"}
    project = {
        "name": name,
        "keys": [{"name": "None", "type": "none"},
                 {"name": "deploy", "type": "ssh", "login": "ansible", "private_key": SSH_KEY},
                 {"name": "vault", "type": "login_password", "password": VAULT_PASSWORD}],
        "repositories": [{"name": "homelab", "url": "https://git.example.com/me/homelab.git", "key": "None"}],
        "inventories": [{"name": "site", "path": "inventory/hosts.yml", "key": "deploy"}],
        "environments": [{"name": "site", "extra_vars": {"homelab_domain": "lab.example.com"},
                          "env": {"ANSIBLE_FORCE_COLOR": "0"},
                          "secrets": [{"name": "SOPS_AGE_KEY", "value": AGE_KEY}]}],
        "templates": [dict(layer, name="site", playbook="playbooks/site.yml", arguments=["--diff"]),
                      dict(layer, name="services", playbook="playbooks/services.yml",
                           survey=[{"name": "limit_service", "title": "Only this service"}]),
                      dict(layer, name="verify", playbook="playbooks/verify.yml")],
        "schedules": [{"name": "verify daily", "template": "verify", "cron": "30 6 * * *"}],
    }
    project.update(changes)
    return project


@pytest.fixture(name="fake", scope="module")
def fake_semaphore_fixture():
    with FakeSemaphore() as fake:
        yield fake
        assert fake.contract_violations == []


@pytest.fixture(name="run")
def semaphore_runner_fixture(fake, tmp_path):
    fake.reset()
    return Runner(fake, tmp_path, "semaphore_project", group="semaphore", token_env="SEMAPHORE_TOKEN", token=TOKEN)


def writes(fake):
    return [(entry["method"], entry["path"]) for entry in fake.writes()]


def test_create_wires_every_object_by_id_then_a_second_run_changes_nothing(fake, run):
    result = ok(run.play(homelab()))
    assert result["changed"] is True
    project = fake.project("homelab")
    ids = result["ids"]
    assert result["project"]["id"] == project["id"]
    site = fake.named("homelab", "templates", "site")
    assert site["inventory_id"] == ids["inventory"]["site"] == fake.named("homelab", "inventories", "site")["id"]
    assert site["repository_id"] == ids["repository"]["homelab"]
    assert site["environment_id"] == ids["environment"]["site"]
    assert [v["vault_key_id"] for v in site["vaults"]] == [ids["key"]["vault"]]
    assert json.loads(site["arguments"]) == ["--diff"] and site["app"] == "ansible"
    # Semaphore's own None key is reused, not doubled.
    assert [k["name"] for k in project["keys"].values()].count("None") == 1
    assert fake.named("homelab", "repositories", "homelab")["ssh_key_id"] == ids["key"]["None"]
    schedule = fake.named("homelab", "schedules", "verify daily")
    assert schedule["template_id"] == ids["template"]["verify"] and schedule["cron_format"] == "30 6 * * *"
    assert fake.environment_secrets("homelab", "site") == {"env.SOPS_AGE_KEY": AGE_KEY}
    assert json.loads(fake.named("homelab", "keys", "vault")["secret"])["password"] == VAULT_PASSWORD

    fake.reset()
    again = ok(run.play(homelab()))
    assert again["changed"] is False and again["requests"] == [] and writes(fake) == []
    assert again["ids"] == ids


def test_check_mode_changes_nothing_and_predicts_the_requests(fake, run):
    result = ok(run.play(homelab("preview"), check=True))
    assert result["changed"] is True and writes(fake) == [] and fake.project("preview") is None
    # Semaphore makes the None key itself: no request is predicted for it.
    assert result["requests"][0] == "POST /api/projects (project preview)"
    assert not any("(key None)" in request for request in result["requests"])
    assert len(result["requests"]) == 1 + 2 + 1 + 1 + 1 + 3 + 1
    ok(run.play(homelab("preview")))
    fake.reset()
    changed = homelab("preview", schedules=[{"name": "verify daily", "template": "verify", "cron": "0 7 * * *"}])
    result = ok(run.play(changed, check=True))
    assert result["requests"] == ["PUT /api/project/%d/schedules/%d (schedule verify daily)"
                                  % (fake.project("preview")["id"], fake.named("preview", "schedules", "verify daily")["id"])]
    assert writes(fake) == [] and fake.named("preview", "schedules", "verify daily")["cron_format"] == "30 6 * * *"


def test_diff_shows_the_change_and_never_a_secret(fake, run):
    ok(run.play(homelab("diffs")))
    fake.reset()
    changed = homelab("diffs")
    changed["templates"][0]["playbook"] = "playbooks/site-v2.yml"
    result = ok(run.play(dict(changed, update_secrets="always")))
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert before["template"]["site"]["playbook"] == "playbooks/site.yml"
    assert after["template"]["site"]["playbook"] == "playbooks/site-v2.yml"
    assert before["key"]["vault"] == {"type": "login_password", "secret": "<secret>"}
    assert after["key"]["vault"]["secret"] != "<secret>" and after["key"]["vault"]["secret"].startswith("<secret")
    assert after["environment"]["site"]["secrets"] == {"env.SOPS_AGE_KEY": "<secret: set by this task>"}
    text = json.dumps(result)
    assert not any(secret in text for secret in SECRETS)


def test_update_secrets_on_create_leaves_them_and_always_sends_them(fake, run):
    ok(run.play(homelab("rotate")))
    rotated = homelab("rotate")
    rotated["environments"][0]["secrets"][0]["value"] = "AGE-SECRET-KEY-1ROTATED"
    rotated["keys"][2]["password"] = "new-vault-password"
    fake.reset()
    assert ok(run.play(rotated))["changed"] is False and writes(fake) == []
    assert fake.environment_secrets("rotate", "site") == {"env.SOPS_AGE_KEY": AGE_KEY}
    result = ok(run.play(dict(rotated, update_secrets="always")))
    assert result["changed"] is True
    assert fake.environment_secrets("rotate", "site") == {"env.SOPS_AGE_KEY": "AGE-SECRET-KEY-1ROTATED"}
    assert json.loads(fake.named("rotate", "keys", "vault")["secret"])["password"] == "new-vault-password"
    # The none key has no secret to send.
    assert not any("(key None)" in request for request in result["requests"])


def test_undeclared_objects_stay_unless_purge(fake, run):
    ok(run.play(homelab("tidy")))
    smaller = homelab("tidy", schedules=[])
    smaller["templates"] = smaller["templates"][:1]
    fake.reset()
    assert ok(run.play(smaller))["changed"] is False
    assert len(fake.project("tidy")["templates"]) == 3
    result = ok(run.play(dict(smaller, purge=True)))
    names = {store: sorted(obj["name"] for obj in fake.project("tidy")[store].values())
             for store in ("templates", "schedules", "environments", "keys")}
    assert names == {"templates": ["site"], "schedules": [], "environments": ["site"], "keys": ["None", "deploy", "vault"]}
    assert [r.split(" (")[1] for r in result["requests"]] == [
        "schedule verify daily)", "template services)", "template verify)", "environment Empty)"]
    assert ok(run.play(dict(smaller, purge=True)))["changed"] is False


@pytest.mark.parametrize("change, message", [
    (lambda p: p["templates"][0].update(inventory="prod"),
     "template site: inventory: 'prod' is not declared in inventories"),
    (lambda p: p["templates"][1].update(vault_key="ghost"),
     "template services: vault_key: 'ghost' is not declared in keys"),
    (lambda p: p["keys"].append({"name": "gpg", "type": "gpg"}),
     "key gpg: type: 'gpg' is not one of ssh, login_password, none"),
    (lambda p: p["schedules"][0].update(cron="61 6 * * *"),
     "schedule verify daily: cron: '61 6 * * *': minute field '61': 61 is outside 0-59"),
    (lambda p: p["templates"][2].update(vault_key="deploy"),
     "template verify: vault_key: key 'deploy' is of type ssh; a vault password is a login_password key"),
])
def test_bad_input_fails_naming_the_object_and_field_before_any_request(fake, run, change, message):
    project = homelab("bad")
    change(project)
    result = run.play(project)
    assert result["failed"] and result["msg"] == message
    assert fake.requests == [] and fake.project("bad") is None


def test_a_playbook_missing_from_the_checkout_fails_before_any_change(fake, run, tmp_path):
    checkout = tmp_path / "checkout"
    (checkout / "playbooks").mkdir(parents=True)
    for name in ("site.yml", "services.yml"):
        (checkout / "playbooks" / name).write_text("- hosts: all\n")
    result = run.play(homelab("checked", playbook_root=str(checkout)))
    assert result["failed"] and result["msg"] == ("template verify: playbook: playbooks/verify.yml does not exist in "
                                                  "playbook_root (%s)" % checkout)
    assert fake.requests == []
    (checkout / "playbooks" / "verify.yml").write_text("- hosts: all\n")
    ok(run.play(homelab("checked", playbook_root=str(checkout))))


def test_a_wrong_token_is_a_clear_error(fake, run):
    result = run.play(homelab("denied"), token="wrong-token-0123456789")
    assert result["failed"] and result["msg"].startswith("Semaphore refused the API token (401)")
    assert "Traceback" not in json.dumps(result) and "wrong-token-0123456789" not in json.dumps(result)
    assert writes(fake) == []


def test_a_failure_mid_run_is_reported_and_a_rerun_converges(fake, run):
    fake.fail(500, path=r"/api/project/\d+/templates", method="POST", message="database is locked")
    result = run.play(homelab("flaky"))
    assert result["failed"]
    assert result["msg"] == ("Semaphore API POST /api/project/%d/templates failed with HTTP 500: database is locked"
                             % fake.project("flaky")["id"])
    assert fake.project("flaky")["templates"] == {} and fake.project("flaky")["inventories"]
    ok(run.play(homelab("flaky")))
    assert sorted(t["name"] for t in fake.project("flaky")["templates"].values()) == ["services", "site", "verify"]
    assert [k["name"] for k in fake.project("flaky")["keys"].values()].count("deploy") == 1
    fake.reset()
    assert ok(run.play(homelab("flaky")))["changed"] is False


def test_no_secret_in_verbose_output(fake, run):
    run.play(homelab("quiet", update_secrets="always"), verbose=True)
    assert run.last.returncode == 0, run.output()
    assert not any(secret in run.output() for secret in SECRETS)


def test_state_absent_needs_the_confirmation(fake, run):
    ok(run.play(homelab("doomed")))
    refused = run.play({"name": "doomed", "state": "absent"})
    assert refused["failed"] and refused["msg"].startswith("remove_project: state=absent deletes the project 'doomed'")
    assert fake.project("doomed") is not None
    assert ok(run.play({"name": "doomed", "state": "absent", "remove_project": True}, check=True))["changed"] is True
    assert fake.project("doomed") is not None
    assert ok(run.play({"name": "doomed", "state": "absent", "remove_project": True}))["changed"] is True
    assert fake.project("doomed") is None
    assert ok(run.play({"name": "doomed", "state": "absent", "remove_project": True}))["changed"] is False


def test_unmanaged_template_fields_survive_an_update(fake, run):
    ok(run.play(homelab("carry")))
    template = fake.named("carry", "templates", "site")
    template["suppress_success_alerts"] = True  # set in Semaphore's UI
    changed = copy.deepcopy(homelab("carry"))
    changed["templates"][0]["description"] = "the whole site"
    ok(run.play(changed))
    template = fake.named("carry", "templates", "site")
    assert template["suppress_success_alerts"] is True and template["description"] == "the whole site"

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The semaphore role run on this machine by ansible-playbook over the local connection: its
preflight, the platform layer in check mode, and the entry point ``project`` - while no
Semaphore answers, and against the fake Semaphore (tests/fakes/semaphore.py; Semaphore itself
cannot run here: no image, no package), signed in as its admin with the catalog's password.
The platform layer installs a package, so only check mode runs it here."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from ansible_run import ROOT, ansible_playbook, run_role
from fakes.semaphore import TOKEN, FakeSemaphore
from loopback import free_port

PASSWORD = "pw-3f8a1d"
KEY = "gs72mPntFATGJs9qK0pQ0rKtfidlexiMjYCH9gWKhTU="
PROJECT = {"name": "homelab", "keys": [{"name": "deploy", "type": "ssh", "private_key": "pk-9d2b71"}]}


@pytest.fixture(name="site")
def site_fixture(tmp_path):
    # Nothing listens on the loopback port the entry publishes: Semaphore is not running.
    entry = {"name": "semaphore", "host": "localhost", "platform": "semaphore", "publish": [f"127.0.0.1:{free_port()}:3000"],
             "secrets": {"SEMAPHORE_ADMIN_PASSWORD": PASSWORD, "SEMAPHORE_ACCESS_KEY_ENCRYPTION": KEY}}
    # A package installed here stands in for python3-requests, which the platform layer installs.
    variables = {"homelab_services": [entry], "semaphore_projects": [PROJECT], "semaphore_requests_package": "coreutils",
                 "semaphore_wait_timeout": 1}
    return {"tmp": tmp_path, "vars": variables}


def project(site, *args, check=False, **overrides):
    """The entry point ``project``, as playbooks include it (``args``: more ansible-playbook
    arguments); (returncode, output)."""
    (site["tmp"] / "vars.json").write_text(json.dumps(dict(site["vars"], **overrides)))
    (site["tmp"] / "play.yml").write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"ansible.builtin.include_role": {"name": "homelab.stack.semaphore", "tasks_from": "project"}}]}]))
    completed = ansible_playbook(site["tmp"] / "play.yml", "-e", "@%s" % (site["tmp"] / "vars.json"), *args, check=check)
    return completed.returncode, completed.stdout + completed.stderr


def secrets_in(output):
    return [value for value in (PASSWORD, KEY, "pk-9d2b71") if value in output]


# A project with a secret of each kind: an SSH key, a vault password, an environment secret.
VAULT_PASSWORD = "vault-5e21c9"
AGE_KEY = "AGE-SECRET-KEY-1ROLETESTROLETESTROLETESTROLETESTROLETESTROLETESTROLETEST"
SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nroletestkey4d1e9a\n-----END OPENSSH PRIVATE KEY-----\n"
HOMELAB = {
    "name": "homelab",
    "keys": [{"name": "None", "type": "none"},
             {"name": "deploy", "type": "ssh", "login": "ansible", "private_key": SSH_KEY},
             {"name": "vault", "type": "login_password", "password": VAULT_PASSWORD}],
    "repositories": [{"name": "homelab", "url": "https://git.example.com/me/homelab.git", "key": "None"}],
    "inventories": [{"name": "site", "path": "inventory/hosts.yml", "key": "deploy"}],
    "environments": [{"name": "site", "extra_vars": {"homelab_domain": "lab.example.com"},
                      "secrets": [{"name": "SOPS_AGE_KEY", "value": AGE_KEY}]}],
    "templates": [{"name": "verify", "playbook": "playbooks/verify.yml", "inventory": "site", "repository": "homelab",
                   "environment": "site", "vault_key": "vault"}],
    "schedules": [{"name": "verify daily", "template": "verify", "cron": "30 6 * * *"}],
}
# Signing in and the run's token: not changes of a project.
ACCOUNT_PATHS = re.compile(r"/api/auth/login|/api/user/tokens(/.*)?")


@pytest.fixture(name="semaphore")
def semaphore_fixture(site):
    """The fake Semaphore where the catalog entry publishes the API, its admin's password the entry's secret."""
    with FakeSemaphore(password=PASSWORD) as fake:
        port = int(fake.url.rsplit(":", 1)[1])
        entry = dict(site["vars"]["homelab_services"][0], publish=[f"127.0.0.1:{port}:3000"])
        site["vars"].update(homelab_services=[entry], semaphore_projects=[HOMELAB])
        yield fake
        assert fake.contract_violations == []


def changed(output):
    """The changed count of the play recap."""
    found = re.search(r"localhost\s+:.*changed=(\d+)", output)
    assert found, output
    return int(found.group(1))


def project_writes(fake):
    return [(entry["method"], entry["path"]) for entry in fake.writes() if not ACCOUNT_PATHS.fullmatch(entry["path"])]


def run_tokens(fake):
    """The admin's API tokens other than the fake's own: those the role made."""
    return [token for token in fake.tokens_of("admin") if token["id"] != TOKEN]


def secrets_of_a_run(output, fake):
    values = (PASSWORD, KEY, VAULT_PASSWORD, AGE_KEY, "roletestkey4d1e9a") + tuple(t["id"] for t in run_tokens(fake))
    return [value for value in values if value in output]


def test_project_declares_then_changes_nothing_and_expires_its_token_each_time(site, semaphore):
    returncode, output = project(site, "-v")
    assert returncode == 0, output
    assert changed(output) > 0
    assert semaphore.named("homelab", "templates", "verify")["playbook"] == "playbooks/verify.yml"
    assert semaphore.environment_secrets("homelab", "site") == {"env.SOPS_AGE_KEY": AGE_KEY}
    assert semaphore.named("homelab", "schedules", "verify daily")["cron_format"] == "30 6 * * *"
    # One token for the run, made from the admin's session and expired at its end.
    assert [token["expired"] for token in run_tokens(semaphore)] == [True]
    assert semaphore.count("POST", "/api/auth/login") == 1
    # -v shows every task's result: still no password, key, secret or token.
    assert secrets_of_a_run(output, semaphore) == []

    semaphore.reset()
    returncode, output = project(site)
    assert returncode == 0, output
    assert changed(output) == 0, output
    assert project_writes(semaphore) == []
    assert [token["expired"] for token in run_tokens(semaphore)] == [True, True]


def test_check_mode_reports_the_changes_and_makes_none(site, semaphore):
    returncode, output = project(site, check=True)
    assert returncode == 0, output
    assert changed(output) > 0
    assert semaphore.project("homelab") is None and project_writes(semaphore) == []
    # The token the module read with is expired in check mode too.
    assert [token["expired"] for token in run_tokens(semaphore)] == [True]
    assert secrets_of_a_run(output, semaphore) == []


def test_a_wrong_admin_password_fails_clearly_before_any_token(site, semaphore):
    entry = site["vars"]["homelab_services"][0]
    entry["secrets"] = dict(entry["secrets"], SEMAPHORE_ADMIN_PASSWORD="not-the-password-81c2")
    returncode, output = project(site)
    assert returncode != 0, output
    assert "Semaphore refused the password of admin (HTTP 401)" in output
    assert "secret SEMAPHORE_ADMIN_PASSWORD of service semaphore" in output
    assert run_tokens(semaphore) == [] and semaphore.project("homelab") is None
    assert "Make each project match" not in output
    assert "not-the-password-81c2" not in output and secrets_of_a_run(output, semaphore) == []


def test_a_failing_project_still_expires_the_token(site, semaphore):
    semaphore.fail(status=500, times=None, path=r"/api/project/\d+/keys", method="POST", message="disk full")
    returncode, output = project(site)
    assert returncode != 0, output
    assert "disk full" in output
    assert [token["expired"] for token in run_tokens(semaphore)] == [True]
    assert secrets_of_a_run(output, semaphore) == []


def test_the_platform_layer_in_check_mode(site):
    completed = run_role("homelab.stack.semaphore", site["tmp"], site["vars"], check=True)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "Install the HTTP library homelab.stack.semaphore_project needs" in output
    assert secrets_in(output) == []


def test_in_check_mode_a_semaphore_not_running_yet_is_skipped(site):
    returncode, output = project(site, check=True)
    assert returncode == 0, output
    # The ping did not answer, so nothing was signed in to and no module ran.
    assert "Wait until Semaphore answers on /api/ping" in output
    assert "Sign in as Semaphore's admin" not in output and "Make each project match" not in output
    assert secrets_in(output) == []


def test_a_semaphore_that_never_answers_fails_at_the_wait(site):
    returncode, output = project(site)
    assert returncode != 0, output
    # The progress line, then the failure naming the URL.
    assert "FAILED - RETRYING: [localhost]: homelab.stack.semaphore : Wait until Semaphore answers on /api/ping" in output
    assert "Connection refused" in output and "/api/ping" in output
    assert "Sign in as Semaphore's admin" not in output
    assert secrets_in(output) == []


def test_projects_without_a_semaphore_are_refused(site):
    returncode, output = project(site, homelab_services=[])
    assert returncode != 0
    assert "semaphore_projects declares 1 project(s) but homelab_services has no present Semaphore" in output
    assert secrets_in(output) == []


def test_an_unknown_project_option_is_refused_by_the_argument_spec(site):
    returncode, output = project(site, semaphore_projects=[dict(PROJECT, inventory=[])])
    assert returncode != 0 and "semaphore_projects.inventory. Supported parameters include" in output, output
    assert "Wait until Semaphore answers" not in output
    assert secrets_in(output) == []


def test_without_projects_nothing_is_asked(site):
    returncode, output = project(site, semaphore_projects=[])
    assert returncode == 0, output
    assert "FAILED - RETRYING" not in output and "Sign in as Semaphore's admin" not in output


def test_the_services_layer_declares_the_projects_on_semaphores_host_only(site, semaphore):
    """playbooks/services.yml's last play, started at its task (the tiers before it run nothing
    then): the project is declared from the entry's host; another container host skips it."""
    inventory = {"podman_hosts": {"hosts": {"localhost": {}, "other": {}},
                                  "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}
    (site["tmp"] / "hosts.yml").write_text(json.dumps(inventory))
    (site["tmp"] / "vars.json").write_text(json.dumps(site["vars"]))
    command = ["ansible-playbook", "-i", str(site["tmp"] / "hosts.yml"), "-e", "@%s" % (site["tmp"] / "vars.json"),
               "--start-at-task", "Declare Semaphore's projects", str(ROOT / "playbooks" / "services.yml")]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "Make each project match" in output
    # The include is skipped there, so none of the role's tasks (its preflight included) runs.
    # (--start-at-task still runs each play's implicit fact gathering: ansible-core's doing.)
    role_tasks = [block for block in output.split("TASK [")[1:] if block.startswith("homelab.stack.semaphore : ")]
    assert role_tasks and "skipping: [other]" in output
    assert [block for block in role_tasks if "[other]" in block] == [], output
    assert semaphore.named("homelab", "templates", "verify")["playbook"] == "playbooks/verify.yml"
    assert [token["expired"] for token in run_tokens(semaphore)] == [True]
    assert secrets_of_a_run(output, semaphore) == []

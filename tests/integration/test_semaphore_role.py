# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The semaphore role run on this machine: its preflight, the platform layer in check mode,
and the entry point ``project`` while no Semaphore answers (Semaphore cannot run here: no
image, no package). Declaring projects against a Semaphore is the semaphore_project
module's, tested against the fake Semaphore."""

from __future__ import annotations

import json

import pytest

from ansible_run import ansible_playbook, run_role
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


def project(site, check=False, **overrides):
    """The entry point ``project``, as playbooks include it; (returncode, output)."""
    (site["tmp"] / "vars.json").write_text(json.dumps(dict(site["vars"], **overrides)))
    (site["tmp"] / "play.yml").write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"ansible.builtin.include_role": {"name": "homelab.stack.semaphore", "tasks_from": "project"}}]}]))
    completed = ansible_playbook(site["tmp"] / "play.yml", "-e", "@%s" % (site["tmp"] / "vars.json"), check=check)
    return completed.returncode, completed.stdout + completed.stderr


def secrets_in(output):
    return [value for value in (PASSWORD, KEY, "pk-9d2b71") if value in output]


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

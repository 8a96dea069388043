"""examples/dual-site run exactly as Semaphore UI's task runner runs a template of it.

Semaphore cannot run here (no image, no package), so this test does what its runner does,
read from semaphoreui/semaphore (db_lib/AnsibleApp.go, db_lib/AnsiblePlaybook.go,
services/tasks/LocalJob.go, as of October 2024; it also runs ansible-playbook on a pseudo-terminal,
which only matters for its password prompts, unused here):

- the repository is cloned, and every command runs in the clone with an environment made
  from nothing but PYTHONUNBUFFERED=1, ANSIBLE_FORCE_COLOR=True, the server's PATH, HOME set
  to Semaphore's temporary directory and PWD (no ANSIBLE_CONFIG, no collections path: the
  project's own ansible.cfg applies);
- before the task, ``ansible-galaxy collection install -r <playbook dir>/collections/requirements.yml
  --force`` (here pointing at a tarball built from this checkout, as a release would be);
- then ``ansible-playbook -i <inventory> --extra-vars '<environment JSON with semaphore_vars>'
  <playbook>``, with the Environment's variables and secrets (here SOPS_AGE_KEY, the demo age
  key itself, and the Proxmox VE and Tailscale credentials the inventory sources read) added
  to that environment.

The playbook is the example's check.yml: it runs on the controller only, needs no reachable
host, and passes only when the catalog validates against the whole inventory (both API
sources included) and every secret came out of the SOPS files decrypted; it prints how many,
never a value.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from example_project import EXAMPLE, ROOT, demo_age_key, example_apis

GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Semaphore:
    """One project of Semaphore's: a clone of the example in its temporary directory, and the
    runner's way to run ansible-galaxy and ansible-playbook there."""

    def __init__(self, tmp_path, tarball):
        self.tmp = tmp_path / "semaphore-tmp"   # util.Config.TmpPath
        self.tmp.mkdir()
        self.repo = self.tmp / "repository_1_1"
        shutil.copytree(EXAMPLE, self.repo, ignore=shutil.ignore_patterns("ansible_collections", "*.md5"))
        # The requirements name the release tarball (type file) instead of the Git repository.
        (self.repo / "collections" / "requirements.yml").write_text(yaml.safe_dump(
            {"collections": [{"name": str(tarball), "type": "file"}]}))

    def env(self, environment=None):
        """AnsiblePlaybook.makeCmd: the environment from nothing, then the Environment's ENV and secrets."""
        base = {"PYTHONUNBUFFERED": "1", "ANSIBLE_FORCE_COLOR": "True",
                "PATH": os.pathsep.join([str(pathlib.Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
                "HOME": str(self.tmp), "PWD": str(self.repo)}
        return {**base, **(environment or {})}

    def run(self, command, args, environment=None):
        result = subprocess.run([command, *args], cwd=self.repo, env=self.env(environment), capture_output=True,
                                text=True, timeout=600, check=False)
        return result.returncode, ANSI.sub("", result.stdout + result.stderr)

    def install_requirements(self):
        """AnsibleApp.installCollectionsRequirements for a playbook at the repository's top."""
        return self.run("ansible-galaxy", ["collection", "install", "-r",
                                           str(self.repo / "collections" / "requirements.yml"), "--force"])

    def run_task(self, playbook, inventory, environment_json, environment, task_id=1, dry_run=False, diff=False):
        """LocalJob.getPlaybookArgs for a file inventory of the repository, then RunPlaybook."""
        extra_vars = dict(environment_json)
        extra_vars["semaphore_vars"] = {"task_details": {"id": task_id, "username": "admin",
                                                         "url": f"https://semaphore.example.com/project/1/history?t={task_id}"}}
        args = ["-i", inventory]
        if diff:
            args.append("--diff")
        if dry_run:
            args.append("--check")
        args += ["--extra-vars", json.dumps(extra_vars, separators=(",", ":")), playbook]
        return self.run("ansible-playbook", args, environment)


@pytest.fixture(scope="module", name="tarball")
def tarball_fixture(tmp_path_factory):
    """The collection's release tarball, built from this checkout."""
    out = tmp_path_factory.mktemp("build")
    result = subprocess.run(["ansible-galaxy", "collection", "build", "--output-path", str(out), str(ROOT)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return out / f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"


@pytest.fixture(name="apis")
def apis_fixture():
    """The Proxmox VE and tailnet credentials as a Semaphore Environment gives them (variables
    and secrets, in the task's environment), their APIs answered by the fakes."""
    with example_apis() as variables:
        yield variables


@pytest.fixture(name="semaphore")
def semaphore_fixture(tmp_path, tarball):
    semaphore = Semaphore(tmp_path, tarball)
    returncode, output = semaphore.install_requirements()
    assert returncode == 0, output[-3000:]
    return semaphore


def test_requirements_install_the_collection_into_the_project(semaphore):
    installed = semaphore.repo / "collections" / "ansible_collections" / "homelab" / "stack"
    manifest = json.loads((installed / "MANIFEST.json").read_text())["collection_info"]
    assert (manifest["namespace"], manifest["name"], manifest["version"]) == ("homelab", "stack", GALAXY["version"])
    # The only homelab.stack the task can load is that copy: no checkout on any path.
    returncode, output = semaphore.run("ansible-galaxy", ["collection", "list", "homelab.stack", "--format", "json"])
    assert returncode == 0, output
    listed = json.loads(output[output.index("{"):])
    assert list(listed) == [str(installed.parent.parent)]
    assert str(ROOT) not in output


def test_check_template_runs_with_the_age_key_from_a_semaphore_secret(semaphore, apis):
    environment = {**apis, "SOPS_AGE_KEY": demo_age_key()}
    returncode, output = semaphore.run_task("check.yml", "inventory", {"service_health_timeout": 300}, environment)
    assert returncode == 0, output[-4000:]
    assert "22 services on jove, kronos; 17 secrets decrypted" in output
    # Every inventory source parsed (the API credentials came from the Environment).
    assert "Failed to parse" not in output and "Unable to parse" not in output
    # No secret reached the task log: neither the decrypted values nor the key.
    decrypted = []
    for path in sorted((EXAMPLE / "inventory" / "group_vars").glob("*.sops.yaml")):
        result = subprocess.run(["sops", "decrypt", str(path)], env=semaphore.env(environment), capture_output=True,
                                text=True, check=False)
        assert result.returncode == 0, result.stderr
        decrypted += list(yaml.safe_load(result.stdout).values())
    assert len(decrypted) == 15
    assert [value for value in decrypted if value in output] == []
    assert demo_age_key() not in output


def test_check_template_as_a_dry_run_with_diff(semaphore, apis):
    environment = {**apis, "SOPS_AGE_KEY": demo_age_key()}
    returncode, output = semaphore.run_task("check.yml", "inventory", {}, environment, task_id=2, dry_run=True, diff=True)
    assert returncode == 0, output[-4000:]
    assert "secrets decrypted" in output and "changed=0" in output


def test_without_the_age_key_the_task_stops_before_its_first_task_naming_file_and_recipient(semaphore, apis):
    returncode, output = semaphore.run_task("check.yml", "inventory", {}, apis, task_id=3)
    assert returncode != 0
    recipient = yaml.safe_load((EXAMPLE / ".sops.yaml").read_text())["creation_rules"][0]["age"]
    assert ".sops.yaml" in output and recipient in output
    assert "TASK [Validate the catalog" not in output and "secrets decrypted" not in output


def test_layer_playbooks_resolve_from_the_installed_collection(semaphore):
    # Each Semaphore template names one of the project's playbooks; all of them import the
    # collection's, which only the installed copy can provide here.
    playbooks = sorted(path.name for path in semaphore.repo.glob("*.yml") if path.name != "execution-environment.yml")
    assert {"site.yml", "check.yml", "verify.yml", "backup_verify.yml"} <= set(playbooks)
    for playbook in playbooks:
        returncode, output = semaphore.run("ansible-playbook", ["--syntax-check", "-i", "inventory", playbook],
                                           {"SOPS_AGE_KEY": demo_age_key()})
        assert returncode == 0, f"{playbook}: {output[-2000:]}"

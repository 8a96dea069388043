"""Running the API modules (``authentik_*``, ``semaphore_*``) through ansible-playbook against
their fake server (FakeAuthentik by default)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from fakes.authentik import TOKEN


class Runner:
    """Runs one task of a module in a one-task playbook; keeps the last run's output."""

    def __init__(self, fake, tmp_path, module, group="authentik", token_env="AUTHENTIK_TOKEN", token=TOKEN):
        self.fake = fake
        self.tmp_path = tmp_path
        self.module = "homelab.stack.%s" % module
        self.group = group
        self.token_env = token_env
        self.token = token
        self.last = None

    def play(self, args, check=False, verbose=False, token=None, task_extra=None):
        """Run the task; returns its result dict (JSON callback), or None with ``verbose``.

        The connection comes through ``module_defaults`` of the action group and the token
        (default: the fake's) through the environment (``token_env``), as a playbook would keep it.
        """
        task = dict({"name": "under test", self.module: args, "register": "outcome"}, **(task_extra or {}))
        play = [{"hosts": "localhost", "gather_facts": False,
                 "module_defaults": {"group/homelab.stack.%s" % self.group: {"api_url": self.fake.url, "timeout": 5}},
                 "tasks": [task]}]
        playbook = self.tmp_path / "play.yml"
        playbook.write_text(yaml.safe_dump(play))
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", **{self.token_env: token or self.token})
        if not verbose:
            env.update(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
        command = ["ansible-playbook", "-i", "localhost,", "-c", "local", "--diff",
                   "-e", "ansible_python_interpreter=%s" % sys.executable, str(playbook)]
        if check:
            command.append("--check")
        if verbose:
            command.append("-vvv")
        self.last = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        if verbose:
            return None
        return json.loads(self.last.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]

    def output(self):
        return self.last.stdout + self.last.stderr


def ok(result):
    assert not result.get("failed"), result.get("msg")
    return result


def writes(fake):
    """(method, path) of each write request the fake received."""
    return [(entry["method"], entry["path"]) for entry in fake.writes()]

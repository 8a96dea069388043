"""Ansible run by the tests as a user runs it: a module or a role once on this machine, or an inventory.

Modules and roles run on localhost over the local connection with the test's own Python;
their results come from the ``ansible.posix.json`` callback when the test reads them.
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile

from fakes import plain

ROOT = pathlib.Path(__file__).resolve().parent.parent
JSON_CALLBACK = {"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1"}


def ansible_playbook(playbook, *args, check=False, env=None, timeout=300):
    """ansible-playbook on localhost over the local connection (in ``env``, default this process's); the completed process."""
    command = ["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
               *args, str(playbook)]
    if check:
        command.append("--check")
    return subprocess.run(command, cwd=ROOT, env=env or dict(os.environ), capture_output=True, text=True, timeout=timeout,
                          check=False)


def run_module(module, args, check=False, env=None, timeout=120):
    """Run ``module`` once with ``args`` (in diff mode); (its result, the completed process).

    The options go in a playbook file rather than on the command line, so that any size fits.
    ``env``: variables added to this process's environment.
    """
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [{module: args}]}]
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as playbook:
        json.dump(play, playbook)
        playbook.flush()
        completed = ansible_playbook(playbook.name, "--diff", check=check, env={**os.environ, **JSON_CALLBACK, **(env or {})},
                                     timeout=timeout)
    result = json.loads(completed.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    return result, completed


def run_module_tasks(module, args_list, check=False, env=None, timeout=300):
    """Run ``module`` once per item of ``args_list``, as the tasks of one playbook (in diff
    mode); the list of their results, in order.

    One ansible-playbook start-up for several runs whose outcomes do not depend on each
    other: every task ignores errors, so a failing run does not stop the next, and each runs
    the module in a process of its own as a playbook of its own would.
    """
    tasks = [{module: args, "ignore_errors": True} for args in args_list]
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as playbook:
        json.dump(play, playbook)
        playbook.flush()
        completed = ansible_playbook(playbook.name, "--diff", check=check, env={**os.environ, **JSON_CALLBACK, **(env or {})},
                                     timeout=timeout)
    results = [task["hosts"]["localhost"] for task in json.loads(completed.stdout)["plays"][0]["tasks"]]
    assert len(results) == len(args_list), completed.stdout + completed.stderr
    return results


def run_role(role, directory, variables=None, extra_vars=(), check=False, env=None, json_output=False, timeout=300):
    """Apply ``role`` once; the completed process.

    ``variables`` (any values) are written to ``directory``/vars.json and given as extra vars,
    after them ``extra_vars`` (``key=value`` strings). ``env``: variables added to this
    process's environment. ``json_output``: stdout is the json callback's document.
    """
    directory = pathlib.Path(directory)
    playbook = directory / "play.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "roles": [{"role": role}]}]))
    args = []
    if variables is not None:
        (directory / "vars.json").write_text(json.dumps(variables))
        args += ["-e", "@%s" % (directory / "vars.json")]
    for assignment in extra_vars:
        args += ["-e", assignment]
    environment = {**os.environ, **(JSON_CALLBACK if json_output else {}), **(env or {})}
    return ansible_playbook(playbook, *args, check=check, env=environment, timeout=timeout)


def clean_env(**extra):
    """This process's environment without real Proxmox or Tailscale settings, with ``extra`` added.

    An inventory source that fails fails the command, rather than only warning.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PROXMOX_", "TAILSCALE_"))}
    env["ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED"] = "1"
    env.update(extra)
    return env


def ansible_inventory(source, *args, env=None, timeout=300):
    """ansible-inventory over ``source`` with ``args`` (default ``--list``) in ``env`` (default clean_env()); the completed process."""
    command = ["ansible-inventory", "-i", str(source)] + list(args or ["--list"])
    return subprocess.run(command, env=env or clean_env(), capture_output=True, text=True, timeout=timeout, check=False)


def listed(result):
    """The inventory an ``ansible-inventory --list`` printed, plain; it must have succeeded without a traceback."""
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return plain(json.loads(result.stdout))


# Run in a fresh interpreter: Ansible's plugin loader cannot load the collection's plugins by
# name in a process that already imported them as plain packages, as the tests do.
INVENTORY_MANAGER = """
import json, sys
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader

init_plugin_loader()
manager = InventoryManager(loader=DataLoader(), sources=[sys.argv[1]])
print(json.dumps({
    "hosts": {host.name: {"vars": host.get_vars(), "groups": sorted(group.name for group in host.get_groups())}
              for host in manager.get_hosts()},
    "groups": {name: sorted(host.name for host in group.get_hosts()) for name, group in manager.groups.items()},
}, default=str))
"""


def inventory_manager(source, env=None, timeout=300):
    """The inventory Ansible's Python API (InventoryManager) reads from ``source`` in ``env``
    (default clean_env()): {"hosts": {name: {"vars": {...}, "groups": [names]}}, "groups": {name: [hosts]}}."""
    result = subprocess.run([sys.executable, "-c", INVENTORY_MANAGER, str(source)], env=env or clean_env(), capture_output=True,
                            text=True, timeout=timeout, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)

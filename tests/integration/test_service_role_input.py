"""roles/service refuses a bad catalog before it changes anything.

Runs the role against this machine over the local connection in check mode; a bad
catalog must stop it at the validation task with the filter's message.
"""

import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  roles:
    - role: homelab.stack.service
"""


def run_role(tmp_path, services):
    (tmp_path / "play.yml").write_text(PLAY)
    (tmp_path / "vars.json").write_text(json.dumps({"homelab_services": services}))
    result = subprocess.run(
        ["ansible-playbook", "--check", "-i", "localhost,", str(tmp_path / "play.yml"),
         "-e", f"ansible_python_interpreter={sys.executable}", "-e", f"@{tmp_path / 'vars.json'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    return result.returncode, result.stdout + result.stderr


GOOD = {"name": "web", "host": "localhost", "image": "localhost/app:1"}


@pytest.mark.parametrize(
    ("services", "message"),
    [
        ([{"name": "web", "host": "localhost"}], "service web: image: is required"),
        ([GOOD, dict(GOOD)], "service web: name: duplicate of service #0"),
        ([dict(GOOD, host="mars")], "service web: host: 'mars' is not in the inventory"),
        ([dict(GOOD, depends_on=["db"]), {"name": "db", "host": "localhost", "image": "x/db:1", "depends_on": ["web"]}],
         "service web: depends_on: cycle web -> db -> web"),
        ([dict(GOOD, secrets={"TOKEN": ""})], "service web: secrets: TOKEN has no value"),
        ([dict(GOOD, route={"auth": "maybe"})], "service web: route.auth:"),
        ([dict(GOOD, imagee="typo")], "service web: imagee:"),
    ],
)
def test_bad_catalog_fails_at_validation(tmp_path, services, message):
    returncode, output = run_role(tmp_path, services)
    assert returncode != 0
    assert message in output
    # Nothing after validation ran: no secret, unit or service task.
    for later in ("Create or update Podman secrets", "Write the Quadlet units", "Start services"):
        assert later not in output


def test_secret_values_stay_out_of_the_output(tmp_path):
    services = [dict(GOOD, secrets={"TOKEN": "very-secret-value"}), {"name": "web", "host": "localhost"}]
    returncode, output = run_role(tmp_path, services)
    assert returncode != 0
    assert "very-secret-value" not in output

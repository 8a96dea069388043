"""roles/base refuses bad input before it changes anything.

The role runs against this machine over the local connection in check mode; each bad input
must stop it in the preflight, naming the variable, before the first task that would change
something (creating the users) is even reached.
"""

import json

import pytest

import ansible_run

PRIVATE = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUtc2VjcmV0\n-----END OPENSSH PRIVATE KEY-----"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJbIBHJNsq+QSlezOo190cUtIu7bHGZCx71L3cw9+oBW alice@laptop"
GOOD = {"base_admin_users": [{"name": "alice", "keys": [KEY]}], "base_firewall_zones": [{"name": "mesh", "interfaces": ["lo"]}],
        "homelab_services": [{"name": "web", "host": "localhost", "image": "localhost/web:1", "publish": ["8080:80"]}]}
FIRST_CHANGE = "Create the admin users"


def run(tmp_path, **variables):
    result = ansible_run.run_role("homelab.stack.base", tmp_path, variables={**GOOD, **variables}, check=True)
    result.stdout += result.stderr  # Ansible prints task errors on stderr
    return result


@pytest.mark.parametrize(("variables", "message"), [
    ({"base_admin_users": [{"name": "alice", "keys": [PRIVATE]}]},
     "base_admin_users[0].keys[0] (user alice): is a private key; give the public one"),
    ({"base_admin_users": [{"name": "alice", "keys": [KEY[:40]]}]},
     "base_admin_users[0].keys[0] (user alice): the key data is not a whole base64 OpenSSH key"),
    ({"base_firewall_zones": [{"name": "mesh", "interfaces": ["eht9"]}]},
     "base_firewall_zones[0].interfaces[0]: this host has no interface 'eht9'"),
    ({"base_firewall_zones": []}, "base_firewall_zones: declare at least the mesh zone"),
    ({"base_firewall_zones": [{"name": "lan", "interfaces": ["lo"]}]},
     "base_firewall_mesh_zone: 'mesh' is not a zone of base_firewall_zones, but service(s) web publish port 8080/tcp"),
    ({"homelab_services": [{"name": "web", "host": "localhost"}]}, "service web: image:"),
    ({"base_ssh_permit_root_login": "yes"}, "base_ssh_permit_root_login"),
])
def test_bad_input_stops_before_any_change(tmp_path, variables, message):
    result = run(tmp_path, **variables)
    assert result.returncode != 0
    assert message in result.stdout, result.stdout[-3000:]
    assert FIRST_CHANGE not in result.stdout
    assert "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUtc2VjcmV0" not in result.stdout


def test_good_input_passes_the_preflight(tmp_path):
    (tmp_path / "play.yml").write_text('[{"hosts": "localhost", "gather_facts": false, "roles": ["homelab.stack.base"]}]')
    (tmp_path / "vars.json").write_text(json.dumps(GOOD))
    result = ansible_run.ansible_playbook(tmp_path / "play.yml", "-e", f"@{tmp_path / 'vars.json'}", "--tags",
                                          "base_preflight", check=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "Build the firewall's table" in result.stdout

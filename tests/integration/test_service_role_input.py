"""roles/service refuses a bad catalog before it changes anything.

Runs the role against this machine over the local connection in check mode; a bad
catalog must stop it at the validation task with the filter's message.
"""

import pytest

import ansible_run


def apply_catalog(tmp_path, services):
    """Apply the role in check mode with this catalog; (return code, stdout and stderr)."""
    result = ansible_run.run_role("homelab.stack.service", tmp_path, {"homelab_services": services}, check=True)
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
    returncode, output = apply_catalog(tmp_path, services)
    assert returncode != 0
    assert message in output
    # Nothing after validation ran: no secret, unit or service task.
    for later in ("Create or update Podman secrets", "Write the Quadlet units", "Start services"):
        assert later not in output


def test_secret_values_stay_out_of_the_output(tmp_path):
    services = [dict(GOOD, secrets={"TOKEN": "very-secret-value"}), {"name": "web", "host": "localhost"}]
    returncode, output = apply_catalog(tmp_path, services)
    assert returncode != 0
    assert "very-secret-value" not in output

"""roles/podman refuses bad input and unsuitable hosts before it changes anything.

The role runs against this machine over the local connection in check mode, with a
stand-in `podman` first on PATH, so each case is exact and nothing here can be altered.
"""

import os
import pathlib

import pytest

import ansible_run

FAKE = pathlib.Path(__file__).resolve().parents[1] / "fakes" / "podman_cli"


def run_with_podman(tmp_path, extra_vars="", **fake):
    """Apply the role in check mode with the stand-in podman set up by ``fake``; (the completed
    process with stderr added to stdout, the podman calls)."""
    calls = tmp_path / "podman-calls.log"
    env = dict(PATH=f"{FAKE}:{os.environ['PATH']}", FAKE_PODMAN_LOG=str(calls))
    env.update({f"FAKE_PODMAN_{k.upper()}": str(v) for k, v in fake.items()})
    result = ansible_run.run_role("homelab.stack.podman", tmp_path, extra_vars=[extra_vars] if extra_vars else [],
                                  check=True, env=env)
    called = calls.read_text().splitlines() if calls.exists() else []
    # Ansible prints task errors on stderr: tests read both as one text.
    result.stdout += result.stderr
    return result, called


def test_old_podman_is_refused_with_both_versions(tmp_path):
    result, called = run_with_podman(tmp_path, version="4.3.1")
    assert result.returncode != 0
    assert "Podman 4.3.1 found on localhost" in result.stdout
    assert "Podman 4.4 or newer is" in result.stdout
    # Only the version was read, once (the version check reuses the preflight's answer): no
    # configuration task ran.
    assert called == ["--version"]
    assert "Write storage.conf" not in result.stdout


def test_current_podman_passes_preflight(tmp_path):
    result, called = run_with_podman(tmp_path, version="5.4.2", extra_vars="podman_manage_packages=false")
    assert "Require a Podman with Quadlet, at least 4.4" in result.stdout
    assert "found on localhost" not in result.stdout
    assert called[:2] == ["--version", "info --format json"]


def test_storage_driver_change_with_data_is_refused(tmp_path):
    result, _calls = run_with_podman(tmp_path, version="5.4.2", driver="vfs", images=3, containers=1)
    assert result.returncode != 0
    assert "podman_storage_driver is overlay" in result.stdout
    assert "3 images and 1" in result.stdout
    assert "podman system reset" in result.stdout
    assert "Write storage.conf" not in result.stdout


def test_storage_driver_change_on_an_empty_store_is_allowed(tmp_path):
    result, _calls = run_with_podman(tmp_path, version="5.4.2", driver="vfs", images=0, containers=0)
    assert "Refuse a storage driver change" in result.stdout
    assert "podman system reset" not in result.stdout


@pytest.mark.parametrize(
    ("extra_vars", "message"),
    [
        ("podman_storage_driver=devicemapper", "value of podman_storage_driver must be one of"),
        ("podman_short_name_mode=loose", "value of podman_short_name_mode must be one of"),
        (
            '{"podman_registry_mirrors": [{"prefix": "docker.io"}]}',
            "missing required arguments: location found in podman_registry_mirrors",
        ),
        ('{"podman_image_archives": "not-a-list"}', "podman_image_archives"),
    ],
)
def test_bad_input_is_refused_before_any_task(tmp_path, extra_vars, message):
    result, called = run_with_podman(tmp_path, extra_vars=extra_vars)
    assert result.returncode != 0
    assert message in result.stdout
    assert called == [], "no task may run before the inputs are valid"

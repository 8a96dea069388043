"""Verify roles/podman and a Quadlet-run nested container on a real lab host."""

import json
import re

import pytest

# Go templates ({{...}}) would be read as Jinja by testinfra's Ansible backend: read JSON.


def test_podman_is_new_enough_for_quadlet(host):
    version = re.search(r"(\d+)\.(\d+)", host.check_output("podman --version"))
    assert (int(version.group(1)), int(version.group(2))) >= (4, 4)
    assert host.file("/usr/libexec/podman/quadlet").exists


def test_system_is_running(host):
    assert host.run("systemctl is-system-running").stdout.strip() == "running"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/etc/containers/storage.conf", 'driver = "vfs"'),
        ("/etc/containers/registries.conf.d/50-homelab.conf", 'short-name-mode = "enforcing"'),
        ("/etc/containers/containers.conf.d/50-homelab.conf", "default_ulimits = []"),
    ],
)
def test_configuration_written(host, path, expected):
    config = host.file(path)
    assert config.user == "root"
    assert config.mode == 0o644
    assert expected in config.content_string


def test_podman_uses_the_written_storage_driver(host):
    info = json.loads(host.check_output("podman info --format json"))
    assert info["store"]["graphDriverName"] == "vfs"


def test_short_names_without_an_alias_are_refused(host):
    # Not searched in any registry: refused before a pull is tried.
    result = host.run("podman pull homelab-no-such-short-name")
    assert result.rc != 0
    assert "did not resolve to an alias and no unqualified-search registries are defined" in result.stderr


def test_nested_default_network_leaves_podmans_default_subnet(host):
    # The instance may itself sit on an outer 10.88.0.0/16 (podman_default_subnet).
    (network,) = json.loads(host.check_output("podman network inspect podman"))
    assert [subnet["subnet"] for subnet in network["subnets"]] == ["10.231.128.0/24"]


def test_auto_update_timer_enabled(host):
    timer = host.service("podman-auto-update.timer")
    assert timer.is_enabled
    assert timer.is_running


def test_quadlet_directory(host):
    directory = host.file("/etc/containers/systemd")
    assert directory.is_directory
    assert directory.mode == 0o755


def test_quadlet_unit_runs_a_nested_container(host):
    assert host.service("lab-web.service").is_running
    (container,) = json.loads(host.check_output("podman container inspect lab-web"))
    assert container["State"]["Status"] == "running"
    assert container["ImageName"] == "localhost/homelab-lab-app:latest"
    page = host.check_output("curl -sf http://127.0.0.1:8080/")
    assert "homelab lab app" in page


def test_unit_environment_reaches_the_container(host):
    env = host.check_output("curl -sf http://127.0.0.1:8080/cgi-bin/env")
    assert "LAB_GREETING=hello-from-quadlet" in env.splitlines()

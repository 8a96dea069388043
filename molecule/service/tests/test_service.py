"""Verify roles/service on a real lab host after converge and side_effect."""

import json

import pytest

TOKEN = "t0ken-$ecret with spaces"


def env_of(host, port):
    return host.check_output("curl -sf http://127.0.0.1:%d/cgi-bin/env" % port).splitlines()


@pytest.mark.parametrize("service", ["backend", "frontend"])
def test_services_run_under_systemd(host, service):
    assert host.service(service + ".service").is_running
    (container,) = json.loads(host.check_output("podman container inspect " + service))
    assert container["State"]["Status"] == "running"
    assert container["Config"]["Labels"]["homelab.service"] == service


def test_backend_is_healthy(host):
    assert host.run("podman healthcheck run backend").rc == 0


def test_secret_reaches_the_container(host):
    assert "API_TOKEN=" + TOKEN in env_of(host, 8081)


def test_secret_is_in_no_unit_file_and_not_in_inspect(host):
    units = host.check_output("find /etc/containers/systemd -type f -exec cat {} +")
    assert TOKEN not in units
    assert "t0ken" not in host.check_output("systemctl cat backend.service")
    assert "t0ken" not in host.check_output("podman container inspect backend")


def test_changed_env_arrived_literally(host):
    assert "GREETING=changed greeting" in env_of(host, 8082)


def test_dependency_orders_the_units(host):
    unit = host.check_output("systemctl show -P After frontend.service")
    assert "backend.service" in unit.split()
    assert "backend.service" in host.check_output("systemctl show -P Requires frontend.service").split()


def test_services_share_the_host_network(host):
    assert "homelab lab app" in host.check_output("podman exec frontend wget -q -O - http://backend:8080/")


def test_volume_is_mounted(host):
    (volume,) = json.loads(host.check_output("podman volume inspect backend-data"))
    assert volume["Labels"]["homelab.service"] == "backend"


def test_removed_service_is_gone_and_its_purged_volume_too(host):
    assert not host.file("/etc/containers/systemd/extra.container").exists
    assert not host.file("/etc/containers/systemd/extra-scratch.volume").exists
    assert host.run("podman container exists extra").rc == 1
    assert host.run("podman volume exists extra-scratch").rc == 1


def test_units_carry_the_managed_marker(host):
    for name in ("homelab.network", "backend.container", "backend-data.volume", "frontend.container"):
        assert "X-HomelabManaged=true" in host.file("/etc/containers/systemd/" + name).content_string


def test_command_and_healthcheck_arrive_literally(host):
    assert host.check_output("podman exec literal cat /tmp/literal") == "%h ${HOME} $HOME 100%"
    assert host.run("podman healthcheck run literal").rc == 0


def test_a_secret_the_role_does_not_own_survives_every_converge(host):
    assert host.run("podman secret exists user-secret").rc == 0

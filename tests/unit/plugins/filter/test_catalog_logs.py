# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Logs in the catalog: the loki kind (published on its host's mesh address only) and the
alloy entry that becomes one log agent per host that runs a service."""

from __future__ import annotations

import re

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.filter import host_units as host_units_plugin
from ansible_collections.homelab.stack.plugins.filter import monitoring_targets as monitoring_targets_plugin
from ansible_collections.homelab.stack.plugins.filter import platform_service as platform_service_plugin
from ansible_collections.homelab.stack.plugins.filter import validate_catalog as validate_catalog_plugin
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import alloy, monitoring
from catalog_entry import BACKUP

validate_catalog = validate_catalog_plugin.FilterModule().filters()["validate_catalog"]
host_units = host_units_plugin.FilterModule().filters()["host_units"]
platform_service = platform_service_plugin.FilterModule().filters()["platform_service"]
monitoring_targets = monitoring_targets_plugin.FilterModule().filters()["monitoring_targets"]

# pve is in the inventory but runs no service of the catalog (a Proxmox node).
HOSTS = ["jove", "kronos", "pve"]
ADDRESSES = {"jove": "100.64.0.10", "kronos": "100.64.0.11"}
PROMETHEUS = {"name": "prometheus", "host": "jove", "platform": "prometheus"}
LOKI = {"name": "loki", "host": "jove", "platform": "loki"}
ALLOY = {"name": "alloy", "platform": "alloy"}
APP = {"name": "app", "host": "kronos", "image": "ghcr.io/example/app:1.0", "port": 8000}


def by_name(catalog):
    return {service["name"]: service for service in catalog}


def container(catalog, host, name, address=None):
    return next(unit for unit in host_units(catalog, host, address) if unit["type"] == "container"
                and unit["name"] == name)


# --- loki ------------------------------------------------------------------------------


def test_a_loki_entry_gets_the_official_image_its_config_and_data():
    entry = by_name(validate_catalog([PROMETHEUS, LOKI], HOSTS))["loki"]
    assert monitoring.LOKI_IMAGE == "docker.io/grafana/loki:3.6.0"
    assert entry["image"] == monitoring.LOKI_IMAGE
    assert entry["mounts"] == [{"source": "/etc/homelab/loki", "target": "/etc/loki", "readonly": True}]
    assert entry["volumes"] == [{"name": "data", "mount": "/loki", "backup": BACKUP["never"]}]
    assert entry["command"] == ["-config.file=/etc/loki/loki.yaml"]
    # The distroless image has neither a shell nor wget to check /ready from inside.
    assert entry["healthcheck"] is None
    assert entry["metrics"] == {"port": 3100, "path": "/metrics", "mesh_port": None}
    assert entry["port"] == 3100 and entry["publish"] == [] and entry["route"] is None


def test_loki_is_published_on_its_hosts_mesh_address_only():
    catalog = validate_catalog([PROMETHEUS, LOKI], HOSTS)
    assert container(catalog, "jove", "loki", "100.64.0.10")["spec"]["PublishPort"] == ["100.64.0.10:3100:3100"]
    assert container(catalog, "jove", "loki", "fd7a:115c::1")["spec"]["PublishPort"] == ["[fd7a:115c::1]:3100:3100"]
    # Prometheus, beside it, keeps its loopback port and nothing on the mesh.
    assert container(catalog, "jove", "prometheus", "100.64.0.10")["spec"]["PublishPort"] == ["127.0.0.1:9090:9090"]


def test_loki_without_its_hosts_mesh_address_is_refused():
    catalog = validate_catalog([PROMETHEUS, LOKI], HOSTS)
    with pytest.raises(AnsibleFilterError, match=re.escape(
            "host_units: address: service loki is pushed to by every host's log agent over the mesh, so this host's"
            " mesh address is needed")):
        host_units(catalog, "jove")


def test_loki_runs_beside_prometheus():
    with pytest.raises(AnsibleFilterError, match=re.escape(
            "service loki: host: platform loki runs beside prometheus on jove")):
        validate_catalog([PROMETHEUS, dict(LOKI, host="kronos")], HOSTS)
    with pytest.raises(AnsibleFilterError, match=re.escape(
            "service loki: host: platform loki runs beside prometheus (add a present platform prometheus entry)")):
        validate_catalog([LOKI], HOSTS)


def test_another_service_on_lokis_port_of_the_mesh_is_refused():
    other = {"name": "other", "host": "jove", "image": "ghcr.io/example/other:1", "publish": ["100.64.0.10:3100:80"]}
    # The catalog does not know the mesh address, so any other binding of 3100 on every address collides.
    clash = dict(other, publish=["3100:80"])
    with pytest.raises(AnsibleFilterError, match=re.escape(
            "service loki: platform: 'mesh address:3100' binds port 3100/tcp that publish[0] of service other already"
            " publishes on host jove")):
        validate_catalog([clash, PROMETHEUS, LOKI], HOSTS)
    # Loopback is another address than the mesh.
    validate_catalog([dict(other, publish=["127.0.0.1:3100:80"]), PROMETHEUS, LOKI], HOSTS)


def test_lokis_scrape_job_is_loki_whatever_its_name():
    catalog = validate_catalog([PROMETHEUS, dict(LOKI, name="logs")], HOSTS)
    jobs = {job["job"]: job for job in monitoring_targets(catalog, ADDRESSES, "lab.example.com")["jobs"]}
    assert jobs["loki"]["targets"] == [{"address": "logs:3100", "labels": {"service": "logs", "host": "jove"}}]
    assert "logs" not in jobs


def test_platform_service_tells_the_role_where_lokis_file_goes():
    catalog = validate_catalog([PROMETHEUS, LOKI], HOSTS)
    assert platform_service(catalog, "loki") == {
        "name": "loki", "host": "jove", "image": monitoring.LOKI_IMAGE, "host_dir": "/etc/homelab/loki",
        "secrets": [], "config_dir": "/etc/loki", "config_file": "/etc/loki/loki.yaml", "data_dir": "/loki",
        "port": 3100}


def test_an_absent_loki_publishes_nothing():
    catalog = validate_catalog([PROMETHEUS, dict(LOKI, state="absent")], HOSTS)
    assert [unit["name"] for unit in host_units(catalog, "jove", "100.64.0.10")
            if unit["type"] == "container"] == ["prometheus"]
    assert platform_service(catalog, "loki") is None


# --- alloy -----------------------------------------------------------------------------


def test_one_alloy_entry_becomes_an_agent_on_every_host_that_runs_a_service():
    catalog = validate_catalog([PROMETHEUS, LOKI, APP, ALLOY], HOSTS)
    agents = [service for service in catalog if service["platform"] == "alloy"]
    assert [(agent["name"], agent["host"]) for agent in agents] == [("alloy-jove", "jove"), ("alloy-kronos", "kronos")]
    assert "alloy" not in by_name(catalog)


def test_an_agent_reads_the_journal_read_only_and_keeps_its_position():
    agent = by_name(validate_catalog([APP, ALLOY], HOSTS))["alloy-kronos"]
    assert agent["image"] == alloy.IMAGE == "docker.io/grafana/alloy:v1.12.2"
    assert agent["mounts"] == [
        {"source": "/etc/homelab/alloy", "target": "/etc/alloy", "readonly": True},
        {"source": "/var/log/journal", "target": "/var/log/journal", "readonly": True},
        {"source": "/run/log/journal", "target": "/run/log/journal", "readonly": True},
        {"source": "/etc/machine-id", "target": "/etc/machine-id", "readonly": True}]
    assert agent["volumes"] == [{"name": "data", "mount": "/var/lib/alloy/data", "backup": BACKUP["never"]}]
    assert agent["command"] == ["run", "--server.http.listen-addr=127.0.0.1:12345",
                                "--storage.path=/var/lib/alloy/data", "--disable-reporting",
                                "/etc/alloy/config.alloy"]
    assert agent["publish"] == [] and agent["metrics"] is None and agent["route"] is None
    spec = container(validate_catalog([APP, ALLOY], HOSTS), "kronos", "alloy-kronos")["spec"]
    assert "PublishPort" not in spec
    assert "/var/log/journal:/var/log/journal:ro" in spec["Volume"]


def test_the_entrys_fields_go_to_every_agent():
    catalog = validate_catalog([PROMETHEUS, APP, dict(ALLOY, image="docker.io/grafana/alloy:v1.11.3",
                                                      resources={"memory": "256m"})], HOSTS)
    for name in ("alloy-jove", "alloy-kronos"):
        assert by_name(catalog)[name]["image"] == "docker.io/grafana/alloy:v1.11.3"
        assert by_name(catalog)[name]["resources"] == {"memory": "256m"}


def test_a_normalised_catalog_with_agents_normalises_to_itself():
    catalog = validate_catalog([PROMETHEUS, LOKI, APP, ALLOY], HOSTS)
    assert validate_catalog(catalog, HOSTS) == catalog


def test_an_absent_service_brings_no_agent_to_its_host():
    catalog = validate_catalog([PROMETHEUS, dict(APP, state="absent"), ALLOY], HOSTS)
    assert [service["name"] for service in catalog if service["platform"] == "alloy"] == ["alloy-jove"]


def test_a_declared_agent_is_kept_as_declared():
    own = {"name": "alloy-kronos", "host": "kronos", "platform": "alloy", "resources": {"memory": "128m"}}
    catalog = validate_catalog([PROMETHEUS, APP, ALLOY, own], HOSTS)
    assert by_name(catalog)["alloy-kronos"]["resources"] == {"memory": "128m"}
    assert by_name(catalog)["alloy-jove"]["resources"] == {}
    assert [service["name"] for service in catalog].count("alloy-kronos") == 1


def test_a_service_that_takes_an_agents_name_is_refused():
    taken = {"name": "alloy-kronos", "host": "kronos", "image": "ghcr.io/example/other:1"}
    with pytest.raises(AnsibleFilterError, match=re.escape(
            "service alloy-kronos: name: is the log agent platform alloy of service alloy makes for host kronos;"
            " declare it with platform alloy to change it, or use another name")):
        validate_catalog([APP, ALLOY, taken], HOSTS)


def test_a_host_whose_name_makes_no_agent_name_is_refused():
    with pytest.raises(AnsibleFilterError, match=re.escape(
            "service alloy: host: the agent of host 'nas.lan' would be named 'alloy-nas.lan', which is not a DNS"
            " label")):
        validate_catalog([dict(APP, host="nas.lan"), ALLOY], HOSTS + ["nas.lan"])


def test_two_agents_on_one_host_are_refused():
    second = {"name": "shipper", "host": "kronos", "platform": "alloy"}
    # The made agents come after the user's entries.
    with pytest.raises(AnsibleFilterError, match=re.escape(
            "service alloy-kronos: host: host kronos already has log agent shipper (each reads the whole journal)")):
        validate_catalog([APP, ALLOY, second], HOSTS)


def test_platform_service_finds_each_hosts_agent():
    catalog = validate_catalog([PROMETHEUS, APP, ALLOY], HOSTS)
    agent = platform_service(catalog, "alloy", "kronos")
    assert agent["name"] == "alloy-kronos" and agent["host"] == "kronos"
    assert agent["host_dir"] == "/etc/homelab/alloy" and agent["config_file"] == "/etc/alloy/config.alloy"
    assert platform_service(catalog, "alloy", "pve") is None
    with pytest.raises(AnsibleFilterError, match="platform_service: host: must be a host name, got int"):
        platform_service(catalog, "alloy", 3)

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The monitoring platform in the catalog: the prometheus, alertmanager and
blackbox_exporter kinds, how Prometheus reaches metrics on another host (metrics.mesh_port),
and the monitoring_targets view the monitoring role consumes."""

from __future__ import annotations

import copy
import re

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.filter import host_units as host_units_plugin
from ansible_collections.homelab.stack.plugins.filter import monitoring_targets as monitoring_targets_plugin
from ansible_collections.homelab.stack.plugins.filter import platform_service as platform_service_plugin
from ansible_collections.homelab.stack.plugins.filter import validate_catalog as validate_catalog_plugin
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import monitoring
from catalog_entry import BACKUP

validate_catalog = validate_catalog_plugin.FilterModule().filters()["validate_catalog"]
host_units = host_units_plugin.FilterModule().filters()["host_units"]
platform_service = platform_service_plugin.FilterModule().filters()["platform_service"]
monitoring_targets = monitoring_targets_plugin.FilterModule().filters()["monitoring_targets"]

HOSTS = ["jove", "kronos", "vesta"]
DOMAIN = "lab.example.com"
ADDRESSES = {"jove": "100.64.0.10", "kronos": "100.64.0.11"}
PROMETHEUS = {"name": "prometheus", "host": "jove", "platform": "prometheus"}
ALERTMANAGER = {"name": "alertmanager", "host": "jove", "platform": "alertmanager"}
BLACKBOX = {"name": "blackbox", "host": "jove", "platform": "blackbox_exporter"}
MONITORING = [PROMETHEUS, ALERTMANAGER, BLACKBOX]


def svc(name="app", host="kronos", **fields):
    entry = {"name": name, "host": host, "image": "ghcr.io/example/app:1.0", "port": 8000}
    entry.update(fields)
    return entry


def by_name(catalog):
    return {service["name"]: service for service in catalog}


def container(catalog, host, name, address=None):
    return next(unit for unit in host_units(catalog, host, address) if unit["type"] == "container"
                and unit["name"] == name)


# --- the kinds ------------------------------------------------------------------------


def test_the_official_images_are_pinned():
    assert monitoring.PROMETHEUS_IMAGE == "docker.io/prom/prometheus:v3.5.0"
    assert monitoring.ALERTMANAGER_IMAGE == "docker.io/prom/alertmanager:v0.28.1"
    assert monitoring.BLACKBOX_IMAGE == "docker.io/prom/blackbox-exporter:v0.27.0"


def test_a_prometheus_entry_gets_its_container_on_the_hosts_loopback_only():
    entry = validate_catalog([PROMETHEUS], HOSTS)[0]
    assert entry["image"] == monitoring.PROMETHEUS_IMAGE
    assert entry["publish"] == ["127.0.0.1:9090:9090"]
    assert entry["mounts"] == [{"source": "/etc/homelab/prometheus", "target": "/etc/prometheus", "readonly": True}]
    assert entry["volumes"] == [{"name": "data", "mount": "/prometheus", "backup": BACKUP["never"]}]
    assert entry["command"] == ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus",
                                "--web.enable-lifecycle"]
    assert entry["healthcheck"]["cmd"] == "wget -q -O /dev/null http://127.0.0.1:9090/-/ready"
    assert entry["metrics"] == {"port": 9090, "path": "/metrics", "mesh_port": None}
    assert entry["port"] == 9090 and entry["route"] is None


def test_an_alertmanager_entry_gets_its_container_on_the_hosts_loopback_only():
    entry = by_name(validate_catalog([PROMETHEUS, ALERTMANAGER], HOSTS))["alertmanager"]
    assert entry["image"] == monitoring.ALERTMANAGER_IMAGE
    assert entry["publish"] == ["127.0.0.1:9093:9093"]
    assert entry["mounts"] == [{"source": "/etc/homelab/alertmanager", "target": "/etc/alertmanager",
                                "readonly": True}]
    assert entry["volumes"] == [{"name": "data", "mount": "/alertmanager", "backup": BACKUP["never"]}]
    assert entry["command"] == ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager",
                                "--cluster.listen-address="]
    assert entry["healthcheck"]["cmd"] == "wget -q -O /dev/null http://127.0.0.1:9093/-/ready"
    assert entry["metrics"] == {"port": 9093, "path": "/metrics", "mesh_port": None}


def test_a_blackbox_exporter_entry_publishes_nothing():
    entry = by_name(validate_catalog([PROMETHEUS, BLACKBOX], HOSTS))["blackbox"]
    assert entry["image"] == monitoring.BLACKBOX_IMAGE
    assert entry["publish"] == [] and entry["port"] is None and entry["volumes"] == []
    assert entry["mounts"] == [{"source": "/etc/homelab/blackbox_exporter", "target": "/etc/blackbox_exporter",
                                "readonly": True}]
    assert entry["command"] == ["--config.file=/etc/blackbox_exporter/blackbox.yml"]
    assert entry["healthcheck"]["cmd"] == "wget -q -O /dev/null http://127.0.0.1:9115/-/healthy"
    assert entry["metrics"] == {"port": 9115, "path": "/metrics", "mesh_port": None}


def test_the_monitoring_units_carry_the_flags_and_nothing_published_beyond_loopback():
    catalog = validate_catalog(MONITORING, HOSTS)
    prometheus = container(catalog, "jove", "prometheus")["spec"]
    assert prometheus["Exec"] == "--config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path=/prometheus" \
                                 " --web.enable-lifecycle"
    assert prometheus["PublishPort"] == ["127.0.0.1:9090:9090"]
    assert prometheus["Volume"] == ["prometheus-data.volume:/prometheus", "/etc/homelab/prometheus:/etc/prometheus:ro"]
    assert container(catalog, "jove", "alertmanager")["spec"]["PublishPort"] == ["127.0.0.1:9093:9093"]
    assert "PublishPort" not in container(catalog, "jove", "blackbox")["spec"]


def test_normalising_the_monitoring_kinds_twice_changes_nothing():
    once = validate_catalog(MONITORING + [svc(metrics=True, route=True)], HOSTS, edge="jove")
    assert validate_catalog(once, HOSTS, edge="jove") == once
    assert validate_catalog(copy.deepcopy(once), HOSTS, edge="jove") == once


def test_the_users_fields_win_over_the_monitoring_defaults():
    entry = validate_catalog([dict(PROMETHEUS, image="localhost/prometheus:3.5", publish=[],
                                   volumes=[{"name": "tsdb", "mount": "/prometheus", "backup": "weekly"}])], HOSTS)[0]
    assert entry["image"] == "localhost/prometheus:3.5"
    assert entry["publish"] == []
    assert entry["volumes"] == [{"name": "tsdb", "mount": "/prometheus", "backup": BACKUP["weekly"]}]


@pytest.mark.parametrize("entry", [ALERTMANAGER, BLACKBOX], ids=["alertmanager", "blackbox_exporter"])
def test_alertmanager_and_blackbox_run_beside_prometheus(entry):
    kind = entry["platform"]
    with pytest.raises(AnsibleFilterError, match="^" + re.escape(
            f"service {entry['name']}: host: platform {kind} runs beside prometheus on jove")):
        validate_catalog([PROMETHEUS, dict(entry, host="kronos")], HOSTS)
    with pytest.raises(AnsibleFilterError, match="^" + re.escape(
            f"service {entry['name']}: host: platform {kind} runs beside prometheus (add a present platform"
            " prometheus entry)")):
        validate_catalog([entry], HOSTS)
    # An absent part does not run, so it runs beside nothing.
    assert validate_catalog([PROMETHEUS, dict(entry, host="kronos", state="absent")], HOSTS)


@pytest.mark.parametrize("entry", MONITORING, ids=lambda entry: entry["platform"])
def test_each_monitoring_kind_runs_once(entry):
    with pytest.raises(AnsibleFilterError, match="^" + re.escape(
            f"service second: platform: '{entry['platform']}' is already service {entry['name']}")):
        validate_catalog([PROMETHEUS, ALERTMANAGER, BLACKBOX, dict(entry, name="second", publish=[])], HOSTS)


def test_platform_service_gives_the_monitoring_role_its_paths():
    catalog = validate_catalog(MONITORING, HOSTS)
    common = {"host": "jove", "secrets": []}
    assert platform_service(catalog, "prometheus") == dict(
        common, name="prometheus", image=monitoring.PROMETHEUS_IMAGE, host_dir="/etc/homelab/prometheus",
        config_dir="/etc/prometheus", config_file="/etc/prometheus/prometheus.yml",
        rules_dir="/etc/prometheus/rules", port=9090)
    assert platform_service(catalog, "alertmanager") == dict(
        common, name="alertmanager", image=monitoring.ALERTMANAGER_IMAGE, host_dir="/etc/homelab/alertmanager",
        config_dir="/etc/alertmanager", config_file="/etc/alertmanager/alertmanager.yml", port=9093)
    assert platform_service(catalog, "blackbox_exporter") == dict(
        common, name="blackbox", image=monitoring.BLACKBOX_IMAGE, host_dir="/etc/homelab/blackbox_exporter",
        config_dir="/etc/blackbox_exporter", config_file="/etc/blackbox_exporter/blackbox.yml", port=9115)
    assert platform_service(validate_catalog([], HOSTS), "prometheus") is None


# --- metrics.mesh_port ----------------------------------------------------------------


def test_metrics_on_prometheus_host_are_scraped_by_name():
    catalog = by_name(validate_catalog([PROMETHEUS, svc(host="jove", metrics=True)], HOSTS))
    assert catalog["app"]["metrics"]["mesh_port"] is None
    assert "PublishPort" not in container(list(catalog.values()), "jove", "app")["spec"]


def test_metrics_on_another_host_are_published_on_its_mesh_address_only():
    catalog = validate_catalog([PROMETHEUS, svc(metrics={"port": 9000})], HOSTS)
    assert by_name(catalog)["app"]["metrics"] == {"port": 9000, "path": "/metrics", "mesh_port": 9000}
    assert container(catalog, "kronos", "app", "100.64.0.11")["spec"]["PublishPort"] == ["100.64.0.11:9000:9000"]
    assert container(catalog, "kronos", "app", "fd7a:115c:a1e0::b")["spec"]["PublishPort"] == [
        "[fd7a:115c:a1e0::b]:9000:9000"]


def test_without_prometheus_no_metrics_are_published():
    catalog = validate_catalog([svc(metrics=True, publish=["127.0.0.1:8000:8000"])], HOSTS)
    assert catalog[0]["metrics"]["mesh_port"] is None
    assert container(catalog, "kronos", "app")["spec"]["PublishPort"] == ["127.0.0.1:8000:8000"]


def test_metrics_on_the_routes_port_reuse_the_routes_binding():
    catalog = validate_catalog([PROMETHEUS, svc(route={"mesh_port": 18000}, metrics=True)], HOSTS, edge="jove")
    app = by_name(catalog)["app"]
    assert app["route"]["mesh_port"] == app["metrics"]["mesh_port"] == 18000
    assert container(catalog, "kronos", "app", "100.64.0.11")["spec"]["PublishPort"] == ["100.64.0.11:18000:8000"]


def test_metrics_on_another_port_than_the_route_get_their_own_binding():
    catalog = validate_catalog([PROMETHEUS, svc(route=True, metrics={"port": 9000})], HOSTS, edge="jove")
    assert container(catalog, "kronos", "app", "100.64.0.11")["spec"]["PublishPort"] == [
        "100.64.0.11:8000:8000", "100.64.0.11:9000:9000"]


def test_metrics_of_a_route_on_prometheus_host_with_the_edge_elsewhere_are_scraped_by_name():
    catalog = validate_catalog([dict(PROMETHEUS, host="kronos"), svc(route=True, metrics=True)], HOSTS, edge="jove")
    app = by_name(catalog)["app"]
    assert app["route"]["mesh_port"] == 8000 and app["metrics"]["mesh_port"] is None
    assert container(catalog, "kronos", "app", "100.64.0.11")["spec"]["PublishPort"] == ["100.64.0.11:8000:8000"]


def test_a_metrics_mesh_port_set_by_the_user_is_kept():
    catalog = validate_catalog([PROMETHEUS, svc(metrics={"mesh_port": 19000})], HOSTS)
    assert by_name(catalog)["app"]["metrics"]["mesh_port"] == 19000
    assert container(catalog, "kronos", "app", "100.64.0.11")["spec"]["PublishPort"] == ["100.64.0.11:19000:8000"]


def test_a_metrics_mesh_port_taken_on_the_host_is_refused_with_a_hint():
    with pytest.raises(AnsibleFilterError, match="^" + re.escape(
            "service app: metrics.mesh_port: 'mesh address:9000' binds port 9000/tcp that publish[0] of service other"
            " already publishes on host kronos; set metrics.mesh_port to a free port")):
        validate_catalog([PROMETHEUS, svc("other", publish=["9000:80"]), svc(metrics={"port": 9000})], HOSTS)
    # Two scraped services of one host with one metrics port need distinct mesh ports.
    catalog = [PROMETHEUS, svc("a", metrics=True), svc("b", metrics=True)]
    with pytest.raises(AnsibleFilterError, match="^service b: metrics.mesh_port: "):
        validate_catalog(catalog, HOSTS)
    catalog[2] = svc("b", metrics={"mesh_port": 8001})
    assert [s["metrics"]["mesh_port"] for s in validate_catalog(catalog, HOSTS)[1:]] == [8000, 8001]
    # A route and metrics of one service cannot take one mesh port for two container ports.
    with pytest.raises(AnsibleFilterError, match="^service app: metrics.mesh_port: 'mesh address:8000' binds port"
                                                 " 8000/tcp that route.mesh_port of service app already publishes"):
        validate_catalog([PROMETHEUS, svc(route=True, metrics={"port": 9000, "mesh_port": 8000})], HOSTS, edge="jove")


def test_a_loopback_publish_does_not_collide_with_the_metrics_mesh_port():
    catalog = validate_catalog([PROMETHEUS, svc(metrics=True, publish=["127.0.0.1:8000:8000"])], HOSTS)
    assert by_name(catalog)["app"]["metrics"]["mesh_port"] == 8000


def test_an_absent_service_claims_no_mesh_port():
    catalog = [PROMETHEUS, svc("a", metrics=True, state="absent"), svc("b", metrics=True)]
    assert [s["metrics"]["mesh_port"] for s in validate_catalog(catalog, HOSTS)[1:]] == [8000, 8000]


def test_a_metrics_mesh_port_needs_the_hosts_address():
    catalog = validate_catalog([PROMETHEUS, svc(metrics=True)], HOSTS)
    with pytest.raises(AnsibleFilterError, match="^" + re.escape(
            "host_units: address: service app is scraped by Prometheus on another host, so this host's mesh address"
            " is needed")):
        host_units(catalog, "kronos")


@pytest.mark.parametrize("metrics, message", [
    ({"mesh_port": 0}, "service app: metrics.mesh_port: 0 is not a port number (1-65535)"),
    ({"mesh_port": "x"}, "service app: metrics.mesh_port: 'x' is not a port number (1-65535)"),
    ({"mesh_port": True}, "service app: metrics.mesh_port: must be an integer, got boolean"),
    ({"port": "nine"}, "service app: metrics.port: 'nine' is not a port number (1-65535)"),
])
def test_bad_metrics_ports_are_refused_naming_the_field(metrics, message):
    with pytest.raises(AnsibleFilterError, match="^" + re.escape(message)):
        validate_catalog([PROMETHEUS, svc(metrics=metrics)], HOSTS)


# --- the monitoring_targets view ------------------------------------------------------


def lab_catalog():
    return validate_catalog([
        {"name": "traefik", "host": "jove", "platform": "traefik"},
        *MONITORING,
        svc("wiki", route=True, metrics=True),
        svc("api", host="jove", route={"auth": "none", "paths": ["/api"]}, metrics={"port": 9000, "path": "/stats"}),
        svc("db", image="docker.io/library/postgres:16"),
        svc("old", route=True, metrics={"port": 9001}, state="absent"),
    ], HOSTS, edge="jove")


def test_monitoring_targets_gives_the_jobs_and_probes_of_the_catalog():
    assert monitoring_targets(lab_catalog(), ADDRESSES, DOMAIN) == {
        "prometheus_host": "jove",
        "jobs": [
            {"job": "alertmanager", "metrics_path": "/metrics", "targets": [
                {"address": "alertmanager:9093", "labels": {"service": "alertmanager", "host": "jove"}}]},
            {"job": "api", "metrics_path": "/stats", "targets": [
                {"address": "api:9000", "labels": {"service": "api", "host": "jove"}}]},
            {"job": "blackbox_exporter", "metrics_path": "/metrics", "targets": [
                {"address": "blackbox:9115", "labels": {"service": "blackbox", "host": "jove"}}]},
            {"job": "node", "metrics_path": "/metrics", "targets": [
                {"address": "100.64.0.10:9100", "labels": {"instance": "jove:9100", "host": "jove"}},
                {"address": "100.64.0.11:9100", "labels": {"instance": "kronos:9100", "host": "kronos"}}]},
            {"job": "prometheus", "metrics_path": "/metrics", "targets": [
                {"address": "prometheus:9090", "labels": {"service": "prometheus", "host": "jove"}}]},
            {"job": "traefik", "metrics_path": "/metrics", "targets": [
                {"address": "traefik:8082", "labels": {"service": "traefik", "host": "jove"}}]},
            {"job": "wiki", "metrics_path": "/metrics", "targets": [
                {"address": "100.64.0.11:8000", "labels": {"service": "wiki", "host": "kronos"}}]},
        ],
        "probes": [
            # The edge (traefik on jove) at its mesh address, naming the route's host.
            {"module": "http_2xx", "target": "https://100.64.0.10/api", "labels": {
                "instance": "https://api.lab.example.com/api", "service": "api", "auth": "none", "probe": "route",
                "hostname": "api.lab.example.com"}},
            {"module": "http_sso", "target": "https://100.64.0.10/", "labels": {
                "instance": "https://wiki.lab.example.com/", "service": "wiki", "auth": "sso", "probe": "route",
                "hostname": "wiki.lab.example.com"}},
            {"module": "icmp", "target": "100.64.0.11", "labels": {"instance": "kronos", "host": "kronos",
                                                                   "probe": "icmp"}},
            {"module": "tcp_connect", "target": "100.64.0.11:9100", "labels": {"instance": "kronos", "host": "kronos",
                                                                               "probe": "tcp"}},
        ],
    }


def test_a_platform_entry_keeps_its_kinds_job_name_whatever_its_name():
    catalog = validate_catalog([dict(PROMETHEUS, name="prom"), dict(BLACKBOX, name="bb"),
                                {"name": "edge", "host": "jove", "platform": "traefik"}], HOSTS, edge="jove")
    jobs = {job["job"]: job["targets"][0]["labels"].get("service") for job in
            monitoring_targets(catalog, ADDRESSES, DOMAIN)["jobs"]}
    assert jobs == {"blackbox_exporter": "bb", "node": None, "prometheus": "prom", "traefik": "edge"}


def test_a_route_with_several_hosts_is_probed_once_at_its_fqdn():
    catalog = validate_catalog([PROMETHEUS, svc(host="jove", route={"hosts": ["www.example.org"]})], HOSTS)
    probes = monitoring_targets(catalog, ADDRESSES, DOMAIN)["probes"]
    assert [probe["target"] for probe in probes if probe["labels"]["probe"] == "route"] == [
        "https://app.lab.example.com/"]


def test_without_an_edge_entry_a_route_is_probed_at_its_name():
    catalog = validate_catalog([PROMETHEUS, svc(host="jove", route=True)], HOSTS)
    probe = monitoring_targets(catalog, ADDRESSES, DOMAIN)["probes"][0]
    assert probe["target"] == probe["labels"]["instance"] == "https://app.lab.example.com/"
    assert "hostname" not in probe["labels"]


def test_routes_are_probed_at_the_edges_ipv6_mesh_address_in_brackets():
    catalog = validate_catalog([PROMETHEUS, {"name": "traefik", "host": "kronos", "platform": "traefik"},
                                svc(host="jove", route=True)], HOSTS, edge="kronos")
    view = monitoring_targets(catalog, {"jove": "100.64.0.10", "kronos": "fd7a:115c:a1e0::b"}, DOMAIN)
    assert [(p["target"], p["labels"]["hostname"]) for p in view["probes"] if p["labels"]["probe"] == "route"] == [
        ("https://[fd7a:115c:a1e0::b]/", "app.lab.example.com")]


def test_without_prometheus_the_view_is_still_computed_and_every_host_probed():
    catalog = validate_catalog([svc(metrics=True)], HOSTS)
    view = monitoring_targets(catalog, ADDRESSES, DOMAIN)
    assert view["prometheus_host"] is None
    # Nothing is published without Prometheus: the target is the container by name.
    assert [job["targets"] for job in view["jobs"] if job["job"] == "app"] == [
        [{"address": "app:8000", "labels": {"service": "app", "host": "kronos"}}]]
    assert [(probe["module"], probe["target"]) for probe in view["probes"]] == [
        ("icmp", "100.64.0.10"), ("tcp_connect", "100.64.0.10:9100"),
        ("icmp", "100.64.0.11"), ("tcp_connect", "100.64.0.11:9100")]


def test_an_empty_catalog_still_watches_every_host():
    view = monitoring_targets(validate_catalog([], HOSTS), {"jove": "100.64.0.10"}, DOMAIN)
    assert view == {"prometheus_host": None, "jobs": [{"job": "node", "metrics_path": "/metrics", "targets": [
        {"address": "100.64.0.10:9100", "labels": {"instance": "jove:9100", "host": "jove"}}]}],
        "probes": [{"module": "icmp", "target": "100.64.0.10",
                    "labels": {"instance": "jove", "host": "jove", "probe": "icmp"}},
                   {"module": "tcp_connect", "target": "100.64.0.10:9100",
                    "labels": {"instance": "jove", "host": "jove", "probe": "tcp"}}]}


def test_ipv6_mesh_addresses_are_bracketed_where_a_port_follows():
    catalog = validate_catalog([PROMETHEUS, svc(metrics=True)], HOSTS)
    view = monitoring_targets(catalog, {"jove": "fd7a:115c:a1e0::a", "kronos": "fd7a:115c:a1e0::b"}, DOMAIN)
    assert [job["targets"][0]["address"] for job in view["jobs"] if job["job"] in ("app", "node")] == [
        "[fd7a:115c:a1e0::b]:8000", "[fd7a:115c:a1e0::a]:9100"]
    assert [probe["target"] for probe in view["probes"]] == ["fd7a:115c:a1e0::b", "[fd7a:115c:a1e0::b]:9100"]


def test_the_view_does_not_change_the_catalog():
    catalog = lab_catalog()
    before = copy.deepcopy(catalog)
    monitoring_targets(catalog, ADDRESSES, DOMAIN)
    assert catalog == before


@pytest.mark.parametrize("catalog, addresses, message", [
    ([PROMETHEUS, svc("wiki", host="vesta", metrics=True)], ADDRESSES,
     "monitoring_targets: addresses: no mesh address for host vesta (service wiki runs there)"),
    ([PROMETHEUS, svc("wiki", host="vesta", route=True)], ADDRESSES,
     "monitoring_targets: addresses: no mesh address for host vesta (service wiki runs there)"),
    ([dict(PROMETHEUS, host="vesta", metrics=False)], ADDRESSES,
     "monitoring_targets: addresses: no mesh address for host vesta (service prometheus runs there)"),
    ([PROMETHEUS], ["jove"], "monitoring_targets: addresses: must be a mapping of host to mesh address, got list"),
    ([PROMETHEUS], {"jove": None}, "monitoring_targets: addresses: host jove: must be a string, got null"),
    ([PROMETHEUS], {"jove": ""}, "monitoring_targets: addresses: host jove: must not be empty"),
])
def test_bad_addresses_are_refused_naming_the_field(catalog, addresses, message):
    with pytest.raises(AnsibleFilterError, match="^" + re.escape(message)):
        monitoring_targets(validate_catalog(catalog, HOSTS), addresses, DOMAIN)


def test_a_service_on_a_host_without_an_address_is_fine_when_nothing_watches_it():
    catalog = validate_catalog([PROMETHEUS, svc("db", host="vesta")], HOSTS)
    assert monitoring_targets(catalog, ADDRESSES, DOMAIN)["prometheus_host"] == "jove"


@pytest.mark.parametrize("domain, message", [
    (None, "monitoring_targets: domain: must be a string, got null"),
    ("Lab.Example", "monitoring_targets: domain: 'Lab.Example' is not a valid DNS name"),
])
def test_a_bad_domain_is_refused(domain, message):
    with pytest.raises(AnsibleFilterError, match="^" + re.escape(message)):
        monitoring_targets(validate_catalog([], HOSTS), ADDRESSES, domain)


@pytest.mark.parametrize("catalog, message", [
    ([svc("node", metrics=True)],
     "service node: metrics: its scrape job would be node, which is already the node exporters' job; rename"),
    ([svc("blackbox", metrics=True)],
     "service blackbox: metrics: its scrape job would be blackbox, which is already the route and host probes' job"),
    ([dict(PROMETHEUS, name="prom"), svc("prometheus", metrics=True)],
     "service prometheus: metrics: its scrape job would be prometheus, which is already the job of service prom"),
    ([dict(PROMETHEUS, name="zprom"), svc("prometheus", metrics=True)],
     "service zprom: metrics: its scrape job would be prometheus, which is already the job of service prometheus"),
])
def test_a_job_name_taken_twice_is_refused(catalog, message):
    with pytest.raises(AnsibleFilterError, match="^" + re.escape(message)):
        monitoring_targets(validate_catalog(catalog, HOSTS), ADDRESSES, DOMAIN)
    # Without metrics there is no job to collide.
    assert monitoring_targets(validate_catalog([svc("node")], HOSTS), ADDRESSES, DOMAIN)

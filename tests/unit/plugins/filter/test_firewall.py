"""The firewall view of the catalog and the base role's zones: which ports open where, and
zones checked before any change."""

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.filter import firewall_ports as firewall_ports_plugin
from ansible_collections.homelab.stack.plugins.filter import firewall_ruleset as firewall_ruleset_plugin
from ansible_collections.homelab.stack.plugins.filter import firewall_zone_problems as zone_problems_plugin
from ansible_collections.homelab.stack.plugins.filter import validate_catalog as validate_catalog_plugin

validate_catalog = validate_catalog_plugin.FilterModule().filters()["validate_catalog"]
firewall_ports = firewall_ports_plugin.FilterModule().filters()["firewall_ports"]
firewall_ruleset = firewall_ruleset_plugin.FilterModule().filters()["firewall_ruleset"]
firewall_zone_problems = zone_problems_plugin.FilterModule().filters()["firewall_zone_problems"]

HOSTS = ["jove", "kronos"]
# The lab's shape: the edge on jove, a routed app on kronos, monitoring and backups.
CATALOG = [
    {"name": "traefik", "host": "jove", "platform": "traefik", "image": "localhost/traefik:1"},
    {"name": "api", "host": "jove", "image": "localhost/app:1", "port": 8080, "route": {"auth": "none"}},
    {"name": "files", "host": "kronos", "image": "localhost/app:1", "port": 8080, "route": {"auth": "none"}},
    {"name": "prometheus", "host": "kronos", "platform": "prometheus", "image": "localhost/prometheus:1",
     "publish": ["127.0.0.1:9090:9090"]},
    {"name": "backup-a", "host": "jove", "platform": "rest_server", "image": "localhost/rest-server:1"},
    {"name": "dns", "host": "kronos", "image": "localhost/dns:1", "publish": ["53:53/udp"]},
    {"name": "gone", "host": "kronos", "image": "localhost/app:1", "publish": ["7000:7000"], "state": "absent"},
]


@pytest.fixture(name="catalog")
def fixture_catalog():
    return validate_catalog(CATALOG, HOSTS, edge="jove")


def test_the_edge_opens_80_and_443_to_all_and_its_metrics_and_rest_server_to_the_mesh(catalog):
    # Traefik's metrics (scraped by Prometheus on kronos) are a mesh port: public is only its publish.
    assert firewall_ports(catalog, "jove") == [
        {"port": 80, "protocol": "tcp", "scope": "public", "services": ["traefik"]},
        {"port": 443, "protocol": "tcp", "scope": "public", "services": ["traefik"]},
        {"port": 8000, "protocol": "tcp", "scope": "mesh", "services": ["backup-a"]},
        {"port": 8082, "protocol": "tcp", "scope": "mesh", "services": ["traefik"]},
    ]


def test_another_host_opens_its_routed_and_published_ports_to_the_mesh_only(catalog):
    # files is routed by jove's edge: its mesh port; dns publishes 53/udp on every address,
    # which is still the mesh's only; Prometheus on loopback and the absent service open nothing.
    assert firewall_ports(catalog, "kronos") == [
        {"port": 53, "protocol": "udp", "scope": "mesh", "services": ["dns"]},
        {"port": 8080, "protocol": "tcp", "scope": "mesh", "services": ["files"]},
    ]


def test_a_host_without_services_opens_nothing(catalog):
    assert firewall_ports(catalog, "vesta") == []


def test_the_view_wants_a_checked_catalog():
    with pytest.raises(AnsibleFilterError, match="pass the catalog through homelab.stack.validate_catalog"):
        firewall_ports(CATALOG, "jove")


def test_mesh_ports_without_a_mesh_zone_name_the_variable(catalog):
    with pytest.raises(AnsibleFilterError, match=r"base_firewall_mesh_zone: 'mesh' is not a zone of base_firewall_zones,"
                                                 r" but service\(s\) dns publish port 53/udp for the mesh"):
        firewall_ruleset(firewall_ports(catalog, "kronos"), [{"name": "lan", "interfaces": ["eth0"]}])


def test_ssh_and_host_ports_skip_zones_the_site_does_not_declare(catalog):
    text = firewall_ruleset(firewall_ports(catalog, "jove"), [{"name": "mesh", "interfaces": ["eth0"]}],
                            host_ports=[{"port": 9100, "zones": ["mesh"], "comment": "node exporter"},
                                        {"port": 9999, "zones": ["dmz"]}])
    assert 'iifname { "eth0" } tcp dport 22 accept comment "ssh"' in text
    assert 'iifname { "eth0" } tcp dport 9100 accept comment "node exporter"' in text
    assert "9999" not in text


@pytest.mark.parametrize(("zones", "problem"), [
    ([{"name": "mesh", "interfaces": ["eht0"]}],
     "base_firewall_zones[0].interfaces[0]: this host has no interface 'eht0' (it has eth0, lo)"),
    ([{"name": "mesh", "interfaces": ["wg*"]}], "base_firewall_zones[0].interfaces[0]: no interface of this host matches 'wg*'"),
    ([{"name": "mesh", "interfaces": ["eth0"]}, {"name": "mesh", "interfaces": ["lo"]}],
     "base_firewall_zones[1].name: 'mesh' is already the name of base_firewall_zones[0]"),
    ([{"name": "lan"}], "base_firewall_zones[0]: give interfaces, sources or both"),
    ([{"name": "lan", "sources": ["192.168.1.300/24"]}],
     "base_firewall_zones[0].sources[0]: '192.168.1.300/24' is not an address or CIDR network"),
    ([{"name": "lan", "interfaces": ["eth0"], "vlan": 10}], "base_firewall_zones[0]: unknown field(s) vlan"),
])
def test_bad_zones_are_named(zones, problem):
    assert any(message.startswith(problem) for message in firewall_zone_problems(zones, ["lo", "eth0"])), \
        firewall_zone_problems(zones, ["lo", "eth0"])


def test_good_zones_and_a_later_layers_interface_pass():
    zones = [{"name": "mesh", "interfaces": ["tailscale0"]},
             {"name": "management", "interfaces": ["eth0"], "sources": ["192.168.10.0/24"]},
             {"name": "office", "sources": ["10.0.0.0/8"]}]
    assert firewall_zone_problems(zones, ["lo", "eth0"], ["tailscale0"]) == []


def test_a_postgres_opens_5432_to_the_mesh_only_while_an_app_on_another_host_uses_it():
    server = {"name": "db", "host": "kronos", "platform": "postgres", "image": "localhost/postgres:1",
              "secrets": {"POSTGRES_PASSWORD": "x"}}
    remote_app = {"name": "notes", "host": "jove", "image": "localhost/app:1", "database": {"server": "db"}}
    local_app = {**remote_app, "host": "kronos"}
    ports = firewall_ports(validate_catalog(CATALOG + [server, remote_app], HOSTS, edge="jove"), "kronos")
    assert {"port": 5432, "protocol": "tcp", "scope": "mesh", "services": ["db"]} in ports
    ports = firewall_ports(validate_catalog(CATALOG + [server, local_app], HOSTS, edge="jove"), "kronos")
    assert [port for port in ports if port["port"] == 5432] == []

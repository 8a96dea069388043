# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog's route fields for the edge: normalising, bad input, how the edge reaches a
service on another host (mesh port), and the routes view the traefik role consumes."""

from __future__ import annotations

import re

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.filter import host_units as host_units_plugin
from ansible_collections.homelab.stack.plugins.filter import routes as routes_plugin
from ansible_collections.homelab.stack.plugins.filter import validate_catalog as validate_catalog_plugin

validate_catalog = validate_catalog_plugin.FilterModule().filters()["validate_catalog"]
host_units = host_units_plugin.FilterModule().filters()["host_units"]
routes = routes_plugin.FilterModule().filters()["routes"]

HOSTS = ["jove", "kronos"]
DOMAIN = "lab.example.com"


def svc(name="web", host="jove", **fields):
    entry = {"name": name, "host": host, "image": "docker.io/library/nginx:1.27", "port": 8080}
    entry.update(fields)
    return entry


def route_of(route, **fields):
    return validate_catalog([svc(route=route, **fields)], HOSTS)[0]["route"]


def test_every_route_field_is_normalised():
    assert route_of({"auth": "sso", "hosts": ["www.example.org"], "paths": ["/app"], "allow_from": ["10.0.0.0/8"],
                     "rate_limit": {"average": 10}, "public": True, "groups": ["admins"]}) == {
        "auth": "sso", "subdomain": "web", "hosts": ["www.example.org"], "paths": ["/app"],
        "allow_from": ["10.0.0.0/8"], "rate_limit": {"average": 10, "burst": 10}, "public": True,
        "groups": ["admins"], "mesh_port": None}


@pytest.mark.parametrize("route, message", [
    ({"auth": "basic"}, "service web: route.auth: 'basic' is not one of sso, none"),
    ({"hosts": ["Not_A_Host"]}, "service web: route.hosts[0]: 'Not_A_Host' is not a valid lower-case DNS name"),
    ({"hosts": "a.example.com"}, "service web: route.hosts: must be a list, got string"),
    ({"hosts": ["a.example.com", "a.example.com"]}, "service web: route.hosts[1]: 'a.example.com' is listed twice"),
    ({"paths": ["app"]}, "service web: route.paths[0]: 'app' is not a path prefix such as /app"),
    ({"paths": ["/a`) || Host(`x"]}, "service web: route.paths[0]: '/a`) || Host(`x' is not a path prefix"),
    ({"allow_from": ["192.168.1.5/24"]}, "service web: route.allow_from[0]: '192.168.1.5/24' is not a network"),
    ({"allow_from": ["lan"]}, "service web: route.allow_from[0]: 'lan' is not a network"),
    ({"rate_limit": {"average": 0}}, "service web: route.rate_limit.average: 0 is not a positive integer"),
    ({"rate_limit": {"average": 5, "per": "1m"}}, "service web: route.rate_limit.per: is not a known field"),
    ({"public": "yes"}, "service web: route.public: must be a boolean, got string"),
    ({"auth": "none", "groups": ["admins"]}, "service web: route.groups: needs auth sso"),
    ({"mesh_port": 70000}, "service web: route.mesh_port: 70000 is not a port number (1-65535)"),
])
def test_bad_route_fields_are_refused_naming_the_field(route, message):
    with pytest.raises(AnsibleFilterError, match="^" + re.escape(message)):
        validate_catalog([svc(route=route)], HOSTS)


def test_two_routes_cannot_answer_one_extra_host():
    catalog = [svc("a", route={"hosts": ["x.example.org"]}), svc("b", route={"hosts": ["x.example.org"]})]
    with pytest.raises(AnsibleFilterError, match=r"^service b: route.hosts\[0\]: 'x.example.org' is already routed to"
                                                 r" service a$"):
        validate_catalog(catalog, HOSTS)


def test_an_extra_host_cannot_take_another_routes_name():
    catalog = validate_catalog([svc("a", route=True), svc("b", route={"hosts": ["a.lab.example.com"]})], HOSTS)
    with pytest.raises(AnsibleFilterError, match="^service b: route: 'a.lab.example.com' is already routed to service a$"):
        routes(catalog, DOMAIN)


def test_the_edge_must_be_an_inventory_host():
    with pytest.raises(AnsibleFilterError, match="^validate_catalog: edge: 'mars' is not a host of the inventory$"):
        validate_catalog([], HOSTS, edge="mars")


def test_a_route_on_the_edge_host_is_reached_by_container_name():
    catalog = validate_catalog([svc(route=True)], HOSTS, edge="jove")
    assert catalog[0]["route"]["mesh_port"] is None
    assert routes(catalog, DOMAIN)[0]["url"] == "http://web:8080"


def test_a_route_on_another_host_is_published_on_its_mesh_address_only():
    catalog = validate_catalog([svc(host="kronos", route=True)], HOSTS, edge="jove")
    assert catalog[0]["route"]["mesh_port"] == 8080
    assert routes(catalog, DOMAIN, {"kronos": "100.64.0.11"})[0]["url"] == "http://100.64.0.11:8080"
    container = host_units(catalog, "kronos", "100.64.0.11")[-1]
    assert container["spec"]["PublishPort"] == ["100.64.0.11:8080:8080"]


def test_an_ipv6_mesh_address_is_bracketed():
    catalog = validate_catalog([svc(host="kronos", route={"mesh_port": 18080}, publish=["127.0.0.1:9080:8080"])],
                               HOSTS, edge="jove")
    assert routes(catalog, DOMAIN, {"kronos": "fd7a:115c:a1e0::b"})[0]["url"] == "http://[fd7a:115c:a1e0::b]:18080"
    assert host_units(catalog, "kronos", "fd7a:115c:a1e0::b")[-1]["spec"]["PublishPort"] == [
        "127.0.0.1:9080:8080", "[fd7a:115c:a1e0::b]:18080:8080"]


def test_without_an_edge_host_nothing_is_published():
    catalog = validate_catalog([svc(host="kronos", route=True)], HOSTS)
    assert "PublishPort" not in host_units(catalog, "kronos")[-1]["spec"]


def test_a_mesh_port_needs_the_hosts_address():
    catalog = validate_catalog([svc(host="kronos", route=True)], HOSTS, edge="jove")
    with pytest.raises(AnsibleFilterError, match="^host_units: address: service web is routed by the edge"):
        host_units(catalog, "kronos")
    with pytest.raises(AnsibleFilterError, match="^routes: addresses: no mesh address for host kronos"):
        routes(catalog, DOMAIN, {})


def test_a_mesh_port_taken_on_the_host_is_refused_with_a_hint():
    catalog = [svc("a", host="kronos", publish=["8080:80"]), svc("b", host="kronos", route=True)]
    with pytest.raises(AnsibleFilterError, match=r"^service b: route.mesh_port: 'mesh address:8080' binds port 8080/tcp"
                                                 r" that publish\[0\] of service a already publishes on host kronos;"
                                                 r" set route.mesh_port to a free port$"):
        validate_catalog(catalog, HOSTS, edge="jove")
    # Two routed services of one host with one container port need distinct mesh ports.
    catalog = [svc("a", host="kronos", route=True), svc("b", host="kronos", route=True)]
    with pytest.raises(AnsibleFilterError, match="^service b: route.mesh_port: "):
        validate_catalog(catalog, HOSTS, edge="jove")
    catalog[1]["route"] = {"mesh_port": 8081}
    assert [s["route"]["mesh_port"] for s in validate_catalog(catalog, HOSTS, edge="jove")] == [8080, 8081]
    # On the edge host the same ports do not collide: nothing is published there.
    assert validate_catalog([svc("a", route=True), svc("b", route=True)], HOSTS, edge="jove")


def test_a_loopback_publish_does_not_collide_with_the_mesh_port():
    catalog = validate_catalog([svc(host="kronos", route=True, publish=["127.0.0.1:8080:8080"])], HOSTS, edge="jove")
    assert catalog[0]["route"]["mesh_port"] == 8080


def test_normalising_with_an_edge_twice_changes_nothing():
    catalog = [svc(host="kronos", route={"mesh_port": 9000}), svc("b", route=True)]
    once = validate_catalog(catalog, HOSTS, edge="jove")
    assert validate_catalog(once, HOSTS, edge="jove") == once


def test_the_routes_view_carries_every_field_the_edge_needs():
    catalog = validate_catalog([svc(route={"auth": "none", "hosts": ["www.example.org"], "paths": ["/a"],
                                           "allow_from": ["10.0.0.0/8"], "rate_limit": {"average": 3, "burst": 6},
                                           "public": True})], HOSTS, edge="jove")
    assert routes(catalog, DOMAIN) == [{
        "name": "web", "host": "jove", "fqdn": "web.lab.example.com", "hosts": ["web.lab.example.com", "www.example.org"],
        "paths": ["/a"], "port": 8080, "auth": "none", "allow_from": ["10.0.0.0/8"],
        "rate_limit": {"average": 3, "burst": 6}, "public": True, "groups": [], "url": "http://web:8080"}]


def test_oidc_gets_default_scopes_and_keeps_its_paths():
    service = validate_catalog([svc(route=True, oidc={"redirect_paths": ["/oauth/callback"]})], HOSTS)[0]
    assert service["oidc"] == {"redirect_paths": ["/oauth/callback"], "scopes": ["openid", "profile", "email"]}
    assert validate_catalog([service], HOSTS)[0] == service


@pytest.mark.parametrize("fields, message", [
    ({"oidc": {"redirect_paths": ["/cb"]}}, "service web: oidc: needs a route (the redirect URIs are on the route's"
                                            " host names)"),
    ({"route": True, "oidc": {}}, "service web: oidc.redirect_paths: needs at least one path, e.g. /oauth/callback"),
    ({"route": True, "oidc": {"redirect_paths": ["cb"]}}, "service web: oidc.redirect_paths[0]: 'cb' is not a path"),
    ({"route": True, "oidc": {"redirect_paths": ["/cb"], "scopes": ["open id"]}},
     "service web: oidc.scopes[0]: 'open id' is not a scope name"),
    ({"route": True, "oidc": {"client": "x"}}, "service web: oidc.client: is not a known field"),
    ({"route": True, "oidc": "yes"}, "service web: oidc: must be a mapping or true, got string"),
])
def test_bad_oidc_is_refused_naming_the_field(fields, message):
    with pytest.raises(AnsibleFilterError, match="^" + re.escape(message)):
        validate_catalog([svc(**fields)], HOSTS)


def test_the_service_plan_reads_units_with_the_hosts_mesh_address():
    from ansible_collections.homelab.stack.plugins.filter import restart_plan as restart_plan_plugin

    restart_plan = restart_plan_plugin.FilterModule().filters()["restart_plan"]
    catalog = validate_catalog([svc(host="kronos", route=True)], HOSTS, edge="jove")
    changed = [{"name": "web", "type": "container", "changed": True}]
    assert restart_plan(catalog, "kronos", changed, [], [], address="100.64.0.11") == ["web"]
    with pytest.raises(AnsibleFilterError, match="^host_units: address: service web is routed by the edge"):
        restart_plan(catalog, "kronos", changed, [], [])

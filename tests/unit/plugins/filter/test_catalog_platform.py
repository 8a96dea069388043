# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Platform entries (``platform: traefik``), host mounts, and the platform_service view."""

from __future__ import annotations

import re

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.filter import platform_service as platform_service_plugin
from ansible_collections.homelab.stack.plugins.filter import host_units as host_units_plugin
from ansible_collections.homelab.stack.plugins.filter import validate_catalog as validate_catalog_plugin
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import platform
from catalog_entry import BACKUP

validate_catalog = validate_catalog_plugin.FilterModule().filters()["validate_catalog"]
host_units = host_units_plugin.FilterModule().filters()["host_units"]
platform_service = platform_service_plugin.FilterModule().filters()["platform_service"]

HOSTS = ["jove", "kronos"]
TRAEFIK = {"name": "traefik", "host": "jove", "platform": "traefik"}
CLOUDFLARED = {"name": "tunnel", "host": "jove", "platform": "cloudflared", "secrets": {"TUNNEL_TOKEN": "t0ken"}}


def test_a_traefik_entry_gets_the_container_the_role_configures():
    entry = validate_catalog([TRAEFIK], HOSTS, edge="jove")[0]
    assert entry["image"] == platform.TRAEFIK_IMAGE
    assert entry["publish"] == ["80:80", "443:443"]
    assert entry["mounts"] == [{"source": "/etc/homelab/traefik", "target": "/etc/traefik", "readonly": True}]
    assert entry["command"] == ["traefik", "--configFile=/etc/traefik/traefik.yml"]
    assert entry["healthcheck"]["cmd"] == "traefik healthcheck --configFile=/etc/traefik/traefik.yml"
    assert entry["metrics"] == {"port": 8082, "path": "/metrics", "mesh_port": None}
    assert entry["volumes"] == [{"name": "acme", "mount": "/var/lib/traefik", "backup": BACKUP["daily"]}]
    assert validate_catalog([entry], HOSTS, edge="jove") == [entry]


def test_the_users_fields_win_over_the_kinds_defaults():
    entry = validate_catalog([dict(TRAEFIK, image="localhost/traefik:3.7.15", publish=["192.168.1.2:443:443"])],
                             HOSTS, edge="jove")[0]
    assert entry["image"] == "localhost/traefik:3.7.15"
    assert entry["publish"] == ["192.168.1.2:443:443"]
    assert entry["mounts"][0]["target"] == "/etc/traefik"


def test_the_edge_platform_runs_on_the_edge_host_once():
    with pytest.raises(AnsibleFilterError, match=re.escape(
            "service traefik: host: platform traefik runs on the edge host jove (homelab_edge_host)")):
        validate_catalog([dict(TRAEFIK, host="kronos")], HOSTS, edge="jove")
    with pytest.raises(AnsibleFilterError, match=re.escape(
            "service traefik: host: platform traefik runs on homelab_edge_host, which is not set")):
        validate_catalog([TRAEFIK], HOSTS)
    with pytest.raises(AnsibleFilterError, match=re.escape("service edge2: platform: 'traefik' is already service traefik")):
        validate_catalog([TRAEFIK, dict(TRAEFIK, name="edge2", publish=["8443:443"])], HOSTS, edge="jove")


def test_an_unknown_platform_is_refused():
    with pytest.raises(AnsibleFilterError, match=re.escape("service x: platform: 'nginx' is not one of traefik, cloudflared")):
        validate_catalog([{"name": "x", "host": "jove", "image": "a", "platform": "nginx"}], HOSTS)


def test_mounts_become_bind_volumes_in_the_unit():
    catalog = validate_catalog([TRAEFIK], HOSTS, edge="jove")
    container = host_units(catalog, "jove")[-1]
    assert container["spec"]["Volume"] == ["traefik-acme.volume:/var/lib/traefik",
                                           "/etc/homelab/traefik:/etc/traefik:ro"]
    assert container["spec"]["PublishPort"] == ["80:80", "443:443"]


@pytest.mark.parametrize("mounts, message", [
    ([{"source": "etc/x", "target": "/x"}], "service app: mounts[0].source: 'etc/x' is not an absolute path"),
    ([{"source": "/x", "target": "/a:b"}], "service app: mounts[0].target: '/a:b' must not contain ':', ',' or"),
    ([{"source": "/x"}], "service app: mounts[0].target: is required"),
    ([{"source": "/x", "target": "/data"}], "service app: mounts[0].target: '/data' is already mounted by volumes[0]"),
    ([{"source": "/x", "target": "/y", "mode": "ro"}], "service app: mounts[0].mode: is not a known field"),
    ([{"source": "/x", "target": "/y", "readonly": "yes"}], "service app: mounts[0].readonly: must be a boolean"),
])
def test_bad_mounts_are_refused_naming_the_field(mounts, message):
    entry = {"name": "app", "host": "jove", "image": "a", "volumes": [{"name": "d", "mount": "/data"}],
             "mounts": mounts}
    with pytest.raises(AnsibleFilterError, match="^" + re.escape(message)):
        validate_catalog([entry], HOSTS)


def test_platform_service_gives_the_role_its_paths():
    catalog = validate_catalog([TRAEFIK, CLOUDFLARED, {"name": "app", "host": "kronos", "image": "a"}], HOSTS,
                               edge="jove")
    assert platform_service(catalog, "traefik") == {
        "name": "traefik", "host": "jove", "image": platform.TRAEFIK_IMAGE, "host_dir": "/etc/homelab/traefik",
        "secrets": [], "config_dir": "/etc/traefik", "static_file": "/etc/traefik/traefik.yml", "internal_port": 8082}
    assert platform_service(catalog, "cloudflared") == {
        "name": "tunnel", "host": "jove", "image": platform.CLOUDFLARED_IMAGE, "host_dir": "/etc/homelab/cloudflared",
        "secrets": ["TUNNEL_TOKEN"], "config_dir": "/etc/cloudflared", "config_file": "/etc/cloudflared/config.yml"}
    assert platform_service(validate_catalog([], HOSTS), "traefik") is None
    with pytest.raises(AnsibleFilterError, match=re.escape("platform_service: kind: 'nginx' is not one of traefik,")):
        platform_service(catalog, "nginx")


def test_platform_service_needs_the_configuration_mount():
    catalog = validate_catalog([dict(TRAEFIK, mounts=[{"source": "/srv/x", "target": "/x"}])], HOSTS, edge="jove")
    with pytest.raises(AnsibleFilterError, match=re.escape("service traefik: mounts: nothing is mounted at /etc/traefik")):
        platform_service(catalog, "traefik")


def test_a_tunnel_needs_its_token():
    with pytest.raises(AnsibleFilterError, match=re.escape(
            "service tunnel: secrets: platform cloudflared needs TUNNEL_TOKEN (from a vault)")):
        validate_catalog([dict(CLOUDFLARED, secrets={})], HOSTS, edge="jove")


PAGES = {"name": "edge-pages", "host": "jove", "platform": "edge_pages"}


def test_an_edge_pages_entry_gets_busybox_httpd_serving_its_directory_read_only():
    entry = validate_catalog([TRAEFIK, PAGES], HOSTS, edge="jove")[1]
    assert entry["image"] == platform.EDGE_PAGES_IMAGE == "docker.io/library/busybox:1.37"
    assert entry["mounts"] == [{"source": "/etc/homelab/edge-pages", "target": "/www", "readonly": True}]
    assert entry["command"] == ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]
    assert entry["healthcheck"]["cmd"] == "wget -q -O /dev/null http://127.0.0.1:8080/sign-in-unavailable.html"
    # Nothing published: only Traefik reaches it, by name on the host's network.
    assert entry["publish"] == [] and entry["route"] is None
    catalog = validate_catalog([TRAEFIK, PAGES], HOSTS, edge="jove")
    assert platform_service(catalog, "edge_pages") == {
        "name": "edge-pages", "host": "jove", "image": platform.EDGE_PAGES_IMAGE, "host_dir": "/etc/homelab/edge-pages",
        "secrets": [], "config_dir": "/www", "port": 8080, "sign_in_page": "sign-in-unavailable.html"}
    assert platform_service(validate_catalog([TRAEFIK], HOSTS, edge="jove"), "edge_pages") is None


def test_the_page_server_runs_on_the_edge_host():
    with pytest.raises(AnsibleFilterError, match=re.escape(
            "service edge-pages: host: platform edge_pages runs on the edge host jove (homelab_edge_host)")):
        validate_catalog([TRAEFIK, dict(PAGES, host="kronos")], HOSTS, edge="jove")

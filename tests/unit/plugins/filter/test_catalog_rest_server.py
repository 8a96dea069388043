# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rest_server kind: restic's rest-server as a catalog entry, one per host at most,
published on its host's mesh address only."""

from __future__ import annotations

import re

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.filter import host_units as host_units_plugin
from ansible_collections.homelab.stack.plugins.filter import platform_service as platform_service_plugin
from ansible_collections.homelab.stack.plugins.filter import validate_catalog as validate_catalog_plugin
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import platform, rest_server
from catalog_entry import BACKUP

validate_catalog = validate_catalog_plugin.FilterModule().filters()["validate_catalog"]
host_units = host_units_plugin.FilterModule().filters()["host_units"]
platform_service = platform_service_plugin.FilterModule().filters()["platform_service"]

HOSTS = ["jove", "kronos", "vesta"]
BACKUP_A = {"name": "backup-a", "host": "jove", "platform": "rest_server"}
BACKUP_B = {"name": "backup-b", "host": "kronos", "platform": "rest_server"}


def error(services):
    with pytest.raises(AnsibleFilterError) as info:
        validate_catalog(services, HOSTS)
    return info.value.message


def container(catalog, host, name, address=None):
    return next(unit for unit in host_units(catalog, host, address) if unit["type"] == "container"
                and unit["name"] == name)


def test_an_entry_gets_the_official_image_started_with_the_contracts_flags():
    [entry] = validate_catalog([BACKUP_A], HOSTS)
    assert entry["image"] == "docker.io/restic/rest-server:0.14.0"
    # The image's CMD is /entrypoint.sh (no ENTRYPOINT): the command is the whole command line.
    assert entry["command"] == [
        "/usr/bin/rest-server", "--path", "/data", "--listen", ":8000", "--append-only", "--private-repos",
        "--htpasswd-file", "/etc/rest-server/htpasswd", "--tls", "--tls-cert", "/etc/rest-server/tls.crt",
        "--tls-key", "/etc/rest-server/tls.key"]
    assert entry["mounts"] == [{"source": "/etc/homelab/rest-server", "target": "/etc/rest-server", "readonly": True}]
    assert entry["volumes"] == [{"name": "data", "mount": "/data", "backup": BACKUP["never"]}]
    assert entry["port"] == 8000 and entry["publish"] == [] and entry["route"] is None
    # Every path needs a user: no check from inside could pass without a password in the unit.
    assert entry["healthcheck"] is None and entry["metrics"] is None


def test_its_port_is_published_on_its_hosts_mesh_address_only():
    catalog = validate_catalog([BACKUP_A, BACKUP_B], HOSTS)
    assert container(catalog, "jove", "backup-a", "100.64.0.10")["spec"]["PublishPort"] == ["100.64.0.10:8000:8000"]
    assert container(catalog, "kronos", "backup-b", "fd7a:115c:a1e0::2")["spec"]["PublishPort"] == [
        "[fd7a:115c:a1e0::2]:8000:8000"]
    spec = container(catalog, "jove", "backup-a", "100.64.0.10")["spec"]
    assert spec["Volume"] == ["backup-a-data.volume:/data", "/etc/homelab/rest-server:/etc/rest-server:ro"]
    assert "HealthCmd" not in spec


def test_its_hosts_mesh_address_is_needed():
    catalog = validate_catalog([BACKUP_A], HOSTS)
    with pytest.raises(AnsibleFilterError, match=re.escape(
            "host_units: address: service backup-a is backed up to by the other site's hosts over the mesh, so this"
            " host's mesh address is needed")):
        host_units(catalog, "jove")


def test_another_service_cannot_take_its_port_on_every_address():
    app = {"name": "app", "host": "jove", "image": "docker.io/library/nginx:1.27", "publish": ["8000:80"]}
    assert error([BACKUP_A, app]) == (
        "service app: publish[0]: '8000:80' binds port 8000/tcp that platform of service backup-a already publishes"
        " on host jove")
    # On loopback it does not collide with the mesh address.
    validate_catalog([BACKUP_A, dict(app, publish=["127.0.0.1:8000:80"])], HOSTS)


def test_platform_service_gives_the_backup_role_its_paths():
    catalog = validate_catalog([BACKUP_A, BACKUP_B], HOSTS)
    assert platform_service(catalog, "rest_server", "kronos") == {
        "name": "backup-b", "host": "kronos", "image": rest_server.IMAGE, "host_dir": "/etc/homelab/rest-server",
        "secrets": [], "config_dir": "/etc/rest-server", "htpasswd_file": "/etc/rest-server/htpasswd",
        "tls_cert": "/etc/rest-server/tls.crt", "tls_key": "/etc/rest-server/tls.key", "data_dir": "/data",
        "port": 8000}
    assert platform_service(catalog, "rest_server", "vesta") is None


def test_one_rest_server_per_host_but_one_per_site_is_fine():
    assert len(validate_catalog([BACKUP_A, BACKUP_B], HOSTS)) == 2
    assert error([BACKUP_A, dict(BACKUP_B, host="jove")]) == (
        "service backup-b: platform: host jove already runs rest_server backup-a; one rest-server per host (each keeps"
        " all the repositories of the hosts that back up to it)")
    # An absent entry is being removed: it does not count.
    validate_catalog([dict(BACKUP_A, state="absent"), dict(BACKUP_B, host="jove")], HOSTS)


@pytest.mark.parametrize("fields, message", [
    ({"port": 9000}, "service backup-a: port: must be 8000, where platform rest_server listens (--listen :8000)"),
    ({"volumes": [{"name": "repos", "mount": "/srv"}]},
     "service backup-a: volumes: no volume is mounted at /data, where platform rest_server keeps the repositories"),
    ({"volumes": [{"name": "data", "mount": "/data", "backup": "daily"}]},
     "service backup-a: volumes[0].backup: must be never: it holds the other hosts' backups, which would go back"
     " to their own site"),
])
def test_its_port_and_data_volume_are_checked(fields, message):
    assert error([dict(BACKUP_A, **fields)]) == message


def test_fields_the_entry_sets_win():
    [entry] = validate_catalog([dict(BACKUP_A, image="localhost/rest-server:lab",
                                     volumes=[{"name": "repos", "mount": "/data"}])], HOSTS)
    assert entry["image"] == "localhost/rest-server:lab"
    assert entry["volumes"] == [{"name": "repos", "mount": "/data", "backup": BACKUP["never"]}]


def test_platform_service_documents_every_kind_and_the_rest_servers_facts():
    doc = yaml.safe_load(platform_service_plugin.DOCUMENTATION)
    assert sorted(doc["options"]["kind"]["choices"]) == sorted(platform.FACTS)
    returned = yaml.safe_load(platform_service_plugin.RETURN)["_value"]["contains"]
    assert set(platform.FACTS["rest_server"]) <= set(returned)

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup views: what a host backs up and to which rest-servers of other sites
(backup_client), and whose backups a host's rest-server keeps (backup_server)."""

from __future__ import annotations

import re

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.filter import backup_client as backup_client_plugin
from ansible_collections.homelab.stack.plugins.filter import backup_server as backup_server_plugin
from ansible_collections.homelab.stack.plugins.filter import validate_catalog as validate_catalog_plugin
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.backup_view import SCRATCH_POSTGRES

validate_catalog = validate_catalog_plugin.FilterModule().filters()["validate_catalog"]
backup_client = backup_client_plugin.FilterModule().filters()["backup_client"]
backup_server = backup_server_plugin.FilterModule().filters()["backup_server"]

HOSTS = ["jove", "kronos", "vesta", "pve"]
SITES = {"jove": "site-a", "vesta": "site-a", "kronos": "site-b", "pve": None}
ADDRESSES = {"jove": "100.64.0.10", "kronos": "100.64.0.11", "vesta": "100.64.0.12", "pve": "100.64.0.13"}
BACKUP_A = {"name": "backup-a", "host": "jove", "platform": "rest_server"}
BACKUP_B = {"name": "backup-b", "host": "kronos", "platform": "rest_server"}
FILES = {"name": "files", "host": "kronos", "image": "ghcr.io/example/files:1.0",
         "volumes": [{"name": "data", "mount": "/data", "backup": "daily"},
                     {"name": "cache", "mount": "/cache"}]}
DB = {"name": "db", "host": "kronos", "image": "docker.io/library/postgres:17",
      "volumes": [{"name": "data", "mount": "/var/lib/postgresql/data", "backup": {"schedule": "hourly", "dump": "postgres"}}]}
WIKI = {"name": "wiki", "host": "vesta", "image": "ghcr.io/example/wiki:2.0",
        "volumes": [{"name": "pages", "mount": "/pages",
                     "backup": {"schedule": "weekly", "keep": {"weekly": 4, "monthly": "all"}, "pause": True}}]}


def catalog(*services):
    return validate_catalog(list(services), HOSTS)


def volume(name, schedule, interval, keep, pause=False, dump=None, dump_command=None, load_command=None,
           verify_load_command=None):
    return {"volume": name, "schedule": schedule, "interval_seconds": interval, "keep": keep, "pause": pause,
            "dump": dump, "dump_command": dump_command, "load_command": load_command,
            "verify_load_command": verify_load_command}


FILES_DATA = volume("files-data", "daily", 86400, {"daily": 30})


# --- backup_client --------------------------------------------------------------------


def test_a_host_backs_up_its_volumes_to_the_rest_server_of_the_other_site():
    assert backup_client(catalog(BACKUP_A, BACKUP_B, FILES), "kronos", SITES, ADDRESSES) == {
        "repositories": [{"name": "backup-a", "server_host": "jove", "url": "rest:https://100.64.0.10:8000/kronos/"}],
        "services": {"files": {"unit": "files.service", "volumes": [FILES_DATA]}},
    }


def test_the_servers_address_in_ipv6_is_bracketed():
    addresses = dict(ADDRESSES, jove="fd7a:115c:a1e0::a")
    [repository] = backup_client(catalog(BACKUP_A, FILES), "kronos", SITES, addresses)["repositories"]
    assert repository["url"] == "rest:https://[fd7a:115c:a1e0::a]:8000/kronos/"


def test_two_rest_servers_at_two_sites_each_keep_the_other_sites_backups():
    services = catalog(BACKUP_A, BACKUP_B, FILES, WIKI)
    # vesta is at site A with jove: it backs up to site B only.
    assert backup_client(services, "vesta", SITES, ADDRESSES) == {
        "repositories": [{"name": "backup-b", "server_host": "kronos", "url": "rest:https://100.64.0.11:8000/vesta/"}],
        "services": {"wiki": {"unit": "wiki.service", "volumes": [
            volume("wiki-pages", "weekly", 604800, {"weekly": 4, "monthly": "all"}, pause=True)]}},
    }
    assert [item["name"] for item in backup_client(services, "kronos", SITES, ADDRESSES)["repositories"]] == [
        "backup-a"]


def test_a_host_without_a_site_is_a_site_of_its_own():
    pve_app = {"name": "pve-app", "host": "pve", "image": "ghcr.io/example/app:1.0",
               "volumes": [{"name": "data", "mount": "/data", "backup": "daily"}]}
    services = catalog(BACKUP_B, BACKUP_A, FILES, pve_app)
    # pve has no site: both servers are elsewhere, by name.
    assert [item["name"] for item in backup_client(services, "pve", SITES, ADDRESSES)["repositories"]] == [
        "backup-a", "backup-b"]
    # Nobody has a site: kronos is not at its own server's site, jove's is elsewhere.
    no_sites = dict.fromkeys(SITES)
    assert [item["name"] for item in backup_client(services, "kronos", no_sites, ADDRESSES)["repositories"]] == [
        "backup-a"]
    # An empty homelab_site counts as none.
    assert [item["name"] for item in backup_client(services, "kronos", dict(no_sites, kronos=""),
                                                   ADDRESSES)["repositories"]] == ["backup-a"]


def test_a_database_dump_gets_its_dump_and_load_commands_as_the_services_user():
    postgres_user = dict(DB, env={"POSTGRES_USER": "paperless"})
    assert backup_client(catalog(BACKUP_A, postgres_user), "kronos", SITES, ADDRESSES)["services"] == {
        "db": {"unit": "db.service", "volumes": [volume(
            "db-data", "hourly", 3600, {"hourly": 72}, dump="postgres",
            dump_command=["podman", "exec", "db", "pg_dumpall", "--clean", "--if-exists", "-U", "paperless"],
            load_command=["podman", "exec", "-i", "db", "psql", "-X", "-q", "-U", "paperless", "-d", "postgres"],
            verify_load_command=["podman", "run", "--rm", "-i", "--network", "none", "--user", "postgres",
                                 "--entrypoint", "sh", DB["image"], "-c", SCRATCH_POSTGRES])]}}
    # Without POSTGRES_USER the image's default superuser.
    [entry] = backup_client(catalog(BACKUP_A, DB), "kronos", SITES, ADDRESSES)["services"]["db"]["volumes"]
    assert entry["dump_command"][-2:] == ["-U", "postgres"]
    assert entry["load_command"][-4:] == ["-U", "postgres", "-d", "postgres"]


def test_services_and_volumes_come_sorted_and_only_present_ones():
    gone = dict(WIKI, host="kronos", state="absent")
    result = backup_client(catalog(BACKUP_A, FILES, DB, gone), "kronos", SITES, ADDRESSES)
    assert list(result["services"]) == ["db", "files"]
    # An absent rest-server is no repository.
    assert backup_client(catalog(dict(BACKUP_A, state="absent"), FILES), "kronos", SITES, ADDRESSES)[
        "repositories"] == []


def test_no_rest_server_at_another_site_is_not_an_error_here():
    # The role decides (extra repositories, or a clear failure): the view just has none.
    assert backup_client(catalog(BACKUP_B, FILES), "kronos", SITES, ADDRESSES) == {
        "repositories": [], "services": {"files": {"unit": "files.service", "volumes": [FILES_DATA]}}}
    assert backup_client(catalog(FILES), "kronos", SITES, ADDRESSES)["repositories"] == []


def test_a_host_with_nothing_to_back_up_gets_no_repository():
    # So it is a client of no rest-server, as backup_server says too.
    assert backup_client(catalog(BACKUP_A, BACKUP_B, FILES), "vesta", SITES, ADDRESSES) == {
        "repositories": [], "services": {}}
    assert backup_client(catalog(BACKUP_A, BACKUP_B, FILES), "jove", SITES, ADDRESSES) == {
        "repositories": [], "services": {}}


@pytest.mark.parametrize("args, message", [
    (("mars", SITES, ADDRESSES), "backup_client: host: 'mars' is not one of the hosts of sites (jove, kronos, pve,"
                                 " vesta)"),
    ((None, SITES, ADDRESSES), "backup_client: host: must be a string, got null"),
    (("kronos", ["site-a"], ADDRESSES), "backup_client: sites: must be a mapping of host to homelab_site (or null),"
                                        " got list"),
    (("kronos", dict(SITES, jove=1), ADDRESSES), "backup_client: sites: host jove: must be a site name or null,"
                                                 " got integer"),
    (("kronos", {"kronos": "site-b"}, ADDRESSES),
     "backup_client: sites: no entry for host jove (rest_server backup-a runs there); map every host to its"
     " homelab_site, or null for a site of its own"),
    (("kronos", SITES, {"kronos": "100.64.0.11"}),
     "backup_client: addresses: no mesh address for host jove (rest_server backup-a runs there); pass hostvars |"
     " homelab.stack.mesh_addresses(...) of every host"),
    (("kronos", SITES, "100.64.0.10"), "backup_client: addresses: must be a mapping of host to mesh address, got string"),
    (("kronos", SITES, dict(ADDRESSES, jove="")), "backup_client: addresses: host jove: must not be empty"),
])
def test_bad_input_to_backup_client_is_a_clear_error(args, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        backup_client(catalog(BACKUP_A, FILES), *args)


def test_backup_client_wants_a_normalised_catalog():
    with pytest.raises(AnsibleFilterError, match=re.escape(
            "backup_client: catalog: item #0 is not a normalised service; pass the catalog through"
            " homelab.stack.validate_catalog first")):
        backup_client([BACKUP_A], "kronos", SITES, ADDRESSES)


# --- backup_server --------------------------------------------------------------------


def test_a_rest_server_keeps_the_other_sites_hosts_backups():
    services = catalog(BACKUP_A, BACKUP_B, FILES, DB, WIKI)
    assert backup_server(services, "jove", SITES) == {
        "service": "backup-a", "volume": "backup-a-data", "port": 8000,
        "clients": [{"client": "kronos", "sets": [
            {"service": "db", "volume": "db-data", "keep": {"hourly": 72}},
            {"service": "files", "volume": "files-data", "keep": {"daily": 30}}]}],
    }
    assert backup_server(services, "kronos", SITES) == {
        "service": "backup-b", "volume": "backup-b-data", "port": 8000,
        "clients": [{"client": "vesta", "sets": [
            {"service": "wiki", "volume": "wiki-pages", "keep": {"weekly": 4, "monthly": "all"}}]}],
    }


def test_a_host_without_a_rest_server_gets_none():
    services = catalog(BACKUP_A, FILES)
    assert backup_server(services, "kronos", SITES) is None
    assert backup_server(catalog(dict(BACKUP_A, state="absent"), FILES), "jove", SITES) is None


def test_clients_without_a_site_and_in_name_order():
    pve_app = {"name": "pve-app", "host": "pve", "image": "ghcr.io/example/app:1.0",
               "volumes": [{"name": "data", "mount": "/data", "backup": {"schedule": "monthly"}}]}
    server = backup_server(catalog(BACKUP_A, FILES, WIKI, pve_app), "jove", SITES)
    # vesta shares jove's site; pve has none, so it is elsewhere.
    assert server["clients"] == [
        {"client": "kronos", "sets": [{"service": "files", "volume": "files-data", "keep": {"daily": 30}}]},
        {"client": "pve", "sets": [{"service": "pve-app", "volume": "pve-app-data", "keep": "all"}]}]


def test_the_data_volume_is_the_one_at_data_whatever_its_name():
    server = backup_server(catalog(dict(BACKUP_A, volumes=[{"name": "repos", "mount": "/data"}])), "jove", SITES)
    assert server == {"service": "backup-a", "volume": "backup-a-repos", "port": 8000, "clients": []}


@pytest.mark.parametrize("host, sites, message", [
    ("mars", SITES, "backup_server: host: 'mars' is not one of the hosts of sites (jove, kronos, pve, vesta)"),
    (["jove"], SITES, "backup_server: host: must be a string, got list"),
    ("jove", None, "backup_server: sites: must be a mapping of host to homelab_site (or null), got null"),
    ("jove", {"jove": "site-a"}, "backup_server: sites: no entry for host kronos (service files there has volumes"
                                 " to back up); map every host to its homelab_site, or null for a site of its own"),
])
def test_bad_input_to_backup_server_is_a_clear_error(host, sites, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        backup_server(catalog(BACKUP_A, FILES), host, sites)


# --- both -----------------------------------------------------------------------------


@pytest.mark.parametrize("sites", [SITES, dict.fromkeys(SITES), dict(SITES, pve="site-b")])
def test_a_host_has_a_repository_on_a_server_exactly_when_it_is_one_of_its_clients(sites):
    pve_app = {"name": "pve-app", "host": "pve", "image": "ghcr.io/example/app:1.0",
               "volumes": [{"name": "data", "mount": "/data", "backup": "daily"}]}
    services = catalog(BACKUP_A, BACKUP_B, FILES, DB, WIKI, pve_app)
    repositories = {(host, repository["name"]) for host in HOSTS
                    for repository in backup_client(services, host, sites, ADDRESSES)["repositories"]}
    clients = {(client["client"], server["service"]) for host in HOSTS
               for server in [backup_server(services, host, sites)] if server is not None
               for client in server["clients"]}
    assert repositories == clients and repositories

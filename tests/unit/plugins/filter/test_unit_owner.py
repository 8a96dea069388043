"""host_units tags each unit with the service that owns it; the role's plan reads the tag."""

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import host_units, normalise_catalog, restart_plan
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.service_plan import unit_files
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import unit_owner

HOSTS = ["jove", "kronos"]
WEB = {"name": "web", "host": "jove", "image": "localhost/app:1", "depends_on": ["db"],
       "volumes": [{"name": "cache", "mount": "/cache"}, {"name": "data", "mount": "/data"}],
       "labels": {"team": "ops"}}
DB = {"name": "db", "host": "jove", "image": "localhost/db:1", "volumes": [{"name": "data", "mount": "/data"}]}
FAR = {"name": "far", "host": "kronos", "image": "localhost/app:1"}
CATALOG = normalise_catalog([WEB, DB, FAR], HOSTS)


def test_every_volume_and_container_names_its_owner_and_the_network_none():
    owners = [(unit["type"], unit["name"], unit_owner(unit)) for unit in host_units(CATALOG, "jove")]
    assert owners == [
        ("network", "homelab", None),
        ("volume", "web-cache", "web"), ("volume", "web-data", "web"), ("volume", "db-data", "db"),
        ("container", "db", "db"), ("container", "web", "web"),
    ]


def test_unit_files_group_a_hosts_files_by_owner():
    assert unit_files(CATALOG, "jove") == {
        None: ["homelab.network"],
        "web": ["web-cache.volume", "web-data.volume", "web.container"],
        "db": ["db-data.volume", "db.container"],
    }
    assert unit_files(CATALOG, "kronos") == {None: ["homelab.network"], "far": ["far.container"]}
    assert unit_files(CATALOG, "nowhere") == {None: []}


def changed(name, unit_type):
    return [{"name": name, "type": unit_type, "changed": True}]


def test_a_changed_unit_restarts_its_owner_only():
    # db-data and web-data share the volume's own name: only the owner tag tells them apart.
    assert restart_plan(CATALOG, "jove", changed("web-data", "volume"), [], []) == ["web"]
    assert restart_plan(CATALOG, "jove", changed("db-data", "volume"), [], []) == ["db"]
    assert restart_plan(CATALOG, "jove", changed("homelab", "network"), [], []) == ["db", "web"]


def test_a_changed_unit_of_another_host_restarts_nothing_here():
    assert restart_plan(CATALOG, "jove", changed("far", "container"), [], []) == []

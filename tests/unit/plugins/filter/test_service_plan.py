"""The service role's per-host plan: start order, stale units, restarts, volume purges."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import (
    host_containers,
    host_units,
    normalise_catalog,
    purge_volumes,
    restart_plan,
    stale_units,
)

HOSTS = ["jove", "kronos"]


def catalog(*entries):
    return normalise_catalog(list(entries), HOSTS)


WEB = {"name": "web", "host": "jove", "image": "localhost/app:1", "depends_on": ["db"],
       "volumes": [{"name": "cache", "mount": "/cache"}]}
DB = {"name": "db", "host": "jove", "image": "localhost/db:1", "volumes": [{"name": "data", "mount": "/data"}],
      "secrets": {"DB_PASSWORD": "s3cret"}, "healthcheck": {"cmd": "true"}}
FAR = {"name": "far", "host": "kronos", "image": "localhost/app:1", "depends_on": ["web"]}


def test_containers_start_after_their_same_host_dependencies():
    assert host_containers(catalog(WEB, DB, FAR), "jove") == [
        {"name": "db", "image": "localhost/db:1", "healthcheck": True},
        {"name": "web", "image": "localhost/app:1", "healthcheck": False},
    ]
    assert [c["name"] for c in host_containers(catalog(WEB, DB, FAR), "kronos")] == ["far"]
    assert host_containers(catalog(WEB, DB, FAR), "nowhere") == []


def test_absent_services_are_not_started():
    gone = dict(FAR, state="absent", depends_on=[])
    assert host_containers(catalog(WEB, DB, gone), "kronos") == []


def test_stale_units_are_those_not_wanted_containers_first():
    units = host_units(catalog(WEB, DB), "jove")
    found = ["/etc/containers/systemd/%s" % name for name in
             ("homelab.network", "web.container", "old-data.volume", "old.container", "db.container",
              "web-cache.volume", "db-data.volume", "notes.txt")]
    assert stale_units(found, units) == [
        {"name": "old", "type": "container", "state": "absent"},
        {"name": "old-data", "type": "volume", "state": "absent"},
    ]


def test_everything_is_stale_when_the_host_has_no_services():
    found = ["/u/homelab.network", "/u/web.container", "/u/web-cache.volume"]
    assert [u["name"] for u in stale_units(found, [])] == ["web", "web-cache", "homelab"]


def test_stale_units_rejects_bad_input():
    with pytest.raises(AnsibleFilterError, match="stale_units: expects a list"):
        stale_units("/u/web.container", [])


def result(name, unit_type, changed):
    return {"name": name, "type": unit_type, "changed": changed}


NO_CHANGE = [result("homelab", "network", False), result("web-cache", "volume", False),
             result("db-data", "volume", False), result("db", "container", False), result("web", "container", False)]


def test_a_no_op_run_restarts_nothing():
    assert restart_plan(catalog(WEB, DB), "jove", NO_CHANGE, [], []) == []


@pytest.mark.parametrize(
    ("changed_unit", "expected"),
    [
        (("web", "container"), ["web"]),
        (("db", "container"), ["db"]),
        (("db-data", "volume"), ["db"]),
        (("web-cache", "volume"), ["web"]),
        (("homelab", "network"), ["db", "web"]),
    ],
)
def test_a_changed_unit_restarts_its_own_service(changed_unit, expected):
    results = [dict(r, changed=(r["name"], r["type"]) == changed_unit) for r in NO_CHANGE]
    assert restart_plan(catalog(WEB, DB), "jove", results, [], []) == expected


def test_changed_secrets_and_updated_images_restart_their_service_only():
    assert restart_plan(catalog(WEB, DB), "jove", NO_CHANGE, ["db"], []) == ["db"]
    assert restart_plan(catalog(WEB, DB), "jove", NO_CHANGE, [], ["web"]) == ["web"]
    # Services of other hosts are not this host's business.
    assert restart_plan(catalog(WEB, DB, FAR), "jove", NO_CHANGE, ["far"], ["far"]) == []


def test_only_absent_services_that_ask_lose_their_volumes():
    keep = dict(DB, state="absent")
    purge = dict(WEB, state="absent", purge_volumes=True, depends_on=[])
    assert purge_volumes(catalog(keep, purge), "jove") == ["web-cache"]
    assert purge_volumes(catalog(keep, purge), "kronos") == []
    assert purge_volumes(catalog(WEB, DB), "jove") == []

"""The service role's plan from a host's actual state (service_plan, stale_secrets)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import (
    host_tiers,
    normalise_catalog,
    service_plan,
    stale_secrets,
)

HOSTS = ["jove", "kronos"]
WEB = {"name": "web", "host": "jove", "image": "localhost/app:1", "depends_on": ["db"],
       "volumes": [{"name": "cache", "mount": "/cache"}], "secrets": {"TOKEN": "t"}}
DB = {"name": "db", "host": "jove", "image": "localhost/db", "healthcheck": {"cmd": "true"}}
FAR = {"name": "far", "host": "kronos", "image": "localhost/app:1"}
CATALOG = normalise_catalog([WEB, DB, FAR], HOSTS)


def running(created=100.0, image_id="app1", active="active", reload=False):
    return {"active_state": active, "sub_state": "running", "load_state": "loaded", "need_daemon_reload": reload,
            "container": {"created": created, "image_id": image_id, "image_name": "", "health": None,
                          "running": True}}


def state(**changes):
    """A host where everything was written at 50 and both containers started at 100."""
    base = {
        "services": {"web": running(), "db": running(image_id="db1")},
        "units": {name: {"mtime": 50.0, "managed": True}
                  for name in ("homelab.network", "web.container", "web-cache.volume", "db.container")},
        "images": {"localhost/app:1": "app1", "localhost/db:latest": "db1"},
        "secrets": [{"name": "web-token", "created": 50.0, "labels": {"homelab.managed": "true"}}],
    }
    for key, value in changes.items():
        base[key] = dict(base[key], **value) if isinstance(value, dict) else value
    return base


def actions(plan):
    return [(item["name"], item["action"]) for item in plan]


def test_a_no_op_keeps_everything_in_start_order():
    plan = service_plan(CATALOG, "jove", state())
    assert plan == [
        {"name": "db", "action": "keep", "reasons": [], "reload": False, "loaded": True, "healthcheck": True},
        {"name": "web", "action": "keep", "reasons": [], "reload": False, "loaded": True, "healthcheck": False},
    ]


@pytest.mark.parametrize(("changes", "reason"), [
    ({"units": {"web.container": {"mtime": 150.0, "managed": True}}}, "web.container changed after the container started"),
    ({"units": {"web-cache.volume": {"mtime": 150.0, "managed": True}}},
     "web-cache.volume changed after the container started"),
    ({"secrets": [{"name": "web-token", "created": 150.0, "labels": {}}]},
     "secret web-token changed after the container started"),
    ({"images": {"localhost/app:1": "app2", "localhost/db:latest": "db1"}},
     "localhost/app:1 now names another image than the container runs"),
    ({"services": {"web": running(reload=True), "db": running(image_id="db1")}},
     "systemd has not loaded its unit since the unit changed"),
])
def test_a_service_restarts_when_what_it_started_from_changed_since(changes, reason):
    plan = service_plan(CATALOG, "jove", state(**changes))
    assert actions(plan) == [("db", "keep"), ("web", "restart")]
    assert plan[1]["reasons"] == [reason]


def test_a_changed_network_restarts_every_service_and_a_pending_reload_is_flagged():
    plan = service_plan(CATALOG, "jove", state(units={"homelab.network": {"mtime": 150.0, "managed": True}}))
    assert actions(plan) == [("db", "restart"), ("web", "restart")]
    pending = {"web": running(), "db": running(image_id="db1", reload=True)}
    plan = service_plan(CATALOG, "jove", state(services=pending))
    assert [item["reload"] for item in plan] == [True, False]


def test_services_that_do_not_run_start_and_changes_in_this_run_restart_in_check_mode():
    plan = service_plan(CATALOG, "jove", state(services={"web": running(active="failed"), "db": {}}))
    assert actions(plan) == [("db", "start"), ("web", "start")]
    assert [item["loaded"] for item in plan] == [False, True]
    plan = service_plan(CATALOG, "jove", state(), ["web"])
    assert actions(plan) == [("db", "keep"), ("web", "restart")]
    assert plan[1]["reasons"] == ["changed in this run"]


def test_a_digest_pinned_image_never_counts_as_moved():
    catalog = normalise_catalog([dict(DB, image="localhost/db@sha256:" + "0" * 64)], HOSTS)
    assert actions(service_plan(catalog, "jove", state(images={}))) == [("db", "keep")]


def test_the_plan_needs_the_module_result():
    with pytest.raises(AnsibleFilterError, match="state: must be the result of homelab.stack.service_info"):
        service_plan(CATALOG, "jove", {"services": {}})


def test_only_secrets_labelled_managed_true_are_ever_stale():
    secrets = [
        {"name": "web-token", "labels": {"homelab.managed": "true"}},
        {"name": "old-token", "labels": {"homelab.managed": "true"}},
        {"name": "mine", "labels": {"homelab.managed": "no"}},
        {"name": "also-mine", "labels": {"homelab.managed": ""}},
        {"name": "unlabelled", "labels": {}},
    ]
    assert stale_secrets(secrets, [{"name": "web-token"}]) == ["old-token"]


def test_hosts_converge_after_the_hosts_they_depend_on():
    catalog = normalise_catalog([
        {"name": "db", "host": "jove", "image": "x"},
        {"name": "app", "host": "kronos", "image": "x", "depends_on": ["db"]},
        {"name": "edge", "host": "vesta", "image": "x", "depends_on": ["app", "db"]},
        {"name": "cache", "host": "kronos", "image": "x"},
    ], ["jove", "kronos", "vesta", "mars"])
    assert host_tiers(catalog, ["vesta", "kronos", "jove", "mars"]) == [
        {"host": "jove", "tier": 0}, {"host": "mars", "tier": 0}, {"host": "kronos", "tier": 1},
        {"host": "vesta", "tier": 2}]
    with pytest.raises(AnsibleFilterError, match="chains of cross-host depends_on deeper than 2 hosts"):
        host_tiers(catalog, ["jove", "kronos", "vesta"], 2)


def test_hosts_that_depend_on_each_other_are_refused_naming_the_services():
    catalog = normalise_catalog([
        {"name": "a1", "host": "jove", "image": "x", "depends_on": ["b2"]},
        {"name": "b1", "host": "kronos", "image": "x", "depends_on": ["a2"]},
        {"name": "a2", "host": "jove", "image": "x"},
        {"name": "b2", "host": "kronos", "image": "x"},
    ], HOSTS)
    with pytest.raises(AnsibleFilterError, match=r"hosts jove -> kronos -> jove depend on each other"
                                                 r" \(a1 needs b2; b1 needs a2\)"):
        host_tiers(catalog, HOSTS)

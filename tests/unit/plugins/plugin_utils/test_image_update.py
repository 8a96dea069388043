"""The update's plan on one host (plugin_utils/image_update.py): which services follow a moved tag."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import normalise_catalog
from ansible_collections.homelab.stack.plugins.plugin_utils.image_update import (
    image_update_plan,
    pullable_images,
    rollback_tag,
)

HOSTS = ["jove", "kronos"]
APP = "localhost/app:latest"
# api and web share the app image (web starts after api); files keeps a backed-up volume;
# proxy comes from Docker Hub by short name; pinned by digest; far runs on another host.
CATALOG = normalise_catalog([
    {"name": "api", "host": "jove", "image": APP, "healthcheck": {"cmd": "true"}},
    {"name": "web", "host": "jove", "image": APP, "depends_on": ["api"]},
    {"name": "files", "host": "jove", "image": "ghcr.io/org/files:2",
     "volumes": [{"name": "data", "mount": "/data", "backup": "daily"}]},
    {"name": "proxy", "host": "jove", "image": "nginx"},
    {"name": "pinned", "host": "jove", "image": "ghcr.io/org/tool@sha256:" + "a" * 64},
    {"name": "far", "host": "kronos", "image": APP},
], HOSTS)


def running(image_id):
    return {"active_state": "active", "container": {"image_id": image_id, "running": True, "created": 1.0}}


def state(images=None, **services):
    """jove with every service on the image its tag names, but for ``services`` {name: image id or None}."""
    ran = {"api": "app1", "web": "app1", "files": "files2", "proxy": "nginx1", "pinned": "tool1"}
    ran.update(services)
    tags = {APP: "app1", "ghcr.io/org/files:2": "files2", "docker.io/library/nginx:latest": "nginx1"}
    tags.update(images or {})
    return {"services": {name: running(image) if image else {"active_state": "inactive", "container": None}
                         for name, image in ran.items()},
            "images": tags, "units": {}, "secrets": []}


def test_nothing_moved_nothing_to_do():
    plan = image_update_plan(CATALOG, "jove", state())
    assert plan == {"updates": [], "unchanged": ["api", "web", "files", "proxy"], "pinned": ["pinned"], "problems": []}


def test_services_sharing_a_moved_tag_update_together_in_start_order():
    plan = image_update_plan(CATALOG, "jove", state(images={APP: "app2"}))
    assert plan["updates"] == [{
        "image": APP, "tag": APP, "from": "app1", "to": "app2", "services": ["api", "web"], "healthcheck": ["api"],
        "backup": [], "rollback_tags": {"api": rollback_tag("api"), "web": rollback_tag("web")},
        "summary": "api, web: localhost/app:latest app1 -> app2",
    }]
    assert plan["unchanged"] == ["files", "proxy"]


def test_a_service_with_backed_up_volumes_is_backed_up_first():
    plan = image_update_plan(CATALOG, "jove", state(images={"ghcr.io/org/files:2": "files3"}))
    assert [(item["services"], item["backup"]) for item in plan["updates"]] == [(["files"], ["files"])]
    assert plan["updates"][0]["summary"] == "files: ghcr.io/org/files:2 files2 -> files3, after a backup of files"


def test_ids_are_shown_as_podman_shows_them():
    host = state(images={APP: "sha256:" + "b" * 64}, api="a" * 64, web="a" * 64)
    assert image_update_plan(CATALOG, "jove", host)["updates"][0]["summary"] == (
        "api, web: localhost/app:latest aaaaaaaaaaaa -> bbbbbbbbbbbb")


def test_a_short_name_follows_the_name_podman_lists_it_under():
    plan = image_update_plan(CATALOG, "jove", state(images={"docker.io/library/nginx:latest": "nginx2"}))
    assert [(item["image"], item["tag"], item["from"], item["to"]) for item in plan["updates"]] == [
        ("nginx", "docker.io/library/nginx:latest", "nginx1", "nginx2")]


def test_the_previous_image_is_the_one_most_services_ran():
    # web was restarted by hand on an in-between image; the tag goes back to api's and app's.
    catalog = normalise_catalog([
        {"name": "api", "host": "jove", "image": APP},
        {"name": "web", "host": "jove", "image": APP},
        {"name": "admin", "host": "jove", "image": APP},
    ], HOSTS)
    host = {"services": {"api": running("app1"), "web": running("app15"), "admin": running("app1")},
            "images": {APP: "app2"}}
    assert image_update_plan(catalog, "jove", host)["updates"][0]["from"] == "app1"


def test_only_limits_the_update_to_named_services_and_those_sharing_their_image():
    moved = state(images={APP: "app2", "ghcr.io/org/files:2": "files3"})
    plan = image_update_plan(CATALOG, "jove", moved, only=["files", "far"])
    assert [item["services"] for item in plan["updates"]] == [["files"]]
    assert plan["unchanged"] == []
    # web's tag is api's too: both move, or the next converge would restart api without a backup.
    assert [item["services"] for item in image_update_plan(CATALOG, "jove", moved, only=["web"])["updates"]] == [
        ["api", "web"]]
    assert pullable_images(CATALOG, "jove", only=["proxy"]) == ["nginx"]
    assert pullable_images(CATALOG, "jove", only=["web"]) == []


def test_an_unknown_service_in_only_is_named():
    with pytest.raises(AnsibleFilterError, match="^update_services: nope is not a service of the catalog$"):
        image_update_plan(CATALOG, "jove", state(), only=["web", "nope"])
    with pytest.raises(AnsibleFilterError, match="update_services: must be a list of service names"):
        image_update_plan(CATALOG, "jove", state(), only="web")


def test_a_service_not_running_or_an_image_not_on_the_host_is_a_problem():
    host = state(web=None)
    del host["images"]["ghcr.io/org/files:2"]
    plan = image_update_plan(CATALOG, "jove", host)
    assert plan["problems"] == [
        "service web: is not running; converge the site first (homelab.stack.site)",
        "service files: image: ghcr.io/org/files:2 is not on the host",
    ]


def test_a_state_that_is_not_service_info_is_refused():
    with pytest.raises(AnsibleFilterError, match="expects the result of homelab.stack.service_info"):
        image_update_plan(CATALOG, "jove", {"services": {}})


def test_pulls_skip_local_and_pinned_images_and_pull_each_image_once():
    catalog = normalise_catalog([
        {"name": "a", "host": "jove", "image": "nginx"},
        {"name": "b", "host": "jove", "image": "nginx"},
        {"name": "c", "host": "jove", "image": APP},
        {"name": "d", "host": "jove", "image": "ghcr.io/org/tool@sha256:" + "a" * 64},
        {"name": "e", "host": "kronos", "image": "ghcr.io/org/other:1"},
    ], HOSTS)
    assert pullable_images(catalog, "jove") == ["nginx"]
    assert pullable_images(catalog, "kronos") == ["ghcr.io/org/other:1"]

"""Reading systemd's and Podman's output into facts (module_utils/service_state.py)."""

import json

import pytest

from ansible_collections.homelab.stack.plugins.module_utils.service_state import (
    StateError,
    epoch,
    image_id,
    image_tag,
    image_reference,
    parse_containers,
    parse_images,
    parse_secrets,
    parse_units,
)


def test_podman_times_keep_their_fraction_and_zone():
    assert epoch("1970-01-01T00:00:01.5Z") == 1.5
    assert epoch("2026-12-02T12:28:05.619142648Z") == pytest.approx(1796214485.619142648, abs=1e-6)
    assert epoch("2026-12-02T13:28:05.619142648+01:00") == epoch("2026-12-02T12:28:05.619142648Z")
    assert epoch("2026-12-02 12:28:05 +0000") == epoch("2026-12-02T12:28:05Z")
    with pytest.raises(StateError, match="cannot read the time 'yesterday'"):
        epoch("yesterday")


def test_systemctl_blocks_are_matched_by_id_and_missing_units_are_inactive():
    output = ("Id=web.service\nLoadState=loaded\nActiveState=active\nSubState=running\nNeedDaemonReload=yes\n\n"
              "Id=db.service\nLoadState=not-found\nActiveState=inactive\nSubState=dead\nNeedDaemonReload=no\n")
    assert parse_units(output, ["db", "web", "gone"]) == {
        "db": {"load_state": "not-found", "active_state": "inactive", "sub_state": "dead", "need_daemon_reload": False},
        "web": {"load_state": "loaded", "active_state": "active", "sub_state": "running", "need_daemon_reload": True},
        "gone": {"load_state": "not-found", "active_state": "inactive", "sub_state": "dead",
                 "need_daemon_reload": False},
    }


def test_containers_images_and_secrets():
    containers = [{"Name": "web", "Created": "1970-01-01T00:00:10.25Z", "Image": "abc", "ImageName": "localhost/app:1",
                   "State": {"Running": True, "Health": {"Status": "healthy"}}}]
    assert parse_containers(json.dumps(containers)) == {
        "web": {"created": 10.25, "image_id": "abc", "image_name": "localhost/app:1", "health": "healthy",
                "running": True}}
    assert parse_images(json.dumps([{"Id": "abc", "Names": ["localhost/app:1", "localhost/app:latest"]},
                                    {"Id": "dangling", "Names": None}])) == {
        "localhost/app:1": "abc", "localhost/app:latest": "abc"}
    secrets = [{"ID": "1", "CreatedAt": "1970-01-01T00:00:05Z", "UpdatedAt": "1970-01-01T00:00:07Z",
                "Spec": {"Name": "web-token", "Labels": {"homelab.managed": "true"}}}]
    assert parse_secrets(json.dumps(secrets)) == [
        {"name": "web-token", "created": 7.0, "labels": {"homelab.managed": "true"}}]
    with pytest.raises(StateError, match="podman images as JSON"):
        parse_images("not json")


@pytest.mark.parametrize(("image", "reference"), [
    ("localhost/app", "localhost/app:latest"),
    ("localhost:5000/app", "localhost:5000/app:latest"),
    ("docker.io/traefik/whoami:v1.10", "docker.io/traefik/whoami:v1.10"),
    ("localhost/app@sha256:" + "0" * 64, None),
])
def test_image_references(image, reference):
    assert image_reference(image) == reference


IMAGES = {"docker.io/library/nginx:latest": "nginx-id", "docker.io/traefik/whoami:v1.10": "whoami-id",
          "localhost/app:latest": "app-id", "ghcr.io/org/tool:1": "tool-id"}


@pytest.mark.parametrize(("image", "expected"), [
    # Podman lists a pulled short name under its Docker Hub name.
    ("nginx", "nginx-id"),
    ("nginx:latest", "nginx-id"),
    ("traefik/whoami:v1.10", "whoami-id"),
    ("docker.io/traefik/whoami:v1.10", "whoami-id"),
    ("localhost/app", "app-id"),
    ("ghcr.io/org/tool:1", "tool-id"),
    # A registry host is never given docker.io's prefix; absent and pinned images have no tag id.
    ("ghcr.io/org/tool:2", None),
    ("localhost/other", None),
    ("nginx@sha256:" + "0" * 64, None),
])
def test_the_image_id_a_tag_names(image, expected):
    assert image_id(IMAGES, image) == expected


def test_the_name_a_tag_is_listed_under():
    assert image_tag(IMAGES, "nginx") == "docker.io/library/nginx:latest"
    assert image_tag(IMAGES, "localhost/app") == "localhost/app:latest"
    assert image_tag(IMAGES, "localhost/other") is None

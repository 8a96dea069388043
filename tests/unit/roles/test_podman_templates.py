"""roles/podman templates render to valid TOML with the meaning intended."""

import pathlib
import tomllib

import jinja2
import pytest
import yaml

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "podman"


def render(template, **overrides):
    variables = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables.update(yaml.safe_load((ROLE / "vars" / "main.yml").read_text()))
    variables.update(overrides)
    variables["ansible_managed"] = "Ansible managed"
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ROLE / "templates")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,  # as ansible.builtin.template renders
    )
    env.filters["to_json"] = __import__("json").dumps
    env.filters["bool"] = bool
    return tomllib.loads(env.get_template(template).render(**variables))


def test_storage_conf_defaults():
    assert render("storage.conf.j2")["storage"] == {
        "driver": "overlay",
        "runroot": "/run/containers/storage",
        "graphroot": "/var/lib/containers/storage",
    }


def test_registries_refuse_short_names_by_default():
    conf = render("registries.conf.j2")
    assert conf["unqualified-search-registries"] == []
    assert conf["short-name-mode"] == "enforcing"
    assert "registry" not in conf


def test_registry_mirrors_are_grouped_by_prefix_in_order():
    conf = render(
        "registries.conf.j2",
        podman_registry_mirrors=[
            {"prefix": "docker.io", "location": "mirror-a.lan:5000", "insecure": True},
            {"prefix": "ghcr.io", "location": "mirror-a.lan:5001"},
            {"prefix": "docker.io", "location": "mirror-b.lan:5000"},
        ],
    )
    registries = {r["prefix"]: r for r in conf["registry"]}
    assert registries["docker.io"]["location"] == "docker.io"
    assert registries["docker.io"]["mirror"] == [
        {"location": "mirror-a.lan:5000", "insecure": True},
        {"location": "mirror-b.lan:5000", "insecure": False},
    ]
    assert registries["ghcr.io"]["mirror"] == [{"location": "mirror-a.lan:5001", "insecure": False}]


@pytest.mark.parametrize(
    ("ulimits", "runtime", "expected"),
    [
        (None, "", {"containers": {}, "engine": {}}),
        ([], "runc", {"containers": {"default_ulimits": []}, "engine": {"runtime": "runc"}}),
        (["nofile=1024:2048"], "", {"containers": {"default_ulimits": ["nofile=1024:2048"]}, "engine": {}}),
    ],
)
def test_containers_conf_sets_only_what_is_asked(ulimits, runtime, expected):
    conf = render("containers.conf.j2", podman_default_ulimits=ulimits, podman_runtime=runtime)
    assert conf == expected


def test_default_subnet_moves_the_default_network():
    conf = render("containers.conf.j2", podman_default_subnet="10.231.128.0/24")
    assert conf["network"] == {"default_subnet": "10.231.128.0/24"}

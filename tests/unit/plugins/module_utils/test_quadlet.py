"""Rendering, quoting and parsing of Quadlet units (module_utils/quadlet.py)."""

import pytest

from ansible_collections.homelab.stack.plugins.module_utils.quadlet import (
    HEADER,
    QuadletError,
    parse_unit,
    quote_pair,
    render_unit,
    service_name,
    split_generated,
    unit_filename,
)


def body(text):
    assert text.startswith(HEADER)
    return text[len(HEADER):]


def test_sections_come_in_unit_order_and_skip_empty_ones():
    text = render_unit("container", unit={"Description": "web"}, spec={"Image": "localhost/app"},
                       install={"WantedBy": "multi-user.target"})
    assert body(text) == ("[Unit]\nDescription=web\n\n[Container]\nImage=localhost/app\n\n"
                          "[Install]\nWantedBy=multi-user.target\n")


def test_main_section_follows_the_type():
    assert body(render_unit("network", spec={"NetworkName": "homelab"})) == "[Network]\nNetworkName=homelab\n"
    assert body(render_unit("volume")) == "[Volume]\n"


def test_scalars_lists_and_none():
    text = body(render_unit("container", spec={
        "Image": "localhost/app", "ReadOnly": True, "NoNewPrivileges": False, "HealthRetries": 3,
        "PublishPort": ["127.0.0.1:80:8080", "443:8443"], "User": None,
    }))
    assert text == ("[Container]\nImage=localhost/app\nReadOnly=true\nNoNewPrivileges=false\nHealthRetries=3\n"
                    "PublishPort=127.0.0.1:80:8080\nPublishPort=443:8443\n")


def test_rendering_is_deterministic():
    options = dict(unit={"After": ["a.service", "b.service"]}, spec={"Image": "x", "Environment": {"B": "2", "A": "1"}})
    assert render_unit("container", **options) == render_unit("container", **options)
    # Key order is the order given, not sorted: users control it.
    text = render_unit("container", **options)
    assert text.index("B=2") < text.index("A=1")


@pytest.mark.parametrize(
    ("key", "value", "quoted"),
    [
        ("A", "plain", '"A=plain"'),
        ("A", "hello world", '"A=hello world"'),
        ("A", 'say "hi"', '"A=say \\"hi\\""'),
        ("A", "it's", '"A=it\'s"'),
        ("A", "C:\\path", '"A=C:\\\\path"'),
        ("A", "$HOME and ${X}", '"A=$$HOME and $${X}"'),
        ("A", "100% %h", '"A=100%% %%h"'),
        ("rule", "Host(`a.example`) && PathPrefix(`/x`)", '"rule=Host(`a.example`) && PathPrefix(`/x`)"'),
        ("N", 8080, '"N=8080"'),
        ("B", True, '"B=true"'),
        ("E", "", '"E="'),
    ],
)
def test_pairs_are_quoted_to_arrive_literally(key, value, quoted):
    assert quote_pair(key, value) == quoted


def test_dict_values_render_one_quoted_pair_per_line():
    text = body(render_unit("container", spec={"Image": "x", "Environment": {"A": "1 2", "B": "$x"},
                                               "Label": {"traefik.enable": True}}))
    assert text == ('[Container]\nImage=x\nEnvironment="A=1 2"\nEnvironment="B=$$x"\n'
                    'Label="traefik.enable=true"\n')


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"Image": "x", "Exec": {"a": "b"}}, "[Container] Exec: a dict is only accepted for Annotation, Environment, Label"),
        ({"Image": "x\nExec=evil"}, "[Container] Image: values cannot contain line breaks"),
        ({"Image": "x", "Environment": {"A": "1\n2"}}, "A: values cannot contain line breaks"),
        ({"Image": "x", "Environment": {"A B": "1"}}, "[Container] Environment: 'A B' is not a valid name"),
        ({"Image": "x", "Bad Key": "1"}, "[Container] Bad Key: not a valid key name"),
        ({"Image": ["x", {"a": 1}]}, "[Container] Image: expected a string, number or boolean, got dict"),
    ],
)
def test_bad_options_name_the_key(options, message):
    with pytest.raises(QuadletError) as error:
        render_unit("container", spec=options)
    assert message in str(error.value)


def test_unknown_type_is_refused():
    with pytest.raises(QuadletError, match="type: must be one of container, network"):
        render_unit("service")


@pytest.mark.parametrize(
    ("name", "unit_type", "text", "expected"),
    [
        ("web", "container", "", "web.service"),
        ("web", "kube", "", "web.service"),
        ("homelab", "network", "", "homelab-network.service"),
        ("data", "volume", "", "data-volume.service"),
        ("app", "pod", "", "app-pod.service"),
        ("img", "image", "", "img-image.service"),
        ("b", "build", "", "b-build.service"),
        ("web", "container", "[Container]\nImage=x\nServiceName=frontend\n", "frontend.service"),
        ("web", "container", "[Unit]\nServiceName=ignored\n[Container]\nImage=x\n", "web.service"),
    ],
)
def test_service_names(name, unit_type, text, expected):
    assert service_name(name, unit_type, text) == expected


@pytest.mark.parametrize("name", ["web", "web-1", "tmpl@", "tmpl@inst", "a.b_c"])
def test_unit_filenames(name):
    assert unit_filename(name, "container") == name + ".container"


@pytest.mark.parametrize("name", ["", "../etc/passwd", "a/b", "web.container", "-x", "a b"])
def test_unit_filename_refuses_paths_and_suffixes(name):
    with pytest.raises(QuadletError, match="name: "):
        unit_filename(name, "container")


def test_parse_joins_continuations_and_collects_repeats():
    text = ("# comment\n[Unit]\nDescription=x\n\n[Container]\nImage=a\n"
            "Environment=A=1 \\\n    B=2\nEnvironment=C=3\n; other comment\n")
    assert parse_unit(text) == {"Unit": {"Description": "x"},
                                "Container": {"Image": "a", "Environment": ["A=1 B=2", "C=3"]}}


def test_parse_then_render_keeps_the_meaning():
    original = "[Container]\nImage=a\nVolume=a:/a\nVolume=b:/b\n[Install]\nWantedBy=default.target\n"
    sections = parse_unit(original)
    again = render_unit("container", spec=sections["Container"], install=sections["Install"])
    assert parse_unit(again) == sections


def test_split_generated_output():
    output = "---a.service---\n[Unit]\nX=1\n\n---b-network.service---\n[Unit]\nY=2\n"
    assert split_generated(output) == {"a.service": "[Unit]\nX=1\n\n", "b-network.service": "[Unit]\nY=2\n"}

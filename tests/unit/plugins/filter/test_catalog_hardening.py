"""The catalog refuses values that could end a line or string in a unit, names that
cannot be units, clashing published ports, and keeps commands literal."""

from __future__ import annotations

import unicodedata

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import host_units, normalise_catalog
from catalog_entry import svc

HOSTS = ["jove", "kronos"]
INJECTION = "x\0[Service]\0ExecStartPre=/bin/touch /tmp/pwned\0[X-Container]\0Y="
UNSAFE = ["\0", "\x01", "\x0b", "\x0c", "\x1b", "\x1c", "\x1d", "\x1e", "\x1f", "\x7f", "\x85", "\x9f",
          "\u2028", "\u2029", "\ud800"]


def error(*services):
    with pytest.raises(AnsibleFilterError) as info:
        normalise_catalog(list(services), HOSTS)
    return info.value.message


def test_the_nul_injection_is_refused_naming_the_variable():
    assert error(svc(env={"GREETING": INJECTION})) == (
        "service web: env.GREETING: contains U+0000 (control character), which cannot be written into a unit")


@pytest.mark.parametrize("char", UNSAFE)
@pytest.mark.parametrize(("fields", "field"), [
    (lambda c: {"env": {"A": "x" + c}}, "env.A"),
    (lambda c: {"labels": {"tier": "a" + c + "b"}}, "labels.tier"),
    (lambda c: {"command": ["sh", "-c", "echo" + c]}, "command[2]"),
    (lambda c: {"command": "sh -c x" + c + "y"}, "command[2]"),
    (lambda c: {"healthcheck": {"cmd": "true" + c}}, "healthcheck.cmd"),
    (lambda c: {"image": "localhost/app" + c}, "image"),
    (lambda c: {"volumes": [{"name": "data", "mount": "/data" + c}]}, "volumes[0].mount"),
    (lambda c: {"metrics": {"port": 9100, "path": "/m" + c}}, "metrics.path"),
])
def test_every_unsafe_character_is_refused_in_every_field_that_reaches_a_unit(char, fields, field):
    message = error(svc(**fields(char)))
    if char.isspace() and field in ("image", "volumes[0].mount", "metrics.path", "command[2]"):
        # These fields refuse all whitespace (VT, FF, FS, GS, RS, U+0085 and the
        # separators are whitespace), or split on it, before the unit check.
        assert message.startswith("service web: ")
    else:
        assert message == (f"service web: {field}: contains U+{ord(char):04X} "
                           f"({unicodedata.name(char, 'control character')}),"
                           " which cannot be written into a unit")


def test_tabs_and_ordinary_unicode_pass():
    entry = normalise_catalog([svc(env={"A": "tab\there ü € 😀 \u200b"}, labels={"k": "ß"})], HOSTS)[0]
    assert entry["env"]["A"] == "tab\there ü € 😀 \u200b"


@pytest.mark.parametrize("volume", ["data.volume", "data.container", "data.network", "x.kube"])
def test_a_volume_named_like_a_unit_file_is_refused_before_anything_runs(volume):
    assert error(svc(volumes=[{"name": volume, "mount": "/data"}])).startswith(
        f"service web: volumes[0].name: '{volume}' cannot name a Quadlet volume unit")


def test_two_services_of_a_host_cannot_publish_one_port():
    assert error(svc("a", publish=["127.0.0.1:8080:80"]), svc("b", publish=["127.0.0.1:8080:8080"])) == (
        "service b: publish[0]: '127.0.0.1:8080:8080' binds port 8080/tcp that publish[0] of service a"
        " already publishes on host jove")


@pytest.mark.parametrize(("first", "second"), [
    ("8080:80", "127.0.0.1:8080:80"),         # every address includes loopback
    ("0.0.0.0:8080:80", "10.0.0.1:8080:80"),  # every IPv4 address
    ("[::]:8080:80", "[::1]:8080:80"),
    ("8080:80/udp", "8080:81/udp"),
])
def test_overlapping_addresses_clash(first, second):
    assert "already publishes" in error(svc("a", publish=[first]), svc("b", publish=[second]))


@pytest.mark.parametrize(("first", "second"), [
    ("127.0.0.1:8080:80", "127.0.0.2:8080:80"),
    ("8080:80/tcp", "8080:80/udp"),
    ("0.0.0.0:8080:80", "[::1]:8080:80"),
])
def test_distinct_sockets_do_not_clash(first, second):
    normalise_catalog([svc("a", publish=[first]), svc("b", publish=[second])], HOSTS)


def test_ports_on_other_hosts_or_of_absent_services_do_not_clash():
    normalise_catalog([svc("a", publish=["8080:80"]), svc("b", host="kronos", publish=["8080:80"]),
                       svc("c", state="absent", publish=["8080:80"])], HOSTS)


def test_one_service_cannot_publish_the_same_binding_twice():
    assert "already publishes" in error(svc(publish=["127.0.0.1:8080:80", "127.0.0.1:8080:81"]))


def spec_of(**fields):
    return host_units(normalise_catalog([svc(**fields)], HOSTS), "jove")[-1]["spec"]


def test_commands_and_healthchecks_reach_the_container_as_written():
    spec = spec_of(command=["sh", "-c", "echo %h $HOME 100%"], healthcheck={"cmd": "test -d %h && echo $X"})
    # Doubled for systemd, which turns %% and $$ back into % and $.
    assert spec["Exec"] == "sh -c 'echo %%h $$HOME 100%%'"
    assert spec["HealthCmd"] == "test -d %%h && echo $$X"


@pytest.mark.parametrize(("fields", "message"), [
    ({"command": ["sleep", ";", "touch", "/tmp/x"]},
     "service web: command[1]: a lone ';' would start another command in the generated service"),
    ({"healthcheck": {"cmd": ";"}},
     "service web: healthcheck.cmd: a lone ';' would start another command in the generated service"),
    ({"command": ["echo", "", "after"]},
     "service web: command[1]: must not be empty (Quadlet drops an empty word and every word after it)"),
])
def test_words_quadlet_would_misread_are_refused(fields, message):
    assert error(svc(**fields)) == message

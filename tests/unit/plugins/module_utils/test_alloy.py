# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alloy's configuration (Alloy cannot run here): string quoting, balanced blocks, every
referenced component defined, through the module and the filter."""

from __future__ import annotations

import json
import re

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.filter import alloy_config as alloy_config_plugin
from ansible_collections.homelab.stack.plugins.module_utils import alloy

alloy_config = alloy_config_plugin.FilterModule().filters()["alloy_config"]

URL = "http://100.64.0.10:3100/loki/api/v1/push"
# A string literal of Alloy's syntax: quotes, then escaped characters or anything but a
# quote, backslash or control character.
STRING = re.compile(r'"(?:\\(?:[abfnrtv\\"\']|u[0-9a-fA-F]{4})|[^"\\\x00-\x1f\x7f])*"')


def strip_strings(text):
    """The text with every string literal emptied and comments removed (what the structure checks read)."""
    text = re.sub(r"^\s*//.*$", "", text, flags=re.M)
    return STRING.sub('""', text)


def unquote(literal):
    """An Alloy string literal read back (its escapes are JSON's, \\u00XX included)."""
    return json.loads(literal)


def balanced(text):
    depth = 0
    for char in strip_strings(text):
        depth += {"{": 1, "}": -1, "[": 0, "]": 0}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0 and strip_strings(text).count("[") == strip_strings(text).count("]")


def components(text):
    """The components the file defines: ``name "label" {`` at the top level."""
    return re.findall(r'^([a-z_][a-z0-9_.]*) "([^"]*)" \{$', text, re.M)


def referenced(text):
    """The components the file's expressions refer to (an export's path without the export)."""
    bare = strip_strings(text)
    paths = re.findall(r"=\s*\[?([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*){2,})", bare)
    paths += re.findall(r"\[([a-z_][a-z0-9_.]*)\]", bare)
    return {path.rsplit(".", 1)[0] for path in paths}


# --- quoting ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ['plain', 'a "quoted" word', 'back\\slash', 'line\nbreak', 'tab\there',
                                  'cr\rhere', 'bell\x07', 'del\x7f', 'ünïcødé', '\\"', '${HOME}', '}{'])
def test_every_string_is_one_literal_that_reads_back_to_itself(text):
    literal = alloy.quote(text)
    assert STRING.fullmatch(literal), literal
    assert unquote(literal) == text
    assert "\n" not in literal and "\r" not in literal


def test_a_host_name_cannot_escape_its_string():
    text = alloy_config('kronos"\n}\nloki.write "evil" {', loki_url=URL)
    assert components(text) == [("loki.relabel", "journal"), ("loki.source.journal", "journal"),
                                ("loki.write", "loki")]
    label = re.search(r"^\s+host = (.*),$", text, re.M).group(1)
    assert unquote(label) == 'kronos"\n}\nloki.write "evil" {'
    assert balanced(text)


# --- the pipeline ------------------------------------------------------------------------


def test_the_journal_goes_to_loki_with_the_hosts_labels():
    text = alloy_config("kronos", loki_url=URL)
    assert balanced(text)
    assert components(text) == [("loki.relabel", "journal"), ("loki.source.journal", "journal"),
                                ("loki.write", "loki")]
    assert re.search(r'^    url = "http://100\.64\.0\.10:3100/loki/api/v1/push"$', text, re.M)
    assert re.search(r'^  relabel_rules = loki\.relabel\.journal\.rules$', text, re.M)
    assert re.search(r'^  forward_to    = \[loki\.write\.loki\.receiver\]$', text, re.M)
    assert re.search(r'^  max_age       = "12h"$', text, re.M)
    assert re.search(r'^    host = "kronos",$', text, re.M)
    rules = re.findall(r'source_labels = \["(\w+)"\]\n\s+target_label  = "(\w+)"', text)
    assert rules == [("__journal__systemd_unit", "unit"), ("__journal_container_name", "container"),
                     ("__journal_priority_keyword", "level")]


def test_every_referenced_component_is_defined():
    text = alloy_config("kronos", loki_url=URL, max_age="1h30m")
    defined = {f"{name}.{label}" for name, label in components(text)}
    assert referenced(text) == {"loki.relabel.journal", "loki.write.loki"}
    assert referenced(text) <= defined


def test_an_ipv6_loki_address():
    text = alloy_config("jove", loki_url="http://[fd7a:115c::1]:3100/loki/api/v1/push")
    assert 'url = "http://[fd7a:115c::1]:3100/loki/api/v1/push"' in text


def test_check_refuses_a_reference_to_no_component_and_a_name_defined_twice():
    source = alloy.Block("loki.source.journal", "journal", [("forward_to", [alloy.Ref("loki.write.gone.receiver")])])
    with pytest.raises(alloy.ConfigError, match="loki.source.journal.journal: refers to loki.write.gone, which is not"
                                                " a component of the file"):
        alloy.check([source])
    write = alloy.Block("loki.write", "loki")
    with pytest.raises(alloy.ConfigError, match="loki.write.loki: is defined twice"):
        alloy.check([write, alloy.Block("loki.write", "loki")])


def test_render_refuses_what_alloy_cannot_read():
    with pytest.raises(alloy.ConfigError, match="block: 'loki write' is not a block name"):
        alloy.Block("loki write")
    with pytest.raises(alloy.ConfigError, match="reference: 'loki' is not a component export"):
        alloy.Ref("loki")
    with pytest.raises(alloy.ConfigError, match="loki.write: attribute 'not valid' is not an identifier"):
        alloy.render([alloy.Block("loki.write", "x", [("not valid", 1)])])
    with pytest.raises(alloy.ConfigError, match="value: .* cannot be written"):
        alloy.render([alloy.Block("loki.write", "x", [("a", object())])])


@pytest.mark.parametrize(("host", "options", "message"), [
    ("kronos", {"loki_url": None}, "alloy_config: loki_url: must be http(s)://<host>:<port>/loki/api/v1/push, got None"),
    ("kronos", {"loki_url": "http://loki:3100/"}, "alloy_config: loki_url: must be http(s)://<host>:<port>"),
    ("kronos", {"loki_url": 'http://a"b:3100/loki/api/v1/push'}, "alloy_config: loki_url: must be"),
    ("kronos", {"loki_url": URL, "max_age": "12 hours"}, "alloy_config: max_age: must be a duration such as 12h"),
    ("", {"loki_url": URL}, "alloy_config: host: must be the inventory host name, got ''"),
    (None, {"loki_url": URL}, "alloy_config: host: must be the inventory host name, got None"),
])
def test_bad_input_names_the_field(host, options, message):
    with pytest.raises(AnsibleFilterError) as caught:
        alloy_config(host, **options)
    assert str(caught.value).startswith(message)

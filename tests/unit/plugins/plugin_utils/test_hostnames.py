"""The shared host naming rule of the inventory plugins."""

import pytest

from ansible_collections.homelab.stack.plugins.plugin_utils.hostnames import normalise_hostname


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("web", "web"),
        ("Web_01.tail1234.ts.net", "web-01"),
        ("Media Server", "media-server"),
        ("  jove  ", "jove"),
        ("db--primary", "db-primary"),
        ("-edge-", "edge"),
        ("kronos.lan.", "kronos"),
        ("ÜberBox", "berbox"),
        ("___", None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_normalise_hostname(name, expected):
    assert normalise_hostname(name) == expected

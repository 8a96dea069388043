"""The host's own nftables table: replaced alone, never a flush; published ports filtered by the
port the client asked for. tests/integration/test_base_rendered.py runs nft -c on these files."""

import pytest

from ansible_collections.homelab.stack.plugins.module_utils.nftables import controller_rule, ruleset, zone_matches

MESH = {"name": "mesh", "interfaces": ["tailscale0"]}
MANAGEMENT = {"name": "management", "interfaces": ["eth0"], "sources": ["192.168.10.0/24", "fd00:10::/64"]}


def chain(text, name):
    """The rule lines of one chain."""
    body = text.split(f"\tchain {name} {{\n", 1)[1].split("\n\t}", 1)[0]
    return [line.strip() for line in body.splitlines()]


def test_only_its_own_table_is_replaced_in_one_file():
    text = ruleset([MESH], [])
    assert "flush" not in text
    assert text.splitlines()[2:5] == ["table inet homelab {}", "delete table inet homelab", "table inet homelab {"]
    assert "netavark" in text.splitlines()[1]  # says why other tables stay


def test_input_drops_by_default_and_keeps_loopback_established_and_icmp():
    rules = chain(ruleset([MESH], []), "input")
    assert rules[:6] == ["type filter hook input priority filter; policy drop;", 'iif "lo" accept',
                         "ct state established,related accept", "ct state invalid drop",
                         "meta l4proto icmp accept", "meta l4proto ipv6-icmp accept"]


def test_a_zone_with_sources_matches_its_interfaces_and_sources_per_family():
    assert zone_matches(MANAGEMENT) == ['iifname { "eth0" } ip saddr { 192.168.10.0/24 }',
                                        'iifname { "eth0" } ip6 saddr { fd00:10::/64 }']
    assert zone_matches({"name": "office", "sources": ["10.1.0.0/16"]}) == ["ip saddr { 10.1.0.0/16 }"]


def test_wildcard_interfaces_get_a_match_of_their_own():
    assert zone_matches({"name": "vpn", "interfaces": ["wg*", "eth1"]}) == ['iifname { "eth1" }', 'iifname "wg*"']


@pytest.mark.parametrize(("address", "rule"), [
    ("192.0.2.7", "ip saddr 192.0.2.7 tcp dport 22 accept"),
    ("::ffff:192.0.2.7", "ip saddr 192.0.2.7 tcp dport 22 accept"),
    ("2001:db8::7", "ip6 saddr 2001:db8::7 tcp dport 22 accept"),
])
def test_the_controllers_connection_is_admitted_by_its_address(address, rule):
    assert controller_rule(address, 22).startswith(rule)


def test_published_ports_are_admitted_in_forward_by_their_original_port_and_others_dropped():
    openings = [
        {"port": 443, "protocol": "tcp", "zones": [], "published": True, "comment": "public: traefik"},
        {"port": 8080, "protocol": "tcp", "zones": ["mesh"], "published": True, "containers": True, "comment": "mesh: files"},
        {"port": 22, "protocol": "tcp", "zones": ["management", "mesh"], "published": False, "comment": "ssh"},
    ]
    text = ruleset([MESH, MANAGEMENT], openings, controller={"address": "192.0.2.7", "port": 22},
                   trusted_interfaces=["podman*"])
    assert chain(text, "forward") == ["type filter hook forward priority filter; policy accept;",
                                      "ct status dnat ct state new jump published"]
    assert chain(text, "published") == [
        'meta l4proto tcp ct original proto-dst 443 accept comment "public: traefik"',
        'iifname { "tailscale0" } meta l4proto tcp ct original proto-dst 8080 accept comment "mesh: files"',
        'iifname "podman*" meta l4proto tcp ct original proto-dst 8080 accept comment "mesh: files"',
        "drop",
    ]
    rules = chain(text, "input")
    assert 'iifname { "eth0" } ip saddr { 192.168.10.0/24 } tcp dport 22 accept comment "ssh"' in rules
    assert 'iifname { "tailscale0" } tcp dport 22 accept comment "ssh"' in rules
    assert not any("podman" in rule and "dport 22" in rule for rule in rules)  # containers get no SSH
    assert 'ip saddr 192.0.2.7 tcp dport 22 accept comment "the controller\'s connection"' in rules


def test_a_comment_cannot_break_out_of_its_quotes():
    text = ruleset([MESH], [{"port": 1, "protocol": "udp", "zones": [], "comment": 'say "hi"'}])
    assert "udp dport 1 accept comment \"say 'hi'\"" in text

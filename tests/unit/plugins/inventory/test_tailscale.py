# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# The Tailscale inventory without any network: host naming, filtering, variables and
# groups from device records, and the plugin filling an inventory from given records.

import copy
import datetime
import json
import pathlib

import pytest
import yaml

from ansible.errors import AnsibleError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible_collections.homelab.stack.plugins.inventory import tailscale as plugin_module
from ansible_collections.homelab.stack.plugins.plugin_utils import hostnames

from module_options import trusted

FIXTURES = pathlib.Path(__file__).resolve().parents[3] / "fixtures"
NOW = datetime.datetime(2024, 7, 12, 8, 15, 0, tzinfo=datetime.timezone.utc)


def api_device(hostname, **fields):
    """An API device object with the documented field names (fields=all)."""
    device = {
        "addresses": ["100.87.74.78", "fd7a:115c:a1e0:ac82:4843:ca90:697d:c36e"],
        "id": "393735751060",
        "nodeId": "n5SUKe8CNTRL",
        "user": "amelie@example.com",
        "name": "%s.tailfe8c.ts.net" % hostname.lower(),
        "hostname": hostname,
        "clientVersion": "1.68.1-t2d0f8fb5b-g8bd1b8b2d",
        "updateAvailable": False,
        "os": "linux",
        "created": "2022-12-01T05:23:30Z",
        "lastSeen": "2024-07-12T08:14:30Z",
        "keyExpiryDisabled": True,
        "expires": "2023-05-30T04:44:05Z",
        "authorized": True,
        "isExternal": False,
        "machineKey": "mkey:01234567890abcdef",
        "nodeKey": "nodekey:01234567890abcdef",
        "blocksIncomingConnections": False,
        "enabledRoutes": ["192.168.1.0/24"],
        "advertisedRoutes": ["10.0.0.0/16", "192.168.1.0/24"],
        "tags": ["tag:server"],
        "tailnetLockError": "",
        "tailnetLockKey": "",
    }
    device.update(fields)
    return device


def record(machine_name, node_id="n5SUKe8CNTRL", **fields):
    """The record of an API device, with some record fields changed."""
    return dict(plugin_module.device_from_api(api_device(machine_name, nodeId=node_id), NOW), **fields)


@pytest.fixture(scope="module")
def status():
    return json.loads((FIXTURES / "tailscale-status.json").read_text())


# Host names


def test_names_come_from_the_shared_naming_rule():
    assert plugin_module.normalise_hostname is hostnames.normalise_hostname
    names = plugin_module.host_names([record("Web_01"), record("Media Server", node_id="nB2CNTRL"), record("Jove", node_id="nC3CNTRL")])
    assert names == ["web-01", "media-server", "jove"]


def test_an_unusable_machine_name_falls_back_to_the_magicdns_label_then_to_the_id():
    from_dns = record("___", dns_name="pangolin.tailfe8c.ts.net")
    from_id = record("", dns_name="", node_id="nXy7CNTRL")
    assert plugin_module.host_names([from_dns, from_id]) == ["pangolin", "device-nxy7cntrl"]


def test_localhost_from_android_devices_gives_way_to_the_magicdns_label():
    phone = record("localhost", dns_name="pixel-7.tailfe8c.ts.net")
    assert plugin_module.host_names([phone]) == ["pixel-7"]


def test_colliding_names_get_an_id_suffix_in_any_order():
    first = record("web", node_id="nAbc123xYz9CNTRL")
    second = record("Web", node_id="nQrs456tUv8CNTRL")
    other = record("db", node_id="nDb1CNTRL")
    names = plugin_module.host_names([first, second, other])
    # The last six characters of the nodeId without the CNTRL every nodeId ends with.
    assert names == ["web-23xyz9", "web-56tuv8", "db"]
    assert plugin_module.host_names([other, second, first]) == ["db", "web-56tuv8", "web-23xyz9"]


def test_short_id_collisions_use_the_whole_id():
    first = record("web", node_id="nAAAAAA123456CNTRL")
    second = record("web", node_id="nBBBBBB123456CNTRL")
    assert plugin_module.host_names([first, second]) == ["web-naaaaaa123456cntrl", "web-nbbbbbb123456cntrl"]


def test_legacy_ids_without_the_cntrl_ending_are_suffixed_as_they_are():
    first = plugin_module.device_from_api(api_device("web", nodeId="", id="393735751060"), NOW)
    second = plugin_module.device_from_api(api_device("web", nodeId="", id="393735999999"), NOW)
    assert plugin_module.host_names([first, second]) == ["web-751060", "web-999999"]


# Records from the API


def test_api_record_fields():
    result = plugin_module.device_from_api(api_device("Jove", name="jove.tailfe8c.ts.net.", tags=["tag:server", "tag:site-a"]), NOW)
    assert result == {
        "id": "n5SUKe8CNTRL",
        "hostname": "Jove",
        "dns_name": "jove.tailfe8c.ts.net",
        "ips": ["100.87.74.78", "fd7a:115c:a1e0:ac82:4843:ca90:697d:c36e"],
        "os": "linux",
        "online": True,
        "tags": ["server", "site-a"],
        "routes": ["192.168.1.0/24"],
        "advertised_routes": ["10.0.0.0/16", "192.168.1.0/24"],
        "last_seen": "2024-07-12T08:14:30Z",
        "authorized": True,
        "external": False,
    }


@pytest.mark.parametrize(
    ("extra", "online"),
    [
        ({"lastSeen": "2024-07-12T08:01:00Z"}, True),  # 14 minutes ago
        ({"lastSeen": "2024-07-12T07:59:00Z"}, False),  # 16 minutes ago
        ({"lastSeen": "2024-07-12T10:14:00+02:00"}, True),  # an offset, 1 minute ago
        ({"lastSeen": ""}, False),
        ({"lastSeen": "2024-07-12T08:14:00Z", "connectedToControl": False}, False),  # the API's own word wins
        ({"lastSeen": "2024-07-01T08:00:00Z", "connectedToControl": True}, True),
    ],
)
def test_online_state(extra, online):
    assert plugin_module.device_from_api(api_device("jove", **extra), NOW)["online"] is online


def test_default_field_set_has_no_routes():
    device = api_device("jove")
    for key in ("enabledRoutes", "advertisedRoutes"):
        del device[key]
    del device["tags"]  # untagged devices come without tags
    result = plugin_module.device_from_api(device, NOW)
    assert (result["routes"], result["advertised_routes"], result["tags"]) == ([], [], [])


@pytest.mark.parametrize("device", [["not", "an", "object"], {"hostname": "no-id"}])
def test_malformed_devices_are_refused(device):
    with pytest.raises(ValueError):
        plugin_module.device_from_api(device, NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-12-01T05:23:30Z", datetime.datetime(2022, 12, 1, 5, 23, 30, tzinfo=datetime.timezone.utc)),
        ("2024-07-12T08:14:55.482913374Z", datetime.datetime(2024, 7, 12, 8, 14, 55, tzinfo=datetime.timezone.utc)),
        ("2024-07-12T10:14:55-01:30", datetime.datetime(2024, 7, 12, 11, 44, 55, tzinfo=datetime.timezone.utc)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_parse_time(text, expected):
    assert plugin_module.parse_time(text) == expected


# Records from `tailscale status --json`


def test_status_records_include_self_and_peers(status):
    records = {r["hostname"]: r for r in plugin_module.devices_from_status(status)}
    assert set(records) == {"workstation", "Jove", "kronos", "Amelie's MacBook Pro", "localhost", "DESKTOP-7Q2K9LM",
                            "se-got-wg-001.mullvad.ts.net", "funnel-ingress-node", "friend-laptop"}
    jove = records["Jove"]
    assert jove["id"] == "nJv8qR2mZ5CNTRL"
    assert jove["dns_name"] == "jove.tailfe8c.ts.net"
    assert jove["tags"] == ["server", "site-a"]
    # Approved routes are the AllowedIPs that are not the node's own addresses.
    assert jove["routes"] == ["192.168.10.0/24"]
    assert jove["advertised_routes"] is None
    assert jove["online"] is True and jove["last_seen"] is None  # Go's zero time means "no value"
    laptop = records["Amelie's MacBook Pro"]
    assert (laptop["online"], laptop["last_seen"], laptop["os"]) == (False, "2024-07-09T18:42:37Z", "macOS")
    assert records["friend-laptop"]["external"] is True
    assert records["workstation"]["external"] is False


def test_primary_routes_when_allowed_ips_are_absent(status):
    changed = copy.deepcopy(status)
    peer = next(p for p in changed["Peer"].values() if p["HostName"] == "Jove")
    del peer["AllowedIPs"]
    jove = next(r for r in plugin_module.devices_from_status(changed) if r["hostname"] == "Jove")
    assert jove["routes"] == ["192.168.10.0/24"]


@pytest.mark.parametrize("state", ["NeedsLogin", "Stopped", None])
def test_status_of_a_stopped_client_is_refused(status, state):
    changed = dict(status, BackendState=state)
    with pytest.raises(ValueError, match="not running"):
        plugin_module.devices_from_status(changed)


# Filters


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"dns_name": "se-got-wg-001.mullvad.ts.net"}, "a Mullvad exit node"),
        ({"hostname": "funnel-ingress-node"}, "a Funnel ingress node"),
        ({"hostname": "", "dns_name": "funnel-ingress-node.tail9a2b1.ts.net"}, "a Funnel ingress node"),
        ({"external": True}, "shared in from another tailnet"),
        ({"authorized": False}, "not authorized"),
        ({}, None),
    ],
)
def test_skip_reasons(fields, reason):
    assert plugin_module.skip_reason(record("x", **fields)) == reason


def test_include_options_let_each_kind_through():
    assert plugin_module.skip_reason(record("x", dns_name="a.mullvad.ts.net"), include_pseudo_nodes=True) is None
    assert plugin_module.skip_reason(record("x", external=True), include_external=True) is None
    assert plugin_module.skip_reason(record("x", authorized=False), include_unauthorized=True) is None
    assert plugin_module.skip_reason(record("x", authorized=False), include_external=True) == "not authorized"


# Variables and groups


def test_host_vars():
    result = plugin_module.host_vars(record("Jove", tags=["server"]))
    assert result == {
        "tailscale_id": "n5SUKe8CNTRL",
        "tailscale_hostname": "Jove",
        "tailscale_ips": ["100.87.74.78", "fd7a:115c:a1e0:ac82:4843:ca90:697d:c36e"],
        "tailscale_dns_name": "jove.tailfe8c.ts.net",
        "tailscale_os": "linux",
        "tailscale_online": True,
        "tailscale_tags": ["server"],
        "tailscale_routes": ["192.168.1.0/24"],
        "tailscale_advertised_routes": ["10.0.0.0/16", "192.168.1.0/24"],
        "tailscale_last_seen": "2024-07-12T08:14:30Z",
        "ansible_host": "100.87.74.78",
    }


def test_ansible_host_sources():
    ipv6_first = record("jove", ips=["fd7a:115c:a1e0::1", "100.64.0.9"])
    assert plugin_module.host_vars(ipv6_first)["ansible_host"] == "100.64.0.9"
    assert plugin_module.host_vars(ipv6_first, "dns")["ansible_host"] == "jove.tailfe8c.ts.net"
    assert "ansible_host" not in plugin_module.host_vars(record("jove", ips=["fd7a:115c:a1e0::1"]))
    assert "ansible_host" not in plugin_module.host_vars(record("jove", dns_name=""), "dns")


def test_local_records_have_no_advertised_routes_variable(status):
    workstation = next(r for r in plugin_module.devices_from_status(status) if r["hostname"] == "workstation")
    assert "tailscale_advertised_routes" not in plugin_module.host_vars(workstation)


def test_group_names():
    assert plugin_module.group_names(record("jove", tags=["server", "site-a"])) == [
        "tailscale_tag_server", "tailscale_tag_site_a", "tailscale_os_linux", "tailscale_online"]
    assert plugin_module.group_names(record("mac", os="macOS", tags=[], online=False), "ts-") == ["ts_os_macos", "ts_offline"]
    assert plugin_module.group_names(record("odd", os="", tags=[])) == ["tailscale_online"]


# The plugin filling an inventory. The plugin object is made directly, with its documented
# defaults as options: Ansible's plugin loader cannot load collection plugins in a process
# that has already imported the collection as plain Python packages, as these tests do.
# tests/integration/test_tailscale_inventory.py runs the whole plugin through Ansible.

CONSTRUCTED_DEFAULTS = {"strict": False, "compose": {}, "groups": {}, "keyed_groups": [], "use_extra_vars": False,
                        "leading_separator": True, "cache": False}


def make_plugin(**options):
    documented = yaml.safe_load(plugin_module.DOCUMENTATION)["options"]
    plugin = plugin_module.InventoryModule()
    plugin._options = dict(CONSTRUCTED_DEFAULTS, **{name: spec.get("default") for name, spec in documented.items()})
    plugin._options.update(trusted(options))
    plugin.inventory = InventoryData()
    plugin.loader = DataLoader()
    plugin._vars = {}
    return plugin


def populate(records, **options):
    plugin = make_plugin(**options)
    plugin._populate(copy.deepcopy(records))
    return plugin.inventory


def group_members(inventory):
    return {name: sorted(host.name for host in group.get_hosts()) for name, group in inventory.groups.items()}


def test_documented_defaults():
    options = make_plugin()._options
    assert (options["source"], options["api_url"], options["tailnet"], options["group_prefix"]) == \
        ("api", "https://api.tailscale.com", "-", "tailscale_")
    assert (options["ansible_host_source"], options["include_unauthorized"], options["include_external"],
            options["include_pseudo_nodes"], options["tailscale_command"]) == ("ipv4", False, False, False, "tailscale")


def test_plugin_adds_hosts_vars_and_groups():
    records = [
        record("Jove", tags=["server", "site-a"]),
        record("kronos", node_id="nK2CNTRL", tags=["server"], online=False),
        record("Amelie's MacBook Pro", node_id="nM3CNTRL", os="macOS", tags=[]),
        record("se-got-wg-001", node_id="nMv4CNTRL", dns_name="se-got-wg-001.mullvad.ts.net"),
        record("funnel-ingress-node", node_id="nFi5CNTRL"),
        record("friend-nas", node_id="nF5CNTRL", external=True),
        record("new-pi", node_id="nP6CNTRL", authorized=False),
    ]
    inventory = populate(records)
    assert sorted(inventory.hosts) == ["amelie-s-macbook-pro", "jove", "kronos"]
    jove = inventory.get_host("jove").get_vars()
    assert jove["tailscale_tags"] == ["server", "site-a"]
    assert jove["ansible_host"] == "100.87.74.78"
    groups = group_members(inventory)
    assert groups["tailscale_tag_server"] == ["jove", "kronos"]
    assert groups["tailscale_tag_site_a"] == ["jove"]
    assert groups["tailscale_os_linux"] == ["jove", "kronos"]
    assert groups["tailscale_os_macos"] == ["amelie-s-macbook-pro"]
    assert groups["tailscale_online"] == ["amelie-s-macbook-pro", "jove"]
    assert groups["tailscale_offline"] == ["kronos"]


def test_plugin_include_options():
    records = [record("friend-nas", external=True), record("new-pi", node_id="nP6CNTRL", authorized=False),
               record("se-got-wg-001", node_id="nMv4CNTRL", dns_name="se-got-wg-001.mullvad.ts.net")]
    inventory = populate(records, include_external=True, include_unauthorized=True, include_pseudo_nodes=True)
    assert sorted(inventory.hosts) == ["friend-nas", "new-pi", "se-got-wg-001"]


def test_plugin_constructed_options():
    records = [record("Jove", tags=["server"]), record("kronos", node_id="nK2CNTRL", tags=[], os="freebsd")]
    inventory = populate(records, group_prefix="ts_", ansible_host_source="dns",
                         compose={"site_address": "tailscale_ips[0]"},
                         groups={"servers": "'server' in tailscale_tags"},
                         keyed_groups=[{"key": "tailscale_os", "prefix": "platform"}])
    jove = inventory.get_host("jove").get_vars()
    assert jove["ansible_host"] == "jove.tailfe8c.ts.net"
    assert jove["site_address"] == "100.87.74.78"
    groups = group_members(inventory)
    assert groups["servers"] == ["jove"]
    assert groups["platform_freebsd"] == ["kronos"]
    assert groups["ts_tag_server"] == ["jove"]
    assert "tailscale_online" not in groups and groups["ts_online"] == ["jove", "kronos"]


def test_compose_sees_variables_of_other_sources():
    plugin = make_plugin(compose={"greeting": "'hello ' + site_name"})
    plugin.inventory.add_host("jove")
    plugin.inventory.set_variable("jove", "site_name", "site-a")
    plugin._populate([record("Jove")])
    assert plugin.inventory.get_host("jove").get_vars()["greeting"] == "hello site-a"


def test_plugin_strict_compose_errors():
    records = [record("jove")]
    assert "broken" not in populate(records, compose={"broken": "no_such_var.x"}).get_host("jove").get_vars()
    with pytest.raises(AnsibleError, match="broken"):
        populate(records, compose={"broken": "no_such_var.x"}, strict=True)


@pytest.mark.parametrize(
    ("name", "accepted"),
    [("lab.tailscale.yml", True), ("tailscale.yaml", True), ("lab.tailscale.json", False), ("hosts.yml", False)],
)
def test_verify_file(tmp_path, name, accepted):
    path = tmp_path / name
    path.write_text("plugin: homelab.stack.tailscale\n")
    assert plugin_module.InventoryModule().verify_file(str(path)) is accepted
    assert plugin_module.InventoryModule().verify_file(str(tmp_path / "missing.tailscale.yml")) is False

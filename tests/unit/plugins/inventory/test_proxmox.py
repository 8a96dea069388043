"""The pure parts of the homelab.stack.proxmox inventory plugin and its API client.

Naming, collisions, address choice, tag parsing and the groups built from one cluster
snapshot, without any server (the fake API is used in tests/integration).
"""

import random

import pytest
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader

from ansible_collections.homelab.stack.plugins.inventory import proxmox as plugin_module
from ansible_collections.homelab.stack.plugins.inventory.proxmox import (
    choose_ansible_host,
    cluster_guests,
    guest_host_names,
    interface_addresses,
    node_states,
    parse_networks,
    parse_tags,
    sanitise_group,
)
from ansible_collections.homelab.stack.plugins.module_utils import proxmox as client_module
from ansible_collections.homelab.stack.plugins.module_utils.proxmox import (
    ProxmoxAuthError,
    ProxmoxClient,
    ProxmoxError,
    normalise_url,
)

from module_options import trusted


# Tags

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("web;prod", ["prod", "web"]),
        ("Web;db;web", ["db", "web"]),
        ("b,a c", ["a", "b", "c"]),
        (";;", []),
        ("", []),
        (None, []),
    ],
)
def test_parse_tags(text, expected):
    assert parse_tags(text) == expected


def test_sanitise_group_keeps_letters_digits_and_underscores():
    assert sanitise_group("proxmox_tag_ci-runner") == "proxmox_tag_ci_runner"
    assert sanitise_group("pve-node.lan") == "pve_node_lan"


# Host names

def names(*guests, reserved=()):
    return guest_host_names([{"vmid": vmid, "name": name} for vmid, name in guests], reserved=reserved)


def test_unique_names_are_normalised():
    assert names((100, "Web_01.lab.example"), (101, "Media Server")) == {100: "web-01", 101: "media-server"}


def test_colliding_names_get_the_vmid_both_of_them():
    assert names((100, "web"), (205, "web"), (300, "db")) == {100: "web-100", 205: "web-205", 300: "db"}


def test_names_that_only_normalise_alike_collide_too():
    assert names((100, "Web_01"), (101, "web-01")) == {100: "web-01-100", 101: "web-01-101"}


def test_guest_without_a_usable_name():
    assert names((100, None), (101, "___"), (102, "")) == {100: "guest-100", 101: "guest-101", 102: "guest-102"}


def test_a_guest_named_like_a_node_yields_to_the_node():
    assert names((100, "pve1"), (101, "web"), reserved=["pve1"]) == {100: "pve1-100", 101: "web"}


def test_a_unique_name_keeps_priority_over_a_suffixed_one():
    # "web" twice with VMID 101 would become web-101, which a third guest already is.
    result = names((101, "web"), (102, "web"), (300, "web-101"))
    assert result == {101: "web-101-101", 102: "web-102", 300: "web-101"}
    assert len(set(result.values())) == 3


def test_names_do_not_depend_on_the_order_of_the_guests():
    guests = [{"vmid": 100 + n, "name": ["web", "db", "Web", None, "cache"][n % 5]} for n in range(50)]
    expected = guest_host_names(guests)
    shuffled = list(guests)
    random.Random(4).shuffle(shuffled)
    assert guest_host_names(shuffled) == expected
    assert len(set(expected.values())) == 50


# Addresses

AGENT_ANSWER = {"result": [
    {"name": "lo", "hardware-address": "00:00:00:00:00:00", "ip-addresses": [
        {"ip-address": "127.0.0.1", "ip-address-type": "ipv4", "prefix": 8},
        {"ip-address": "::1", "ip-address-type": "ipv6", "prefix": 128}]},
    {"name": "eth0", "hardware-address": "bc:24:11:00:00:64", "ip-addresses": [
        {"ip-address": "10.20.0.100", "ip-address-type": "ipv4", "prefix": 16},
        {"ip-address": "fe80::be24:11ff:fe00:64", "ip-address-type": "ipv6", "prefix": 64}]},
    {"name": "tailscale0", "ip-addresses": [{"ip-address": "100.64.0.100", "ip-address-type": "ipv4", "prefix": 32}]},
    {"name": "eth1"},
]}


def test_agent_addresses_in_order_without_loopback():
    assert interface_addresses("qemu", AGENT_ANSWER) == ["10.20.0.100", "fe80::be24:11ff:fe00:64", "100.64.0.100"]


def test_agent_error_object_is_an_error():
    answer = {"result": {"error": {"class": "CommandDisabled", "desc": "disabled for this instance"}}}
    with pytest.raises(ValueError, match="CommandDisabled"):
        interface_addresses("qemu", answer)


@pytest.mark.parametrize("answer", [None, [], "text", {"result": "text"}])
def test_agent_answer_of_unknown_shape_is_an_error(answer):
    with pytest.raises(ValueError):
        interface_addresses("qemu", answer)


def test_lxc_addresses_new_and_old_shapes():
    new = [{"name": "eth0", "hwaddr": "bc:24:11:00:00:65", "inet": "10.0.0.5/24",
            "ip-addresses": [{"ip-address": "10.0.0.5", "ip-address-type": "ipv4", "prefix": 24},
                             {"ip-address": "fd00::5", "ip-address-type": "ipv6", "prefix": 64}]}]
    old = [{"name": "lo", "hwaddr": "00:00:00:00:00:00", "inet": "127.0.0.1/8", "inet6": "::1/128"},
           {"name": "eth0", "hwaddr": "bc:24:11:00:00:65", "inet": "10.0.0.5/24", "inet6": "fd00::5/64"}]
    assert interface_addresses("lxc", new) == ["10.0.0.5", "fd00::5"]
    assert interface_addresses("lxc", old) == ["10.0.0.5", "fd00::5"]
    assert interface_addresses("lxc", None) == []


def test_addresses_are_deduplicated_and_junk_skipped():
    answer = [{"name": "eth0", "inet": "10.0.0.5/24"}, {"name": "eth1", "inet": "10.0.0.5/24"},
              {"name": "eth2", "inet": "not-an-address"}, "junk"]
    assert interface_addresses("lxc", answer) == ["10.0.0.5"]


@pytest.mark.parametrize(
    ("addresses", "preference", "expected"),
    [
        # The first matching preferred network wins, wherever its address is in the list.
        (["10.20.0.5", "100.64.1.5"], ["100.64.0.0/10"], "100.64.1.5"),
        (["10.20.0.5", "100.64.1.5", "192.168.1.5"], ["192.168.0.0/16", "100.64.0.0/10"], "192.168.1.5"),
        (["10.20.0.5", "fd7a:115c:a1e0::5"], ["fd7a:115c:a1e0::/48"], "fd7a:115c:a1e0::5"),
        # No preferred address: the first private or global IPv4.
        (["fe80::1", "169.254.3.4", "10.20.0.5", "192.168.1.5"], ["100.64.0.0/10"], "10.20.0.5"),
        (["8.8.8.8", "10.0.0.1"], [], "8.8.8.8"),
        # CGNAT (Tailscale) space is neither private nor global: only a preference picks it.
        (["100.64.1.5"], [], None),
        (["fd00::5", "fe80::1"], [], None),
        (["127.0.0.1", "0.0.0.0", "224.0.0.1"], [], None),
        ([], ["10.0.0.0/8"], None),
    ],
)
def test_choose_ansible_host(addresses, preference, expected):
    assert choose_ansible_host(addresses, parse_networks(preference)) == expected


def test_wrong_preference_is_named():
    with pytest.raises(ValueError, match="'100.64.0.0/33'"):
        parse_networks(["100.64.0.0/10", "100.64.0.0/33"])


# Cluster snapshot helpers

RESOURCES = [
    {"id": "node/pve1", "type": "node", "node": "pve1", "status": "online"},
    {"id": "node/pve2", "type": "node", "node": "pve2", "status": "offline"},
    {"id": "storage/pve1/local", "type": "storage", "node": "pve1", "storage": "local", "status": "available"},
    {"id": "/pool/prod", "type": "pool", "pool": "prod"},
    {"id": "qemu/101", "type": "qemu", "vmid": 101, "name": "web", "node": "pve1", "status": "running", "template": 0,
     "tags": "Web;prod", "pool": "prod"},
    {"id": "lxc/100", "type": "lxc", "vmid": 100, "name": "dns", "node": "pve1", "status": "stopped", "template": 0},
    {"id": "qemu/102", "type": "qemu", "vmid": 102, "name": "web", "node": "pve2", "status": "unknown", "template": 0},
    {"id": "qemu/900", "type": "qemu", "vmid": 900, "name": "tpl", "node": "pve1", "status": "stopped", "template": 1},
]
STATUS = [
    {"type": "cluster", "id": "cluster", "name": "lab", "nodes": 2, "quorate": 0},
    {"type": "node", "id": "node/pve1", "name": "pve1", "ip": "192.168.10.11", "online": 1, "nodeid": 1, "local": 1},
    {"type": "node", "id": "node/pve2", "name": "pve2", "ip": "192.168.10.12", "online": 0, "nodeid": 2, "local": 0},
]


def test_cluster_guests_leaves_out_templates_and_other_resources():
    assert [guest["vmid"] for guest in cluster_guests(RESOURCES)] == [100, 101, 102]


def test_node_states_from_status_and_resources():
    assert node_states(RESOURCES, STATUS) == {"pve1": {"online": True, "ip": "192.168.10.11"},
                                              "pve2": {"online": False, "ip": "192.168.10.12"}}
    # Without /cluster/status (no Sys.Audit): nodes known, no addresses.
    assert node_states(RESOURCES, []) == {"pve1": {"online": True, "ip": None}, "pve2": {"online": False, "ip": None}}


DEFAULT_OPTIONS = {"plugin": "homelab.stack.proxmox", "group_prefix": "proxmox_", "ansible_host_preference": [],
                   "compose": {}, "groups": {}, "keyed_groups": [], "strict": False, "leading_separator": True,
                   "use_extra_vars": False}


@pytest.fixture
def plugin():
    """The plugin with an empty inventory (options are set by populate())."""
    instance = plugin_module.InventoryModule()
    instance.loader = DataLoader()
    instance.inventory = InventoryData()
    instance._vars = {}  # pylint: disable=protected-access
    return instance


def populate(plugin, **options):
    """Build the inventory from RESOURCES and STATUS with these options (as the YAML file would set them)."""
    for name in ("compose", "groups"):
        options[name] = trusted(options.get(name, {}))
    options["keyed_groups"] = [dict(entry, key=trusted(entry["key"])) for entry in options.get("keyed_groups", [])]
    plugin._options = dict(DEFAULT_OPTIONS, **options)  # pylint: disable=protected-access
    snapshot = {"resources": RESOURCES, "status": STATUS, "addresses": {"qemu/101": ["10.20.0.101", "100.64.0.101", "fe80::1"]}}
    plugin._populate(snapshot, parse_networks(plugin.get_option("ansible_host_preference")))  # pylint: disable=protected-access
    return plugin.inventory


def members(inventory, group):
    return sorted(host.name for host in inventory.groups[group].get_hosts())


def test_groups_and_variables_of_a_snapshot(plugin):
    inventory = populate(plugin, ansible_host_preference=["100.64.0.0/10"])
    assert sorted(inventory.hosts) == ["dns", "pve1", "pve2", "web-101", "web-102"]
    assert members(inventory, "proxmox_qemu") == ["web-101", "web-102"]
    assert members(inventory, "proxmox_lxc") == ["dns"]
    assert members(inventory, "proxmox_running") == ["web-101"]
    assert members(inventory, "proxmox_stopped") == ["dns"]
    assert members(inventory, "proxmox_unknown") == ["web-102"]
    assert members(inventory, "proxmox_node_pve1") == ["dns", "web-101"]
    assert members(inventory, "proxmox_node_pve2") == ["web-102"]
    assert members(inventory, "proxmox_tag_web") == ["web-101"]
    assert members(inventory, "proxmox_pool_prod") == ["web-101"]
    assert members(inventory, "proxmox_nodes") == ["pve1", "pve2"]

    web = inventory.get_host("web-101").vars
    assert web["ansible_host"] == "100.64.0.101"
    assert {key: web[key] for key in web if key.startswith("proxmox_")} == {
        "proxmox_vmid": 101, "proxmox_node": "pve1", "proxmox_type": "qemu", "proxmox_status": "running",
        "proxmox_tags": ["prod", "web"], "proxmox_pool": "prod", "proxmox_name": "web",
        "proxmox_ips": ["10.20.0.101", "100.64.0.101", "fe80::1"],
    }
    dns = inventory.get_host("dns").vars
    assert "ansible_host" not in dns and "proxmox_ips" not in dns and "proxmox_pool" not in dns
    node = inventory.get_host("pve2").vars
    assert (node["proxmox_node"], node["proxmox_online"], node["ansible_host"]) == ("pve2", False, "192.168.10.12")


def test_group_prefix_is_sanitised(plugin):
    inventory = populate(plugin, group_prefix="pve-")
    assert members(inventory, "pve_qemu") == ["web-101", "web-102"]
    assert members(inventory, "pve_tag_prod") == ["web-101"]
    assert "proxmox_qemu" not in inventory.groups


def test_constructed_options_apply(plugin):
    inventory = populate(plugin, keyed_groups=[{"key": "proxmox_tags", "prefix": "tag"}],
                         groups={"webservers": "'web' in (proxmox_tags | default([]))"},
                         compose={"ansible_port": "2222 if proxmox_type | default('') == 'lxc' else 22"})
    assert members(inventory, "tag_web") == ["web-101"]
    assert members(inventory, "tag_prod") == ["web-101"]
    assert members(inventory, "webservers") == ["web-101"]
    assert inventory.get_host("dns").vars["ansible_port"] == 2222


# The API client's pure parts

@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("pve1.lan", "https://pve1.lan:8006"),
        ("pve1.lan:8443", "https://pve1.lan:8443"),
        ("https://pve1.lan:8006/", "https://pve1.lan:8006"),
        ("https://pve1.lan:8006/api2/json", "https://pve1.lan:8006"),
        ("http://127.0.0.1:4000", "http://127.0.0.1:4000"),
    ],
)
def test_normalise_url(url, expected):
    assert normalise_url(url) == expected


def test_client_needs_credentials():
    with pytest.raises(ProxmoxAuthError, match="no Proxmox VE credentials"):
        ProxmoxClient("pve1.lan", user="root@pam")
    with pytest.raises(ProxmoxAuthError, match="user it belongs to"):
        ProxmoxClient("pve1.lan", token_id="inventory", token_secret="s3cret")


def test_client_names_the_credentials_but_not_the_secret():
    client = ProxmoxClient("pve1.lan", user="root@pam", token_id="inventory", token_secret="s3cret-value")
    assert client.credentials == "API token root@pam!inventory"
    client = ProxmoxClient("pve1.lan", token_id="ansible@pve!inv", token_secret="s3cret-value")
    assert client.credentials == "API token ansible@pve!inv"
    client = ProxmoxClient("pve1.lan", user="root@pam", password="pa55word")
    assert "pa55word" not in client.credentials


def test_client_without_requests_says_so(monkeypatch):
    monkeypatch.setattr(client_module, "HAS_REQUESTS", False)
    with pytest.raises(ProxmoxError, match="'requests' is required"):
        ProxmoxClient("pve1.lan", user="root@pam", password="x")


def test_plugin_accepts_only_proxmox_files(plugin, tmp_path):
    for name, expected in (("lab.proxmox.yml", True), ("proxmox.yaml", True), ("lab.yml", False), ("proxmox.json", False)):
        path = tmp_path / name
        path.write_text("plugin: homelab.stack.proxmox\n")
        assert plugin.verify_file(str(path)) is expected
    assert plugin_module.InventoryModule.NAME == "homelab.stack.proxmox"

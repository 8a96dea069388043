"""Reading `tailscale status --json` (module_utils/tailscale_status.py), the one reader the
tailscale_node module and the tailscale inventory's local source share."""

import copy
import json
import pathlib

import pytest

from ansible_collections.homelab.stack.plugins.inventory import tailscale as inventory
from ansible_collections.homelab.stack.plugins.module_utils.tailscale_status import (
    is_named,
    parse_node,
    parse_status,
    peer_by_id,
    peer_objects,
)
from ansible_collections.homelab.stack.plugins.modules import tailscale_node

FIXTURE = pathlib.Path(__file__).resolve().parents[3] / "fixtures" / "tailscale-status.json"


@pytest.fixture
def status():
    return json.loads(FIXTURE.read_text())


def peer(parsed, hostname):
    return next(node for node in parsed["peers"] if node["hostname"] == hostname)


def test_the_status_gives_the_state_self_and_every_peer(status):
    parsed = parse_status(status)
    assert parsed["backend_state"] == "Running"
    assert parsed["self"]["hostname"] == "workstation" and parsed["self"]["id"] == "nQ7pT3wXk21CNTRL"
    assert len(parsed["peers"]) == len(status["Peer"]) == 8


def test_a_node_as_plain_values(status):
    jove = peer(parse_status(status), "Jove")
    assert jove == {
        "id": "nJv8qR2mZ5CNTRL", "hostname": "Jove", "dns_name": "jove.tailfe8c.ts.net",
        "ips": ["100.87.74.78", "fd7a:115c:a1e0:ac82:4843:ca90:697d:c36e"], "os": "linux", "online": True,
        "tags": ["tag:server", "tag:site-a"], "routes": ["192.168.10.0/24"], "last_seen": None, "external": False,
    }


def test_routes_are_allowed_ips_without_the_nodes_own_addresses(status):
    parsed = parse_status(status)
    assert peer(parsed, "se-got-wg-001.mullvad.ts.net")["routes"] == ["0.0.0.0/0", "::/0"]
    assert peer(parsed, "kronos")["routes"] == []
    del status["Peer"][next(key for key, node in status["Peer"].items() if node["HostName"] == "Jove")]["AllowedIPs"]
    assert peer(parse_status(status), "Jove")["routes"] == ["192.168.10.0/24"]


def test_a_known_last_seen_time_and_shared_nodes(status):
    parsed = parse_status(status)
    assert peer(parsed, "Amelie's MacBook Pro")["last_seen"] == "2024-07-09T18:42:37Z"
    assert peer(parsed, "friend-laptop")["external"] is True


def test_a_client_that_is_not_logged_in_has_few_fields():
    parsed = parse_status({"BackendState": "NeedsLogin", "Self": {"HostName": "node1"}, "Peer": None})
    assert parsed["backend_state"] == "NeedsLogin" and parsed["peers"] == []
    assert parsed["self"]["id"] == "" and parsed["self"]["ips"] == [] and parsed["self"]["hostname"] == "node1"
    assert parse_status({})["self"] is None and parse_status({})["backend_state"] == ""


@pytest.mark.parametrize("status, message", [
    ([], "expected a JSON object"),
    ({"Peer": ["gateway"]}, "'Peer' is not an object"),
    ({"Peer": {"nodekey:1": "gateway"}}, "a peer that is not an object"),
])
def test_another_shape_is_refused(status, message):
    with pytest.raises(ValueError, match=message):
        parse_status(status)


def test_peer_objects_are_the_status_own(status):
    assert peer_objects(status) == list(status["Peer"].values())
    assert parse_node(peer_objects(status)[0]) == parse_status(status)["peers"][0]


@pytest.mark.parametrize("value", ["100.96.12.7", "fd7a:115c:a1e0:ab12:4843:cd96:6260:c07", "kronos",
                                   "kronos.tailfe8c.ts.net"])
def test_a_node_is_named_by_address_host_name_or_magicdns_name(status, value):
    assert is_named(peer(parse_status(status), "kronos"), value)


def test_an_empty_value_names_no_node():
    assert not is_named(parse_node({}), "")


def test_peers_by_id(status):
    parsed = parse_status(status)
    assert peer_by_id(parsed, "nKr4nS9tLp3CNTRL")["hostname"] == "kronos"
    assert peer_by_id(parsed, "nGone") is None and peer_by_id(parsed, "") is None


def test_the_module_and_the_inventory_read_one_status_alike(status):
    """Both consumers see the same node with the same addresses and names."""
    records = {record["id"]: record for record in inventory.devices_from_status(copy.deepcopy(status))}
    own = tailscale_node.current_settings({"Hostname": "", "WantRunning": True}, status)
    assert own["tailscale_ips"] == records["nQ7pT3wXk21CNTRL"]["ips"]
    found = tailscale_node.find_peer(status, "kronos.tailfe8c.ts.net")
    assert records[found["ID"]]["hostname"] == "kronos"
    assert tailscale_node.current_exit_node({"ExitNodeID": "nKr4nS9tLp3CNTRL"}, status) == ("kronos", "100.96.12.7")

"""The Proxmox and Tailscale inventories together: one machine seen by both sources is
one host, with the variables of both (the shared naming rule at work)."""

import json

import pytest

from ansible_run import ansible_inventory
from fakes import plain
from fakes.pve import TOKEN_NAME, TOKEN_SECRET, USER, FakePVE, Guest, guest_interfaces, make_cluster
from fakes.tailscale import API_KEY, FakeTailscale, make_device


@pytest.fixture
def sources(tmp_path):
    cluster = make_cluster(nodes=2, guests=3)
    # The VM "Jove" on Proxmox is the tailnet device "jove.tail1234.ts.net".
    cluster.guests.append(Guest(vmid=900, type="qemu", name="Jove", node="pve1", tags="edge;site-a",
                                interfaces=guest_interfaces(900, tailscale=True)))
    devices = [make_device("jove", tags=["tag:server"]), make_device("laptop", os="macOS")]
    with FakeTailscale(devices) as tailnet:
        pve = FakePVE(cluster).start()
        try:
            (tmp_path / "cluster.proxmox.yml").write_text(json.dumps({
                "plugin": "homelab.stack.proxmox", "url": pve.url, "user": USER, "token_id": TOKEN_NAME,
                "token_secret": TOKEN_SECRET, "ansible_host_preference": ["100.64.0.0/10"]}))
            (tmp_path / "mesh.tailscale.yml").write_text(json.dumps({
                "plugin": "homelab.stack.tailscale", "api_url": tailnet.url, "api_key": API_KEY}))
            yield tmp_path
        finally:
            pve.stop()


def inventory(directory, *args):
    result = ansible_inventory(directory, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_one_machine_from_both_sources_is_one_host(sources):
    listed = plain(json.loads(inventory(sources, "--list")))
    hostvars = listed["_meta"]["hostvars"]
    assert "jove" in hostvars and "Jove" not in hostvars
    jove = hostvars["jove"]
    assert jove["proxmox_vmid"] == 900 and jove["proxmox_tags"] == ["edge", "site-a"]
    assert jove["tailscale_tags"] == ["server"]
    # Both sources put it in their groups.
    assert "jove" in listed["proxmox_qemu"]["hosts"]
    assert "jove" in listed["tailscale_tag_server"]["hosts"]
    assert "laptop" in hostvars


def test_graph_shows_the_merged_host_under_both_sources_groups(sources):
    graph = inventory(sources, "--graph")
    sections = graph.split("|--@")
    proxmox = next(s for s in sections if s.startswith("proxmox_qemu:"))
    tailscale = next(s for s in sections if s.startswith("tailscale_tag_server:"))
    assert "|--jove" in proxmox and "|--jove" in tailscale

"""ProxmoxGuestAPI's requests (module_utils/proxmox_guest_api.py) against a recording client.

The same calls against the fake Proxmox VE API are in tests/integration/test_proxmox_guest.py.
"""

import pytest

from ansible_collections.homelab.stack.plugins.module_utils.proxmox_guest_api import GuestError, ProxmoxGuestAPI

UPID = "UPID:pve1:0000C0DE:00ABCDEF:6750A1B2:qmconfig:100:root@pam:"
VM = {"vmid": 100, "node": "pve1", "type": "qemu", "name": "web", "status": "running", "pool": None}
CT = {"vmid": 101, "node": "pve2", "type": "lxc", "name": "dns", "status": "stopped", "pool": "lab"}


class RecordingClient:
    """What ProxmoxGuestAPI uses of a ProxmoxClient: answers writes with a UPID and records them."""

    def __init__(self, answers=None):
        self.answers = answers or {}
        self.sent = []
        self.waited = []

    def get(self, path, params=None):
        return self.answers[path]

    def request(self, method, path, data=None):
        self.sent.append((method, path, data))
        return UPID if method == "POST" else None

    def delete(self, path, params=None):
        self.sent.append(("DELETE", path, params))
        return UPID

    def wait_task(self, upid, timeout):
        self.waited.append((upid, timeout))


def test_a_qemu_config_update_is_a_digest_guarded_post_followed_to_its_end():
    client = RecordingClient()
    api = ProxmoxGuestAPI(client, timeout=30)
    api.set_config(VM, {"cores": 4}, ["tags"], "abc")
    assert client.sent == [("POST", "/nodes/pve1/qemu/100/config", {"cores": 4, "digest": "abc", "delete": "tags"})]
    assert client.waited == [(UPID, 30)] and api.actions == ["set cores, tags"]


def test_a_container_config_update_is_a_put():
    client = RecordingClient()
    ProxmoxGuestAPI(client, timeout=30).set_config(CT, {"hostname": "dns2"}, [], None)
    assert client.sent == [("PUT", "/nodes/pve2/lxc/101/config", {"hostname": "dns2"})] and client.waited == []


def test_nothing_to_set_sends_nothing():
    client = RecordingClient()
    api = ProxmoxGuestAPI(client, timeout=30)
    api.set_config(VM, {}, [], "abc")
    api.set_pool(CT, "lab")
    assert api.power(VM, "running", "started") == "running"
    assert client.sent == [] and api.actions == []


def test_check_mode_records_the_actions_and_sends_nothing():
    client = RecordingClient({"/nodes/pve1/qemu/100/config": {"scsi0": "local:vm-100-disk-0,size=8G"},
                              "/nodes/pve1/qemu/100/status/current": {"status": "running"}})
    api = ProxmoxGuestAPI(client, timeout=30, check_mode=True)
    api.resize(VM, "scsi0", 16 * 1024 ** 3, 8 * 1024 ** 3)
    api.set_pool(VM, "lab")
    api.delete(VM, purge=True)
    assert api.actions == ["resize scsi0 8G -> 16G", "move to pool lab", "stop", "delete"] and client.sent == []


def test_leaving_a_pool_and_shutting_down():
    client = RecordingClient()
    api = ProxmoxGuestAPI(client, timeout=45)
    api.set_pool(CT, "")
    assert api.power(VM, "running", "stopped") == "stopped"
    assert client.sent == [("PUT", "/pools", {"poolid": "lab", "vms": "101", "delete": 1}),
                           ("POST", "/nodes/pve1/qemu/100/status/shutdown", {"forceStop": 1, "timeout": 45})]


def test_a_guest_with_disks_is_deleted_only_with_purge():
    client = RecordingClient({"/nodes/pve1/qemu/100/config": {"scsi0": "local:vm-100-disk-0,size=8G"}})
    with pytest.raises(GuestError, match=r"^purge: guest 100 \(web\) has disks \(scsi0\)"):
        ProxmoxGuestAPI(client, timeout=30).delete(VM, purge=False)
    assert client.sent == []


def test_find_by_vmid_or_unique_name_and_its_refusals():
    warnings = []
    api = ProxmoxGuestAPI(RecordingClient(), timeout=30, warn=warnings.append)
    resources = [VM, CT, dict(VM, vmid=102), dict(CT, vmid=9000, name="tpl", template=1)]
    assert api.find(resources, 101, None, "lxc") is CT and api.find(resources, None, "dns", "lxc") is CT
    assert api.find(resources, None, "nothing", "qemu") is None
    assert api.find(resources, 100, None, "qemu", node="pve3") is VM and "is on node pve1, not pve3" in warnings[0]
    with pytest.raises(GuestError, match=r"^name: 2 guests are called 'web' \(vmids 100, 102\)"):
        api.find(resources, None, "web", "qemu")
    with pytest.raises(GuestError, match="^type: guest 101 is a lxc guest, not qemu"):
        api.find(resources, 101, None, "qemu")
    with pytest.raises(GuestError, match="is a template"):
        api.find(resources, 9000, None, "lxc")
    with pytest.raises(GuestError, match="which is offline"):
        api.find([dict(VM, status="unknown")], 100, None, "qemu")

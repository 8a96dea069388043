"""The rules of a declared Proxmox VE guest (module_utils/proxmox_guest_spec.py)."""

import pytest

from ansible_collections.homelab.stack.plugins.module_utils.proxmox_guest_spec import (
    GuestSpecError, guest_list, merge_defaults, type_problems,
)

DEFAULTS = {"node": "pve1", "clone": "tpl", "full": True, "agent": True, "ciuser": "admin", "state": "started"}


def test_defaults_go_under_the_guest_and_its_own_keys_win():
    merged = merge_defaults({"name": "web", "node": "pve2", "disks": {"scsi0": "40G"}}, dict(DEFAULTS, disks={"scsi1": "8G"}), 22)
    assert merged == {"type": "qemu", "ssh_port": 22, "ssh_host": "web", "name": "web", "node": "pve2", "clone": "tpl",
                      "full": True, "agent": True, "ciuser": "admin", "state": "started", "disks": {"scsi0": "40G"}}


def test_a_guest_with_its_own_way_of_creation_drops_the_defaults_ones():
    merged = merge_defaults({"name": "dns", "type": "lxc", "ostemplate": "local:vztmpl/d.tar.zst"}, DEFAULTS, 22)
    assert not {"clone", "full", "agent", "ciuser"} & set(merged) and merged["ostemplate"] == "local:vztmpl/d.tar.zst"


def test_the_defaults_can_give_the_type():
    assert merge_defaults({"name": "dns"}, {"type": "lxc", "agent": True}, 22) == {
        "type": "lxc", "ssh_port": 22, "ssh_host": "dns", "name": "dns"}


@pytest.mark.parametrize("guest, host", [
    ({"name": "web", "ipconfig": {"ipconfig0": "gw=10.0.1.1,ip=10.0.1.20/24"}}, "10.0.1.20"),
    ({"name": "web", "ipconfig": {"ipconfig0": "ip=dhcp"}}, "web"),
    ({"name": "dns", "type": "lxc", "net": {"net0": "name=eth0,bridge=vmbr0,ip=10.0.1.53/24"}}, "10.0.1.53"),
    ({"name": "dns", "type": "lxc", "ipconfig": {"ipconfig0": "ip=10.0.1.20/24"}}, "dns"),
    ({"name": "web", "ssh_host": "web.lan", "ipconfig": {"ipconfig0": "ip=10.0.1.20/24"}}, "web.lan"),
    ({"vmid": 120}, ""),
])
def test_the_ssh_address_is_the_guests_own_its_static_ip_or_its_name(guest, host):
    assert merge_defaults(guest, {}, 2222)["ssh_host"] == host


def test_type_problems_name_each_key():
    assert type_problems({"agent": True, "ciuser": None, "ipconfig": {}}, "lxc") == [
        "agent: only QEMU guests have this setting (type is lxc)", "ipconfig: only QEMU guests have this setting (type is lxc)"]
    assert type_problems({"ostemplate": "local:vztmpl/d.tar.zst"}, "qemu") == [
        "ostemplate: only LXC containers are created from a template archive (type is qemu)"]
    assert type_problems({"agent": True, "ostemplate": None}, "qemu") == []


def test_a_good_list_comes_back_merged_in_order():
    listed = guest_list([{"name": "web"}, {"name": "dns", "type": "lxc", "ostemplate": "x", "ssh_host": "10.0.0.53"}], DEFAULTS)
    assert [guest["name"] for guest in listed] == ["web", "dns"] and listed[0]["clone"] == "tpl"


@pytest.mark.parametrize("guests, message", [
    ([{"name": "web"}, {"name": "web", "cores": 4}], "guest web: name: 2 entries are called web; give them a vmid"),
    ([{"name": "a", "vmid": 120}, {"name": "b", "vmid": "120"}], "guest b: vmid: 120 is given to 2 entries"),
    ([{"name": "ok"}, {"name": "dns", "type": "lxc", "ipconfig": {"ipconfig0": "ip=dhcp"}, "ssh_host": "h"}],
     "guest dns: ipconfig: only QEMU guests have this setting (type is lxc)"),
    ([{"name": "web", "ostemplate": "x"}], "guest web: ostemplate: only LXC containers are created from a template archive (type is qemu)"),
    ([{"vmid": 130, "state": "started"}], "guest 130: ssh_host: no address to wait for SSH on"),
])
def test_a_bad_list_is_refused_naming_the_guest_and_key(guests, message):
    with pytest.raises(GuestSpecError) as refused:
        guest_list(guests, {"clone": "tpl"})
    assert message in str(refused.value)


def test_every_bad_guest_is_named_at_once():
    with pytest.raises(GuestSpecError) as refused:
        guest_list([{"name": "web", "ostemplate": "x"}, {"name": "ok"}, {"name": "dns", "type": "lxc", "agent": True}])
    assert str(refused.value).splitlines() == [
        "guest web: ostemplate: only LXC containers are created from a template archive (type is qemu)",
        "guest dns: agent: only QEMU guests have this setting (type is lxc)"]


def test_no_address_is_needed_without_the_wait():
    assert guest_list([{"vmid": 130, "state": "started"}], wait_for_ssh=False)[0]["ssh_host"] == ""


@pytest.mark.parametrize("guests, defaults", [("web", {}), ([["web"]], {}), ([{"name": "web"}], ["node"])])
def test_a_list_of_the_wrong_shape_is_refused(guests, defaults):
    with pytest.raises(GuestSpecError, match="must be a"):
        guest_list(guests, defaults)

"""The pure logic of homelab.stack.proxmox_guest: option checks and the plan of changes.

No API: plan() and settings() are pure functions of configs shaped like PVE's and the
options. The requests themselves are covered by tests/integration/test_proxmox_guest.py.
"""

from collections import namedtuple

import pytest

from ansible_collections.homelab.stack.plugins.modules import proxmox_guest
from ansible_collections.homelab.stack.plugins.modules.proxmox_guest import GuestError, check_options, whole_gib
from module_options import argument_spec_of, options_of

GIB = 1024 ** 3
Plan = namedtuple("Plan", "changes deletes resizes current wanted")
CONFIG = {
    "digest": "abc", "name": "web", "cores": 2, "memory": "2048", "tags": "prod;web",
    "scsi0": "local-lvm:vm-100-disk-0,iothread=1,size=32G", "ide2": "local-lvm:vm-100-cloudinit,media=cdrom",
    "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1", "agent": "1", "sshkeys": "ssh-ed25519%20AAAA%20a%40b%0A",
    "ipconfig0": "ip=dhcp",
}
LXC_CONFIG = {
    "digest": "def", "hostname": "dns", "cores": 1, "memory": 512, "rootfs": "local-lvm:subvol-101-disk-0,size=8G",
    "net0": "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:AA:BB:CC,ip=dhcp,type=veth",
}


SPEC = argument_spec_of(proxmox_guest)


def options(**given):
    """Every option at its default (None when it has none), with the given ones set."""
    return options_of(SPEC, **given)


def plan(config, **given):
    """The Plan of the options (checked first, as main() does) against a config of a guest in no pool."""
    given.setdefault("vmid", 100)
    params = options(**given)
    check_options(params)
    return Plan(*proxmox_guest.plan(config, params, params["type"], None))


# check_options

def test_the_argument_spec_has_every_option_the_checks_read():
    assert {"vmid", "name", "type", "clone", "ostemplate", "cores", "memory", "disks", "net", "ipconfig", "agent", "ciuser"} <= set(SPEC)
    assert options()["type"] == "qemu" and options()["unprivileged"] is True


def test_checks_return_the_disk_sizes_in_bytes():
    sizes = check_options(options(name="web", disks={"scsi0": "40G", "virtio1": "512M", "efidisk0": "1.5T"}))
    assert sizes == {"scsi0": 40 * GIB, "virtio1": 512 * 1024 ** 2, "efidisk0": int(1.5 * 1024 * GIB)}
    assert check_options(options(name="web")) == {}


@pytest.mark.parametrize("vmid", [100, 999999999])
def test_vmid_range_includes_its_ends(vmid):
    assert check_options(options(vmid=vmid)) == {}


@pytest.mark.parametrize("vmid", [0, 99, 1000000000])
def test_vmid_outside_the_range_is_refused(vmid):
    with pytest.raises(GuestError, match=r"^vmid: %d is outside Proxmox VE's range 100-999999999" % vmid):
        check_options(options(vmid=vmid))


@pytest.mark.parametrize("option, value", [("agent", False), ("ciuser", "admin"), ("ipconfig", {"ipconfig0": "ip=dhcp"})])
def test_qemu_only_options_are_refused_for_a_container(option, value):
    with pytest.raises(GuestError, match=r"^%s: only QEMU guests have this setting \(type is lxc\)" % option):
        check_options(options(name="dns", type="lxc", **{option: value}))


def test_qemu_only_options_are_fine_for_a_vm():
    assert check_options(options(name="web", agent=False, ciuser="admin", ipconfig={"ipconfig0": "ip=dhcp"})) == {}


def test_ostemplate_is_refused_for_a_vm():
    with pytest.raises(GuestError, match=r"^ostemplate: only LXC containers .*\(type is qemu\)"):
        check_options(options(name="web", ostemplate="local:vztmpl/debian.tar.zst"))


def test_clone_and_ostemplate_together_are_refused():
    with pytest.raises(GuestError, match="^clone and ostemplate: give one way"):
        check_options(options(name="dns", type="lxc", clone="tpl", ostemplate="local:vztmpl/debian.tar.zst"))


@pytest.mark.parametrize("option, value, minimum", [("cores", 0, 1), ("memory", 15, 16)])
def test_cores_and_memory_below_their_minimum_are_refused(option, value, minimum):
    with pytest.raises(GuestError, match=r"^%s: %d is below the minimum %d$" % (option, value, minimum)):
        check_options(options(name="web", **{option: value}))
    assert check_options(options(name="web", **{option: minimum})) == {}


@pytest.mark.parametrize("kind, key", [("qemu", "rootfs"), ("qemu", "scsi31"), ("qemu", "net0"), ("lxc", "scsi0"), ("lxc", "mp1000")])
def test_disk_keys_of_the_other_type_are_refused(kind, key):
    with pytest.raises(GuestError, match=r"^disks: '%s' is not a %s disk key" % (key, kind)):
        check_options(options(name="x", type=kind, disks={key: "8G"}))


@pytest.mark.parametrize("kind, key", [("qemu", "scsi30"), ("qemu", "sata5"), ("qemu", "ide3"), ("qemu", "virtio15"), ("lxc", "rootfs"), ("lxc", "mp999")])
def test_disk_keys_of_the_type_are_accepted(kind, key):
    assert check_options(options(name="x", type=kind, disks={key: "8G"})) == {key: 8 * GIB}


@pytest.mark.parametrize("size", ["40", 40])
def test_a_disk_size_without_unit_is_refused_naming_the_disk(size):
    with pytest.raises(GuestError, match=r"^disks.scsi0: '?40'? has no unit"):
        check_options(options(name="web", disks={"scsi0": size}))


def test_a_disk_size_that_is_no_size_names_the_disk():
    with pytest.raises(GuestError, match=r"^disks.rootfs: 'big' is not a size"):
        check_options(options(name="dns", type="lxc", disks={"rootfs": "big"}))


@pytest.mark.parametrize("option, key", [("net", "eth0"), ("net", "net100"), ("ipconfig", "ip0"), ("ipconfig", "net0")])
def test_net_and_ipconfig_keys_must_be_numbered_devices(option, key):
    with pytest.raises(GuestError, match=r"^%s: '%s' is not a key such as %s0" % (option, key, option)):
        check_options(options(name="web", **{option: {key: "ip=dhcp"}}))


@pytest.mark.parametrize("option, value, example", [
    ("net", "", "virtio,bridge=vmbr0"), ("net", "  ", "virtio,bridge=vmbr0"), ("net", None, "virtio,bridge=vmbr0"),
    ("ipconfig", "", "ip=dhcp"), ("ipconfig", {"ip": "dhcp"}, "ip=dhcp"),
])
def test_empty_net_and_ipconfig_values_are_refused_naming_the_key(option, value, example):
    key = option + "0"
    with pytest.raises(GuestError, match=r"^%s\.%s: give the Proxmox VE string, for example %s$" % (option, key, example)):
        check_options(options(name="web", **{option: {key: value}}))


def test_name_or_vmid_is_needed():
    with pytest.raises(GuestError, match="^name or vmid is required"):
        check_options(options())


# whole_gib

def test_whole_gib_counts_gibibytes():
    assert whole_gib(40 * GIB, "scsi1") == 40
    assert whole_gib(2048 * 1024 ** 2, "scsi1") == 2


def test_whole_gib_refuses_a_fraction_naming_the_disk():
    with pytest.raises(GuestError, match=r"^disks.scsi1: new disks are allocated in whole GiB; 1536M is not$"):
        whole_gib(1536 * 1024 ** 2, "scsi1")


# settings

def test_settings_read_pve_forms_into_option_forms():
    settings = proxmox_guest.settings(CONFIG, "qemu", None)
    assert settings == {
        "name": "web", "cores": 2, "memory": 2048, "tags": ["prod", "web"], "onboot": False, "pool": "", "nameserver": "",
        "disks": {"scsi0": "32G"}, "net": {"net0": CONFIG["net0"]}, "agent": True, "ciuser": "",
        "sshkeys": "ssh-ed25519 AAAA a@b", "ipconfig": {"ipconfig0": "ip=dhcp"},
    }


def test_settings_of_other_forms_are_the_same():
    config = dict(CONFIG, memory="current=2048", agent="enabled=1,fstrim_cloned_disks=1", tags="Web;prod",
                  scsi0="local-lvm:vm-100-disk-0,size=32768M", sshkeys="ssh-ed25519 AAAA a@b\n\n")
    assert proxmox_guest.settings(config, "qemu", None) == proxmox_guest.settings(CONFIG, "qemu", None)


def test_settings_take_the_pool_onboot_and_nameservers():
    config = dict(CONFIG, onboot=1, nameserver="10.0.0.53,  10.0.0.54")
    settings = proxmox_guest.settings(config, "qemu", "lab")
    assert settings["pool"] == "lab" and settings["onboot"] is True and settings["nameserver"] == "10.0.0.53 10.0.0.54"


def test_settings_of_a_container_use_hostname_and_have_no_qemu_settings():
    settings = proxmox_guest.settings(LXC_CONFIG, "lxc", None)
    assert settings["name"] == "dns" and settings["disks"] == {"rootfs": "8G"} and settings["memory"] == 512
    assert not {"agent", "ciuser", "sshkeys", "ipconfig"} & set(settings)


# plan

EQUAL = {
    "name": "web", "cores": 2, "memory": 2048, "tags": ["Web", "PROD"], "disks": {"scsi0": "32768M"},
    "net": {"net0": "virtio,bridge=vmbr0,firewall=1"}, "agent": True, "sshkeys": "\nssh-ed25519 AAAA a@b\n\n\n",
    "ipconfig": {"ipconfig0": "ip=dhcp"}, "onboot": False, "nameserver": "", "ciuser": "",
}


def test_options_equal_to_the_config_change_nothing():
    planned = plan(CONFIG, **EQUAL)
    assert (planned.changes, planned.deletes, planned.resizes) == ({}, [], [])
    assert planned.wanted == planned.current


@pytest.mark.parametrize("config", [
    dict(CONFIG, memory="current=2048"),
    dict(CONFIG, agent="enabled=1,fstrim_cloned_disks=1"),
    dict(CONFIG, tags="web;Prod"),
    dict(CONFIG, sshkeys="ssh-ed25519 AAAA a@b\n"),
    dict(CONFIG, scsi0="local-lvm:vm-100-disk-0,size=34359738368"),
    dict(CONFIG, ipconfig0="ip=dhcp,"),
], ids=["memory-current", "agent-options", "tag-case-order", "sshkeys-plain", "size-in-bytes", "ipconfig-trailing-comma"])
def test_pve_other_forms_of_the_same_values_change_nothing(config):
    assert plan(config, **EQUAL)[:3] == ({}, [], [])


def test_exactly_the_differing_keys_land_in_changes():
    given = dict(EQUAL)
    given.update(name="www", cores=4, onboot=True, ciuser="admin")
    planned = plan(CONFIG, **given)
    assert planned.changes == {"name": "www", "cores": 4, "onboot": 1, "ciuser": "admin"}
    assert planned.deletes == [] and planned.resizes == []
    assert planned.wanted == dict(planned.current, name="www", cores=4, onboot=True, ciuser="admin")


def test_unset_options_are_not_compared():
    assert plan(dict(CONFIG, cores=16, onboot=1, tags="other"), vmid=100)[:3] == ({}, [], [])


def test_changed_tags_are_sent_normalised():
    planned = plan(CONFIG, tags=["Web", "DB", "web"])
    assert planned.changes == {"tags": "db;web"} and planned.wanted["tags"] == ["db", "web"]


def test_an_empty_tag_list_deletes_the_key():
    planned = plan(CONFIG, tags=[])
    assert planned.changes == {} and planned.deletes == ["tags"] and planned.wanted["tags"] == []


def test_an_empty_tag_list_on_a_guest_without_tags_changes_nothing():
    config = dict(CONFIG)
    del config["tags"]
    assert plan(config, tags=[])[:3] == ({}, [], [])


def test_empty_sshkeys_delete_the_key_and_new_ones_are_sent_url_encoded():
    assert plan(CONFIG, sshkeys="\n")[:2] == ({}, ["sshkeys"])
    changes = plan(CONFIG, sshkeys="ssh-ed25519 BBBB c@d\nssh-ed25519 AAAA a@b").changes
    assert changes == {"sshkeys": "ssh-ed25519%20BBBB%20c%40d%0Assh-ed25519%20AAAA%20a%40b%0A"}


def test_nameservers_are_compared_as_words():
    config = dict(CONFIG, nameserver="10.0.0.53 10.0.0.54")
    assert plan(config, nameserver="10.0.0.53,10.0.0.54").changes == {}
    assert plan(config, nameserver="10.0.0.54 10.0.0.53").changes == {"nameserver": "10.0.0.54 10.0.0.53"}


def test_a_larger_disk_is_one_resize_entry_and_no_config_change():
    planned = plan(CONFIG, disks={"scsi0": "40G"})
    assert planned.changes == {} and planned.deletes == []
    assert planned.resizes == [("scsi0", 40 * GIB, 32 * GIB)]
    assert planned.wanted["disks"] == {"scsi0": "40G"} and planned.current["disks"] == {"scsi0": "32G"}


def test_a_smaller_disk_is_refused_naming_it_before_anything_is_planned():
    with pytest.raises(GuestError, match=r"^disks.scsi0: 31G is smaller than the disk's 32G; shrinking a disk is refused"):
        plan(CONFIG, cores=8, disks={"scsi0": "31G"})


def test_a_cdrom_slot_is_not_replaced_by_a_new_disk():
    with pytest.raises(GuestError, match=r"^disks.ide2: the guest's ide2 is a CD-ROM drive or a disk without a size"):
        plan(CONFIG, storage="local-lvm", disks={"ide2": "4G"})


def test_a_passthrough_disk_is_neither_shown_nor_replaced():
    config = dict(CONFIG, scsi1="/dev/disk/by-id/ata-X")
    assert "scsi1" not in proxmox_guest.settings(config, "qemu", None)["disks"]
    with pytest.raises(GuestError, match=r"^disks.scsi1: .*passthrough"):
        plan(config, storage="local-lvm", disks={"scsi1": "100G"})


def test_a_new_disk_goes_to_the_storage_given():
    planned = plan(CONFIG, storage="ceph-vm", disks={"scsi1": "8G"})
    assert planned.changes == {"scsi1": "ceph-vm:8"} and planned.resizes == []
    assert planned.wanted["disks"] == {"scsi0": "32G", "scsi1": "8G"}


def test_a_new_disk_without_storage_goes_to_the_storage_of_the_first_disk_not_a_cdrom():
    config = dict(CONFIG, ide2="cloud:vm-100-cloudinit,media=cdrom", scsi0="fast:vm-100-disk-0,size=32G")
    assert plan(config, disks={"virtio0": "16G"}).changes == {"virtio0": "fast:16"}


def test_a_new_disk_without_storage_or_other_disks_asks_for_storage():
    config = {key: value for key, value in CONFIG.items() if key != "scsi0"}
    with pytest.raises(GuestError, match="^disks.scsi0: set storage"):
        plan(config, disks={"scsi0": "8G"})


def test_a_new_disk_must_be_whole_gib():
    with pytest.raises(GuestError, match="^disks.scsi1: new disks are allocated in whole GiB; 1536M is not"):
        plan(CONFIG, disks={"scsi1": "1536M"})


def test_a_missing_container_mount_point_is_an_error():
    with pytest.raises(GuestError, match="^disks.mp0: the container has no mount point mp0"):
        plan(LXC_CONFIG, type="lxc", disks={"mp0": "8G"})


def test_a_container_grows_its_mount_point_and_renames_by_hostname():
    config = dict(LXC_CONFIG, mp0="local-lvm:subvol-101-disk-1,mp=/srv,size=4G")
    planned = plan(config, type="lxc", name="dns2", disks={"rootfs": "8G", "mp0": "6G"})
    assert planned.changes == {"hostname": "dns2"} and planned.resizes == [("mp0", 6 * GIB, 4 * GIB)]


def test_a_changed_vm_net_keeps_the_current_mac():
    planned = plan(CONFIG, net={"net0": "virtio,bridge=vmbr1,tag=20"})
    assert planned.changes == {"net0": "virtio=BC:24:11:00:00:01,bridge=vmbr1,tag=20"}
    assert planned.wanted["net"] == {"net0": planned.changes["net0"]}


def test_a_changed_container_net_keeps_the_current_hwaddr():
    changes = plan(LXC_CONFIG, type="lxc", net={"net0": "name=eth0,bridge=vmbr1,ip=dhcp"}).changes
    assert changes == {"net0": "name=eth0,bridge=vmbr1,ip=dhcp,hwaddr=BC:24:11:AA:BB:CC"}


def test_a_net_with_a_new_mac_is_sent_as_written():
    changes = plan(CONFIG, net={"net0": "virtio=BC:24:11:00:00:99,bridge=vmbr0"}).changes
    assert changes == {"net0": "virtio=BC:24:11:00:00:99,bridge=vmbr0"}


def test_a_new_net_device_is_sent_as_written():
    planned = plan(CONFIG, net={"net1": "virtio,bridge=vmbr1"})
    assert planned.changes == {"net1": "virtio,bridge=vmbr1"} and set(planned.wanted["net"]) == {"net0", "net1"}


def test_switching_the_agent_off_keeps_its_other_options():
    config = dict(CONFIG, agent="enabled=1,fstrim_cloned_disks=1")
    assert plan(config, agent=False).changes == {"agent": "enabled=0,fstrim_cloned_disks=1"}


def test_switching_the_agent_on_from_the_short_form():
    planned = plan(dict(CONFIG, agent="0"), agent=True)
    assert planned.changes == {"agent": "enabled=1"} and planned.current["agent"] is False and planned.wanted["agent"] is True


def test_an_agent_without_enabled_counts_as_off_and_keeps_its_options():
    assert plan(dict(CONFIG, agent="fstrim_cloned_disks=1"), agent=True).changes == {"agent": "fstrim_cloned_disks=1,enabled=1"}


def test_ipconfig_is_compared_as_a_set_of_settings():
    config = dict(CONFIG, ipconfig0="ip=10.0.1.20/24,gw=10.0.1.1")
    assert plan(config, ipconfig={"ipconfig0": "gw=10.0.1.1,ip=10.0.1.20/24"}).changes == {}
    assert plan(config, ipconfig={"ipconfig0": "ip=10.0.1.21/24,gw=10.0.1.1"}).changes == {"ipconfig0": "ip=10.0.1.21/24,gw=10.0.1.1"}
    assert plan(config, ipconfig={"ipconfig0": "ip=10.0.1.20/24"}).changes == {"ipconfig0": "ip=10.0.1.20/24"}


def test_a_missing_ipconfig_is_added():
    planned = plan(CONFIG, ipconfig={"ipconfig1": "ip6=auto"})
    assert planned.changes == {"ipconfig1": "ip6=auto"} and planned.wanted["ipconfig"] == {"ipconfig0": "ip=dhcp", "ipconfig1": "ip6=auto"}


def test_memory_is_compared_in_mib_whatever_the_form():
    config = dict(CONFIG, memory="current=2048")
    assert plan(config, memory=2048).changes == {}
    assert plan(config, memory=4096).changes == {"memory": 4096}


def test_the_pool_is_wanted_but_not_a_config_change():
    planned = plan(CONFIG, pool="lab")
    assert planned.changes == {} and planned.current["pool"] == "" and planned.wanted["pool"] == "lab"


def test_a_container_without_cores_is_not_limited_so_one_core_is_a_change():
    """PVE's LXC default is every core of the host, not one: a missing ``cores`` key differs from cores 1."""
    config = {key: value for key, value in LXC_CONFIG.items() if key != "cores"}
    assert plan(config, type="lxc", cores=1).changes == {"cores": 1}

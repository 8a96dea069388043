"""Normalising Proxmox VE's stored forms (module_utils/proxmox_config.py)."""

import pytest

from ansible_collections.homelab.stack.plugins.module_utils import proxmox_config as pc


@pytest.mark.parametrize("text, size", [
    ("40G", 40 * 1024 ** 3), ("40g", 40 * 1024 ** 3), ("40 GiB", 40 * 1024 ** 3), ("512M", 512 * 1024 ** 2),
    ("1.5T", int(1.5 * 1024 ** 4)), ("8192K", 8 * 1024 ** 2),
])
def test_sizes_in_any_unit(text, size):
    assert pc.parse_size(text) == size


def test_a_size_without_unit_is_refused_for_users_and_bytes_in_the_config():
    with pytest.raises(pc.ConfigValueError, match=r"disks.scsi0: '40' has no unit.*40G"):
        pc.parse_size("40", "disks.scsi0")
    assert pc.parse_size("34359738368", unit_required=False) == 32 * 1024 ** 3


def test_garbage_size_names_the_option():
    with pytest.raises(pc.ConfigValueError, match="disks.rootfs: 'big'"):
        pc.parse_size("big", "disks.rootfs")


@pytest.mark.parametrize("size, text", [(40 * 1024 ** 3, "40G"), (1536 * 1024 ** 2, "1536M"), (1024 ** 4, "1T"), (1000, "1000")])
def test_format_size_is_exact_and_short(size, text):
    assert pc.format_size(size) == text


def test_disk_size_from_config_value_in_every_form():
    assert pc.disk_size("local-lvm:vm-100-disk-0,iothread=1,size=32G") == 32 * 1024 ** 3
    assert pc.disk_size("local-lvm:vm-100-disk-0,size=34359738368") == 32 * 1024 ** 3
    assert pc.disk_size("local-lvm:vm-100-disk-0,size=32768M") == 32 * 1024 ** 3
    assert pc.disk_size("none,media=cdrom") is None


def test_disks_and_not_cdroms_or_cloudinit_drives():
    assert pc.is_disk_volume("scsi0", "local-lvm:vm-100-disk-0,size=32G")
    assert pc.is_disk_volume("rootfs", "local-lvm:vm-100-disk-0,size=8G")
    assert not pc.is_disk_volume("ide2", "local-lvm:vm-100-cloudinit,media=cdrom")
    assert not pc.is_disk_volume("ide2", "none,media=cdrom")
    assert not pc.is_disk_volume("net0", "virtio=BC:24:11:00:00:01,bridge=vmbr0")


def test_tags_compare_without_order_case_or_duplicates():
    assert pc.normalise_tags("web;Prod;web") == ["prod", "web"]
    assert pc.normalise_tags(["Web", "prod", " "]) == ["prod", "web"]
    assert pc.tags_value(["web", "Prod"]) == "prod;web"


def test_sshkeys_round_trip_through_url_encoding():
    keys = "ssh-ed25519 AAAAC3Nza admin@laptop\n\n  ssh-rsa AAAAB3Nza backup@nas  \n"
    encoded = pc.sshkeys_value(keys)
    assert "%20" in encoded and " " not in encoded and "\n" not in encoded
    assert pc.normalise_sshkeys(encoded) == "ssh-ed25519 AAAAC3Nza admin@laptop\nssh-rsa AAAAB3Nza backup@nas"
    assert pc.normalise_sshkeys(keys) == pc.normalise_sshkeys(encoded)


def test_memory_and_agent_forms():
    assert pc.memory_mib("current=2048") == 2048
    assert pc.memory_mib("4096") == 4096
    assert pc.memory_mib(1024) == 1024
    assert pc.agent_enabled("1") and pc.agent_enabled("enabled=1,fstrim_cloned_disks=1")
    assert not pc.agent_enabled("0") and not pc.agent_enabled("enabled=0")


def test_net_matches_ignores_the_mac_pve_added():
    stored = "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,firewall=1"
    assert pc.net_matches("virtio,bridge=vmbr0", stored, "qemu")
    assert pc.net_matches("virtio=bc:24:11:aa:bb:cc,bridge=vmbr0", stored, "qemu")
    assert not pc.net_matches("virtio,bridge=vmbr1", stored, "qemu")
    assert not pc.net_matches("virtio=BC:24:11:00:00:01,bridge=vmbr0", stored, "qemu")
    assert not pc.net_matches("virtio,bridge=vmbr0,tag=20", stored, "qemu")
    lxc = "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:02,ip=dhcp,type=veth"
    assert pc.net_matches("name=eth0,bridge=vmbr0,ip=dhcp", lxc, "lxc")
    assert not pc.net_matches("name=eth0,bridge=vmbr0,ip=10.0.0.5/24", lxc, "lxc")


def test_net_value_keeps_the_current_mac():
    stored = "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0"
    assert pc.net_value("virtio,bridge=vmbr1", stored, "qemu") == "virtio=BC:24:11:AA:BB:CC,bridge=vmbr1"
    assert pc.net_value("model=virtio,bridge=vmbr1", stored, "qemu") == "virtio=BC:24:11:AA:BB:CC,bridge=vmbr1"
    assert pc.net_value("virtio=02:00:00:00:00:01,bridge=vmbr1", stored, "qemu") == "virtio=02:00:00:00:00:01,bridge=vmbr1"
    assert pc.net_value("virtio,bridge=vmbr1", None, "qemu") == "virtio,bridge=vmbr1"
    lxc = "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:02,type=veth"
    assert pc.net_value("name=eth0,bridge=vmbr1", lxc, "lxc") == "name=eth0,bridge=vmbr1,hwaddr=BC:24:11:00:00:02"

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Guest configurations as qemu-server and pve-container store them: property strings,
sizes, disks and their volume names, NICs and their MACs, tags, digests; and how a Guest's
fields and its stored config follow each other (``absorb``, ``overlay``)."""

import hashlib
import re

from fakes.pve.schema import BOOLEAN, INTEGER, NUMBER, QEMU_DRIVES, property_schema


QEMU_DRIVE_KEY = re.compile(r"ide[0-3]|scsi(\d|[12]\d|30)|virtio(\d|1[0-5])|sata[0-5]|efidisk0|tpmstate0")
LXC_VOLUME_KEY = re.compile(r"rootfs|mp\d+")
UNUSED_KEY = re.compile(r"unused\d+")
NET_KEY = re.compile(r"net(\d+)")
NEW_DISK = re.compile(r"(?:([^/:\s]+):)?(\d+(?:\.\d+)?)")
_SIZE_TEXT = re.compile(r"(\d+(?:\.\d+)?)([KMGT])?")
_UNITS = {None: 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}


_NET_MODELS = {"e1000", "e1000-82540em", "e1000-82544gc", "e1000-82545em", "e1000e", "i82551", "i82557b", "i82559er", "ne2k_isa",
               "ne2k_pci", "pcnet", "rtl8139", "virtio", "vmxnet3"}
_LXC_OSTYPES = {"debian", "devuan", "ubuntu", "centos", "fedora", "opensuse", "archlinux", "alpine", "gentoo", "nixos"}


def split_list(text):
    """PVE's split_list: the items of a list separated by ',', ';' or white space."""
    return [item for item in re.split(r"[\s,;\0]+", "" if text is None else str(text)) if item]


def unique_tags(text):
    """Tags as PVE stores them by default (get_unique_tags): lower case, unique, sorted, joined by ';'."""
    return ";".join(sorted({tag.lower() for tag in split_list(text)}))


def parse_size(text):
    """Bytes of a size such as '32G', '512M' or '1024' (no unit: bytes); None if it is not one."""
    found = _SIZE_TEXT.fullmatch(str(text))
    return int(float(found.group(1)) * _UNITS[found.group(2)]) if found else None


def format_size(size):
    """PVE's format_size: the largest of K, M, G, T that divides the size, else plain bytes."""
    text = str(size)
    for unit in "KMGT":
        if size % 1024:
            break
        size //= 1024
        text = "%d%s" % (size, unit)
    return text


def is_true(value):
    """A boolean parameter as PVE reads it."""
    return value is True or (value is not None and value is not False and str(value).lower() in ("1", "on", "yes", "true"))


def split_property(value):
    """A property string split into its leading value (a volume, None if the string has none) and {key: value}."""
    head, options = None, {}
    for index, part in enumerate(str(value).split(",")):
        key, sep, item = part.partition("=")
        if not sep and index == 0:
            head = part
        elif sep:
            options[key] = item
    if head is None:
        head = options.pop("file", None) or options.pop("volume", None)
    return head, options


def render_property(head, options, first=()):
    """A property string as PVE prints it: the leading value, required keys (``first``), then the rest sorted."""
    keys = [key for key in first if key in options] + sorted(key for key in options if key not in first)
    return ",".join(([head] if head else []) + ["%s=%s" % (key, options[key]) for key in keys])


def volume_keys(kind, config):
    """The config keys that hold volumes: drives (QEMU) or mount points (LXC), and unused volumes."""
    pattern = QEMU_DRIVE_KEY if kind == "qemu" else LXC_VOLUME_KEY
    return [key for key in config if pattern.fullmatch(key) or UNUSED_KEY.fullmatch(key)]


def free_disk_number(config, kind, storage, vmid):
    """PVE's find_free_diskname: the lowest N with no 'vm-VMID-disk-N' (or base-) volume of this storage."""
    used = set()
    for key in volume_keys(kind, config):
        head = split_property(config[key])[0] or ""
        if head.startswith(storage + ":"):
            found = re.fullmatch(r"(?:vm|base)-%d-disk-(\d+)(\.\w+)?" % vmid, head.rsplit("/", 1)[-1].split(":", 1)[-1])
            if found:
                used.add(int(found.group(1)))
    return min(set(range(len(used) + 1)) - used)


def detach_volume(config, value):
    """Keep a drive's volume as the next free unusedN, as PVE does with a removed or replaced disk."""
    head, options = split_property(value)
    if not head or ":" not in head or options.get("media") == "cdrom" or head.endswith("-cloudinit"):
        return
    number = 0
    while "unused%d" % number in config:
        number += 1
    config["unused%d" % number] = head


def pve_mac(vmid, index=0):
    """A MAC address in PVE's default range BC:24:11, the one guest_interfaces gives eth0 for index 0."""
    return "BC:24:%02X:%02X:%02X:%02X" % (0x11 + index, (vmid >> 16) & 255, (vmid >> 8) & 255, vmid & 255)


def qemu_net(value, mac, new_mac=False):
    """A QEMU NIC as PVE prints it: 'model=MAC' first (a MAC made up when none is given), the rest sorted."""
    model, macaddr, options = "virtio", None, {}
    for part in str(value).split(","):
        key, _sep, item = part.partition("=")
        if key in _NET_MODELS:
            model, macaddr = key, item or macaddr
        elif key == "model":
            model = item
        elif key == "macaddr":
            macaddr = item
        elif part:
            options[key] = item
    return render_property("%s=%s" % (model, mac if new_mac or not macaddr else macaddr.upper()), options)


def lxc_net(value, mac, new_mac=False):
    """An LXC NIC as pve-container prints it: name first, a hwaddr (made up when none is given) and type=veth."""
    options = split_property(value)[1]
    if new_mac or not options.get("hwaddr"):
        options["hwaddr"] = mac
    options["type"] = "veth"
    return render_property(None, options, ("name",))


def lxc_ostype(ostemplate):
    """The ostype pve-container detects, guessed from the template's file name."""
    name = str(ostemplate).rsplit("/", 1)[-1].lower()
    distribution = re.split(r"[-_.]", name.partition(":")[2] or name)[0]
    distribution = {"rockylinux": "centos", "almalinux": "centos", "arch": "archlinux"}.get(distribution, distribution)
    return distribution if distribution in _LXC_OSTYPES else "unmanaged"


def coerce(properties, key, value):
    """A value as PVE's config parser types it (check_type): integers, numbers and booleans as numbers."""
    schema = property_schema(properties, key) or {}
    kind = schema.get("type")
    if isinstance(value, bool):
        value = int(value)
    text = str(value)
    if kind == "boolean" and BOOLEAN.fullmatch(text):
        return int(is_true(text))
    if kind == "integer" and INTEGER.fullmatch(text):
        return int(text)
    if kind == "number" and NUMBER.fullmatch(text):
        number = float(text)
        return int(number) if number.is_integer() else number
    return text


def initial_config(guest):
    """The config a guest of make_cluster (or add_guest without a config) starts with, from its fields."""
    mac = next((mac for name, mac, _v4, _v6 in guest.interfaces if name == "eth0"), "bc:24:11:00:00:00").upper()
    prefix = "base" if guest.template else "vm"
    # Types as the schema has them: QEMU's memory is a property string, LXC's an integer.
    memory = guest.maxmem // 1024 ** 2
    config = {"memory": str(memory) if guest.type == "qemu" else memory, "cores": guest.cores, "onboot": 1}
    if guest.tags:
        config["tags"] = guest.tags
    if guest.template:
        config["template"] = 1
    if guest.type == "qemu":
        if guest.name:
            config["name"] = guest.name
        config.update({"ostype": "l26", "sockets": 1, "scsihw": "virtio-scsi-single", "boot": "order=scsi0;net0",
                       "scsi0": "local-lvm:%s-%d-disk-0,iothread=1,size=32G" % (prefix, guest.vmid),
                       "net0": "virtio=%s,bridge=vmbr0,firewall=1" % mac,
                       "smbios1": "uuid=%s" % make_uuid(guest.vmid), "vmgenid": make_uuid(guest.vmid + 1)})
        if guest.agent:
            config["agent"] = "1"
    else:
        if guest.name:
            config["hostname"] = guest.name
        config.update({"ostype": "debian", "arch": "amd64", "swap": 512, "unprivileged": 1,
                       "rootfs": "local-lvm:%s-%d-disk-0,size=8G" % (prefix, guest.vmid),
                       "net0": "name=eth0,bridge=vmbr0,hwaddr=%s,ip=dhcp,ip6=auto,type=veth" % mac})
    return config


def config_digest(config):
    """The digest PVE reports: SHA1 of the config file, here the sorted 'key: value' lines."""
    text = "".join("%s: %s\n" % (key, config[key]) for key in sorted(config))
    return hashlib.sha1(text.encode()).hexdigest()  # nosec - PVE's digest is SHA1


def memory_mib(kind, config):
    """The memory a config gives a guest, in MiB (QEMU: '[current=]N', default 512)."""
    value = config.get("memory")
    if value is None:
        return 512
    head, options = split_property(value)
    current = str(value) if kind == "lxc" else (head if head is not None else options.get("current", "512"))
    return int(current) if INTEGER.fullmatch(current) else 512


def agent_enabled(config):
    """Whether a QEMU config enables the guest agent ('1' or 'enabled=1,...')."""
    head, options = split_property(config.get("agent", "0"))
    return is_true(head if head is not None else options.get("enabled", "0"))


def disk_size(kind, config):
    """The size of the disk PVE reports as maxdisk: the rootfs, or the first disk of the boot order; None if unknown."""
    keys = ["rootfs"]
    if kind == "qemu":
        boot = split_property(config.get("boot", ""))[1].get("order", "")
        keys = split_list(boot) + [key for key in QEMU_DRIVES if key not in ("efidisk0", "tpmstate0")]
    for key in keys:
        if key in config and (kind == "lxc" or QEMU_DRIVE_KEY.fullmatch(key)):
            options = split_property(config[key])[1]
            if options.get("media") != "cdrom" and "size" in options:
                return parse_size(options["size"])
    return None


def absorb(guest):
    """Copy from the stored config what the API also reports elsewhere into the Guest's fields."""
    config = guest.config
    guest.name = config.get("name" if guest.type == "qemu" else "hostname")
    guest.tags = config.get("tags", "")
    guest.cores = int(config.get("cores", 1))
    guest.maxmem = memory_mib(guest.type, config) * 1024 ** 2
    guest.template = is_true(config.get("template"))
    if guest.type == "qemu":
        guest.agent = agent_enabled(config)
    guest.maxdisk = disk_size(guest.type, config)


def is_base_volume(volume):
    """Whether a volume is a template's base volume (the only kind a linked clone can use)."""
    return volume.partition(":")[2].rsplit("/", 1)[-1].startswith("base-")


def cdrom_drive(value):
    """The 'cdrom' alias: an ide2 CD-ROM drive."""
    return value if "media=" in str(value) else "%s,media=cdrom" % value


def default_boot(config):
    """PVE's boot order for a new VM without one: the first disk, the first CD-ROM, the first NIC."""
    disk = cdrom = None
    for key in QEMU_DRIVES[:-2]:
        if key in config:
            if split_property(config[key])[1].get("media") == "cdrom":
                cdrom = cdrom or key
            else:
                disk = disk or key
    nets = sorted((key for key in config if NET_KEY.fullmatch(key)), key=lambda key: int(key[3:]))
    order = [key for key in (disk, cdrom, nets[0] if nets else None) if key]
    return "order=" + ";".join(order) if order else None


def stored_config(guest):
    """A guest's stored config, made from its fields on first use; fields a test changed are taken over."""
    if guest.config is None:
        guest.config = initial_config(guest)
    else:
        overlay(guest)
    return guest.config


def overlay(guest):
    """Copy Guest fields a test changed directly into the stored config (the reverse of absorb)."""
    config = guest.config
    name_key = "name" if guest.type == "qemu" else "hostname"
    for key, value, current in ((name_key, guest.name, config.get(name_key)), ("tags", guest.tags or None, config.get("tags"))):
        if value != current:
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
    if int(config.get("cores", 1)) != guest.cores:
        config["cores"] = guest.cores
    if memory_mib(guest.type, config) * 1024 ** 2 != guest.maxmem:
        config["memory"] = str(guest.maxmem // 1024 ** 2) if guest.type == "qemu" else guest.maxmem // 1024 ** 2
    if is_true(config.get("template")) != guest.template:
        if guest.template:
            config["template"] = 1
        else:
            config.pop("template", None)
    if guest.type == "qemu" and agent_enabled(config) != guest.agent:
        if guest.agent:
            config["agent"] = "1"
        else:
            config.pop("agent", None)


def make_uuid(number):
    digest = hashlib.md5(str(number).encode()).hexdigest()  # nosec - an identifier, not security
    return "%s-%s-%s-%s-%s" % (digest[:8], digest[8:12], digest[12:16], digest[16:20], digest[20:32])

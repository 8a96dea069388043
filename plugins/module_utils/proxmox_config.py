# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxmox VE guest configuration values in comparable form.

PVE writes back what it was given in its own forms: tags sorted and joined with ``;``,
cloud-init SSH keys URL-encoded, disk sizes as ``size=32G`` or ``size=34359738368``, MAC
addresses added to network devices, ``memory`` as ``current=2048``. Comparing a user's
value with the stored one therefore goes through these functions, so an unchanged
setting is never reported as changed.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

UNITS = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}
SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?")
QEMU_DISK = re.compile(r"(ide[0-3]|sata[0-5]|scsi(?:[0-9]|[12][0-9]|30)|virtio(?:[0-9]|1[0-5])|efidisk0|tpmstate0)")
LXC_DISK = re.compile(r"(rootfs|mp\d{1,3})")
# Network models of QEMU; their option may carry the MAC address (virtio=BC:24:11:..).
QEMU_NET_MODELS = ("e1000", "e1000-82540em", "e1000-82544gc", "e1000-82545em", "e1000e", "i82551", "i82557b",
                   "i82559er", "ne2k_isa", "ne2k_pci", "pcnet", "rtl8139", "virtio", "vmxnet3")


class ConfigValueError(ValueError):
    """A user's value that PVE would not take; the message names the option."""


def parse_size(text, option="size", unit_required=True):
    """Bytes of a PVE size (``40G``, ``512M``, ``1.5T``; no unit means bytes in PVE's config)."""
    found = SIZE.fullmatch(str(text).strip().upper())
    if not found:
        raise ConfigValueError("%s: %r is not a size such as 40G, 512M or 1T" % (option, text))
    if unit_required and not found.group(2):
        raise ConfigValueError("%s: %r has no unit; write it with K, M, G or T, e.g. %sG" % (option, text, found.group(1)))
    return int(float(found.group(1)) * UNITS[found.group(2)])


def format_size(size):
    """The shortest exact PVE form of a byte count: 40G, 1536M, 4096."""
    for unit in ("T", "G", "M", "K"):
        if size % UNITS[unit] == 0:
            return "%d%s" % (size // UNITS[unit], unit)
    return str(size)


def split_property_string(text):
    """PVE's ``key=value,flag`` strings as a dict; a leading bare item is under ``""``."""
    result = {}
    for index, part in enumerate(str(text or "").split(",")):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep and index == 0:
            result[""] = key
        else:
            result[key.strip()] = value.strip()
    return result


def disk_size(value):
    """Bytes of a disk config value (``local-lvm:vm-100-disk-0,size=32G``), None without size."""
    size = split_property_string(value).get("size")
    return parse_size(size, unit_required=False) if size else None


def is_disk_volume(key, value):
    """Whether a config entry is a disk with a volume (not a CD-ROM or ``none``)."""
    if not (QEMU_DISK.fullmatch(key) or LXC_DISK.fullmatch(key)):
        return False
    options = split_property_string(value)
    return options.get("media") != "cdrom" and options.get("", options.get("volume")) not in (None, "none", "cdrom")


def normalise_tags(tags):
    """Tags as PVE keeps them by default: lower case, unique, sorted (a list)."""
    if isinstance(tags, str):
        tags = re.split(r"[;, ]+", tags)
    return sorted({str(tag).strip().lower() for tag in tags if str(tag).strip()})


def tags_value(tags):
    """The ``tags`` parameter for a list of tags."""
    return ";".join(normalise_tags(tags))


def normalise_sshkeys(text):
    """SSH public keys one a line, without blank lines or surrounding space; URL-encoded
    text (as PVE stores cloud-init keys) is decoded first."""
    text = str(text or "")
    if "%" in text and " " not in text:
        text = unquote(text)
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def sshkeys_value(text):
    """The ``sshkeys`` parameter: PVE wants it URL-encoded (format ``urlencoded``)."""
    return quote(normalise_sshkeys(text) + "\n", safe="")


def memory_mib(value):
    """MiB of QEMU's ``memory`` (``2048`` or ``current=2048``) or LXC's integer."""
    if value is None:
        return None
    options = split_property_string(value)
    return int(options.get("current", options.get("", 0)) or 0)


def agent_enabled(value):
    """QEMU's ``agent`` (``1``, ``enabled=1,fstrim_cloned_disks=1``) as a bool."""
    options = split_property_string(value)
    return str(options.get("enabled", options.get("", "0"))).lower() in ("1", "true", "yes", "on")


def net_matches(wanted, current, kind):
    """Whether the current net device has every setting the user wrote.

    A MAC address is compared only when the user gave one; PVE adds one to every device
    (QEMU: ``virtio=BC:24:11:..``, LXC: ``hwaddr=``), and LXC adds ``type=veth``.
    """
    want = net_options(wanted, kind)
    have = net_options(current, kind)
    return all(have.get(key) == value for key, value in want.items())


def net_value(wanted, current, kind):
    """The net string to send: the user's, keeping the current MAC when they gave none,
    so a changed bridge or VLAN does not give the guest a new MAC address."""
    want = net_options(wanted, kind)
    have = net_options(current, kind) if current else {}
    mac_key = "macaddr" if kind == "qemu" else "hwaddr"
    if mac_key in want or mac_key not in have:
        return wanted
    if kind == "qemu":
        parts = split_property_string(wanted)
        model = parts.pop("", None) or parts.pop("model", None) or next((key for key in parts if key in QEMU_NET_MODELS), None)
        parts.pop(model, None)
        if model is None:
            return wanted
        return ",".join(["%s=%s" % (model, have[mac_key])] + ["%s=%s" % item for item in parts.items()])
    return "%s,hwaddr=%s" % (wanted, have[mac_key])


def net_options(text, kind):
    """A net string as a dict with the QEMU model under ``model`` and its MAC under ``macaddr``."""
    options = {}
    for key, value in split_property_string(text).items():
        if kind == "qemu" and key == "":
            options["model"] = value
        elif kind == "qemu" and key in QEMU_NET_MODELS:
            options["model"] = key
            if value:
                options["macaddr"] = value.upper()
        elif key in ("macaddr", "hwaddr"):
            options[key] = value.upper()
        else:
            options[key] = value
    return options


def normalise_words(text):
    """A space or comma separated list (nameservers) as a list in its order."""
    return [word for word in re.split(r"[\s,]+", str(text or "")) if word]

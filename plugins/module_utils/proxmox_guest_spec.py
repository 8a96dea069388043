# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a declared Proxmox VE guest may say, for the proxmox_guest module and the
proxmox_guests role (through the ``proxmox_guest_list`` filter).

The module checks one guest's keys against its type (``type_problems``); the role first
merges its defaults under each guest of its list and checks the whole list
(``guest_list``), so a bad guest late in the list is refused before the first one is
applied.
"""

from __future__ import annotations

import re

# Settings only a QEMU guest has: an LXC guest refuses them and does not inherit them.
QEMU_ONLY = ("agent", "ciuser", "ipconfig")
# The ways to create a guest: a guest that gives one does not inherit the defaults' ones.
CREATION_KEYS = ("clone", "ostemplate", "full")
STATIC_IPV4 = re.compile(r"(?:^|,)ip=([0-9.]+)")


class GuestSpecError(Exception):
    """A guest list the role cannot apply; the message names each guest and key at fault."""


def given(guest, key):
    """Whether ``guest`` sets ``key`` (a key set to None, as a module's unset option, is not set)."""
    return guest.get(key) is not None


def type_problems(guest, kind):
    """The keys of ``guest`` that its type ``kind`` (qemu or lxc) does not have, as messages."""
    if kind == "lxc":
        return ["%s: only QEMU guests have this setting (type is lxc)" % key for key in QEMU_ONLY if given(guest, key)]
    if given(guest, "ostemplate"):
        return ["ostemplate: only LXC containers are created from a template archive (type is qemu)"]
    return []


def merge_defaults(guest, defaults, ssh_port):
    """One guest with ``defaults`` merged under it (a shallow merge: its own keys win), its
    ``type``, and the ``ssh_host`` and ``ssh_port`` the role's SSH wait connects to.

    A guest with its own way of creating it (clone or ostemplate) does not get the defaults'
    clone, ostemplate or full; an LXC guest does not get the QEMU-only defaults.
    """
    kind = guest.get("type") or defaults.get("type") or "qemu"
    dropped = (CREATION_KEYS if "clone" in guest or "ostemplate" in guest else ()) + (QEMU_ONLY if kind == "lxc" else ())
    merged = {key: value for key, value in defaults.items() if key not in dropped}
    merged.update(guest)
    if kind == "qemu":
        ip_setting = (merged.get("ipconfig") or {}).get("ipconfig0") or ""
    else:
        ip_setting = (merged.get("net") or {}).get("net0") or ""
    static_ip = STATIC_IPV4.search(str(ip_setting))
    return dict({"type": kind, "ssh_port": ssh_port, "ssh_host": static_ip.group(1) if static_ip else merged.get("name") or ""}, **merged)


def list_problems(merged, guest, wait_for_ssh):
    """What is wrong with one merged ``guest`` of the merged list ``merged``, as messages."""
    problems = []
    if not given(guest, "vmid"):
        namesakes = sum(1 for other in merged if (other.get("name") or "") == (guest.get("name") or ""))
        if namesakes > 1:
            problems.append("name: %d entries are called %s; give them a vmid" % (namesakes, guest.get("name") or ""))
    else:
        same_vmid = sum(1 for other in merged if given(other, "vmid") and int(other["vmid"]) == int(guest["vmid"]))
        if same_vmid > 1:
            problems.append("vmid: %s is given to %d entries" % (guest["vmid"], same_vmid))
    problems.extend(type_problems(guest, guest["type"]))
    if wait_for_ssh and guest.get("state") == "started" and not guest.get("ssh_host"):
        problems.append("ssh_host: no address to wait for SSH on; give a name, ssh_host or a static ip in ipconfig0/net0")
    return problems


def guest_list(guests, defaults=None, ssh_port=22, wait_for_ssh=True):
    """The role's guests with the defaults merged under each (``merge_defaults``), once the
    whole list is fit to apply; raises GuestSpecError naming every guest at fault."""
    if not isinstance(guests, list) or not all(isinstance(guest, dict) for guest in guests):
        raise GuestSpecError("the guest list must be a list of dicts, one per guest")
    if not isinstance(defaults or {}, dict):
        raise GuestSpecError("the guest defaults must be a dict of guest keys")
    merged = [merge_defaults(guest, defaults or {}, ssh_port) for guest in guests]
    faults = []
    for guest in merged:
        problems = list_problems(merged, guest, wait_for_ssh)
        if problems:
            label = guest.get("name") if given(guest, "name") else guest.get("vmid")
            faults.append("guest %s: %s" % (label, "; ".join(problems)))
    if faults:
        raise GuestSpecError("\n".join(faults))
    return merged

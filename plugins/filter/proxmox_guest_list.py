# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.module_utils.proxmox_guest_spec import GuestSpecError, guest_list

DOCUMENTATION = r"""
name: proxmox_guest_list
short_description: The proxmox_guests role's guest list, defaults merged and checked
version_added: 0.1.0
description:
  - Merges O(defaults) under each guest of the list (a shallow merge, the guest's own keys win)
    and adds its C(type), C(ssh_host) and C(ssh_port). A guest with its own C(clone) or
    C(ostemplate) does not get the defaults' C(clone), C(ostemplate) or C(full); an LXC guest does
    not get the QEMU-only C(agent), C(ciuser) and C(ipconfig).
  - C(ssh_host), unless the guest gives it, is the static IPv4 address of C(ipconfig.ipconfig0)
    (QEMU) or C(net.net0) (LXC), else the guest's name.
  - Fails, naming every guest and key at fault, when two entries are one guest (the same C(name)
    without C(vmid), or the same C(vmid)), when a key does not fit the guest's type (the same rule as
    the M(homelab.stack.proxmox_guest) module), or when a started guest has no address for the SSH
    wait while O(wait_for_ssh) is on. The whole list is checked before the role applies its first guest.
positional: defaults
options:
  _input:
    description: The guests, one dict each (the M(homelab.stack.proxmox_guest) options plus C(ssh_host) and C(ssh_port)).
    type: list
    elements: dict
    required: true
  defaults:
    description: Guest keys merged under every guest.
    type: dict
    default: {}
  ssh_port:
    description: The SSH port of guests that do not give C(ssh_port).
    type: int
    default: 22
  wait_for_ssh:
    description: Whether the role waits for SSH on new started guests, so that each of them needs an address.
    type: bool
    default: true
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Merge the defaults under each guest and check the list
  ansible.builtin.set_fact:
    guests: "{{ proxmox_guests_list | homelab.stack.proxmox_guest_list(proxmox_guests_defaults, ssh_port=22) }}"
  # [{name: web, clone: debian-13-cloud, node: pve1, ...}] with defaults {node: pve1}
  # -> [{type: qemu, ssh_port: 22, ssh_host: web, name: web, clone: debian-13-cloud, node: pve1}]
"""

RETURN = r"""
_value:
  description: The guests in list order, each with the defaults merged under it and C(type), C(ssh_host), C(ssh_port) set.
  type: list
  elements: dict
"""


def proxmox_guest_list(guests, defaults=None, ssh_port=22, wait_for_ssh=True):
    try:
        return guest_list(guests, defaults, ssh_port=ssh_port, wait_for_ssh=wait_for_ssh)
    except GuestSpecError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    """The proxmox_guest_list filter."""

    def filters(self):
        return {"proxmox_guest_list": proxmox_guest_list}

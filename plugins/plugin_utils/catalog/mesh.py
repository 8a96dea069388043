# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where each inventory host is reached on the mesh: the one rule for it.

A host's mesh address is its ``homelab_mesh_address`` (e.g. its Tailscale address), else
its ``ansible_host`` (the usual case: Ansible itself reaches it over the mesh), else its
inventory name.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.errors import _is_list, _kind


def mesh_address(variables: Mapping, name: str) -> str:
    """The mesh address of one host, from its variables."""
    for key in ("homelab_mesh_address", "ansible_host"):
        value = variables.get(key)
        if value:
            if not isinstance(value, str):
                raise AnsibleFilterError(f"mesh_addresses: host {name}: {key}: must be a string, got {_kind(value)}")
            return value
    return name


def mesh_addresses(hostvars: Mapping, hosts: object) -> dict:
    """``{host: mesh address}`` for ``hosts`` (usually ``groups['all']``), read from ``hostvars``."""
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError(f"mesh_addresses: hostvars: must be a mapping, got {_kind(hostvars)}")
    if not _is_list(hosts):
        raise AnsibleFilterError(f"mesh_addresses: hosts: must be a list of host names, got {_kind(hosts)}")
    return {host: mesh_address(hostvars[host], host) for host in hosts}

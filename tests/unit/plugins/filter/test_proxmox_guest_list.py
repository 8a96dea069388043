"""The proxmox_guest_list filter: the role's view of module_utils/proxmox_guest_spec.py."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.filter.proxmox_guest_list import FilterModule


def test_the_filter_merges_and_refuses_as_an_ansible_error():
    merge = FilterModule().filters()["proxmox_guest_list"]
    assert merge([{"name": "web"}], {"node": "pve1"}, ssh_port=2222) == [
        {"type": "qemu", "ssh_port": 2222, "ssh_host": "web", "name": "web", "node": "pve1"}]
    with pytest.raises(AnsibleFilterError, match="guest web: name: 2 entries are called web"):
        merge([{"name": "web"}, {"name": "web"}])

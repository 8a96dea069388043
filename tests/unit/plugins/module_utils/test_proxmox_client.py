"""The Proxmox VE client's use of proxmoxer (module_utils/proxmox.py), without a server."""

import pytest

from ansible_collections.homelab.stack.plugins.module_utils import proxmox as client_module
from ansible_collections.homelab.stack.plugins.module_utils.proxmox import ProxmoxClient, ProxmoxError, upid_node


def test_client_without_proxmoxer_says_what_to_install(monkeypatch):
    monkeypatch.setattr(client_module, "HAS_PROXMOXER", False)
    monkeypatch.setattr(client_module, "PROXMOXER_IMPORT_ERROR", ImportError("No module named 'proxmoxer'"))
    with pytest.raises(ProxmoxError, match=r"'proxmoxer' is required .*pip install proxmoxer.*No module named"):
        ProxmoxClient("pve1.lan", user="root@pam", password="x")


def test_token_auth_is_proxmoxers_header():
    client = ProxmoxClient("pve1.lan", user="root@pam", token_id="inventory", token_secret="s3cret")
    client.login()
    prepared = client._session.prepare_request(client_module.requests.Request("GET", client.url + "/api2/json/version"))  # pylint: disable=protected-access
    assert prepared.headers["Authorization"] == "PVEAPIToken=root@pam!inventory=s3cret"


def test_upid_node():
    assert upid_node("UPID:pve2:0000C0DE:00ABCDEF:6750A1B2:qmclone:101:root@pam!inventory:") == "pve2"
    for bad in ("UPID:pve2:1:2", "TASK:pve2:0000C0DE:00ABCDEF:6750A1B2:qmclone:101:root@pam:", None):
        with pytest.raises(ProxmoxError, match="is not a task ID"):
            upid_node(bad)

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/proxmox_guests run by ansible-playbook against the fake Proxmox VE API.

The fake (tests/fakes/pve/) records every request, so "the second run writes nothing",
"check mode writes nothing" and "bad input sends no request at all" are measured. New
guests' SSH is a banner server on 127.0.0.1 that the test starts when it wants.
"""

from __future__ import annotations

import json
import socket
import threading

import pytest

import ansible_run
from fakes.pve import TOKEN_SECRET, USER, FakePVE, make_cluster

TEMPLATE = 104  # make_cluster(guests=4, templates=2): the QEMU template tpl-debian-0
OSTEMPLATE = "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst"
APPLY = "Create, change, start or remove each guest"
WAIT = "Wait until new guests answer SSH"


class Banner:
    """A TCP port on 127.0.0.1 that answers like an SSH server once it listens.

    The port is bound at once, so until then connections are refused, as by a guest that
    is still booting."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.closed = threading.Event()

    def listen(self, delay=0.0, after=lambda: True):
        """Listen ``delay`` seconds after ``after()`` becomes true."""
        threading.Thread(target=self._serve, args=(delay, after), daemon=True).start()

    def _serve(self, delay, after):
        while not after():
            if self.closed.wait(0.05):
                return
        if self.closed.wait(delay):
            return
        self.sock.listen()
        while True:
            try:
                connection = self.sock.accept()[0]
            except OSError:
                return
            with connection:
                connection.sendall(b"SSH-2.0-OpenSSH_9.9\r\n")

    def close(self):
        self.closed.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


@pytest.fixture(name="pve")
def pve_fixture():
    with FakePVE(make_cluster(nodes=2, guests=4, templates=2), task_seconds=0.05) as fake:
        yield fake


@pytest.fixture(name="ssh")
def ssh_fixture():
    banner = Banner()
    yield banner
    banner.close()


def guests(port):
    """A QEMU linked clone (SSH address from its cloud-init ipconfig0) and an LXC container from a
    template archive (explicit ssh_host). The defaults give both node, state and SSH port, and a
    clone that the container drops because it has its own ostemplate."""
    defaults = {"node": "pve1", "clone": "tpl-debian-0", "state": "started", "ssh_port": port}
    listed = [
        {"name": "web", "cores": 2, "memory": 2048, "disks": {"scsi0": "40G"}, "net": {"net0": "virtio,bridge=vmbr0"},
         "ipconfig": {"ipconfig0": "ip=127.0.0.1/8,gw=127.0.0.254"}, "ciuser": "admin", "tags": ["web"]},
        {"name": "dns", "type": "lxc", "ostemplate": OSTEMPLATE, "storage": "local-lvm", "disks": {"rootfs": "8G"}, "node": "pve2",
         "net": {"net0": "name=eth0,bridge=vmbr0,ip=dhcp"}, "ssh_host": "127.0.0.1", "tags": ["dns"]},
    ]
    return defaults, listed


def run_role(tmp_path, pve, guest_list, check=False, **variables):
    """Apply the role once; returns (json callback output, stdout + stderr, return code)."""
    api = {"url": pve.url, "user": USER, "token_id": "inventory", "token_secret": TOKEN_SECRET}
    completed = ansible_run.run_role("homelab.stack.proxmox_guests", tmp_path, dict({
        "proxmox_guests_list": guest_list, "proxmox_guests_api": api, "proxmox_guests_timeout": 20}, **variables),
        check=check, json_output=True, timeout=180)
    output = completed.stdout + completed.stderr
    assert TOKEN_SECRET not in output
    return json.loads(completed.stdout), output, completed.returncode


def task(result, name):
    """The localhost result of the task called ``name``, or None when it did not run."""
    for entry in result["plays"][0]["tasks"]:
        if entry["task"]["name"].split(" : ", 1)[-1] == name:
            return entry["hosts"]["localhost"]
    return None


def waits(result):
    """The SSH waits that ran (not skipped)."""
    return [item for item in task(result, WAIT).get("results", []) if "skip_reason" not in item]


def stats(result):
    return result["stats"]["localhost"]


def test_two_guests_are_created_started_and_waited_for_then_a_second_run_changes_nothing(tmp_path, pve, ssh):
    ssh.listen()
    defaults, listed = guests(ssh.port)
    result, output, code = run_role(tmp_path, pve, listed, proxmox_guests_defaults=defaults)
    assert code == 0, output
    applied = task(result, APPLY)["results"]
    assert [(item["name"], item["type"], item["created"], item["status"]) for item in applied] == [
        ("web", "qemu", True, "running"), ("dns", "lxc", True, "running")]
    web, dns = (item["vmid"] for item in applied)
    writes = [(entry["method"], entry["path"]) for entry in pve.writes()]
    assert writes[0] == ("POST", "/nodes/pve1/qemu/%d/clone" % TEMPLATE)
    assert ("POST", "/nodes/pve2/lxc") in writes and ("POST", "/nodes/pve1/qemu/%d/status/start" % web) in writes
    assert ("POST", "/nodes/pve2/lxc/%d/status/start" % dns) in writes
    create = next(entry["params"] for entry in pve.writes() if entry["path"] == "/nodes/pve2/lxc")
    assert create["ostemplate"] == OSTEMPLATE and create["rootfs"] == "local-lvm:8" and "clone" not in create
    assert pve.cluster.guest(web).status == "running" and pve.cluster.guest(dns).status == "running"
    assert pve.guest_config(web)["ciuser"] == "admin"
    # Both waits ran: web on the address of its ipconfig0, dns on its ssh_host.
    waited = waits(result)
    assert [(item["item"]["name"], item["item"]["item"]["ssh_host"], item.get("failed", False)) for item in waited] == [
        ("web", "127.0.0.1", False), ("dns", "127.0.0.1", False)]

    pve.reset()
    result, output, code = run_role(tmp_path, pve, listed, proxmox_guests_defaults=defaults)
    assert code == 0, output
    assert stats(result)["changed"] == 0 and stats(result)["failures"] == 0
    assert pve.writes() == []
    assert waits(result) == []


def test_the_role_waits_until_a_new_guest_answers_ssh(tmp_path, pve, ssh):
    # SSH comes up 2 s after the guest was started, as a booting guest's would.
    ssh.listen(delay=2.0, after=lambda: any(entry["path"].endswith("/status/start") for entry in pve.writes()))
    defaults, listed = guests(ssh.port)
    result, output, code = run_role(tmp_path, pve, listed[1:], proxmox_guests_defaults=defaults)
    assert code == 0, output
    (waited,) = waits(result)
    assert not waited.get("failed") and waited["elapsed"] >= 1


def test_the_wait_fails_clearly_when_nothing_answers_ssh(tmp_path, pve, ssh):
    # Nothing listens on the port. The container's address comes from the ip= of its net0.
    defaults, listed = guests(ssh.port)
    quiet = dict(listed[1], net={"net0": "name=eth0,bridge=vmbr0,ip=127.0.0.1/8,gw=127.0.0.254"})
    del quiet["ssh_host"]
    result, output, code = run_role(tmp_path, pve, [quiet], proxmox_guests_defaults=defaults, proxmox_guests_ssh_timeout=2)
    assert code != 0, output
    (waited,) = waits(result)
    assert task(result, WAIT)["failed"]
    assert "guest dns (vmid %d on pve2) was created and started, but 127.0.0.1:%d did not answer SSH within 2 s" % (
        waited["item"]["vmid"], ssh.port) in waited["msg"]
    assert stats(result)["failures"] == 1


def test_check_mode_sends_no_write_request_and_does_not_wait(tmp_path, pve, ssh):
    defaults, listed = guests(ssh.port)
    result, output, code = run_role(tmp_path, pve, listed, check=True, proxmox_guests_defaults=defaults)
    assert code == 0, output
    applied = task(result, APPLY)["results"]
    assert all(item["changed"] and item["created"] for item in applied)
    assert applied[0]["actions"][0].startswith("clone %d to " % TEMPLATE) and applied[0]["actions"][-1] == "start"
    assert pve.writes() == []
    assert waits(result) == []


@pytest.mark.parametrize("change, message", [
    ({"cores": "lots"}, "argument 'cores' is of type str found in 'proxmox_guests_list'."),
    ({"cpus": 2}, "proxmox_guests_list.cpus. Supported parameters include: agent"),
    ({"state": "running"}, "value of state must be one of: present, started, stopped, absent, got: running"),
    ({"clone": "tpl-debian-0", "ostemplate": OSTEMPLATE}, "parameters are mutually exclusive: clone|ostemplate"),
])
def test_bad_input_fails_in_argument_validation_without_any_request(tmp_path, pve, ssh, change, message):
    # The bad entry comes last: the good one before it is not applied either.
    defaults, listed = guests(ssh.port)
    result, output, code = run_role(tmp_path, pve, [listed[0], dict(listed[1], **change)], proxmox_guests_defaults=defaults)
    assert code != 0
    failed = result["plays"][0]["tasks"][-1]
    assert failed["task"]["name"].split(" : ", 1)[-1].startswith("Validating arguments against arg spec")
    assert "Validation of arguments failed" in failed["hosts"]["localhost"]["msg"] and message in output
    assert pve.count() == 0


def test_one_guest_listed_twice_without_vmid_is_refused_before_any_request(tmp_path, pve, ssh):
    defaults, listed = guests(ssh.port)
    result, output, code = run_role(tmp_path, pve, listed + [dict(listed[0], cores=4)], proxmox_guests_defaults=defaults)
    assert code != 0
    assert "guest web: name: 2 entries are called web; give them a vmid" in output
    assert task(result, APPLY) is None and pve.count() == 0


def test_a_later_guest_with_a_key_of_the_other_type_stops_the_run_before_the_first_guest(tmp_path, pve, ssh):
    # The module would refuse it too, but only when it reached dns, after web was cloned.
    defaults, listed = guests(ssh.port)
    result, output, code = run_role(tmp_path, pve, [listed[0], dict(listed[1], ciuser="admin")], proxmox_guests_defaults=defaults)
    assert code != 0
    assert "guest dns: ciuser: only QEMU guests have this setting (type is lxc)" in output
    assert task(result, APPLY) is None and pve.count() == 0

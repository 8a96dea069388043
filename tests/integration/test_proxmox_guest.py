# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""homelab.stack.proxmox_guest run by Ansible against the fake Proxmox VE API.

The fake (tests/fakes/pve/) checks every request against the PVE 9.1 API schema and
keeps PVE's semantics: task UPIDs, config digests, locks while a clone runs, no shrinking.
Each test counts the write requests the module sent, so "idempotent" and "check mode
writes nothing" are measured, not assumed.
"""

from __future__ import annotations

import time

import pytest

from ansible_run import run_module
from fakes.pve import TOKEN_SECRET, USER, FakePVE, make_cluster

TEMPLATE = 104  # make_cluster(guests=4, templates=2): 104 is the QEMU template tpl-debian-0, 105 the LXC one
KEYS = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHomelab admin@laptop\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBackup backup@nas"
WEB = {"node": "pve1", "name": "web", "clone": "tpl-debian-0", "cores": 4, "memory": 4096, "disks": {"scsi0": "40G"},
       "net": {"net0": "virtio,bridge=vmbr0,tag=20"}, "tags": ["Web", "prod"], "agent": True, "ciuser": "admin",
       "sshkeys": KEYS, "ipconfig": {"ipconfig0": "ip=dhcp"}, "nameserver": "10.0.0.53", "onboot": True, "state": "started"}


def web(**changes):
    """WEB with some options changed."""
    options = dict(WEB)
    options.update(changes)
    return options


@pytest.fixture(name="pve")
def pve_fixture():
    with FakePVE(make_cluster(nodes=2, guests=4, templates=2), task_seconds=0.05) as fake:
        yield fake


def run(pve, check=False, **args):
    """Run the module once through Ansible; returns its result (a dict with ``failed`` on failure)."""
    args = dict({"url": pve.url, "user": USER, "token_id": "inventory", "token_secret": TOKEN_SECRET, "timeout": 20}, **args)
    result, completed = run_module("homelab.stack.proxmox_guest", args, check=check, timeout=180)
    assert TOKEN_SECRET not in completed.stdout + completed.stderr
    return result


def ok(result):
    assert not result.get("failed"), result.get("msg")
    return result


def writes(pve):
    return [(entry["method"], entry["path"]) for entry in pve.writes()]


def test_clone_from_a_template_then_a_second_run_changes_nothing(pve):
    result = ok(run(pve, **WEB))
    assert result["changed"] and result["created"] and result["status"] == "running"
    vmid = result["vmid"]
    assert vmid == 100 + 6  # the first free VMID after 4 guests and 2 templates, from /cluster/nextid
    assert writes(pve) == [
        ("POST", "/nodes/pve1/qemu/%d/clone" % TEMPLATE),
        ("POST", "/nodes/pve1/qemu/%d/config" % vmid),
        ("PUT", "/nodes/pve1/qemu/%d/resize" % vmid),
        ("POST", "/nodes/pve1/qemu/%d/status/start" % vmid),
    ]
    clone = pve.writes()[0]["params"]
    assert clone["newid"] == str(vmid) and clone["name"] == "web" and "full" not in clone
    config = pve.guest_config(vmid)
    assert config["cores"] in (4, "4") and str(config["memory"]) == "4096" and config["tags"] == "prod;web"
    assert "size=40G" in config["scsi0"] and "tag=20" in config["net0"] and config["ipconfig0"] == "ip=dhcp"
    assert " " not in config["sshkeys"] and "lock" not in config
    assert result["settings"]["disks"] == {"scsi0": "40G"} and result["settings"]["tags"] == ["prod", "web"]
    # The MAC the template's clone got is kept, though the user gave none.
    assert config["net0"].split(",")[0].startswith("virtio=BC:24:11")

    pve.reset()
    again = ok(run(pve, **web(tags=["prod", "WEB"], sshkeys=KEYS + "\n\n", disks={"scsi0": "40960M"})))
    assert again["changed"] is False and again["actions"] == [] and again["vmid"] == vmid
    assert writes(pve) == []


def test_check_mode_sends_no_write_request(pve):
    result = ok(run(pve, check=True, **WEB))
    assert result["changed"] and result["created"]
    assert result["actions"][0] == "clone %d to 106 on pve1" % TEMPLATE and result["actions"][-1] == "start"
    assert writes(pve) == []
    ok(run(pve, **WEB))
    pve.reset()
    result = ok(run(pve, check=True, **web(cores=8, disks={"scsi0": "64G"}, state="stopped")))
    assert result["actions"] == ["set cores", "resize scsi0 40G -> 64G", "shutdown"]
    assert writes(pve) == []


def test_diff_shows_the_managed_settings(pve):
    ok(run(pve, **WEB))
    result = ok(run(pve, **web(cores=2, tags=["web"])))
    assert result["diff"]["before"]["cores"] == 4 and result["diff"]["after"]["cores"] == 2
    assert result["diff"]["before"]["tags"] == ["prod", "web"] and result["diff"]["after"]["tags"] == ["web"]
    assert result["diff"]["after"]["status"] == "running"


def test_a_guest_found_by_vmid_is_renamed(pve):
    vmid = ok(run(pve, **WEB))["vmid"]
    result = ok(run(pve, vmid=vmid, name="www"))
    assert result["actions"] == ["set name"] and result["name"] == "www"
    assert pve.guest_config(vmid)["name"] == "www"


def test_changes_go_in_one_update_guarded_by_the_digest(pve):
    vmid = ok(run(pve, **WEB))["vmid"]
    digest = pve.guest_config(vmid)["digest"]
    pve.reset()
    result = ok(run(pve, vmid=vmid, cores=2, memory=2048, onboot=False, tags=[]))
    assert result["actions"] == ["set cores, memory, onboot, tags"]
    (update,) = pve.writes()
    assert update["params"]["digest"] == digest and update["params"]["delete"] == "tags"
    assert "tags" not in pve.guest_config(vmid)


def test_shrinking_a_disk_is_refused_before_any_change(pve):
    vmid = ok(run(pve, **WEB))["vmid"]
    pve.reset()
    result = run(pve, vmid=vmid, cores=8, disks={"scsi0": "20G"})
    assert result["failed"] and "disks.scsi0" in result["msg"] and "shrink" in result["msg"]
    assert writes(pve) == []


@pytest.mark.parametrize("args, message", [
    ({"name": "x", "disks": {"scsi0": "40"}}, "disks.scsi0: '40' has no unit"),
    ({"name": "x", "disks": {"rootfs": "8G"}}, "disks: 'rootfs' is not a qemu disk key"),
    ({"name": "x", "type": "lxc", "ciuser": "admin"}, "ciuser: only QEMU guests"),
    ({"name": "x", "net": {"eth0": "virtio"}}, "net: 'eth0' is not a key such as net0"),
    ({"name": "x", "clone": "a", "type": "lxc", "ostemplate": "local:vztmpl/x.tar.zst"}, "clone and ostemplate"),
    ({"vmid": 5}, "vmid: 5 is outside"),
    ({}, "name or vmid is required"),
])
def test_bad_input_fails_naming_the_option_without_any_request(pve, args, message):
    result = run(pve, **args)
    assert result["failed"] and message in result["msg"]
    assert pve.count() == 0


def test_two_guests_with_one_name_need_a_vmid(pve):
    ok(run(pve, **WEB))
    ok(run(pve, **web(vmid=300, clone=str(TEMPLATE), full=True)))
    pve.reset()
    result = run(pve, name="web", cores=1)
    assert result["failed"] and "2 guests are called 'web' (vmids 106, 300); set vmid" in result["msg"]
    assert writes(pve) == []


def test_a_full_clone_is_asked_for_explicitly(pve):
    vmid = ok(run(pve, **web(vmid=300, full=True, storage="local-lvm")))["vmid"]
    clone = pve.writes()[0]["params"]
    assert vmid == 300 and clone["full"] == "1" and clone["storage"] == "local-lvm"


def test_absent_needs_purge_for_a_guest_with_disks(pve):
    vmid = ok(run(pve, **WEB))["vmid"]
    pve.reset()
    refused = run(pve, vmid=vmid, state="absent")
    assert refused["failed"] and "purge" in refused["msg"] and "scsi0" in refused["msg"]
    assert writes(pve) == []
    gone = ok(run(pve, vmid=vmid, state="absent", purge=True))
    assert gone["changed"] and gone["actions"] == ["stop", "delete"] and gone["status"] == "absent"
    assert writes(pve) == [("POST", "/nodes/pve1/qemu/%d/status/stop" % vmid), ("DELETE", "/nodes/pve1/qemu/%d" % vmid)]
    assert pve.cluster.guest(vmid) is None
    pve.reset()
    again = ok(run(pve, vmid=vmid, state="absent", purge=True))
    assert again["changed"] is False and writes(pve) == []


def test_a_locked_guest_is_waited_for(pve):
    vmid = ok(run(pve, **WEB))["vmid"]
    pve.hold_lock(vmid, "backup", 2.0)
    started = time.monotonic()
    result = ok(run(pve, vmid=vmid, cores=2))
    assert result["actions"] == ["set cores"] and time.monotonic() - started >= 1.5
    pve.hold_lock(vmid, "backup", 30.0)
    result = run(pve, vmid=vmid, cores=3, timeout=1)
    assert result["failed"] and "locked (backup)" in result["msg"]


def test_a_failed_task_fails_the_module_with_its_exit_status(pve):
    pve.fail_task("qmclone", "clone failed: no space left on device")
    result = run(pve, **WEB)
    assert result["failed"] and "clone failed: no space left on device" in result["msg"]
    # A re-run converges: the failed clone left nothing behind.
    result = ok(run(pve, **WEB))
    assert result["created"]


def test_a_container_from_a_template_archive(pve):
    args = {"type": "lxc", "node": "pve2", "name": "dns", "ostemplate": "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst",
            "storage": "local-lvm", "disks": {"rootfs": "8G"}, "net": {"net0": "name=eth0,bridge=vmbr0,ip=dhcp"},
            "cores": 1, "memory": 512, "sshkeys": KEYS, "tags": ["dns"], "pool": "lab", "state": "started"}
    result = ok(run(pve, **args))
    assert result["created"] and result["status"] == "running"
    create = pve.writes()[0]
    assert create["path"] == "/nodes/pve2/lxc"
    assert create["params"]["rootfs"] == "local-lvm:8" and create["params"]["unprivileged"] == "1"
    assert create["params"]["ssh-public-keys"].strip() == KEYS
    assert pve.cluster.guest(result["vmid"]).pool == "lab"
    pve.reset()
    assert ok(run(pve, **args))["changed"] is False and writes(pve) == []
    args.update(disks={"rootfs": "12G"}, pool="prod")
    grown = ok(run(pve, **args))
    assert grown["actions"] == ["resize rootfs 8G -> 12G", "move to pool prod"]
    assert pve.cluster.guest(result["vmid"]).pool == "prod"


def test_stopped_shuts_a_running_guest_down(pve):
    vmid = ok(run(pve, **WEB))["vmid"]
    result = ok(run(pve, vmid=vmid, state="stopped"))
    assert result["actions"] == ["shutdown"] and result["status"] == "stopped"
    assert pve.cluster.guest(vmid).status == "stopped"


def test_wrong_credentials_give_a_clear_error(pve):
    result = run(pve, name="web", token_secret="00000000-0000-0000-0000-000000000000")
    assert result["failed"] and "authentication failed" in result["msg"]


def test_creating_needs_a_node(pve):
    result = run(pve, name="new", clone="tpl-debian-0")
    assert result["failed"] and "node: required" in result["msg"]
    assert writes(pve) == []


def test_storage_goes_only_with_a_full_clone(pve):
    # A linked clone of a template stays on the template's storage; PVE refuses a target storage for it.
    result = ok(run(pve, **web(storage="local-lvm")))
    assert result["created"] and "storage" not in pve.writes()[0]["params"]


def test_a_guest_on_an_offline_node_gives_a_clear_error():
    with FakePVE(make_cluster(nodes=2, guests=4, offline_nodes=1)) as pve:
        result = run(pve, vmid=103, cores=4)  # guests alternate nodes: QEMU guest 103 is on pve2, the offline one
        assert result["failed"] and "guest 103 is on node pve2, which is offline" in result["msg"]
        assert writes(pve) == []


def test_an_api_that_stops_answering_fails_within_api_timeout(pve):
    vmid = ok(run(pve, **WEB))["vmid"]
    pve.hang(path=r"/nodes/pve1/qemu/%d/config" % vmid, seconds=10)
    started = time.monotonic()
    result = run(pve, vmid=vmid, cores=2, api_timeout=1)
    assert result["failed"] and "no answer within 1 s" in result["msg"]
    assert time.monotonic() - started < 9

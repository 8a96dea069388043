# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The write side of the fake Proxmox VE API (tests/fakes/pve/).

Creating, cloning, configuring, resizing, starting and destroying guests keep PVE's
semantics: task UPIDs whose effect lands when the task ends, config digests, locks while a
task runs, disks allocated and named as PVE names them, and each error either on the
request (checks PVE makes before it forks a worker) or as the task's exit status.
"""

from __future__ import annotations

import hashlib
import time
from urllib.parse import quote

import pytest
import requests

from fakes.pve import FakePVE, Guest, Schema, check_returns, make_cluster

# make_cluster(nodes=2, guests=4, templates=2): 100 (CT, pve1, running, pool prod), 101 (CT, pve2,
# stopped, pool lab), 102 (VM, pve1, running), 103 (VM, pve2, running), 104 the QEMU template
# tpl-debian-0 on pve1, 105 the LXC template tpl-debian-1 on pve2.
QEMU_TEMPLATE, LXC_TEMPLATE = 104, 105
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheFakeOnly admin@laptop"


@pytest.fixture(name="pve")
def pve_fixture():
    # Tasks run long enough that the checks made while one runs still see it running on a
    # loaded machine (two cores shared with a lab), short enough that polling ends soon.
    with FakePVE(make_cluster(nodes=2, guests=4, templates=2), task_seconds=0.5) as fake:
        yield fake


def call(pve, method, path, **params):
    """One request with the API token: parameters in the query (GET, DELETE) or a form body, as proxmoxer sends them."""
    key = "params" if method in ("GET", "DELETE") else "data"
    return requests.request(method, pve.url + "/api2/json" + path, headers=pve.token_header(), timeout=5, **{key: params})


def data(pve, method, path, **params):
    answer = call(pve, method, path, **params)
    assert answer.status_code == 200, (answer.status_code, answer.reason, answer.text)
    return answer.json()["data"]


def refused(pve, status, message, method, path, **params):
    answer = call(pve, method, path, **params)
    assert (answer.status_code, answer.reason) == (status, message), answer.text
    return answer.json()


def finish(pve, upid):
    """Poll the task's status (as a client does) until it has stopped; its last status."""
    node = upid.split(":")[1]
    for _attempt in range(200):
        status = data(pve, "GET", "/nodes/%s/tasks/%s/status" % (node, upid))
        if status["status"] == "stopped":
            return status
        time.sleep(0.01)
    raise AssertionError("task %s did not stop" % upid)


def config(pve, node, kind, vmid):
    return data(pve, "GET", "/nodes/%s/%s/%d/config" % (node, kind, vmid))


def resource(pve, vmid):
    return next(entry for entry in data(pve, "GET", "/cluster/resources", type="vm") if entry["vmid"] == vmid)


# Creating guests and the tasks that do it

def test_create_allocates_disks_under_a_create_lock_then_the_task_ends(pve):
    vmid = data(pve, "GET", "/cluster/nextid")
    assert vmid == 106
    upid = data(pve, "POST", "/nodes/pve1/qemu", vmid=vmid, name="web", cores=2, memory=2048, agent=1, pool="lab",
                scsi0="local-lvm:32,iothread=1,discard=on", efidisk0="local-lvm:1,efitype=4m", net0="virtio,bridge=vmbr0",
                tags="Web;prod,web")
    fields = upid.split(":")
    assert fields[0] == "UPID" and fields[1] == "pve1" and fields[5:] == ["qmcreate", "106", "root@pam!inventory", ""]
    assert all(len(field) == 8 and int(field, 16) >= 0 for field in fields[2:5])
    during = config(pve, "pve1", "qemu", vmid)
    assert during["lock"] == "create"
    # Disks are allocated in sorted key order and printed with sorted options, as PVE does.
    assert during["efidisk0"] == "local-lvm:vm-106-disk-0,efitype=4m,size=4M"
    assert during["scsi0"] == "local-lvm:vm-106-disk-1,discard=on,iothread=1,size=32G"
    assert data(pve, "GET", "/cluster/nextid") == 107
    running = data(pve, "GET", "/nodes/pve1/tasks/%s/status" % upid)
    assert running["status"] == "running" and "exitstatus" not in running

    status = finish(pve, upid)
    assert status == {"upid": upid, "node": "pve1", "pid": int(fields[2], 16), "pstart": int(fields[3], 16), "starttime": int(fields[4], 16),
                      "type": "qmcreate", "id": "106", "user": "root@pam", "tokenid": "inventory", "status": "stopped", "exitstatus": "OK"}
    after = config(pve, "pve1", "qemu", vmid)
    assert "lock" not in after
    assert after["cores"] == 2 and after["memory"] == "2048" and after["tags"] == "prod;web" and after["agent"] == "1"
    assert after["net0"] == "virtio=BC:24:11:00:00:6A,bridge=vmbr0" and after["boot"] == "order=scsi0;net0"
    rendered = "".join("%s: %s\n" % (key, after[key]) for key in sorted(after) if key != "digest")
    assert after["digest"] == hashlib.sha1(rendered.encode()).hexdigest()
    assert after == pve.guest_config(vmid)
    schema = Schema.load()
    assert check_returns(schema.methods["/nodes/{node}/qemu/{vmid}/config"]["GET"]["returns"], after) == []
    assert check_returns(schema.methods["/nodes/{node}/tasks/{upid}/status"]["GET"]["returns"], status) == []
    entry = resource(pve, vmid)
    assert (entry["name"], entry["pool"], entry["status"], entry["maxcpu"], entry["maxmem"], entry["maxdisk"]) == (
        "web", "lab", "stopped", 2, 2048 * 1024 ** 2, 32 * 1024 ** 3)


def test_create_refuses_a_taken_vmid_an_unknown_pool_and_bad_parameters(pve):
    refused(pve, 500, "unable to create VM 102 - VM 102 already exists on node 'pve1'", "POST", "/nodes/pve2/qemu", vmid=102)
    refused(pve, 500, "unable to create VM 101 - CT 101 already exists on node 'pve2'", "POST", "/nodes/pve1/qemu", vmid=101)
    refused(pve, 500, "VM 102 already exists on node 'pve1'", "POST", "/nodes/pve2/lxc", vmid=102, ostemplate="local:vztmpl/x.tar.zst")
    refused(pve, 500, "pool 'nope' does not exist", "POST", "/nodes/pve1/qemu", vmid=200, pool="nope")
    refused(pve, 500, "no storage ID specified (and no default storage)", "POST", "/nodes/pve1/qemu", vmid=200, scsi0="32")
    unknown = refused(pve, 400, "Parameter verification failed.", "POST", "/nodes/pve1/qemu", vmid=200, colour="blue")
    assert unknown["errors"] == {"colour": "property is not defined in schema and the schema does not allow additional properties"}
    missing = refused(pve, 400, "Parameter verification failed.", "POST", "/nodes/pve1/lxc", vmid=200, hostname="dns")
    assert missing["errors"] == {"ostemplate": "property is missing and it is not optional"}
    short = refused(pve, 400, "Parameter verification failed.", "POST", "/nodes/pve1/lxc", vmid=200, ostemplate="x", password="abc")
    assert short["errors"] == {"password": "value must be at least 5 characters long"}
    assert pve.writes() and pve.cluster.guest(200) is None


def test_a_container_is_created_as_pve_9_does(pve):
    upid = data(pve, "POST", "/nodes/pve2/lxc", vmid=200, ostemplate="local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst",
                hostname="dns", rootfs="local-lvm:8", mp0="local-lvm:16,mp=/srv,backup=1", net0="name=eth0,bridge=vmbr0,ip=dhcp",
                password="secret-password", **{"ssh-public-keys": KEY}, cores=1, memory=512, tags="dns", pool="prod", start=1)
    assert upid.split(":")[5] == "vzcreate"
    assert config(pve, "pve2", "lxc", 200)["lock"] == "create"
    assert finish(pve, upid)["exitstatus"] == "OK"
    created = config(pve, "pve2", "lxc", 200)
    assert created["rootfs"] == "local-lvm:vm-200-disk-0,size=8G"
    assert created["mp0"] == "local-lvm:vm-200-disk-1,mp=/srv,backup=1,size=16G"
    assert created["net0"] == "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:C8,ip=dhcp,type=veth"
    assert (created["hostname"], created["ostype"], created["unprivileged"], created["swap"]) == ("dns", "debian", 1, 512)
    assert not {"password", "ssh-public-keys", "lock", "ostemplate"} & set(created)
    guest = pve.cluster.guest(200)
    assert (guest.status, guest.pool) == ("running", "prod")
    interfaces = data(pve, "GET", "/nodes/pve2/lxc/200/interfaces")
    assert any(entry.get("inet", "").startswith("10.20.") for entry in interfaces)
    bad_key = refused(pve, 500, "SSH public key validation error", "POST", "/nodes/pve2/lxc", vmid=201, ostemplate="local:vztmpl/x.tar.zst",
                      **{"ssh-public-keys": "not a key"})
    assert bad_key["data"] is None


def test_task_status_of_unknown_or_malformed_upids(pve):
    upid = data(pve, "POST", "/nodes/pve1/qemu/102/status/stop")
    other = upid.replace("UPID:pve1:", "UPID:pve2:")
    assert refused(pve, 400, "Parameter verification failed.", "GET", "/nodes/pve2/tasks/%s/status" % other)["errors"] == {"upid": "no such task"}
    assert refused(pve, 400, "Parameter verification failed.", "GET", "/nodes/pve2/tasks/%s/status" % upid)["errors"] == {"upid": "no such task"}
    malformed = refused(pve, 400, "Parameter verification failed.", "GET", "/nodes/pve1/tasks/UPID:nope/status")
    assert malformed["errors"] == {"upid": "unable to parse worker upid"}
    assert finish(pve, upid)["exitstatus"] == "OK" and pve.cluster.guest(102).status == "stopped"
    assert [task["upid"] for task in pve.tasks()] == [upid]


# Clones

def test_a_template_is_cloned_linked_under_a_clone_lock(pve):
    upid = data(pve, "POST", "/nodes/pve1/qemu/%d/clone" % QEMU_TEMPLATE, newid=300, name="app", pool="lab")
    assert upid.split(":")[5:7] == ["qmclone", str(QEMU_TEMPLATE)]  # the task is the source's
    template = config(pve, "pve1", "qemu", QEMU_TEMPLATE)
    during = config(pve, "pve1", "qemu", 300)
    assert during["lock"] == "clone" and during["name"] == "app" and "template" not in during
    assert during["scsi0"] == "local-lvm:base-104-disk-0/vm-300-disk-0,iothread=1,size=32G"
    assert during["net0"].startswith("virtio=BC:24:11:00:01:2C,") and during["net0"] != template["net0"]
    assert during["smbios1"] != template["smbios1"] and during["digest"] != template["digest"]
    assert finish(pve, upid)["exitstatus"] == "OK"
    after = config(pve, "pve1", "qemu", 300)
    assert "lock" not in after and resource(pve, 300)["status"] == "stopped" and resource(pve, 300)["pool"] == "lab"
    assert config(pve, "pve1", "qemu", QEMU_TEMPLATE) == template
    refused(pve, 500, "parameter 'storage' not allowed for linked clones", "POST", "/nodes/pve1/qemu/%d/clone" % QEMU_TEMPLATE,
            newid=301, storage="fast")
    refused(pve, 500, "unable to create VM 300: config file already exists", "POST", "/nodes/pve1/qemu/%d/clone" % QEMU_TEMPLATE, newid=300)
    unnamed = finish(pve, data(pve, "POST", "/nodes/pve1/qemu/%d/clone" % QEMU_TEMPLATE, newid=301))
    assert unnamed["exitstatus"] == "OK" and config(pve, "pve1", "qemu", 301)["name"] == "Copy-of-VM-tpl-debian-0"


def test_a_vm_is_cloned_in_full_and_a_linked_clone_of_it_is_refused(pve):
    finish(pve, data(pve, "POST", "/nodes/pve1/qemu/102/clone", newid=310))
    assert config(pve, "pve1", "qemu", 310)["scsi0"] == "local-lvm:vm-310-disk-0,iothread=1,size=32G"
    finish(pve, data(pve, "POST", "/nodes/pve1/qemu/102/clone", newid=311, full=1, storage="fast"))
    assert config(pve, "pve1", "qemu", 311)["scsi0"] == "fast:vm-311-disk-0,iothread=1,size=32G"
    refused(pve, 500, "Linked clone feature is not supported for 'local-lvm:vm-102-disk-0' (scsi0)", "POST", "/nodes/pve1/qemu/102/clone",
            newid=312, full=0)
    refused(pve, 500, "can't clone VM to node 'pve2' (VM uses local storage)", "POST", "/nodes/pve1/qemu/102/clone", newid=312, target="pve2")
    moved = finish(pve, data(pve, "POST", "/nodes/pve1/qemu/102/clone", newid=312, target="pve2", storage="ceph"))
    assert moved["exitstatus"] == "OK" and pve.cluster.guest(312).node == "pve2"
    assert config(pve, "pve2", "qemu", 312)["scsi0"] == "ceph:vm-312-disk-0,iothread=1,size=32G"


def test_a_container_template_is_locked_while_it_is_cloned(pve):
    upid = data(pve, "POST", "/nodes/pve2/lxc/%d/clone" % LXC_TEMPLATE, newid=320, hostname="cache")
    assert upid.split(":")[5:7] == ["vzclone", str(LXC_TEMPLATE)]
    assert config(pve, "pve2", "lxc", LXC_TEMPLATE)["lock"] == "disk"
    during = config(pve, "pve2", "lxc", 320)
    assert during["lock"] == "create" and during["hostname"] == "cache"
    assert during["rootfs"] == "local-lvm:base-105-disk-0/vm-320-disk-0,size=8G"
    refused(pve, 500, "CT 105 is locked (disk)", "POST", "/nodes/pve2/lxc/%d/clone" % LXC_TEMPLATE, newid=321)
    assert finish(pve, upid)["exitstatus"] == "OK"
    assert "lock" not in config(pve, "pve2", "lxc", LXC_TEMPLATE) and "lock" not in config(pve, "pve2", "lxc", 320)
    refused(pve, 500, "Linked clone feature for 'local-lvm:vm-101-disk-0' is not available", "POST", "/nodes/pve2/lxc/101/clone",
            newid=322, full=0)
    refused(pve, 500, "Cannot do full clones on a running container without snapshots", "POST", "/nodes/pve1/lxc/100/clone", newid=322)
    refused(pve, 500, "CT 320 already exists on node 'pve2'", "POST", "/nodes/pve2/lxc/101/clone", newid=320)


# Configuration

def test_a_stale_digest_is_refused(pve):
    before = config(pve, "pve1", "qemu", 102)
    assert data(pve, "PUT", "/nodes/pve1/qemu/102/config", name="renamed", cores=4, digest=before["digest"]) is None
    after = config(pve, "pve1", "qemu", 102)
    assert after["name"] == "renamed" and after["cores"] == 4 and after["digest"] != before["digest"]
    assert (resource(pve, 102)["name"], resource(pve, 102)["maxcpu"]) == ("renamed", 4)
    refused(pve, 500, "checksum mismatch (file change by other user?)", "PUT", "/nodes/pve1/qemu/102/config", cores=2, digest=before["digest"])
    refused(pve, 500, "checksum mismatch (file change by other user?)", "POST", "/nodes/pve1/qemu/102/config", cores=2, digest=before["digest"])
    refused(pve, 500, "detected modified configuration - file changed by other user? Try again.", "PUT", "/nodes/pve1/lxc/100/config",
            cores=2, digest="0" * 40)
    refused(pve, 500, "no options specified", "PUT", "/nodes/pve1/qemu/102/config", digest=after["digest"])
    assert config(pve, "pve1", "qemu", 102)["cores"] == 4


def test_the_asynchronous_config_update_lands_when_its_task_ends(pve):
    upid = data(pve, "POST", "/nodes/pve1/qemu/102/config", memory=4096, scsi1="local-lvm:10", delete="onboot")
    assert upid.split(":")[5] == "qmconfig"
    assert config(pve, "pve1", "qemu", 102)["memory"] != "4096"
    finish(pve, upid)
    after = config(pve, "pve1", "qemu", 102)
    assert after["memory"] == "4096" and after["scsi1"] == "local-lvm:vm-102-disk-1,size=10G" and "onboot" not in after
    assert pve.cluster.guest(102).maxmem == 4096 * 1024 ** 2
    assert data(pve, "POST", "/nodes/pve1/qemu/102/config", cores=3, background_delay=5) is None
    assert config(pve, "pve1", "qemu", 102)["cores"] == 3
    # A removed disk stays as unusedN until that is deleted too; force drops it at once.
    data(pve, "PUT", "/nodes/pve1/qemu/102/config", delete="scsi1")
    assert config(pve, "pve1", "qemu", 102)["unused0"] == "local-lvm:vm-102-disk-1"
    data(pve, "PUT", "/nodes/pve1/qemu/102/config", delete="unused0")
    assert "unused0" not in config(pve, "pve1", "qemu", 102)
    conflict = refused(pve, 400, "Parameter verification failed.", "PUT", "/nodes/pve1/qemu/102/config", cores=1, delete="cores")
    assert conflict["errors"] == {"delete": "you can't use '-cores' and -delete cores' at the same time"}
    unknown = refused(pve, 400, "Parameter verification failed.", "PUT", "/nodes/pve1/qemu/102/config", delete="colour")
    assert unknown["errors"] == {"delete": "unknown option 'colour'"}
    refused(pve, 500, "unable to delete required option 'rootfs'", "PUT", "/nodes/pve1/lxc/100/config", delete="rootfs")
    refused(pve, 500, "unable to modify read-only option: 'unprivileged'", "PUT", "/nodes/pve1/lxc/100/config", unprivileged=0)


def test_tags_are_stored_as_pve_normalises_them(pve):
    data(pve, "PUT", "/nodes/pve1/qemu/102/config", tags=" Web;prod,,web  Backup")
    assert config(pve, "pve1", "qemu", 102)["tags"] == "backup;prod;web"
    data(pve, "PUT", "/nodes/pve1/lxc/100/config", tags="Z,a")
    assert config(pve, "pve1", "lxc", 100)["tags"] == "a;z" and resource(pve, 100)["tags"] == "a;z"
    data(pve, "PUT", "/nodes/pve1/qemu/102/config", delete="tags")
    assert "tags" not in config(pve, "pve1", "qemu", 102) and "tags" not in resource(pve, 102)


def test_sshkeys_must_come_url_encoded(pve):
    raw = refused(pve, 400, "Parameter verification failed.", "PUT", "/nodes/pve1/qemu/102/config", sshkeys=KEY)
    assert raw["errors"] == {"sshkeys": "invalid format - invalid urlencoded string: %s\n" % KEY}
    encoded = quote(KEY + "\n" + KEY, safe="")
    assert data(pve, "PUT", "/nodes/pve1/qemu/102/config", sshkeys=encoded) is None
    assert config(pve, "pve1", "qemu", 102)["sshkeys"] == encoded
    refused(pve, 500, "SSH public key validation error", "PUT", "/nodes/pve1/qemu/102/config", sshkeys=quote("not a key", safe=""))
    data(pve, "PUT", "/nodes/pve1/qemu/102/config", cipassword="hunter2")
    assert config(pve, "pve1", "qemu", 102)["cipassword"] == "**********"


# Resizing

def test_disks_grow_but_never_shrink(pve):
    assert finish(pve, data(pve, "PUT", "/nodes/pve1/qemu/102/resize", disk="scsi0", size="40G"))["exitstatus"] == "OK"
    assert config(pve, "pve1", "qemu", 102)["scsi0"] == "local-lvm:vm-102-disk-0,iothread=1,size=40G"
    assert resource(pve, 102)["maxdisk"] == 40 * 1024 ** 3
    finish(pve, data(pve, "PUT", "/nodes/pve1/qemu/102/resize", disk="scsi0", size="+512M"))
    assert config(pve, "pve1", "qemu", 102)["scsi0"].endswith(",size=41472M")
    # qemu-server checks inside the worker: the task fails, the disk stays.
    shrink = finish(pve, data(pve, "PUT", "/nodes/pve1/qemu/102/resize", disk="scsi0", size="20G"))
    assert shrink["exitstatus"] == "shrinking disks is not supported"
    missing = finish(pve, data(pve, "PUT", "/nodes/pve1/qemu/102/resize", disk="scsi5", size="+1G"))
    assert missing["exitstatus"] == "disk 'scsi5' does not exist"
    assert config(pve, "pve1", "qemu", 102)["scsi0"].endswith(",size=41472M")
    bad = refused(pve, 400, "Parameter verification failed.", "PUT", "/nodes/pve1/qemu/102/resize", disk="scsi0", size="1X")
    assert bad["errors"] == {"size": "value does not match the regex pattern"}
    # pve-container checks before it forks.
    finish(pve, data(pve, "PUT", "/nodes/pve1/lxc/100/resize", disk="rootfs", size="+4G"))
    assert config(pve, "pve1", "lxc", 100)["rootfs"] == "local-lvm:vm-100-disk-0,size=12G"
    refused(pve, 500, "unable to shrink disk size", "PUT", "/nodes/pve1/lxc/100/resize", disk="rootfs", size="8G")
    refused(pve, 500, "disk is already at specified size", "PUT", "/nodes/pve1/lxc/100/resize", disk="rootfs", size="12G")


# Power and destruction

def test_a_vm_lives_starts_stops_and_is_destroyed(pve):
    finish(pve, data(pve, "POST", "/nodes/pve1/qemu", vmid=200, scsi0="local-lvm:8", net0="virtio,bridge=vmbr0", agent=1, pool="lab"))
    start = data(pve, "POST", "/nodes/pve1/qemu/200/status/start")
    assert start.split(":")[5] == "qmstart" and pve.cluster.guest(200).status == "stopped"
    finish(pve, start)
    assert resource(pve, 200)["status"] == "running"
    addresses = data(pve, "GET", "/nodes/pve1/qemu/200/agent/network-get-interfaces")["result"]
    assert any(address["ip-address"].startswith("10.20.") for entry in addresses for address in entry["ip-addresses"])
    assert finish(pve, data(pve, "POST", "/nodes/pve1/qemu/200/status/start"))["exitstatus"] == "VM 200 already running"
    refused(pve, 500, "VM 200 is running - destroy failed", "DELETE", "/nodes/pve1/qemu/200")
    finish(pve, data(pve, "POST", "/nodes/pve1/qemu/200/status/shutdown", timeout=30))
    assert resource(pve, 200)["status"] == "stopped"
    assert finish(pve, data(pve, "POST", "/nodes/pve1/qemu/200/status/stop"))["exitstatus"] == "OK"  # a no-op, as in PVE
    pve.backup_jobs.add(200)
    upid = data(pve, "DELETE", "/nodes/pve1/qemu/200", purge=1)
    assert upid.split(":")[5] == "qmdestroy" and config(pve, "pve1", "qemu", 200)["lock"] == "destroyed"
    assert finish(pve, upid)["exitstatus"] == "OK"
    refused(pve, 500, "Configuration file 'nodes/pve1/qemu-server/200.conf' does not exist", "GET", "/nodes/pve1/qemu/200/config")
    assert 200 not in pve.backup_jobs and pve.cluster.guest(200) is None
    assert all(member["vmid"] != 200 for member in data(pve, "GET", "/pools", poolid="lab")[0]["members"])
    assert finish(pve, data(pve, "POST", "/nodes/pve1/qemu/%d/status/start" % QEMU_TEMPLATE))["exitstatus"] == (
        "you can't start a vm if it's a template")


def test_a_container_refuses_what_pve_container_refuses_early(pve):
    refused(pve, 500, "CT 100 already running", "POST", "/nodes/pve1/lxc/100/status/start")
    refused(pve, 500, "CT 101 not running", "POST", "/nodes/pve2/lxc/101/status/stop")
    refused(pve, 500, "CT 101 not running", "POST", "/nodes/pve2/lxc/101/status/shutdown")
    refused(pve, 500, "unable to destroy CT 100 - container is running", "DELETE", "/nodes/pve1/lxc/100")
    pve.ha_resources.add(101)
    refused(pve, 500, "unable to remove CT 101 - used in HA resources and purge parameter not set.", "DELETE", "/nodes/pve2/lxc/101")
    finish(pve, data(pve, "POST", "/nodes/pve2/lxc/101/status/start"))
    assert pve.cluster.guest(101).status == "running"
    assert finish(pve, data(pve, "DELETE", "/nodes/pve1/lxc/100", force=1))["exitstatus"] == "OK" and pve.cluster.guest(100) is None


def test_destroying_a_template_its_clones_use_ends_with_warnings(pve):
    finish(pve, data(pve, "POST", "/nodes/pve1/qemu/%d/clone" % QEMU_TEMPLATE, newid=300))
    status = finish(pve, data(pve, "DELETE", "/nodes/pve1/qemu/%d" % QEMU_TEMPLATE))
    assert status["exitstatus"] == "WARNINGS: 1" and pve.cluster.guest(QEMU_TEMPLATE) is None


def test_writes_to_a_guest_on_an_offline_node_get_595(pve):
    pve.cluster.nodes[1].online = False
    refused(pve, 595, "No route to host", "POST", "/nodes/pve2/qemu/103/status/stop")
    refused(pve, 595, "No route to host", "POST", "/nodes/pve2/qemu", vmid=200)


# Locks, injected failures and the test controls

def test_a_locked_guest_refuses_writes_until_the_lock_is_gone(pve):
    pve.hold_lock(102, "backup", 30)
    refused(pve, 500, "VM 102 is locked (backup)", "POST", "/nodes/pve1/qemu/102/config", cores=1)
    refused(pve, 500, "VM 102 is locked (backup)", "PUT", "/nodes/pve1/qemu/102/config", cores=1)
    refused(pve, 500, "VM 102 is locked (backup)", "POST", "/nodes/pve1/qemu/102/clone", newid=300)
    # qemu-server checks the lock inside the worker for these: the task fails.
    assert finish(pve, data(pve, "POST", "/nodes/pve1/qemu/102/status/stop"))["exitstatus"] == "VM 102 is locked (backup)"
    assert finish(pve, data(pve, "PUT", "/nodes/pve1/qemu/102/resize", disk="scsi0", size="+1G"))["exitstatus"] == "VM 102 is locked (backup)"
    assert pve.cluster.guest(102).status == "running"
    assert resource(pve, 102)["lock"] == "backup"
    assert finish(pve, data(pve, "POST", "/nodes/pve1/qemu/102/status/stop", skiplock=1))["exitstatus"] == "OK"
    pve.hold_lock(100, "backup", 0.5)
    refused(pve, 500, "CT 100 is locked (backup)", "PUT", "/nodes/pve1/lxc/100/config", cores=1)
    refused(pve, 500, "CT 100 is locked (backup)", "PUT", "/nodes/pve1/lxc/100/resize", disk="rootfs", size="+1G")
    time.sleep(0.6)
    assert data(pve, "PUT", "/nodes/pve1/lxc/100/config", cores=1) is None


def test_fail_task_ends_the_next_matching_task_without_its_effect(pve):
    pve.fail_task("qmclone", "clone failed: no space left on device")
    status = finish(pve, data(pve, "POST", "/nodes/pve1/qemu/%d/clone" % QEMU_TEMPLATE, newid=300))
    assert status["exitstatus"] == "clone failed: no space left on device"
    assert pve.cluster.guest(300) is None and data(pve, "GET", "/cluster/nextid") == 106
    assert finish(pve, data(pve, "POST", "/nodes/pve1/qemu/%d/clone" % QEMU_TEMPLATE, newid=300))["exitstatus"] == "OK"
    pve.fail_task("vz.*", "startup for container '101' failed", times=None)
    assert finish(pve, data(pve, "POST", "/nodes/pve2/lxc/101/status/start"))["exitstatus"] == "startup for container '101' failed"
    assert finish(pve, data(pve, "POST", "/nodes/pve2/lxc/101/status/start"))["exitstatus"] == "startup for container '101' failed"
    assert pve.cluster.guest(101).status == "stopped"
    pve.fail_task("qmdestroy", "boom")
    assert finish(pve, data(pve, "DELETE", "/nodes/pve1/qemu/300"))["exitstatus"] == "boom"
    assert "lock" not in config(pve, "pve1", "qemu", 300)


def test_pools_take_and_give_up_members_through_put(pve):
    assert data(pve, "PUT", "/pools", poolid="lab", vms="102") is None
    assert resource(pve, 102)["pool"] == "lab"
    refused(pve, 500, "update pools failed: VM 102 is already a pool member", "PUT", "/pools", poolid="lab", vms="102")
    refused(pve, 500, "update pools failed: VM 100 belongs already to pool 'prod' and 'allow-move' is not set", "PUT", "/pools",
            poolid="lab", vms="100")
    data(pve, "PUT", "/pools", poolid="lab", vms="100", **{"allow-move": 1})
    assert {member["vmid"] for member in data(pve, "GET", "/pools", poolid="lab")[0]["members"]} == {100, 101, 102}
    data(pve, "PUT", "/pools", poolid="lab", vms="102", delete=1, comment="Experiments, smaller")
    assert "pool" not in resource(pve, 102) and data(pve, "GET", "/pools", poolid="lab")[0]["comment"] == "Experiments, smaller"
    refused(pve, 500, "update pools failed: VM 102 is not a pool member", "PUT", "/pools", poolid="lab", vms="102", delete=1)
    refused(pve, 500, "update pools failed: pool 'nope' does not exist", "PUT", "/pools", poolid="nope", vms="102")


def test_writes_are_recorded_with_their_parameters(pve):
    login = requests.post(pve.url + "/api2/json/access/ticket", data={"username": "root@pam", "password": "nope"}, timeout=5)
    assert login.status_code == 401
    data(pve, "PUT", "/nodes/pve1/qemu/102/config", cores="3")
    requests.post(pve.url + "/api2/json/nodes/pve1/qemu/102/config", json={"memory": 1024}, headers=pve.token_header(), timeout=5)
    writes = pve.writes()
    assert [(entry["method"], entry["path"], entry["params"]) for entry in writes] == [
        ("PUT", "/nodes/pve1/qemu/102/config", {"cores": "3"}), ("POST", "/nodes/pve1/qemu/102/config", {"memory": 1024})]
    assert all("params" in entry for entry in pve.requests)


def test_add_guest_makes_templates_to_clone_from(pve):
    template = pve.add_guest(Guest(vmid=9000, type="qemu", name="tpl-noble", node="pve2", template=True))
    assert template.status == "stopped" and pve.guest_config(9000)["scsi0"] == "local-lvm:base-9000-disk-0,iothread=1,size=32G"
    given = pve.add_guest(Guest(vmid=9001, type="lxc", name=None, node="pve2"), config={
        "hostname": "tpl-alpine", "template": 1, "memory": 256, "rootfs": "local-lvm:base-9001-disk-0,size=2G", "tags": "template"})
    assert (given.name, given.template, given.status, given.maxmem, given.maxdisk) == ("tpl-alpine", True, "stopped", 256 * 1024 ** 2, 2 * 1024 ** 3)
    finish(pve, data(pve, "POST", "/nodes/pve2/lxc/9001/clone", newid=9002))
    assert pve.guest_config(9002)["rootfs"] == "local-lvm:base-9001-disk-0/vm-9002-disk-0,size=2G"
    assert pve.guest_config(12345) is None
    with pytest.raises(ValueError):
        pve.add_guest(Guest(vmid=9000, type="qemu", name="again", node="pve1"))
    # A Guest field changed directly shows in the config and its digest.
    before = pve.guest_config(9000)["digest"]
    template.name = "tpl-noble-2"
    assert pve.guest_config(9000)["name"] == "tpl-noble-2" and pve.guest_config(9000)["digest"] != before

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake Proxmox VE API for tests, checked against the PVE 9.1 API schema.

The contract is ``tests/fixtures/pve-apidata-subset.json`` (proxmox/pve-docs
``api-viewer/apidata.js``, see PROVENANCE-pve.md). Every request is checked against it
the way pveproxy does it, in the same order:

1. path and method must be in the schema, else HTTP 501 ``Method 'GET /x' not implemented``;
2. the caller must be authenticated (API token header, or the ``PVEAuthCookie`` ticket
   cookie plus ``CSRFPreventionToken`` for writes), else HTTP 401;
3. the parameters (path, query and form/JSON body) must fit the method's schema, else
   HTTP 400 ``Parameter verification failed.`` with PVE's per-parameter ``errors``.

Answers use PVE's envelope: ``{"data": ...}``, and for errors ``{"data": null, "message":
"...", "errors": {...}}`` with the message also in the HTTP reason phrase, as
pve-http-server's JSON formatter does. Requests for guests of an offline node get
``595 No route to host``, as pveproxy answers when it cannot proxy to that node.

Writes follow the code of qemu-server, pve-container and pve-manager, so that a client
meets what a real cluster does: configs are stored and changed by writes, their ``digest``
is the SHA1 of the rendered config, asynchronous calls answer a task UPID and take effect
when the task ends (``task_seconds`` later, noticed by the next request), guests carry
``lock: create`` / ``clone`` / ``disk`` / ``destroyed`` while tasks run, and every error
comes where PVE raises it: a check PVE makes before it forks its worker fails the request
(HTTP 500, or 400 for a parameter exception), a check inside the worker makes the task end
with that exit status. Only ``POST /pools``, ``DELETE /pools`` and restores still answer
501 ``... not implemented by the fake``.

Endpoints outside the subset are described in ``EXTRA_SCHEMA``: two reads the community.proxmox
inventory plugin (the benchmark's baseline) needs (``GET .../{vmid}/snapshot``, ``GET
/pools/{poolid}``) and the writes the subset lacks (resize, LXC clone, LXC status and DELETE),
written after the PVE API viewer.

Usage::

    cluster = make_cluster(nodes=3, guests=30)
    with FakePVE(cluster, latency=0.02) as pve:
        requests.get(pve.url + "/api2/json/cluster/resources", headers=pve.token_header())
        pve.count("GET", "/cluster/resources")

    with FakePVE(make_cluster(nodes=2, guests=4, templates=2), task_seconds=0.01) as pve:
        upid = requests.post(pve.url + "/api2/json/nodes/pve1/qemu/104/clone", data={"newid": 200},
                             headers=pve.token_header()).json()["data"]
        pve.wait(upid)
        pve.guest_config(200)["scsi0"]  # 'local-lvm:base-104-disk-0/vm-200-disk-0,iothread=1,size=32G'
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from fakes import FakeHandler, FakeServer

SCHEMA_PATH = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "pve-apidata-subset.json"
API_PREFIX = "/api2/json"

USER = "root@pam"
PASSWORD = "fake-root-password"
TOKEN_NAME = "inventory"
TOKEN_SECRET = "3f1a9d4e-6b2c-4e8f-9a7d-0c5b8e2f1d63"

PVE_VERSION = {"version": "9.1.3", "release": "9.1", "repoid": "e5010dce", "console": "html5"}

# Agent faults a running QEMU guest can have: (HTTP status, message) as PVE answers
# GET .../agent/network-get-interfaces. "error_result" is the 200 answer some agents give
# (an error object instead of the interface list); "no_agent" is a guest whose config has
# the agent switched off.
AGENT_FAULTS = {
    "not_running": (500, "QEMU guest agent is not running"),
    "unsupported": (500, "VM {vmid} qmp command 'guest-network-get-interfaces' failed - "
                         "this feature or command is not currently supported (Unsupported)"),
    "disabled": (500, "VM {vmid} qmp command 'guest-network-get-interfaces' failed - "
                      "The command guest-network-get-interfaces has been disabled for this instance (CommandDisabled)"),
    "timeout": (500, "VM {vmid} qmp command 'guest-network-get-interfaces' failed - got timeout"),
    "error_result": (200, None),
    "no_agent": (500, "No QEMU guest agent configured"),
}

_PATH_PARAMS = {
    "node": {"type": "string", "format": "pve-node", "description": "The cluster node name."},
    "vmid": {"type": "integer", "format": "pve-vmid", "minimum": 100, "maximum": 999999999,
             "description": "The (unique) ID of the VM."},
}

QEMU_DRIVES = (["ide%d" % n for n in range(4)] + ["scsi%d" % n for n in range(31)] + ["virtio%d" % n for n in range(16)]
               + ["sata%d" % n for n in range(6)] + ["efidisk0", "tpmstate0"])
LXC_VOLUMES = ["rootfs"] + ["mp%d" % n for n in range(256)]

_SKIPLOCK = {"type": "boolean", "optional": 1, "description": "Ignore locks - only root is allowed to use this option."}
_DIGEST = {"type": "string", "maxLength": 40, "optional": 1,
           "description": "Prevent changes if current configuration file has different SHA1 digest. "
                          "This can be used to prevent concurrent modifications."}
_SIZE = {"type": "string", "pattern": r"\+?\d+(\.\d+)?[KMGT]?",
         "description": "The new size. With the `+` sign the value is added to the actual size of the volume and without it, "
                        "the value is taken as an absolute one. Shrinking disk size is not supported."}
_TASK_ID = {"type": "string", "description": "the task ID."}


def _write_method(method, name, description, properties, returns=None):
    """One method of EXTRA_SCHEMA: the path parameters plus ``properties``, answering a task UPID."""
    return {method: {"method": method, "name": name, "description": description + " (fake extra)", "protected": 1,
                     "proxyto": "node", "parameters": {"additionalProperties": 0, "properties": dict(_PATH_PARAMS, **properties)},
                     "returns": returns or {"type": "string"}}}


# Endpoints beyond the contract subset, written after the PVE API viewer: the reads the
# community.proxmox baseline of the benchmark uses, and the writes the subset lacks.
EXTRA_SCHEMA = [
    {
        "path": "/nodes/{node}/%s/{vmid}/snapshot" % kind,
        "info": {"GET": {
            "method": "GET", "name": "snapshot_list", "description": "List all snapshots (fake extra).",
            "parameters": {"additionalProperties": 0, "properties": dict(_PATH_PARAMS)},
            "returns": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "description": {"type": "string"},
                "parent": {"type": "string", "optional": 1}, "snaptime": {"type": "integer", "optional": 1},
            }}},
        }},
    }
    for kind in ("qemu", "lxc")
] + [
    {
        "path": "/pools/{poolid}",
        "info": {"GET": {
            "method": "GET", "name": "read_pool", "description": "Get pool configuration (deprecated upstream; fake extra).",
            "parameters": {"additionalProperties": 0, "properties": {
                "poolid": {"type": "string", "format": "pve-poolid"},
                "type": {"type": "string", "enum": ["qemu", "lxc", "storage"], "optional": 1},
            }},
            "returns": {"type": "object", "properties": {
                "comment": {"type": "string", "optional": 1}, "members": {"type": "array"},
            }},
        }},
    },
    {"path": "/nodes/{node}/qemu/{vmid}/resize", "info": _write_method("PUT", "resize_vm", "Extend volume size.", {
        "skiplock": _SKIPLOCK, "disk": {"type": "string", "enum": QEMU_DRIVES, "description": "The disk you want to resize."},
        "size": _SIZE, "digest": _DIGEST}, _TASK_ID)},
    {"path": "/nodes/{node}/lxc/{vmid}/resize", "info": _write_method("PUT", "resize_vm", "Resize a container mount point.", {
        "disk": {"type": "string", "enum": LXC_VOLUMES, "description": "The disk you want to resize."},
        "size": _SIZE, "digest": _DIGEST}, _TASK_ID)},
    {"path": "/nodes/{node}/lxc/{vmid}/clone", "info": _write_method("POST", "clone_vm", "Create a container clone/copy", {
        "newid": dict(_PATH_PARAMS["vmid"], description="VMID for the clone."),
        "hostname": {"type": "string", "format": "dns-name", "optional": 1, "description": "Set a hostname for the new CT."},
        "description": {"type": "string", "optional": 1, "description": "Description for the new CT."},
        "full": {"type": "boolean", "optional": 1, "description": "Create a full copy of all disks. This is always done when you clone a "
                 "normal CT. For CT templates, we try to create a linked clone by default."},
        "pool": {"type": "string", "format": "pve-poolid", "optional": 1, "description": "Add the new CT to the specified pool."},
        "snapname": {"type": "string", "format": "pve-configid", "maxLength": 40, "optional": 1, "description": "The name of the snapshot."},
        "storage": {"type": "string", "format": "pve-storage-id", "optional": 1, "description": "Target storage for full clone."},
        "target": {"type": "string", "format": "pve-node", "optional": 1,
                   "description": "Target node. Only allowed if the original VM is on shared storage."},
        "bwlimit": {"type": "number", "minimum": 0, "optional": 1, "description": "Override I/O bandwidth limit (in KiB/s)."}})},
    {"path": "/nodes/{node}/lxc/{vmid}", "info": _write_method("DELETE", "destroy_vm", "Destroy the container (also delete all uses files).", {
        "force": {"type": "boolean", "default": 0, "optional": 1, "description": "Force destroy, even if running."},
        "purge": {"type": "boolean", "default": 0, "optional": 1, "description": "Remove container from all related configurations. "
                  "For example, backup jobs, replication jobs or HA. Related ACLs and Firewall entries will *always* be removed."},
        "destroy-unreferenced-disks": {"type": "boolean", "optional": 1, "description": "If set, destroy additionally all disks with the "
                                       "VMID from all enabled storages which are not referenced in the config."}})},
    {"path": "/nodes/{node}/lxc/{vmid}/status/start", "info": _write_method("POST", "vm_start", "Start the container.", {
        "skiplock": _SKIPLOCK,
        "debug": {"type": "boolean", "default": 0, "optional": 1, "description": "If set, enables very verbose debug log-level on start."}})},
    {"path": "/nodes/{node}/lxc/{vmid}/status/stop", "info": _write_method("POST", "vm_stop", "Stop the container.", {
        "skiplock": _SKIPLOCK,
        "overrule-shutdown": {"type": "boolean", "default": 0, "optional": 1,
                              "description": "Try to abort active 'vzshutdown' tasks before stopping."}})},
    {"path": "/nodes/{node}/lxc/{vmid}/status/shutdown", "info": _write_method("POST", "vm_shutdown", "Shutdown the container.", {
        "timeout": {"type": "integer", "minimum": 0, "default": 60, "optional": 1, "description": "Wait maximal timeout seconds."},
        "forceStop": {"type": "boolean", "default": 0, "optional": 1, "description": "Make sure the Container stops."}})},
]

_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_BOOLEAN = re.compile(r"(?i)1|0|true|false|yes|no|on|off")
_URLENCODED = re.compile(r"[-%a-zA-Z0-9_.!~*'()]*")
_UPID = re.compile(r"UPID:([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s]+):([^:\s]*):([^:\s]+):")
_QEMU_DRIVE = re.compile(r"ide[0-3]|scsi(\d|[12]\d|30)|virtio(\d|1[0-5])|sata[0-5]|efidisk0|tpmstate0")
_LXC_VOLUME = re.compile(r"rootfs|mp\d+")
_UNUSED = re.compile(r"unused\d+")
_NET = re.compile(r"net(\d+)")
_NEW_DISK = re.compile(r"(?:([^/:\s]+):)?(\d+(?:\.\d+)?)")
_SIZE_TEXT = re.compile(r"(\d+(?:\.\d+)?)([KMGT])?")
_UNITS = {None: 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}
# What ``ssh-keygen -l`` (PVE's validate_ssh_public_keys) accepts, near enough: [options] type base64 [comment].
_SSH_KEY = re.compile(r"(\S+\s+)?(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)"
                      r"\s+[A-Za-z0-9+/]+={0,3}(\s.*)?")
_NET_MODELS = {"e1000", "e1000-82540em", "e1000-82544gc", "e1000-82545em", "e1000e", "i82551", "i82557b", "i82559er", "ne2k_isa",
               "ne2k_pci", "pcnet", "rtl8139", "virtio", "vmxnet3"}
_LXC_OSTYPES = {"debian", "devuan", "ubuntu", "centos", "fedora", "opensuse", "archlinux", "alpine", "gentoo", "nixos"}
# Keys of the create and update calls that steer the call and are not written to the config.
_QEMU_CREATE_ONLY = {"node", "vmid", "archive", "storage", "force", "unique", "live-restore", "pool", "bwlimit", "start",
                     "import-working-storage", "ha-managed"}
_LXC_CREATE_ONLY = {"node", "vmid", "ostemplate", "password", "storage", "force", "restore", "pool", "ignore-unpack-errors",
                    "ssh-public-keys", "bwlimit", "start", "unique", "ha-managed", "unprivileged"}


# The cluster model

@dataclass
class Node:
    """One hypervisor: name, address (as /cluster/status reports it), corosync id, online."""

    name: str
    ip: str
    nodeid: int
    online: bool = True


@dataclass
class Guest:
    """One QEMU VM or LXC container and what the API reports about it.

    ``interfaces``: (name, MAC, [IPv4 "addr/prefix"], [IPv6 "addr/prefix"]) as the guest
    agent or the container reports them. ``agent_fault``: a key of AGENT_FAULTS or None.
    ``config``: the stored configuration, made from the other fields when first needed
    (``initial_config``) and changed by writes; ``absorb`` copies it back into name, tags,
    cores, maxmem, template, agent and ``maxdisk`` (None: the default 32 GiB/8 GiB).
    """

    vmid: int
    type: str
    name: str | None
    node: str
    status: str = "running"
    template: bool = False
    tags: str = ""
    pool: str | None = None
    agent: bool = True
    agent_fault: str | None = None
    maxmem: int = 2 * 1024 ** 3
    cores: int = 2
    interfaces: list = field(default_factory=list)
    maxdisk: int | None = None
    config: dict | None = field(default=None, repr=False, compare=False)


@dataclass
class Cluster:
    """A whole cluster: nodes, guests and pools (name -> comment)."""

    name: str
    nodes: list
    guests: list
    pools: dict

    def node(self, name):
        """The Node called ``name`` or None."""
        return next((node for node in self.nodes if node.name == name), None)

    def guest(self, vmid):
        """The Guest with this VMID or None."""
        return next((guest for guest in self.guests if guest.vmid == int(vmid)), None)

    def status_of(self, guest):
        """The status the API reports: 'unknown' for every guest of an offline node."""
        node = self.node(guest.node)
        return guest.status if node is not None and node.online else "unknown"


ROLES = ("web", "db", "cache", "mq", "app", "ci-runner", "media", "dns", "proxy", "monitor")


def guest_interfaces(vmid, tailscale=False, docker=False):
    """The interfaces of a guest: lo, eth0 (10.20.x.y/16, link-local and ULA IPv6) and,
    optionally, docker0 and tailscale0 (100.64.x.y, the address a preference CIDR picks)."""
    high, low = (vmid >> 8) & 255, vmid & 255
    mac = "bc:24:11:%02x:%02x:%02x" % ((vmid >> 16) & 255, high, low)
    interfaces = [
        ("lo", "00:00:00:00:00:00", ["127.0.0.1/8"], ["::1/128"]),
        ("eth0", mac, ["10.20.%d.%d/16" % (high, low)], ["fd00:20::%x/64" % vmid, "fe80::be24:11ff:fe%02x:%02x%02x/64" % (high, high, low)]),
    ]
    if docker:
        interfaces.append(("docker0", "02:42:ac:11:00:01", ["172.17.0.1/16"], []))
    if tailscale:
        interfaces.append(("tailscale0", "", ["100.64.%d.%d/32" % (high, low)], ["fd7a:115c:a1e0::%x/128" % vmid]))
    return interfaces


def make_cluster(nodes=10, guests=1000, running=0.7, lxc_share=0.4, offline_nodes=(), duplicate_names=0,
                 templates=0, agent_faults=None, unnamed=0, first_vmid=100, name="homelab"):
    """A deterministic cluster model: the same arguments give the same cluster.

    ``nodes`` hypervisors ``pve1``..``pveN`` (``offline_nodes``: names, or a number of
    nodes counted from the last); ``guests`` non-template guests spread round-robin over
    the nodes, the share ``running`` running (the rest stopped) and ``lxc_share`` of them
    containers. Every third guest also has a Tailscale address, every seventh a docker0.
    ``duplicate_names``: that many guests at the end take the name of a guest at the start.
    ``templates``: extra stopped template guests. ``unnamed``: that many guests without a
    usable name. ``agent_faults``: {AGENT_FAULTS key: count} given to running QEMU guests
    of online nodes, in VMID order. Every guest has the QEMU agent enabled unless it got
    the ``no_agent`` fault. Pools: every fourth guest is in ``prod``, the next in ``lab``.
    """
    node_list = [Node("pve%d" % number, "192.168.10.%d" % (10 + number), number) for number in range(1, nodes + 1)]
    if isinstance(offline_nodes, int):
        offline_nodes = [node.name for node in node_list[len(node_list) - offline_nodes:]] if offline_nodes else []
    for node in node_list:
        node.online = node.name not in set(offline_nodes)

    guest_list = []
    running_slots = round(running * 10)
    lxc_slots = round(lxc_share * 10)
    for index in range(guests):
        vmid = first_vmid + index
        role = ROLES[index % len(ROLES)]
        kind = "lxc" if (index * 3) % 10 < lxc_slots else "qemu"
        status = "running" if (index * 7) % 10 < running_slots else "stopped"
        pool = {0: "prod", 1: "lab"}.get(index % 4)
        tags = [role, "prod" if pool == "prod" else "lab"]
        if index % 10 == 0:
            tags.append("backup")
        guest_list.append(Guest(
            vmid=vmid, type=kind, name="%s-%03d" % (role, index), node=node_list[index % nodes].name,
            status=status, tags=";".join(tags), pool=pool,
            maxmem=(1 + index % 8) * 1024 ** 3, cores=1 + index % 4,
            interfaces=guest_interfaces(vmid, tailscale=index % 3 == 0, docker=index % 7 == 0),
        ))
    for offset in range(duplicate_names):
        guest_list[-1 - offset].name = guest_list[offset].name
    for offset in range(unnamed):
        guest_list[len(guest_list) // 2 + offset].name = None if offset % 2 == 0 else "___"
    for number in range(templates):
        vmid = first_vmid + guests + number
        guest_list.append(Guest(vmid=vmid, type="qemu" if number % 2 == 0 else "lxc", name="tpl-debian-%d" % number,
                                node=node_list[number % nodes].name, status="stopped", template=True, tags="template"))

    online = {node.name for node in node_list if node.online}
    candidates = [g for g in guest_list if g.type == "qemu" and g.status == "running" and not g.template and g.node in online]
    position = 0
    for kind, count in (agent_faults or {}).items():
        if kind not in AGENT_FAULTS:
            raise ValueError("unknown agent fault %r (known: %s)" % (kind, ", ".join(AGENT_FAULTS)))
        for guest in candidates[position:position + count]:
            guest.agent_fault = kind
            guest.agent = kind != "no_agent"
        position += count
    return Cluster(name=name, nodes=node_list, guests=guest_list, pools={"prod": "Production services", "lab": "Experiments"})


# Guest configurations, as qemu-server and pve-container store them

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


def _true(value):
    """A boolean parameter as PVE reads it."""
    return value is True or (value is not None and value is not False and str(value).lower() in ("1", "on", "yes", "true"))


def _options(value):
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


def _render(head, options, first=()):
    """A property string as PVE prints it: the leading value, required keys (``first``), then the rest sorted."""
    keys = [key for key in first if key in options] + sorted(key for key in options if key not in first)
    return ",".join(([head] if head else []) + ["%s=%s" % (key, options[key]) for key in keys])


def _volume_keys(kind, config):
    """The config keys that hold volumes: drives (QEMU) or mount points (LXC), and unused volumes."""
    pattern = _QEMU_DRIVE if kind == "qemu" else _LXC_VOLUME
    return [key for key in config if pattern.fullmatch(key) or _UNUSED.fullmatch(key)]


def _free_disk(config, kind, storage, vmid):
    """PVE's find_free_diskname: the lowest N with no 'vm-VMID-disk-N' (or base-) volume of this storage."""
    used = set()
    for key in _volume_keys(kind, config):
        head = _options(config[key])[0] or ""
        if head.startswith(storage + ":"):
            found = re.fullmatch(r"(?:vm|base)-%d-disk-(\d+)(\.\w+)?" % vmid, head.rsplit("/", 1)[-1].split(":", 1)[-1])
            if found:
                used.add(int(found.group(1)))
    return min(set(range(len(used) + 1)) - used)


def _detach(config, value):
    """Keep a drive's volume as the next free unusedN, as PVE does with a removed or replaced disk."""
    head, options = _options(value)
    if not head or ":" not in head or options.get("media") == "cdrom" or head.endswith("-cloudinit"):
        return
    number = 0
    while "unused%d" % number in config:
        number += 1
    config["unused%d" % number] = head


def _mac(vmid, index=0):
    """A MAC address in PVE's default range BC:24:11, the one guest_interfaces gives eth0 for index 0."""
    return "BC:24:%02X:%02X:%02X:%02X" % (0x11 + index, (vmid >> 16) & 255, (vmid >> 8) & 255, vmid & 255)


def _qemu_net(value, mac, new_mac=False):
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
    return _render("%s=%s" % (model, mac if new_mac or not macaddr else macaddr.upper()), options)


def _lxc_net(value, mac, new_mac=False):
    """An LXC NIC as pve-container prints it: name first, a hwaddr (made up when none is given) and type=veth."""
    options = _options(value)[1]
    if new_mac or not options.get("hwaddr"):
        options["hwaddr"] = mac
    options["type"] = "veth"
    return _render(None, options, ("name",))


def _ostype(ostemplate):
    """The ostype pve-container detects, guessed from the template's file name."""
    name = str(ostemplate).rsplit("/", 1)[-1].lower()
    distribution = re.split(r"[-_.]", name.partition(":")[2] or name)[0]
    distribution = {"rockylinux": "centos", "almalinux": "centos", "arch": "archlinux"}.get(distribution, distribution)
    return distribution if distribution in _LXC_OSTYPES else "unmanaged"


def coerce(properties, key, value):
    """A value as PVE's config parser types it (check_type): integers, numbers and booleans as numbers."""
    schema = _property_schema(properties, key) or {}
    kind = schema.get("type")
    if isinstance(value, bool):
        value = int(value)
    text = str(value)
    if kind == "boolean" and _BOOLEAN.fullmatch(text):
        return int(_true(text))
    if kind == "integer" and _INTEGER.fullmatch(text):
        return int(text)
    if kind == "number" and _NUMBER.fullmatch(text):
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
                       "smbios1": "uuid=%s" % _uuid(guest.vmid), "vmgenid": _uuid(guest.vmid + 1)})
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
    head, options = _options(value)
    current = str(value) if kind == "lxc" else (head if head is not None else options.get("current", "512"))
    return int(current) if _INTEGER.fullmatch(current) else 512


def agent_enabled(config):
    """Whether a QEMU config enables the guest agent ('1' or 'enabled=1,...')."""
    head, options = _options(config.get("agent", "0"))
    return _true(head if head is not None else options.get("enabled", "0"))


def disk_size(kind, config):
    """The size of the disk PVE reports as maxdisk: the rootfs, or the first disk of the boot order; None if unknown."""
    keys = ["rootfs"]
    if kind == "qemu":
        boot = _options(config.get("boot", ""))[1].get("order", "")
        keys = split_list(boot) + [key for key in QEMU_DRIVES if key not in ("efidisk0", "tpmstate0")]
    for key in keys:
        if key in config and (kind == "lxc" or _QEMU_DRIVE.fullmatch(key)):
            options = _options(config[key])[1]
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
    guest.template = _true(config.get("template"))
    if guest.type == "qemu":
        guest.agent = agent_enabled(config)
    guest.maxdisk = disk_size(guest.type, config)


def _is_base(volume):
    """Whether a volume is a template's base volume (the only kind a linked clone can use)."""
    return volume.partition(":")[2].rsplit("/", 1)[-1].startswith("base-")


def _cdrom(value):
    """The 'cdrom' alias: an ide2 CD-ROM drive."""
    return value if "media=" in str(value) else "%s,media=cdrom" % value


def _default_boot(config):
    """PVE's boot order for a new VM without one: the first disk, the first CD-ROM, the first NIC."""
    disk = cdrom = None
    for key in QEMU_DRIVES[:-2]:
        if key in config:
            if _options(config[key])[1].get("media") == "cdrom":
                cdrom = cdrom or key
            else:
                disk = disk or key
    nets = sorted((key for key in config if _NET.fullmatch(key)), key=lambda key: int(key[3:]))
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
    if _true(config.get("template")) != guest.template:
        if guest.template:
            config["template"] = 1
        else:
            config.pop("template", None)
    if guest.type == "qemu" and agent_enabled(config) != guest.agent:
        if guest.agent:
            config["agent"] = "1"
        else:
            config.pop("agent", None)


# The schema

class Schema:
    """The API tree as routes: (regex, path template, {METHOD: method schema})."""

    def __init__(self, tree, extras=()):
        # {path template: {METHOD: method schema}}; an extra adds methods to a path the tree has.
        self.methods = {}
        stack = list(tree) + list(extras)
        while stack:
            entry = stack.pop()
            stack.extend(entry.get("children") or [])
            self.methods.setdefault(entry["path"], {}).update(entry.get("info") or {})
        self.routes = []
        for path, info in self.methods.items():
            pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
            self.routes.append((re.compile(pattern), path, info))
        # Literal segments win over parameters, as in PVE's router.
        self.routes.sort(key=lambda route: route[1].count("{"))
        self._config_properties = {}

    @classmethod
    def load(cls, path=SCHEMA_PATH, extras=EXTRA_SCHEMA):
        """The schema of the fixture file, plus the fake's extras."""
        return cls(json.loads(pathlib.Path(path).read_text(encoding="utf-8")), extras)

    def match(self, path):
        """(template, methods, path parameters) for an API path, or None."""
        for pattern, template, info in self.routes:
            found = pattern.fullmatch(path)
            if found:
                return template, info, {key: unquote(value) for key, value in found.groupdict().items()}
        return None

    def config_properties(self, kind):
        """The properties GET .../{kind}/{vmid}/config returns: their types type the stored configs."""
        if kind not in self._config_properties:
            info = self.methods.get("/nodes/{node}/%s/{vmid}/config" % kind, {}).get("GET") or {}
            self._config_properties[kind] = (info.get("returns") or {}).get("properties") or {}
        return self._config_properties[kind]


def _property_schema(properties, name):
    if name in properties:
        return properties[name]
    # "net[n]" in PVE's schema stands for net0, net1, ...
    indexed = re.fullmatch(r"([a-z_-]+?)(\d+)", name)
    if indexed:
        return properties.get(indexed.group(1) + "[n]")
    return None


def check_parameters(parameters, values):
    """PVE's parameter verification: {name: message} for every problem, empty when fine."""
    properties = parameters.get("properties") or {}
    errors = {}
    for name, value in values.items():
        schema = _property_schema(properties, name)
        if schema is None:
            if not parameters.get("additionalProperties"):
                errors[name] = "property is not defined in schema and the schema does not allow additional properties"
            continue
        problem = _check_value(schema, value)
        if problem:
            errors[name] = problem
    for name, schema in properties.items():
        if "[n]" in name:
            continue
        if name not in values and not schema.get("optional"):
            errors[name] = "property is missing and it is not optional"
        if name in values and schema.get("requires") and schema["requires"] not in values:
            errors[schema["requires"]] = "missing property - '%s' requires this property" % name
    return errors


def _check_value(schema, value):
    text = ("1" if value else "0") if isinstance(value, bool) else str(value)
    kind = schema.get("type", "string")
    if kind == "integer" and not _INTEGER.fullmatch(text):
        return "type check ('integer') failed - got '%s'" % text
    if kind == "number" and not _NUMBER.fullmatch(text):
        return "type check ('number') failed - got '%s'" % text
    if kind == "boolean" and not _BOOLEAN.fullmatch(text):
        return "type check ('boolean') failed - got '%s'" % text
    # Of the formats only 'urlencoded' is checked (QEMU's sshkeys must come URL-encoded).
    if schema.get("format") == "urlencoded" and not _URLENCODED.fullmatch(text):
        return "invalid format - invalid urlencoded string: %s\n" % text
    if kind in ("integer", "number"):
        number = float(text)
        if "minimum" in schema and number < schema["minimum"]:
            return "value must have a minimum value of %s" % schema["minimum"]
        if "maximum" in schema and number > schema["maximum"]:
            return "value must have a maximum value of %s" % schema["maximum"]
    if "enum" in schema and text not in schema["enum"]:
        return "value '%s' does not have a value in the enumeration '%s'" % (text, ", ".join(schema["enum"]))
    if "maxLength" in schema and len(text) > schema["maxLength"]:
        return "value may only be %d characters long" % schema["maxLength"]
    if "minLength" in schema and len(text) < schema["minLength"]:
        return "value must be at least %d characters long" % schema["minLength"]
    if "pattern" in schema and not re.fullmatch(schema["pattern"], text):
        return "value does not match the regex pattern"
    return None


def check_returns(schema, data, where="data"):
    """Problems of an answer against a method's ``returns`` schema (a list, empty when fine).

    Checks types (PVE's booleans are 0/1), enums and required properties; properties the
    schema does not name are allowed, as in PVE's own return schemas.
    """
    problems = []
    kind = schema.get("type")
    if data is None:
        if kind not in (None, "null") and not schema.get("optional"):
            problems.append("%s: null where %s is expected" % (where, kind))
        return problems
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool) or v in (0, 1),
        "null": lambda v: v is None,
    }
    if kind in checks and not checks[kind](data):
        return ["%s: %r is not of type %s" % (where, data, kind)]
    if "enum" in schema and data not in schema["enum"]:
        problems.append("%s: %r is not one of %s" % (where, data, schema["enum"]))
    if kind == "array" and isinstance(schema.get("items"), dict):
        for index, item in enumerate(data):
            problems.extend(check_returns(schema["items"], item, "%s[%d]" % (where, index)))
    if kind == "object":
        properties = schema.get("properties") or {}
        for name, value in data.items():
            child = _property_schema(properties, name)
            if child is not None:
                problems.extend(check_returns(child, value, "%s.%s" % (where, name)))
        for name, child in properties.items():
            if "[n]" not in name and not child.get("optional") and name not in data:
                problems.append("%s: required property %r is missing" % (where, name))
    return problems


# The server

class _Task:
    """One worker task (or, without a UPID, a held lock): when it ends and what it does then.

    ``failure``: the exit status it ends with instead of doing ``effect`` (then ``rollback``
    runs). ``effect`` may return an exit status such as 'WARNINGS: 1'; None means 'OK'.
    """

    def __init__(self, upid, fields, ends, failure=None, effect=None, rollback=None):
        self.upid = upid
        self.fields = fields
        self.ends = ends
        self.failure = failure
        self.effect = effect
        self.rollback = rollback
        self.exitstatus = None

    def finish(self):
        """Do what the task does (or undo what it started) and note its exit status."""
        if self.failure is None:
            self.exitstatus = (self.effect() if self.effect else None) or "OK"
        else:
            if self.rollback:
                self.rollback()
            self.exitstatus = self.failure

    def status(self):
        """The answer of GET /nodes/{node}/tasks/{upid}/status (a token's user split off as tokenid)."""
        answer = dict(self.fields, upid=self.upid, status="running" if self.exitstatus is None else "stopped")
        if "!" in answer["user"]:
            answer["user"], answer["tokenid"] = answer["user"].split("!", 1)
        if self.exitstatus is not None:
            answer["exitstatus"] = self.exitstatus
        return answer


class ApiError(Exception):
    """An error answer: HTTP status, PVE's message and per-parameter errors."""

    def __init__(self, status, message, errors=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


class FakePVE(FakeServer):
    """The fake API server: a ThreadingHTTPServer on 127.0.0.1, an ephemeral port, a thread.

    ``cluster``: a Cluster (see make_cluster). ``latency``: seconds every answer waits,
    like the round trip to a real cluster. Credentials: the API token ``user!token_name``
    with ``token_secret``, and ``user`` with ``password`` for tickets.

    Every request is recorded in ``requests``: {method, path (below /api2/json), query,
    params (the query and body parameters as the client sent them, path parameters
    excluded; {} if the body could not be parsed), status, connection (the client's port)}.

    Writes: ``task_seconds`` is how long every task runs (wall time; a task's effect is
    applied by the first request, or ``settle``/``wait``/``guest_config`` call, after it
    ends). UPIDs look like PVE's: ``UPID:{node}:{pid:08X}:{pstart:08X}:{starttime:08X}:
    {type}:{id}:{user}:`` where ``user`` is the API token id (``root@pam!inventory``) or
    the ticket's user; ``id`` is the VMID (for a clone: the source's). Test controls:
    ``fail_task``, ``hold_lock``, ``writes``, ``add_guest``, ``guest_config``, ``tasks``,
    ``wait``, ``settle``; ``shared_storages`` (storage IDs that allow a clone to another
    node, default {'ceph'}), ``ha_resources`` and ``backup_jobs`` (sets of VMIDs a DELETE
    with ``purge`` removes the guest from; an HA resource also refuses DELETE without
    ``purge``). Storages are not checked: every storage ID is accepted and allocates
    volumes named as on LVM-thin (``STORAGE:vm-VMID-disk-N``).

    Faults (``fail``, ``malformed``, ``hang``: see FakeServer) take every request to a
    matching path unless ``times`` says otherwise; a hang then answers normally.
    """

    # _Handler is defined further down; the property looks it up when the fake starts.
    handler_class = property(lambda self: _Handler)
    thread_name = "fake-pve"
    fault_times = None
    hang_seconds = 5.0

    def __init__(self, cluster, latency=0.0, user=USER, password=PASSWORD, token_name=TOKEN_NAME,
                 token_secret=TOKEN_SECRET, schema=None, task_seconds=0.05):
        super().__init__()
        self.cluster = cluster
        self.latency = latency
        self.user = user
        self.password = password
        self.token_id = "%s!%s" % (user, token_name)
        self.token_secret = token_secret
        self.schema = schema or Schema.load()
        self.task_seconds = task_seconds
        self.shared_storages = {"ceph"}
        self.ha_resources = set()
        self.backup_jobs = set()
        self.tickets = {}
        self._task_faults = []
        self._tasks = {}
        self._pending = []
        self._serial = 0
        # Held while a request is answered and while tasks end: the cluster changes one write at a time.
        self.state = threading.RLock()

    def token_header(self):
        """The Authorization header of the valid API token."""
        return {"Authorization": "PVEAPIToken=%s=%s" % (self.token_id, self.token_secret)}

    # Test controls

    def reset(self):
        """Forget the recorded requests and pending faults (task faults too; tasks keep running)."""
        super().reset()
        with self._lock:
            self._task_faults.clear()

    def writes(self):
        """The recorded requests that are not GETs, the login (POST /access/ticket) left out."""
        with self._lock:
            return [dict(entry) for entry in self.requests
                    if entry["method"] != "GET" and (entry["method"], entry["path"]) != ("POST", "/access/ticket")]

    def fail_task(self, type_regex, message, times=1):
        """Make the next ``times`` tasks whose type matches ``type_regex`` (e.g. 'qmclone', 'qm.*')
        end with exit status ``message`` and without their effect: a failed create or clone
        leaves no guest, a failed start no running guest. ``times`` None: every such task."""
        with self._lock:
            self._task_faults.append([re.compile(type_regex), message, times])

    def take_task_fault(self, kind):
        """The exit status injected for the next task of this type, if fail_task asked for one."""
        with self._lock:
            for fault in self._task_faults:
                if (fault[2] is None or fault[2] > 0) and fault[0].fullmatch(kind):
                    if fault[2] is not None:
                        fault[2] -= 1
                    return fault[1]
        return None

    def hold_lock(self, vmid, name, seconds):
        """Put ``lock: name`` (e.g. 'backup') on a guest's config for ``seconds``, as a running
        vzdump would; writes PVE checks locks for are refused meanwhile."""
        with self.state:
            self.settle()
            guest = self.cluster.guest(vmid)
            if guest is None:
                raise KeyError("no guest %s" % vmid)
            config = stored_config(guest)
            config["lock"] = name

            def release():
                if guest.config.get("lock") == name:
                    del guest.config["lock"]
            self._pending.append(_Task(None, {}, time.monotonic() + seconds, effect=release))

    def add_guest(self, guest, config=None):
        """Add a guest (a template: ``Guest(..., template=True)``, it is stopped) to the cluster and
        return it. ``config``: its stored config (its name, tags, cores, memory, template and agent
        become the Guest's fields); None makes one from the Guest's fields (templates get base- volumes)."""
        with self.state:
            if self.cluster.guest(guest.vmid) is not None:
                raise ValueError("VMID %s is taken" % guest.vmid)
            if config is not None:
                properties = self.schema.config_properties(guest.type)
                guest.config = {key: coerce(properties, key, value) for key, value in config.items() if key != "digest"}
                absorb(guest)
            if guest.template:
                guest.status = "stopped"
            self.cluster.guests.append(guest)
            return guest

    def guest_config(self, vmid):
        """A copy of a guest's stored config with its ``digest`` (cipassword not masked), or None if there is no such guest."""
        with self.state:
            self.settle()
            guest = self.cluster.guest(vmid)
            if guest is None:
                return None
            config = stored_config(guest)
            return dict(config, digest=config_digest(config))

    def tasks(self):
        """The status (as GET .../tasks/{upid}/status answers it) of every task so far, oldest first."""
        with self.state:
            self.settle()
            return [task.status() for task in self._tasks.values()]

    def wait(self, upid, timeout=10.0):
        """Block until the task has ended; its status."""
        deadline = time.monotonic() + timeout
        while True:
            with self.state:
                self.settle()
                task = self._tasks[upid]
                if task.exitstatus is not None:
                    return task.status()
                pause = task.ends - time.monotonic()
            if time.monotonic() > deadline:
                raise TimeoutError("task %s still running" % upid)
            time.sleep(min(max(pause, 0.001), 0.05))

    def settle(self):
        """End every task (and held lock) whose time is up, in the order they end."""
        with self.state:
            if not self._pending:
                return
            now = time.monotonic()
            due = [task for task in self._pending if task.ends <= now]
            if due:
                self._pending = [task for task in self._pending if task.ends > now]
                for task in sorted(due, key=lambda task: task.ends):
                    task.finish()

    def start_task(self, node, kind, vmid, user, effect=None, rollback=None, failure=None):
        """Register a worker task (PVE's fork_worker); it ends ``task_seconds`` from now."""
        with self.state:
            failure = self.take_task_fault(kind) or failure
            self._serial += 1
            fields = {"node": node, "pid": 0x1000 + self._serial, "pstart": 0x4000000 + 97 * self._serial,
                      "starttime": int(time.time()), "type": kind, "id": str(vmid), "user": user}
            upid = "UPID:{node}:{pid:08X}:{pstart:08X}:{starttime:08X}:{type}:{id}:{user}:".format(**fields)
            task = _Task(upid, fields, time.monotonic() + self.task_seconds, failure, effect, rollback)
            self._tasks[upid] = task
            self._pending.append(task)
            return task

    def finish_now(self, task):
        """End a task at once (the API waited for it, as with background_delay)."""
        with self.state:
            if task in self._pending:
                self._pending.remove(task)
                task.finish()

    def task(self, upid):
        """The task with this UPID, or None."""
        return self._tasks.get(upid)

    # Authentication

    def issue_ticket(self, username):
        """A new ticket and CSRF token, shaped like PVE's."""
        ticket = "PVE:%s:%08X::%s" % (username, len(self.tickets) + 1, secrets.token_urlsafe(48))
        csrf = "%08X:%s" % (len(self.tickets) + 1, secrets.token_urlsafe(32))
        with self._lock:
            self.tickets[ticket] = csrf
        return {"username": username, "ticket": ticket, "CSRFPreventionToken": csrf, "clustername": self.cluster.name}

    def authenticate(self, headers, method):
        """Check the request's credentials like pveproxy: the user (a token: user!name); ApiError(401) when refused."""
        authorization = headers.get("Authorization") or ""
        if authorization.startswith("PVEAPIToken="):
            token_id, _sep, secret = authorization[len("PVEAPIToken="):].partition("=")
            user, _sep, name = token_id.partition("!")
            if token_id != self.token_id:
                raise ApiError(401, "no such token '%s' for user '%s'" % (name, user))
            if not secrets.compare_digest(secret, self.token_secret):
                raise ApiError(401, "invalid token value!")
            return token_id
        cookies = dict(part.strip().split("=", 1) for part in (headers.get("Cookie") or "").split(";") if "=" in part)
        ticket = cookies.get("PVEAuthCookie")
        if not ticket:
            raise ApiError(401, "No ticket")
        with self._lock:
            csrf = self.tickets.get(ticket)
        if csrf is None:
            raise ApiError(401, "invalid ticket")
        if method not in ("GET", "HEAD") and headers.get("CSRFPreventionToken") != csrf:
            raise ApiError(401, "Permission denied - invalid csrf token")
        return ticket.split(":")[1]


class _Handler(FakeHandler):
    # Headers and body leave in two writes; with Nagle's algorithm the body would wait for
    # the client's delayed ACK (40 ms on Linux), a stall pveproxy does not have.
    disable_nagle_algorithm = True
    server_version = "pve-api-daemon/3.0"
    sys_version = ""
    timeout = 60

    def handle_request(self):
        parts = urlsplit(self.path)
        body = self.read_body()
        path = parts.path[len(API_PREFIX):] if parts.path.startswith(API_PREFIX + "/") else None
        # "connection": the client's port, so tests can see how many connections were used.
        params, problem = request_params(parts.query, body, self.headers.get("Content-Type"))
        entry = {"method": self.command, "path": path if path is not None else parts.path, "query": parts.query,
                 "params": params, "status": None, "connection": self.client_address[1]}
        self.fake.record(entry)
        if self.fake.latency and self.fake.stopping.wait(self.fake.latency):
            return
        if path is None:
            entry["status"] = 404
            self._send(404, "Not Found", {"data": None})
            return
        fault = self.fake.take_fault(path)
        if fault is not None and fault.kind == "hang":
            self.fake.stopping.wait(fault.seconds)
        elif fault is not None and fault.kind == "malformed":
            entry["status"] = 200
            self._send_raw(200, "OK", b'{"data": [{"id": "qemu/100", "type": "qem')
            return
        elif fault is not None:
            message = fault.message or {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}.get(
                fault.status, "injected failure")
            entry["status"] = fault.status
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            self._send(fault.status, message, {"data": None, "message": message + "\n"}, headers)
            return
        try:
            data = _Api(self.fake, self.command, path, params, problem, self.headers).answer()
        except ApiError as error:
            entry["status"] = error.status
            answer = {"data": None, "message": error.message + ("\n" if error.status != 501 else "")}
            if error.errors:
                answer["errors"] = error.errors
            self._send(error.status, error.message, answer)
            return
        entry["status"] = 200
        self._send(200, "OK", {"data": data})

    def _send(self, status, reason, answer, headers=None):
        self._send_raw(status, reason, json.dumps(answer).encode(), headers)

    def _send_raw(self, status, reason, raw, headers=None):
        try:
            self.send_response(status, reason.splitlines()[0] if reason else None)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(raw)))
            self.send_header("Cache-Control", "max-age=0")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a hang it timed out on)


def request_params(query, body, content_type):
    """The parameters of a request's query and form or JSON body: (dict, None), or ({}, ApiError) if the body is malformed."""
    values = dict(parse_qsl(query, keep_blank_values=True))
    if body:
        if (content_type or "").split(";")[0].strip() == "application/json":
            try:
                decoded = json.loads(body)
            except ValueError as exc:
                return {}, ApiError(400, "malformed JSON body: %s" % exc)
            values.update(decoded if isinstance(decoded, dict) else {})
        else:
            values.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return values, None


class _Api:
    """One request through PVE's pipeline: route, authenticate, verify, answer."""

    def __init__(self, fake, method, path, params, problem, headers):
        self.fake = fake
        self.cluster = fake.cluster
        self.method = method
        self.path = path
        self.params = params
        self.problem = problem
        self.headers = headers
        self.user = None

    def answer(self):
        found = self.fake.schema.match(self.path)
        if found is None or self.method not in found[1]:
            raise ApiError(501, "Method '%s %s' not implemented" % (self.method, self.path))
        template, info, path_params = found
        method_schema = info[self.method]
        # Only methods open to the "world" (the login) go without credentials.
        if method_schema.get("permissions", {}).get("user") != "world":
            self.user = self.fake.authenticate(self.headers, self.method)
        if self.problem is not None:
            raise self.problem
        params = dict(self.params, **path_params)
        errors = check_parameters(method_schema.get("parameters") or {}, params)
        if errors:
            raise ApiError(400, "Parameter verification failed.", errors)
        handler = getattr(self, "_%s_%s" % (self.method.lower(), re.sub(r"[^a-z]+", "_", template.lower()).strip("_")), None)
        if handler is None:
            raise ApiError(501, "Method '%s %s' not implemented by the fake" % (self.method, self.path))
        with self.fake.state:
            self.fake.settle()
            return handler(**params)

    # Lookups shared by the handlers

    def _node(self, node):
        found = self.cluster.node(node)
        if found is None:
            raise ApiError(595, "hostname lookup '%s' failed - failed to get address info for: %s: Name or service not known" % (node, node))
        if not found.online:
            raise ApiError(595, "No route to host")
        return found

    def _guest(self, node, vmid, kind):
        self._node(node)
        guest = self.cluster.guest(vmid)
        if guest is None or guest.node != node or guest.type != kind:
            folder = "qemu-server" if kind == "qemu" else "lxc"
            raise ApiError(500, "Configuration file 'nodes/%s/%s/%s.conf' does not exist" % (node, folder, vmid))
        return guest

    def _param_error(self, name, message):
        raise ApiError(400, "Parameter verification failed.", {name: message})

    def _lock_problem(self, guest, skiplock=False, ignore=()):
        """PVE's check_lock as the message it dies with, or None."""
        lock = stored_config(guest).get("lock")
        if lock and not skiplock and lock not in ignore:
            return "%s %s is locked (%s)" % ("VM" if guest.type == "qemu" else "CT", guest.vmid, lock)
        return None

    def _check_lock(self, guest, skiplock=False):
        problem = self._lock_problem(guest, skiplock)
        if problem:
            raise ApiError(500, problem)

    def _check_pool(self, pool):
        if pool is not None and pool not in self.cluster.pools:
            raise ApiError(500, "pool '%s' does not exist" % pool)

    def _refuse_taken(self, vmid, prefix=""):
        """PVE's check_vmid_unused: a VMID is unique in the whole cluster."""
        existing = self.cluster.guest(vmid)
        if existing is not None:
            raise ApiError(500, "%s%s %s already exists on node '%s'" % (prefix, "VM" if existing.type == "qemu" else "CT", vmid, existing.node))

    @staticmethod
    def _check_ssh_keys(keys, encoded):
        """PVE's validate_ssh_public_keys (QEMU's sshkeys are URL-decoded first)."""
        if keys is None:
            return
        for line in (unquote(str(keys)) if encoded else str(keys)).split("\n"):
            if line.strip() and not _SSH_KEY.fullmatch(line.strip()):
                raise ApiError(500, "SSH public key validation error")

    @staticmethod
    def _check_new_disks(kind, values, default_storage):
        for key, value in values.items():
            if (_QEMU_DRIVE if kind == "qemu" else _LXC_VOLUME).fullmatch(key):
                found = _NEW_DISK.fullmatch(_options(value)[0] or "")
                if found and not found.group(1) and not default_storage:
                    raise ApiError(500, "no storage ID specified (and no default storage)")

    def _task(self, node, kind, vmid, effect=None, rollback=None, failure=None):
        return self.fake.start_task(node, kind, vmid, self.user, effect, rollback, failure).upid

    def _alive(self, guest):
        return any(other is guest for other in self.cluster.guests)

    def _remove(self, guest):
        self.cluster.guests[:] = [other for other in self.cluster.guests if other is not guest]

    @staticmethod
    def _start(guest):
        """A guest that starts; one without interfaces gets the generated ones, so it has an address."""
        guest.status = "running"
        if not guest.interfaces:
            guest.interfaces = guest_interfaces(guest.vmid)

    @staticmethod
    def _stop(guest):
        guest.status = "stopped"

    def _allocate(self, guest, config, key, value, default_storage=None):
        """A drive or mount point: a new disk ('STORAGE:SIZE_GiB[,opts]', 'STORAGE:cloudinit') allocated and
        named as PVE does on LVM-thin, with size=; any other value printed back as PVE prints it."""
        first = ("mp",) if guest.type == "lxc" else ()
        head, options = _options(value)
        found = _NEW_DISK.fullmatch(head or "")
        cloudinit = guest.type == "qemu" and (head or "").endswith(":cloudinit")
        if not found and not cloudinit:
            return _render(head, options, first)
        storage = (head.rpartition(":")[0] if cloudinit else found.group(1)) or default_storage
        if not storage:
            raise ApiError(500, "no storage ID specified (and no default storage)")
        options.pop("format", None)
        if cloudinit:
            options.pop("size", None)
            options["media"] = "cdrom"
            return _render("%s:vm-%d-cloudinit" % (storage, guest.vmid), options)
        size = int(float(found.group(2)) * 1024 ** 3)
        if options.pop("import-from", None) is not None:
            size = 2 * 1024 ** 3  # the fake's imported images are 2 GiB
        if key in ("efidisk0", "tpmstate0"):
            size = 4 * 1024 ** 2
        number = _free_disk(config, guest.type, storage, guest.vmid)
        options["size"] = format_size(size)
        return _render("%s:%s-%d-disk-%d" % (storage, "base" if guest.template else "vm", guest.vmid, number), options, first)

    def _store(self, guest, config, key, value, default_storage=None):
        """Set one option in a config the way PVE stores it."""
        net = _NET.fullmatch(key)
        if (_QEMU_DRIVE if guest.type == "qemu" else _LXC_VOLUME).fullmatch(key):
            config[key] = self._allocate(guest, config, key, value, default_storage)
        elif net:
            config[key] = (_qemu_net if guest.type == "qemu" else _lxc_net)(value, _mac(guest.vmid, int(net.group(1))))
        elif key == "tags":
            config[key] = unique_tags(value)
            if not config[key]:
                del config[key]
        elif key == "vmgenid" and str(value) == "1":
            config[key] = _uuid(time.monotonic_ns())
        else:
            config[key] = coerce(self.fake.schema.config_properties(guest.type), key, value)

    def _apply(self, guest, deletes, values, force=False):
        """Delete and set options as qemu-server and pve-container do: a removed or replaced disk
        stays as unusedN (QEMU's force drops it), then the Guest's fields follow the config."""
        if not self._alive(guest):
            return
        config = stored_config(guest)
        volume = _QEMU_DRIVE if guest.type == "qemu" else _LXC_VOLUME
        for key in deletes:
            if key in config:  # PVE only warns about options that are not set
                value = config.pop(key)
                if volume.fullmatch(key) and not force:
                    _detach(config, value)
        for key in sorted(values):
            old = config.get(key)
            self._store(guest, config, key, values[key])
            if old is not None and volume.fullmatch(key) and _options(old)[0] != _options(config[key])[0]:
                _detach(config, old)
        absorb(guest)

    def _deletes(self, kind, delete, revert, values):
        """The options of ``delete``, checked as PVE does (pending changes are not modelled: revert does nothing)."""
        properties = self.fake.schema.config_properties(kind)
        reverted = split_list(revert)
        for key in reverted:
            if _property_schema(properties, key) is None:
                self._param_error("revert", "unknown option '%s'" % key)
            if key in values:
                self._param_error("delete", "you can't use '-%s' and -revert %s' at the same time" % (key, key))
        deletes = []
        for key in split_list(delete):
            key = "ide2" if key == "cdrom" and kind == "qemu" else key
            if key in values:
                self._param_error("delete", "you can't use '-%s' and -delete %s' at the same time" % (key, key))
            if key in reverted:
                self._param_error("revert", "you can't use '-delete %s' and -revert %s' at the same time" % (key, key))
            if _property_schema(properties, key) is None:
                self._param_error("delete", "unknown option '%s'" % key)
            deletes.append(key)
        return deletes

    @staticmethod
    def _new_size(kind, config, disk, size, shrink):
        """(the new size in bytes, None if unchanged; the problem or None) of a resize request."""
        if not config.get(disk):
            return None, "disk '%s' does not exist" % disk
        options = _options(config[disk])[1]
        if kind == "qemu" and options.get("media") == "cdrom":
            return None, "you can't resize a cdrom"
        current = parse_size(options.get("size", "0")) or 0
        requested = parse_size(str(size).lstrip("+"))
        new = current + requested if str(size).startswith("+") else requested
        if new < current:
            return None, shrink
        return (new if new != current else None), None

    def _set_size(self, guest, disk, size):
        if size is not None and self._alive(guest) and disk in guest.config:
            head, options = _options(guest.config[disk])
            options["size"] = format_size(size)
            guest.config[disk] = _render(head, options, ("mp",) if guest.type == "lxc" else ())
            absorb(guest)

    def _clone_target(self, node, target, pool):
        self._check_pool(pool)
        if target in (None, node, "localhost"):
            return None
        if self.cluster.node(target) is None:
            raise ApiError(500, "no such cluster node '%s'" % target)
        return target

    def _shared(self, guest, storage=None):
        """Whether every volume of the guest (moved to ``storage`` if given) is on shared storage."""
        for key in _volume_keys(guest.type, guest.config):
            head = _options(guest.config[key])[0] or ""
            if not _UNUSED.fullmatch(key) and ":" in head and (storage or head.partition(":")[0]) not in self.fake.shared_storages:
                return False
        return True

    def _clone_volumes(self, clone, volumes, storage):
        """Clone the source volumes into the new guest's config: full copies as vm-NEWID-disk-N
        (on ``storage`` if given), linked clones as STORAGE:base-SRC-disk-N/vm-NEWID-disk-N."""
        first = ("mp",) if clone.type == "lxc" else ()
        for key, head, options, full in volumes:
            source_storage, _sep, name = head.partition(":")
            if head.endswith("-cloudinit"):
                volume = "%s:vm-%d-cloudinit" % (storage or source_storage, clone.vmid)
            elif full:
                target = storage or source_storage
                volume = "%s:vm-%d-disk-%d" % (target, clone.vmid, _free_disk(clone.config, clone.type, target, clone.vmid))
            else:
                volume = "%s:%s/vm-%d-disk-%d" % (source_storage, name.rsplit("/", 1)[-1], clone.vmid,
                                                  _free_disk(clone.config, clone.type, source_storage, clone.vmid))
            clone.config[key] = _render(volume, options, first)

    def _destroy(self, guest, node, kind, problem, purge):
        """The destroy task: 'lock: destroyed' until it ends, then the guest is gone (from its pool too,
        as PVE's remove_vm_access does; purge also from HA and backup jobs). Base volumes that linked
        clones still use stay, and the task ends with 'WARNINGS: N' as PVE's does."""
        config = stored_config(guest)
        previous = config.get("lock")
        if problem is None:
            config["lock"] = "destroyed"

        def done():
            warnings = 0
            for key in _volume_keys(guest.type, config):
                storage, _sep, name = (_options(config[key])[0] or "").partition(":")
                prefix = "%s:%s/" % (storage, name.rsplit("/", 1)[-1])
                if name.rsplit("/", 1)[-1].startswith("base-") and any(
                        prefix in str(value) for other in self.cluster.guests if other is not guest and other.config for value in other.config.values()):
                    warnings += 1
            self._remove(guest)
            guest.pool, guest.status = None, "stopped"
            if _true(purge):
                self.fake.ha_resources.discard(guest.vmid)
                self.fake.backup_jobs.discard(guest.vmid)
            return "WARNINGS: %d" % warnings if warnings else None

        def undo():
            if config.get("lock") == "destroyed":
                if previous:
                    config["lock"] = previous
                else:
                    del config["lock"]
        return self._task(node, kind, guest.vmid, done, undo, problem)

    # Handlers: _<method>_<path template with every non-letter run as "_">

    def _get_version(self):
        return dict(PVE_VERSION)

    def _get_access_ticket(self):
        return None

    def _post_access_ticket(self, username, password, **_ignored):
        if username != self.fake.user or not secrets.compare_digest(password, self.fake.password):
            raise ApiError(401, "authentication failure")
        return self.fake.issue_ticket(username)

    def _get_cluster_resources(self, type=None):  # pylint: disable=redefined-builtin
        wanted = {"vm": ("qemu", "lxc"), "node": ("node",), "storage": ("storage",), "sdn": ("sdn",)}.get(type)
        entries = [resource_of_node(node) for node in self.cluster.nodes]
        entries += [resource_of_storage(node) for node in self.cluster.nodes if node.online]
        entries += [{"id": "/pool/%s" % pool, "type": "pool", "pool": pool} for pool in sorted(self.cluster.pools)]
        entries += [resource_of_guest(self.cluster, guest) for guest in self.cluster.guests]
        return [entry for entry in entries if wanted is None or entry["type"] in wanted]

    def _get_cluster_status(self):
        answer = [{"type": "cluster", "id": "cluster", "name": self.cluster.name, "nodes": len(self.cluster.nodes),
                   "quorate": int(sum(node.online for node in self.cluster.nodes) * 2 > len(self.cluster.nodes)), "version": 12}]
        for index, node in enumerate(self.cluster.nodes):
            answer.append({"type": "node", "id": "node/%s" % node.name, "name": node.name, "ip": node.ip,
                           "nodeid": node.nodeid, "online": int(node.online), "local": int(index == 0), "level": ""})
        return answer

    def _get_cluster_nextid(self, vmid=None):
        used = {guest.vmid for guest in self.cluster.guests}
        if vmid is not None:
            if int(vmid) in used:
                raise ApiError(400, "Parameter verification failed.", {"vmid": "VM %s already exists" % vmid})
            return int(vmid)
        candidate = 100
        while candidate in used:
            candidate += 1
        return candidate

    def _get_nodes(self):
        answer = []
        for node in self.cluster.nodes:
            entry = {"node": node.name, "id": "node/%s" % node.name, "type": "node", "status": "online" if node.online else "offline"}
            if node.online:
                entry.update({"cpu": 0.12, "maxcpu": 32, "mem": 40 * 1024 ** 3, "maxmem": 128 * 1024 ** 3, "uptime": 864000,
                              "level": "", "ssl_fingerprint": _fingerprint(node.name)})
            answer.append(entry)
        return answer

    def _guest_list(self, node, kind):
        self._node(node)
        answer = []
        for guest in self.cluster.guests:
            if guest.node == node and guest.type == kind:
                entry = {key: value for key, value in resource_of_guest(self.cluster, guest).items()
                         if key not in ("id", "type", "node", "pool", "maxcpu", "hastate")}
                entry["cpus"] = guest.cores
                if kind == "qemu" and guest.status == "running":
                    entry["qmpstatus"] = "running"
                answer.append(entry)
        return answer

    def _get_nodes_node_qemu(self, node, full=None):  # pylint: disable=unused-argument
        return self._guest_list(node, "qemu")

    def _get_nodes_node_lxc(self, node):
        return self._guest_list(node, "lxc")

    def _config_answer(self, guest, snapshot):
        config = stored_config(guest)
        if snapshot:
            raise ApiError(500, "snapshot '%s' does not exist" % snapshot)
        answer = dict(config, digest=config_digest(config))
        if "cipassword" in answer:
            answer["cipassword"] = "**********"
        return answer

    def _get_nodes_node_qemu_vmid_config(self, node, vmid, current=None, snapshot=None):  # pylint: disable=unused-argument
        return self._config_answer(self._guest(node, vmid, "qemu"), snapshot)

    def _get_nodes_node_lxc_vmid_config(self, node, vmid, current=None, snapshot=None):  # pylint: disable=unused-argument
        return self._config_answer(self._guest(node, vmid, "lxc"), snapshot)

    def _status(self, guest):
        answer = {key: value for key, value in resource_of_guest(self.cluster, guest).items()
                  if key not in ("id", "type", "node", "pool", "maxcpu", "hastate")}
        answer.update({"cpus": guest.cores, "ha": {"managed": int(guest.vmid in self.fake.ha_resources)}})
        if guest.type == "qemu":
            answer["qmpstatus"] = guest.status
            answer["agent"] = int(guest.agent)
        return answer

    def _get_nodes_node_qemu_vmid_status_current(self, node, vmid):
        return self._status(self._guest(node, vmid, "qemu"))

    def _get_nodes_node_lxc_vmid_status_current(self, node, vmid):
        return self._status(self._guest(node, vmid, "lxc"))

    def _get_nodes_node_qemu_vmid_agent_network_get_interfaces(self, node, vmid):
        guest = self._guest(node, vmid, "qemu")
        if guest.status != "running":
            raise ApiError(500, "VM %s is not running" % vmid)
        if not guest.agent:
            raise ApiError(500, AGENT_FAULTS["no_agent"][1])
        if guest.agent_fault == "error_result":
            return {"result": {"error": {"class": "Unsupported", "desc": "this feature or command is not currently supported"}}}
        if guest.agent_fault:
            status, message = AGENT_FAULTS[guest.agent_fault]
            raise ApiError(status, message.format(vmid=vmid))
        result = []
        for name, mac, ipv4, ipv6 in guest.interfaces:
            entry = {"name": name}
            if mac:
                entry["hardware-address"] = mac
            entry["ip-addresses"] = [_agent_address(address, "ipv4") for address in ipv4] + [_agent_address(address, "ipv6") for address in ipv6]
            entry["statistics"] = {"rx-bytes": 1000 * guest.vmid, "rx-dropped": 0, "rx-errs": 0, "rx-packets": guest.vmid,
                                   "tx-bytes": 500 * guest.vmid, "tx-dropped": 0, "tx-errs": 0, "tx-packets": guest.vmid}
            result.append(entry)
        return {"result": result}

    def _get_nodes_node_lxc_vmid_interfaces(self, node, vmid):
        guest = self._guest(node, vmid, "lxc")
        if guest.status != "running":
            raise ApiError(500, "CT %s not running" % vmid)
        answer = []
        for name, mac, ipv4, ipv6 in guest.interfaces:
            # PVE 9 gives both shapes: the old inet/inet6/hwaddr and the agent-like list.
            entry = {"name": name, "hwaddr": mac or "00:00:00:00:00:00", "hardware-address": mac or "00:00:00:00:00:00",
                     "ip-addresses": [_agent_address(address, "ipv4") for address in ipv4] + [_agent_address(address, "ipv6") for address in ipv6]}
            if ipv4:
                entry["inet"] = ipv4[0]
            if ipv6:
                entry["inet6"] = ipv6[0]
            answer.append(entry)
        return answer

    def _snapshots(self, guest):
        return [{"name": "current", "description": "You are here!", "digest": config_digest(stored_config(guest)),
                 "running": int(self.cluster.status_of(guest) == "running")}]

    def _get_nodes_node_qemu_vmid_snapshot(self, node, vmid):
        return self._snapshots(self._guest(node, vmid, "qemu"))

    def _get_nodes_node_lxc_vmid_snapshot(self, node, vmid):
        return self._snapshots(self._guest(node, vmid, "lxc"))

    def _pool_members(self, pool, kind=None):
        members = []
        for guest in self.cluster.guests:
            if guest.pool == pool and kind in (None, guest.type):
                member = resource_of_guest(self.cluster, guest)
                member.pop("pool", None)
                members.append(member)
        return members

    def _get_pools(self, poolid=None, type=None):  # pylint: disable=redefined-builtin
        if poolid is None:
            return [{"poolid": pool, "comment": comment} for pool, comment in sorted(self.cluster.pools.items())]
        if poolid not in self.cluster.pools:
            raise ApiError(500, "pool '%s' does not exist" % poolid)
        return [{"poolid": poolid, "comment": self.cluster.pools[poolid], "members": self._pool_members(poolid, type)}]

    def _get_pools_poolid(self, poolid, type=None):  # pylint: disable=redefined-builtin
        if poolid not in self.cluster.pools:
            raise ApiError(500, "pool '%s' does not exist" % poolid)
        return {"comment": self.cluster.pools[poolid], "members": self._pool_members(poolid, type)}

    # Writes. Checks PVE makes before forking its worker raise ApiError; the worker's own
    # checks become the task's failure (its exit status).

    def _put_pools(self, poolid, **params):
        if poolid not in self.cluster.pools:
            raise ApiError(500, "update pools failed: pool '%s' does not exist" % poolid)
        moves = []
        for vmid in split_list(params.get("vms")):
            guest = self.cluster.guest(vmid) if vmid.isdigit() else None
            if guest is None:
                raise ApiError(500, "update pools failed: VM %s does not exist" % vmid)
            if _true(params.get("delete")):
                if guest.pool != poolid:
                    raise ApiError(500, "update pools failed: VM %s is not a pool member" % vmid)
                moves.append((guest, None))
            elif guest.pool == poolid:
                raise ApiError(500, "update pools failed: VM %s is already a pool member" % vmid)
            elif guest.pool and not _true(params.get("allow-move")):
                raise ApiError(500, "update pools failed: VM %s belongs already to pool '%s' and 'allow-move' is not set" % (vmid, guest.pool))
            else:
                moves.append((guest, poolid))
        for guest, pool in moves:
            guest.pool = pool
        if params.get("comment") is not None:
            self.cluster.pools[poolid] = params["comment"]

    def _get_nodes_node_tasks_upid_status(self, node, upid):
        self._node(node)
        if not _UPID.fullmatch(upid):
            self._param_error("upid", "unable to parse worker upid")
        task = self.fake.task(upid)
        if task is None or task.fields["node"] != node:
            self._param_error("upid", "no such task")
        return task.status()

    def _post_nodes_node_qemu(self, node, vmid, **params):
        self._node(node)
        vmid = int(vmid)
        if "archive" in params:
            raise ApiError(501, "Method 'POST %s' with 'archive' (a restore) not implemented by the fake" % self.path)
        self._check_ssh_keys(params.get("sshkeys"), encoded=True)
        pool, storage = params.get("pool"), params.get("storage")
        self._check_pool(pool)
        self._refuse_taken(vmid, "unable to create VM %s - " % vmid)
        values = {key: value for key, value in params.items() if key not in _QEMU_CREATE_ONLY}
        if "cdrom" in values:
            values["ide2"] = _cdrom(values.pop("cdrom"))
        self._check_new_disks("qemu", values, storage)
        guest = Guest(vmid=vmid, type="qemu", name=None, node=node, status="stopped", agent=False, template=_true(values.get("template")))
        guest.config = config = {}
        # Drives last, in sorted order as PVE allocates them; a template's disks are base volumes.
        for key in sorted(values, key=lambda key: (bool(_QEMU_DRIVE.fullmatch(key)), key)):
            self._store(guest, config, key, values[key], storage)
        config.setdefault("smbios1", "uuid=%s" % _uuid(time.monotonic_ns()))
        config.setdefault("vmgenid", _uuid(time.monotonic_ns() + 1))
        config["meta"] = "creation-qemu=10.1.2,ctime=%d" % time.time()
        if "boot" not in config and _default_boot(config):
            config["boot"] = _default_boot(config)
        config["lock"] = "create"
        absorb(guest)
        self.cluster.guests.append(guest)
        return self._task(node, "qmcreate", vmid, lambda: self._created(guest, pool, params), lambda: self._remove(guest))

    def _created(self, guest, pool, params):
        if guest.config.get("lock") == "create":
            del guest.config["lock"]
        guest.pool = pool or guest.pool
        if _true(params.get("ha-managed")):
            self.fake.ha_resources.add(guest.vmid)
        if _true(params.get("start")):
            self._start(guest)

    def _post_nodes_node_lxc(self, node, vmid, ostemplate, **params):
        self._node(node)
        vmid = int(vmid)
        if _true(params.get("restore")):
            raise ApiError(501, "Method 'POST %s' with 'restore' not implemented by the fake" % self.path)
        self._refuse_taken(vmid)
        self._check_ssh_keys(params.get("ssh-public-keys"), encoded=False)
        pool, storage = params.get("pool"), params.get("storage") or "local"
        self._check_pool(pool)
        values, mounts = {}, {}
        for key, value in params.items():
            if _LXC_VOLUME.fullmatch(key):  # a bare size means the default storage
                mounts[key] = "%s:%s" % (storage, value) if re.fullmatch(r"\d+(\.\d+)?", str(value)) else value
            elif key not in _LXC_CREATE_ONLY and not _UNUSED.fullmatch(key):
                values[key] = value
        if mounts and "rootfs" not in mounts:
            raise ApiError(500, "mount points configured, but 'rootfs' not set - aborting")
        mounts.setdefault("rootfs", "%s:4" % storage)
        guest = Guest(vmid=vmid, type="lxc", name=None, node=node, status="stopped", template=_true(values.get("template")))
        guest.config = config = {}
        for key in sorted(values):
            self._store(guest, config, key, values[key])
        for key in sorted(mounts, key=lambda key: -1 if key == "rootfs" else int(key[2:])):
            config[key] = self._allocate(guest, config, key, mounts[key])
        if _true(params.get("unprivileged", 1)):  # PVE 9 creates unprivileged containers unless told otherwise
            config["unprivileged"] = 1
        for key, value in (("ostype", _ostype(ostemplate)), ("arch", "amd64"), ("hostname", "CT%d" % vmid), ("memory", 512), ("swap", 512)):
            config.setdefault(key, value)
        config["lock"] = "create"
        absorb(guest)
        self.cluster.guests.append(guest)
        return self._task(node, "vzcreate", vmid, lambda: self._created(guest, pool, params), lambda: self._remove(guest))

    def _post_nodes_node_qemu_vmid_clone(self, node, vmid, newid, **params):
        source = self._guest(node, vmid, "qemu")
        newid, storage = int(newid), params.get("storage")
        target = self._clone_target(node, params.get("target"), params.get("pool"))
        config = stored_config(source)
        self._check_lock(source)
        if params.get("snapname"):
            raise ApiError(500, "snapshot '%s' does not exist" % params["snapname"])
        full = _true(params["full"]) if "full" in params else not source.template
        for name in ("storage", "format"):
            if name in params and not full:
                raise ApiError(500, "parameter '%s' not allowed for linked clones" % name)
        if target and not self._shared(source, storage):
            raise ApiError(500, "can't clone VM to node '%s' (VM uses local storage)" % target)
        if self.cluster.guest(newid) is not None:
            raise ApiError(500, "unable to create VM %d: config file already exists" % newid)
        clone = Guest(vmid=newid, type="qemu", name=None, node=node, status="stopped")
        clone.config = newconf = {}
        volumes = []
        for key in sorted(config):
            value, net = config[key], _NET.fullmatch(key)
            head, options = _options(value)
            if key in ("template", "lock") or _UNUSED.fullmatch(key):
                continue
            if net:  # a clone always gets new MAC addresses
                newconf[key] = _qemu_net(value, _mac(newid, int(net.group(1))), new_mac=True)
            elif _QEMU_DRIVE.fullmatch(key) and head and ":" in head and (options.get("media") != "cdrom" or head.endswith("-cloudinit")):
                copy = full or head.endswith("-cloudinit") or key == "tpmstate0"
                if copy and key == "tpmstate0" and source.status == "running":
                    raise ApiError(500, "cannot clone TPM state while VM is running")
                if not copy and not _is_base(head):
                    raise ApiError(500, "Linked clone feature is not supported for '%s' (%s)" % (head, key))
                volumes.append((key, head, options, copy))
            else:
                newconf[key] = value
        newconf["name"] = params.get("name") or "Copy-of-VM-%s" % (config.get("name") or vmid)
        if params.get("description"):
            newconf["description"] = params["description"]
        newconf["smbios1"] = _render(None, dict(_options(config.get("smbios1", ""))[1], uuid=_uuid(time.monotonic_ns())))
        if "vmgenid" in newconf:
            newconf["vmgenid"] = _uuid(time.monotonic_ns() + 1)
        newconf["lock"] = "clone"
        self._clone_volumes(clone, volumes, storage)
        absorb(clone)
        self.cluster.guests.append(clone)
        return self._task(node, "qmclone", vmid, lambda: self._cloned(clone, "clone", target, params.get("pool")), lambda: self._remove(clone))

    @staticmethod
    def _cloned(clone, lock, target, pool):
        if clone.config.get("lock") == lock:
            del clone.config["lock"]
        clone.node = target or clone.node
        clone.pool = pool or clone.pool

    def _post_nodes_node_lxc_vmid_clone(self, node, vmid, newid, **params):
        source = self._guest(node, vmid, "lxc")
        newid, storage = int(newid), params.get("storage")
        target = self._clone_target(node, params.get("target"), params.get("pool"))
        config = stored_config(source)
        self._check_lock(source)
        self._refuse_taken(newid)
        full = _true(params["full"]) if "full" in params else not source.template
        if storage is not None and not full:
            raise ApiError(500, "parameter 'storage' not allowed for linked clones")
        if params.get("snapname"):
            raise ApiError(500, "snapshot '%s' does not exist" % params["snapname"])
        clone = Guest(vmid=newid, type="lxc", name=None, node=node, status="stopped")
        clone.config = newconf = {}
        volumes = []
        for key in sorted(config):
            value, net = config[key], _NET.fullmatch(key)
            if key in ("template", "lock") or _UNUSED.fullmatch(key):
                continue
            if _LXC_VOLUME.fullmatch(key):
                head, options = _options(value)
                if not head or ":" not in head:
                    raise ApiError(500, "unable to clone mountpoint '%s' (type %s)" % (key, "bind" if (head or "").startswith("/") else "device"))
                if full and source.status == "running":
                    raise ApiError(500, "Cannot do full clones on a running container without snapshots")
                if not full and not _is_base(head):
                    raise ApiError(500, "Linked clone feature for '%s' is not available" % head)
                volumes.append((key, head, options, full))
            elif net:
                newconf[key] = _lxc_net(value, _mac(newid, int(net.group(1))), new_mac=True)
            else:
                newconf[key] = value
        if target and not self._shared(source, storage):
            raise ApiError(500, "can't clone CT to node '%s' (CT uses local storage)" % target)
        for key in ("hostname", "description"):
            if params.get(key):
                newconf[key] = params[key]
        newconf["lock"] = "create"
        self._clone_volumes(clone, volumes, storage)
        absorb(clone)
        self.cluster.guests.append(clone)
        config["lock"] = "disk"  # pve-container locks the source while it copies

        def release():
            if config.get("lock") == "disk":
                del config["lock"]

        def done():
            release()
            self._cloned(clone, "create", target, params.get("pool"))

        def undo():
            release()
            self._remove(clone)
        return self._task(node, "vzclone", vmid, done, undo)

    def _put_nodes_node_qemu_vmid_config(self, node, vmid, **params):
        return self._update_qemu(node, vmid, params, sync=True)

    def _post_nodes_node_qemu_vmid_config(self, node, vmid, **params):
        return self._update_qemu(node, vmid, params, sync=False)

    def _update_qemu(self, node, vmid, params, sync):
        guest = self._guest(node, vmid, "qemu")
        control = ("node", "vmid", "digest", "background_delay", "import-working-storage", "skiplock", "delete", "revert", "force")
        values = {key: value for key, value in params.items() if key not in control}
        self._check_ssh_keys(values.get("sshkeys"), encoded=True)
        if not params.get("delete") and not params.get("revert") and not values:
            raise ApiError(500, "no options specified")
        if "cdrom" in values:
            values["ide2"] = _cdrom(values.pop("cdrom"))
        deletes = self._deletes("qemu", params.get("delete"), params.get("revert"), values)
        self._check_new_disks("qemu", values, None)
        if params.get("digest") and params["digest"] != config_digest(stored_config(guest)):
            raise ApiError(500, "checksum mismatch (file change by other user?)")
        self._check_lock(guest, _true(params.get("skiplock")))
        force = _true(params.get("force"))
        if sync:
            self._apply(guest, deletes, values, force)
            return None
        task = self.fake.start_task(node, "qmconfig", vmid, self.user, lambda: self._apply(guest, deletes, values, force))
        # With background_delay PVE waits for the task and answers null if it ended in time.
        if params.get("background_delay") is not None and self.fake.task_seconds <= int(params["background_delay"]):
            self.fake.finish_now(task)
            if task.exitstatus != "OK":
                raise ApiError(500, "failed to update VM %s: %s" % (vmid, task.exitstatus))
            return None
        return task.upid

    def _put_nodes_node_lxc_vmid_config(self, node, vmid, **params):
        guest = self._guest(node, vmid, "lxc")
        values = {key: value for key, value in params.items() if key not in ("node", "vmid", "digest", "delete", "revert")}
        if not values and not params.get("delete") and not params.get("revert"):
            raise ApiError(500, "no options specified")
        deletes = self._deletes("lxc", params.get("delete"), params.get("revert"), values)
        self._check_new_disks("lxc", values, None)
        config = stored_config(guest)
        self._check_lock(guest)
        if params.get("digest") and params["digest"] != config_digest(config):
            raise ApiError(500, "detected modified configuration - file changed by other user? Try again.")
        for key in deletes:
            if key in ("memory", "rootfs"):
                raise ApiError(500, "unable to delete required option '%s'" % key)
        if "unprivileged" in values and _true(values["unprivileged"]) != _true(config.get("unprivileged")):
            raise ApiError(500, "unable to modify read-only option: 'unprivileged'")
        self._apply(guest, deletes, values)

    def _put_nodes_node_qemu_vmid_resize(self, node, vmid, disk, size, digest=None, skiplock=None):
        guest = self._guest(node, vmid, "qemu")
        config = stored_config(guest)
        new_size, problem = None, None
        if digest and digest != config_digest(config):
            problem = "checksum mismatch (file change by other user?)"
        else:
            problem = self._lock_problem(guest, _true(skiplock))
        if problem is None:
            new_size, problem = self._new_size("qemu", config, disk, size, "shrinking disks is not supported")
        return self._task(node, "resize", vmid, lambda: self._set_size(guest, disk, new_size), failure=problem)

    def _put_nodes_node_lxc_vmid_resize(self, node, vmid, disk, size, digest=None):
        guest = self._guest(node, vmid, "lxc")
        config = stored_config(guest)
        self._check_lock(guest)
        if digest and digest != config_digest(config):
            raise ApiError(500, "detected modified configuration - file changed by other user? Try again.")
        new_size, problem = self._new_size("lxc", config, disk, size, "unable to shrink disk size")
        if problem or new_size is None:
            raise ApiError(500, problem or "disk is already at specified size")
        return self._task(node, "resize", vmid, lambda: self._set_size(guest, disk, new_size))

    def _post_nodes_node_qemu_vmid_status_start(self, node, vmid, skiplock=None, **_ignored):
        guest = self._guest(node, vmid, "qemu")
        problem = "you can't start a vm if it's a template" if guest.template and not _true(skiplock) else None
        problem = problem or self._lock_problem(guest, _true(skiplock)) or ("VM %s already running" % vmid if guest.status == "running" else None)
        return self._task(node, "qmstart", vmid, lambda: self._start(guest), failure=problem)

    def _post_nodes_node_qemu_vmid_status_stop(self, node, vmid, skiplock=None, **_ignored):
        guest = self._guest(node, vmid, "qemu")  # stopping a stopped VM is a successful no-op
        return self._task(node, "qmstop", vmid, lambda: self._stop(guest), failure=self._lock_problem(guest, _true(skiplock)))

    def _post_nodes_node_qemu_vmid_status_shutdown(self, node, vmid, skiplock=None, **_ignored):
        guest = self._guest(node, vmid, "qemu")
        return self._task(node, "qmshutdown", vmid, lambda: self._stop(guest), failure=self._lock_problem(guest, _true(skiplock)))

    def _post_nodes_node_lxc_vmid_status_start(self, node, vmid, skiplock=None, debug=None):  # pylint: disable=unused-argument
        guest = self._guest(node, vmid, "lxc")
        if guest.status == "running":
            raise ApiError(500, "CT %s already running" % vmid)
        problem = "you can't start a CT if it's a template" if guest.template else self._lock_problem(guest, _true(skiplock), ("mounted",))
        return self._task(node, "vzstart", vmid, lambda: self._start(guest), failure=problem)

    def _post_nodes_node_lxc_vmid_status_stop(self, node, vmid, skiplock=None, **_ignored):
        guest = self._guest(node, vmid, "lxc")
        if guest.status != "running":
            raise ApiError(500, "CT %s not running" % vmid)
        return self._task(node, "vzstop", vmid, lambda: self._stop(guest), failure=self._lock_problem(guest, _true(skiplock), ("mounted",)))

    def _post_nodes_node_lxc_vmid_status_shutdown(self, node, vmid, **_ignored):
        guest = self._guest(node, vmid, "lxc")
        if guest.status != "running":
            raise ApiError(500, "CT %s not running" % vmid)
        return self._task(node, "vzshutdown", vmid, lambda: self._stop(guest), failure=self._lock_problem(guest))

    def _delete_nodes_node_qemu_vmid(self, node, vmid, purge=None, skiplock=None, **_ignored):
        guest = self._guest(node, vmid, "qemu")
        if _true(stored_config(guest).get("protection")):
            raise ApiError(500, "can't remove VM %s - protection mode enabled" % vmid)
        if guest.vmid in self.fake.ha_resources and not _true(purge):
            raise ApiError(500, "unable to remove VM %s - used in HA resources and purge parameter not set." % vmid)
        if guest.status == "running":
            raise ApiError(500, "VM %s is running - destroy failed" % vmid)
        return self._destroy(guest, node, "qmdestroy", self._lock_problem(guest, _true(skiplock)), purge)

    def _delete_nodes_node_lxc_vmid(self, node, vmid, force=None, purge=None, **_ignored):
        guest = self._guest(node, vmid, "lxc")
        if _true(stored_config(guest).get("protection")):
            raise ApiError(500, "can't remove CT %s - protection mode enabled" % vmid)
        self._check_lock(guest)
        if guest.vmid in self.fake.ha_resources and not _true(purge):
            raise ApiError(500, "unable to remove CT %s - used in HA resources and purge parameter not set." % vmid)
        if guest.status == "running" and not _true(force):
            raise ApiError(500, "unable to destroy CT %s - container is running" % vmid)
        return self._destroy(guest, node, "vzdestroy", None, purge)


def resource_of_node(node):
    """A node's /cluster/resources entry (an offline node shows only its name and status)."""
    entry = {"id": "node/%s" % node.name, "type": "node", "node": node.name, "status": "online" if node.online else "offline"}
    if node.online:
        entry.update({"cpu": 0.12, "maxcpu": 32, "mem": 40 * 1024 ** 3, "maxmem": 128 * 1024 ** 3, "disk": 12 * 1024 ** 3,
                      "maxdisk": 100 * 1024 ** 3, "uptime": 864000, "level": "", "cgroup-mode": 2})
    return entry


def resource_of_storage(node):
    """The local storage of a node, as /cluster/resources lists it."""
    return {"id": "storage/%s/local" % node.name, "type": "storage", "storage": "local", "node": node.name,
            "status": "available", "plugintype": "dir", "content": "iso,vztmpl,backup", "shared": 0,
            "disk": 20 * 1024 ** 3, "maxdisk": 100 * 1024 ** 3}


def resource_of_guest(cluster, guest):
    """A guest's /cluster/resources entry: fewer fields for guests of offline nodes."""
    status = cluster.status_of(guest)
    entry = {"id": "%s/%d" % (guest.type, guest.vmid), "type": guest.type, "vmid": guest.vmid, "node": guest.node,
             "status": status, "template": int(guest.template), "maxmem": guest.maxmem, "maxcpu": guest.cores,
             "maxdisk": guest.maxdisk if guest.maxdisk is not None else (32 if guest.type == "qemu" else 8) * 1024 ** 3}
    if guest.config is not None and guest.config.get("lock"):
        entry["lock"] = guest.config["lock"]
    if guest.name is not None:
        entry["name"] = guest.name
    if guest.tags:
        entry["tags"] = guest.tags
    if guest.pool:
        entry["pool"] = guest.pool
    if status != "unknown":
        running = status == "running"
        entry.update({"cpu": 0.03 if running else 0, "mem": guest.maxmem // 3 if running else 0, "disk": 0,
                      "uptime": 3600 * (guest.vmid % 48) if running else 0, "netin": guest.vmid * 1000 if running else 0,
                      "netout": guest.vmid * 500 if running else 0, "diskread": 0, "diskwrite": 0})
    return entry


def _agent_address(address, family):
    ip, _sep, prefix = address.partition("/")
    return {"ip-address": ip, "ip-address-type": family, "prefix": int(prefix)}


def _uuid(number):
    digest = hashlib.md5(str(number).encode()).hexdigest()  # nosec - an identifier, not security
    return "%s-%s-%s-%s-%s" % (digest[:8], digest[8:12], digest[12:16], digest[16:20], digest[20:32])


def _fingerprint(name):
    digest = hashlib.sha256(name.encode()).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, 64, 2))

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster model behind the fake: nodes, guests, pools, and ``make_cluster`` that generates one."""

from __future__ import annotations

from dataclasses import dataclass, field


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

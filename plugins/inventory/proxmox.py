# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory plugin: Proxmox VE guests and nodes, with addresses, in few API requests."""

from __future__ import annotations

DOCUMENTATION = r"""
name: proxmox
short_description: Proxmox VE guests and nodes as hosts, with their addresses
version_added: 0.1.0
author: homelab.stack maintainers (@homelab-stack)
description:
  - Reads a Proxmox VE cluster (or a single node) and makes every QEMU VM and LXC container
    a host, and every hypervisor a host of the C(nodes) group.
  - Needs two API requests for the whole cluster (C(/cluster/resources) and C(/cluster/status))
    plus one per running guest to learn its addresses (the QEMU guest agent or the container's
    interfaces). Those run in parallel over kept-alive connections, so a cluster with a thousand
    guests is read in seconds. With a password instead of an API token, one login request is added.
  - Every guest that is not a template becomes a host, also the guests of an offline node (their
    status is what the API reports, usually V(unknown), and they have no addresses).
  - Host names follow the collection's naming rule (the short name, lower-case, runs of other
    characters turned into C(-)). Two guests whose names give the same host name are both called
    C(<name>-<vmid>); a guest without a usable name is called C(guest-<vmid>).
  - Host variables are C(proxmox_vmid), C(proxmox_node), C(proxmox_type) (V(qemu) or V(lxc)),
    C(proxmox_status), C(proxmox_tags) (a sorted list, lower-case), C(proxmox_pool) (only for
    guests in a pool), C(proxmox_ips) (every address found but loopback) and C(proxmox_name)
    (the name in Proxmox VE). Nodes have C(proxmox_node), C(proxmox_online) and C(ansible_host)
    (the address from C(/cluster/status)).
  - Groups, each starting with O(group_prefix) and made of letters, digits and C(_) only,
    C(qemu), C(lxc), C(running), C(stopped), C(unknown) (any other status), C(node_<node>),
    C(tag_<tag>), C(pool_<pool>) and C(nodes).
  - Failures of single guests (guest agent not running or not answering, an offline node, a
    timeout, an error answer) give one warning and a host without addresses; only a failure to
    read C(/cluster/resources) (wrong credentials, unreachable API) fails the inventory source.
  - The inventory file name must end in C(proxmox.yml) or C(proxmox.yaml).
requirements:
  - requests
  - proxmoxer
extends_documentation_fragment:
  - homelab.stack.proxmox
  - constructed
  - inventory_cache
options:
  plugin:
    description: Marks the file as a source for this plugin.
    type: str
    required: true
    choices: [homelab.stack.proxmox]
  concurrency:
    description:
      - How many address requests run at the same time, over as many kept-alive connections.
    type: int
    default: 8
  want_addresses:
    description:
      - Ask running guests for their addresses (one request per running guest).
      - With V(false) only the two cluster-wide requests are made, and hosts get neither
        C(ansible_host) nor C(proxmox_ips).
    type: bool
    default: true
  ansible_host_preference:
    description:
      - Networks (CIDR) whose addresses are preferred for C(ansible_host), in this order, for
        example V(100.64.0.0/10) to reach guests over Tailscale first.
      - When no address of a guest is in any of them, the first IPv4 address that is private or
        global (not loopback, not link-local) is used. Without such an address C(ansible_host)
        is not set.
    type: list
    elements: str
    default: []
  group_prefix:
    description: Prefix of every group this plugin makes (not of C(keyed_groups) and C(groups)).
    type: str
    default: proxmox_
notes:
  - The API user or token needs C(VM.Audit) to see guests, C(Sys.Audit) on C(/) for node
    addresses, and C(VM.GuestAgent.Audit) for the addresses of QEMU guests. Without
    C(Sys.Audit) the inventory still works, with a warning and without node addresses.
  - QEMU guests are asked for addresses only when running; a guest whose agent is switched off
    in its configuration gets no addresses and no warning.
  - "With the cache enabled, a cached inventory makes no API request at all; use
    C(meta: refresh_inventory) or C(ansible-inventory --flush-cache) to read the cluster again."
"""

EXAMPLES = r"""
# inventory/pve.proxmox.yml: an API token, guests reached over Tailscale when they have it
plugin: homelab.stack.proxmox
url: https://pve1.example.com:8006
user: ansible@pve
token_id: inventory
token_secret: "{{ lookup('ansible.builtin.env', 'PVE_TOKEN_SECRET') }}"
ansible_host_preference:
  - 100.64.0.0/10
keyed_groups:
  - key: proxmox_tags
    prefix: tag
    separator: "_"
groups:
  databases: "'db' in proxmox_tags"
compose:
  ansible_user: "'root' if proxmox_type == 'lxc' else 'debian'"

# Credentials from the environment (PROXMOX_URL, PROXMOX_USER, PROXMOX_TOKEN_ID,
# PROXMOX_TOKEN_SECRET), a self-signed certificate, and a one-hour cache
---
plugin: homelab.stack.proxmox
validate_certs: false
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-inventory
cache_timeout: 3600

# Only the list of guests, no per-guest request
---
plugin: homelab.stack.proxmox
want_addresses: false
group_prefix: pve_
"""

import functools
import ipaddress
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin

from ansible_collections.homelab.stack.plugins.module_utils.proxmox import ProxmoxAuthError, ProxmoxClient, ProxmoxError
from ansible_collections.homelab.stack.plugins.plugin_utils.hostnames import normalise_hostname
from ansible_collections.homelab.stack.plugins.plugin_utils.inventory_source import CachedConstructedSource

GUEST_TYPES = ("qemu", "lxc")
# The answer PVE gives for a VM whose agent is switched off in its config: a choice, not a fault.
NO_AGENT = "No QEMU guest agent configured"
# How many failing guests one warning names before it only counts the rest.
WARNING_NAMES = 10


def parse_tags(text):
    """PVE's tag string as a sorted list without duplicates: ``"Web;db;web"`` -> ``["db", "web"]``.

    PVE stores tags separated by ``;``; its API also accepts ``,`` and spaces.
    """
    if not isinstance(text, str):
        return []
    return sorted({tag for tag in re.split(r"[;,\s]+", text.lower()) if tag})


def sanitise_group(name):
    """A group name of letters, digits and ``_`` only (what Ansible accepts without warning)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def guest_host_names(guests, reserved=()):
    """{vmid: host name} for guests ({"vmid", "name"}), unique and independent of order.

    A guest whose normalised name no other guest (and no name in ``reserved``, the node
    hosts) has keeps it. Names shared by several guests become ``<name>-<vmid>`` for each
    of them; guests without a usable name become ``guest-<vmid>``. Should such a name be
    taken as well, ``-<vmid>`` is added again until it is free.
    """
    base = {guest["vmid"]: normalise_hostname(guest.get("name")) for guest in guests}
    counts = Counter(name for name in base.values() if name)
    taken = set(reserved)
    names = {}
    for vmid in sorted(base):
        name = base[vmid]
        if name and counts[name] == 1 and name not in taken:
            names[vmid] = name
    taken.update(names.values())
    for vmid in sorted(base):
        if vmid in names:
            continue
        name = "%s-%d" % (base[vmid], vmid) if base[vmid] else "guest-%d" % vmid
        while name in taken:
            name = "%s-%d" % (name, vmid)
        names[vmid] = name
        taken.add(name)
    return names


def _address(text):
    """An ip_address from ``"10.0.0.5/24"``, ``"fe80::1%eth0"`` or ``"10.0.0.5"``, else None."""
    if not isinstance(text, str):
        return None
    try:
        return ipaddress.ip_address(text.split("/", 1)[0].split("%", 1)[0].strip())
    except ValueError:
        return None


def interface_addresses(guest_type, data):
    """Every address (as text, without prefix) in an answer about a guest's interfaces, in order.

    ``data`` is the ``data`` of ``.../agent/network-get-interfaces`` (QEMU: ``{"result":
    [...]}``) or of ``.../lxc/{vmid}/interfaces`` (a list; PVE 9 gives ``ip-addresses`` like
    the agent, older versions only ``inet``/``inet6``). Loopback addresses are left out.
    Raises ValueError when the answer is an error or has an unknown shape.
    """
    if guest_type == "qemu":
        if not isinstance(data, dict):
            raise ValueError("unexpected answer from the guest agent")
        interfaces = data.get("result")
        if isinstance(interfaces, dict) and "error" in interfaces:
            error = interfaces["error"] if isinstance(interfaces["error"], dict) else {}
            raise ValueError("guest agent error %s: %s" % (error.get("class", "?"), error.get("desc", "")))
    else:
        interfaces = data
    if interfaces is None:
        return []
    if not isinstance(interfaces, list):
        raise ValueError("unexpected list of interfaces")
    found = []
    for interface in interfaces:
        if not isinstance(interface, dict):
            continue
        texts = [entry.get("ip-address") for entry in interface.get("ip-addresses") or [] if isinstance(entry, dict)]
        if not texts:
            texts = [interface.get("inet"), interface.get("inet6")]
        for text in texts:
            address = _address(text)
            if address is not None and not address.is_loopback and str(address) not in found:
                found.append(str(address))
    return found


def parse_networks(cidrs):
    """The ``ansible_host_preference`` networks; ValueError names a wrong entry."""
    networks = []
    for cidr in cidrs or []:
        try:
            networks.append(ipaddress.ip_network(str(cidr).strip(), strict=False))
        except ValueError as exc:
            raise ValueError("ansible_host_preference: %r is not a network in CIDR notation (%s)" % (cidr, exc)) from exc
    return networks


def choose_ansible_host(addresses, networks=()):
    """The address to connect to: the first one in the first matching preferred network,
    else the first private or global IPv4 address that is not loopback or link-local."""
    parsed = [address for address in (_address(text) for text in addresses) if address is not None]
    for network in networks:
        for address in parsed:
            if address.version == network.version and address in network:
                return str(address)
    for address in parsed:
        if address.version != 4 or address.is_loopback or address.is_link_local or address.is_multicast or address.is_unspecified:
            continue
        if address.is_private or address.is_global:
            return str(address)
    return None


def node_states(resources, status):
    """{node name: {"online": bool, "ip": str or None}} from /cluster/status, completed by
    /cluster/resources (which knows every node, but not its address)."""
    nodes = {}
    for entry in resources:
        if isinstance(entry, dict) and entry.get("type") == "node" and entry.get("node"):
            nodes[entry["node"]] = {"online": entry.get("status") == "online", "ip": None}
    for entry in status or []:
        if isinstance(entry, dict) and entry.get("type") == "node" and entry.get("name"):
            nodes[entry["name"]] = {"online": bool(entry.get("online")), "ip": entry.get("ip") or None}
    return nodes


def cluster_guests(resources):
    """The guests of /cluster/resources that become hosts (no templates), sorted by VMID."""
    guests = []
    for entry in resources:
        if not isinstance(entry, dict) or entry.get("type") not in GUEST_TYPES:
            continue
        if str(entry.get("template", 0)) in ("1", "True", "true"):
            continue
        try:
            vmid = int(entry.get("vmid"))
        except (TypeError, ValueError):
            continue
        guests.append(dict(entry, vmid=vmid))
    return sorted(guests, key=lambda guest: guest["vmid"])


def _describe(guest):
    return "%s %d %r on %s" % (guest["type"], guest["vmid"], guest.get("name") or "", guest.get("node"))


class InventoryModule(BaseInventoryPlugin, CachedConstructedSource):
    """Builds the inventory from one cluster snapshot: /cluster/resources, /cluster/status
    and the addresses of running guests (cached as a whole when the cache is on)."""

    NAME = "homelab.stack.proxmox"

    def __init__(self):
        super().__init__()
        # Requests sent by the last parse() (0 when the cache answered): for tests and benchmarks.
        self.requests_made = 0

    def verify_file(self, path):
        if not super().verify_file(path):
            return False
        if path.endswith(("proxmox.yml", "proxmox.yaml")):
            return True
        self.display.vvv("Skipping %s: homelab.stack.proxmox reads files ending in proxmox.yml or proxmox.yaml" % path)
        return False

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        try:
            networks = parse_networks(self.get_option("ansible_host_preference"))
        except ValueError as exc:
            raise AnsibleParserError("%s: %s" % (self.NAME, exc)) from exc

        self.requests_made = 0
        snapshot = self.read_through_cache(path, cache, lambda: self._read_cluster(path))
        self._populate(snapshot, networks)

    # Reading the cluster

    def _option_text(self, name):
        value = self.get_option(name)
        if value is None:
            return None
        if isinstance(value, str) and self.templar.is_template(value):
            value = self.templar.template(value)
        return str(value)

    def _read_cluster(self, path):
        url = self._option_text("url")
        if not url:
            raise AnsibleParserError("%s: no Proxmox VE address: set url in %s or the PROXMOX_URL environment variable" % (self.NAME, path))
        concurrency = max(1, self.get_option("concurrency"))
        try:
            client = ProxmoxClient(url, user=self._option_text("user"), password=self._option_text("password"),
                                   token_id=self._option_text("token_id"), token_secret=self._option_text("token_secret"),
                                   validate_certs=self.get_option("validate_certs"), timeout=self.get_option("timeout"),
                                   pool_size=concurrency)
        except ProxmoxError as exc:
            raise AnsibleParserError("%s: %s" % (self.NAME, exc)) from exc
        with client:
            try:
                resources = client.get("/cluster/resources")
            except ProxmoxAuthError as exc:
                raise AnsibleParserError("%s: %s" % (self.NAME, exc)) from exc
            except ProxmoxError as exc:
                raise AnsibleParserError("%s: cannot list the guests of %s: %s" % (self.NAME, client.url, exc)) from exc
            finally:
                self.requests_made = client.requests_made
            if not isinstance(resources, list):
                raise AnsibleParserError("%s: %s answered /cluster/resources with something other than a list" % (self.NAME, client.url))
            try:
                status = client.get("/cluster/status")
            except ProxmoxError as exc:
                self.display.warning("%s: cannot read /cluster/status, nodes get no ansible_host: %s" % (self.NAME, exc))
                status = []
            if not isinstance(status, list):
                status = []
            addresses = {}
            if self.get_option("want_addresses"):
                addresses = self._read_addresses(client, resources, status, concurrency)
            self.requests_made = client.requests_made
        return {"resources": resources, "status": status, "addresses": addresses}

    def _read_addresses(self, client, resources, status, concurrency):
        """{"qemu/101": [addresses]} for the running guests of online nodes, read in parallel."""
        nodes = node_states(resources, status)
        guests = cluster_guests(resources)
        offline = Counter(guest.get("node") for guest in guests if not nodes.get(guest.get("node"), {"online": True})["online"])
        for node, count in sorted(offline.items()):
            self.display.warning("%s: node %s is offline: its %d guest(s) are listed with the status the API reports and without addresses"
                                 % (self.NAME, node, count))
        wanted = [guest for guest in guests if guest.get("status") == "running" and guest.get("node") not in offline]
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            results = list(pool.map(functools.partial(_fetch_addresses, client), wanted))
        addresses = {}
        failures = []
        for guest, (found, problem) in zip(wanted, results):
            if problem is None:
                addresses["%s/%d" % (guest["type"], guest["vmid"])] = found
            elif NO_AGENT in problem:
                self.display.vvv("%s: %s has no guest agent configured" % (self.NAME, _describe(guest)))
            else:
                failures.append("%s: %s" % (_describe(guest), problem))
        if failures:
            shown = "; ".join(failures[:WARNING_NAMES])
            more = " and %d more" % (len(failures) - WARNING_NAMES) if len(failures) > WARNING_NAMES else ""
            self.display.warning("%s: no addresses for %d of %d running guest(s), they get no ansible_host: %s%s"
                                 % (self.NAME, len(failures), len(wanted), shown, more))
        return addresses

    # Building the inventory

    def _populate(self, snapshot, networks):
        prefix = self.get_option("group_prefix")
        resources = snapshot.get("resources") or []
        nodes = node_states(resources, snapshot.get("status"))
        addresses = snapshot.get("addresses") or {}
        guests = cluster_guests(resources)

        for name in ("qemu", "lxc", "running", "stopped", "unknown", "nodes"):
            self.inventory.add_group(sanitise_group(prefix + name))

        node_hosts = {}
        for node in sorted(nodes):
            host = normalise_hostname(node) or "node-%s" % sanitise_group(node).lower()
            node_hosts[node] = host
            variables = {"proxmox_node": node, "proxmox_online": nodes[node]["online"]}
            if nodes[node]["ip"]:
                variables["ansible_host"] = nodes[node]["ip"]
            self._add_host(host, variables, [prefix + "nodes"])

        names = guest_host_names(guests, reserved=node_hosts.values())
        for guest in guests:
            status = guest.get("status") or "unknown"
            variables = {
                "proxmox_vmid": guest["vmid"],
                "proxmox_node": guest.get("node"),
                "proxmox_type": guest["type"],
                "proxmox_status": status,
                "proxmox_tags": parse_tags(guest.get("tags")),
                "proxmox_name": guest.get("name"),
            }
            if guest.get("pool"):
                variables["proxmox_pool"] = guest["pool"]
            found = addresses.get("%s/%d" % (guest["type"], guest["vmid"]))
            if found is not None:
                variables["proxmox_ips"] = list(found)
                ansible_host = choose_ansible_host(found, networks)
                if ansible_host:
                    variables["ansible_host"] = ansible_host
            groups = [prefix + guest["type"], prefix + (status if status in ("running", "stopped") else "unknown")]
            if guest.get("node"):
                groups.append(prefix + "node_" + guest["node"].lower())
            groups.extend(prefix + "tag_" + tag for tag in variables["proxmox_tags"])
            if guest.get("pool"):
                groups.append(prefix + "pool_" + guest["pool"].lower())
            self._add_host(names[guest["vmid"]], variables, groups)

    def _add_host(self, host, variables, groups):
        self.inventory.add_host(host)
        for group in groups:
            self.inventory.add_child(self.inventory.add_group(sanitise_group(group)), host)
        # Values come from the API, not from templates: PVE's names, tags and pools cannot
        # hold template characters, and inventory values are not templated as trusted.
        for key, value in variables.items():
            self.inventory.set_variable(host, key, value)
        self.construct_host(host, variables)


def _fetch_addresses(client, guest):
    """(addresses, None) or (None, problem) for one running guest; runs in a worker thread."""
    if guest["type"] == "qemu":
        path = "/nodes/%s/qemu/%d/agent/network-get-interfaces" % (guest["node"], guest["vmid"])
    else:
        path = "/nodes/%s/lxc/%d/interfaces" % (guest["node"], guest["vmid"])
    try:
        return interface_addresses(guest["type"], client.get(path)), None
    except ProxmoxError as exc:
        return None, exc.message
    except ValueError as exc:
        return None, str(exc)

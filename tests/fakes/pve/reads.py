# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The endpoints that read: the cluster's resources and status, nodes, guest lists, configs,
status, guest agent and container interfaces, snapshots, pools, task status; and the login.

Requests for guests of an offline node get ``595 No route to host``, as pveproxy answers
when it cannot proxy to that node.
"""

import hashlib
import secrets

from fakes.pve.api import ApiError, Request
from fakes.pve.cluster import AGENT_FAULTS
from fakes.pve.config import config_digest, stored_config
from fakes.pve.tasks import UPID_PATTERN


PVE_VERSION = {"version": "9.1.3", "release": "9.1", "repoid": "e5010dce", "console": "html5"}


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


def _fingerprint(name):
    digest = hashlib.sha256(name.encode()).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, 64, 2))


class Reads(Request):
    """The endpoints that read (and the login): ``_<method>_<path template with every non-letter run as "_">``."""

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

    def _get_nodes_node_tasks_upid_status(self, node, upid):
        self._node(node)
        if not UPID_PATTERN.fullmatch(upid):
            self._param_error("upid", "unable to parse worker upid")
        task = self.fake.task(upid)
        if task is None or task.fields["node"] != node:
            self._param_error("upid", "no such task")
        return task.status()

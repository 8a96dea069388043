# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Proxmox VE calls that manage one guest (QEMU VM or LXC container).

``ProxmoxGuestAPI`` owns every request of the homelab.stack.proxmox_guest module: finding
a guest, waiting for its lock, creating, cloning, the digest-guarded config update,
resizes, pools, power and deletion. Each write is recorded in ``actions`` and, in check
mode, only recorded. Tasks are followed by their UPID until they end or ``timeout`` passes.
"""

from __future__ import annotations

import time

from ansible_collections.homelab.stack.plugins.module_utils.proxmox_config import format_size, is_disk_volume


class GuestError(Exception):
    """A problem the user can fix; the message names the option or the guest."""


class ProxmoxGuestAPI:
    """The guest calls of one ProxmoxClient; ``timeout`` bounds each task and lock wait."""

    def __init__(self, client, timeout, check_mode=False, warn=None):
        self.client = client
        self.timeout = timeout
        self.check_mode = check_mode
        self.warn = warn or (lambda message: None)
        self.actions = []

    # Reading

    def resources(self):
        """Every guest of the cluster as /cluster/resources lists it."""
        return [entry for entry in self.client.get("/cluster/resources", params={"type": "vm"}) if entry.get("type") in ("qemu", "lxc")]

    def find(self, resources, vmid, name, kind, node=None):
        """The entry of the guest with ``vmid``, or else with the unique ``name``; None when absent."""
        if vmid is not None:
            found = [entry for entry in resources if int(entry["vmid"]) == vmid]
        else:
            found = [entry for entry in resources if entry.get("name") == name]
            if len(found) > 1:
                raise GuestError("name: %d guests are called %r (vmids %s); set vmid to choose one"
                                 % (len(found), name, ", ".join(str(entry["vmid"]) for entry in sorted(found, key=lambda e: e["vmid"]))))
        if not found:
            return None
        entry = found[0]
        if entry["type"] != kind:
            raise GuestError("type: guest %s is a %s guest, not %s" % (entry["vmid"], entry["type"], kind))
        if entry.get("template"):
            raise GuestError("guest %s (%s) is a template; templates are not managed by this module" % (entry["vmid"], entry.get("name")))
        if node and entry["node"] != node:
            self.warn("guest %s is on node %s, not %s; it is managed there (this module does not migrate)"
                      % (entry["vmid"], entry["node"], node))
        if entry.get("status") == "unknown":
            raise GuestError("guest %s is on node %s, which is offline; nothing can be read or changed now" % (entry["vmid"], entry["node"]))
        return entry

    @staticmethod
    def clone_source(resources, wanted, kind):
        """The entry of the template or guest to clone: by VMID, or by name (a template first)."""
        wanted = str(wanted).strip()
        if wanted.isdigit():
            found = [entry for entry in resources if int(entry["vmid"]) == int(wanted)]
        else:
            found = [entry for entry in resources if entry.get("name") == wanted]
            templates = [entry for entry in found if entry.get("template")]
            found = templates if len(templates) == 1 else found
        if not found:
            raise GuestError("clone: no guest or template %r in the cluster" % wanted)
        if len(found) > 1:
            raise GuestError("clone: %d guests are called %r (vmids %s); give the VMID" % (len(found), wanted, ", ".join(str(e["vmid"]) for e in found)))
        if found[0]["type"] != kind:
            raise GuestError("clone: %s is a %s guest; a %s guest cannot be cloned from it" % (wanted, found[0]["type"], kind))
        return found[0]

    def lookup(self, vmid):
        """The /cluster/resources entry of a guest a task just made."""
        found = [entry for entry in self.resources() if int(entry["vmid"]) == vmid]
        if not found:
            raise GuestError("guest %s is not in the cluster after its creation task ended" % vmid)
        return found[0]

    def next_vmid(self):
        return int(self.client.get("/cluster/nextid"))

    def config(self, entry):
        """The guest's configuration, once no lock is held on it."""
        deadline = time.monotonic() + self.timeout
        while True:
            config = self.client.get(_path(entry, "/config"))
            if "lock" not in config:
                return config
            if time.monotonic() >= deadline:
                raise GuestError("guest %s is still locked (%s) after %s s; see timeout" % (entry["vmid"], config["lock"], self.timeout))
            time.sleep(1)

    def status(self, entry):
        return self.client.get(_path(entry, "/status/current")).get("status")

    # Writing: each is an action, sent unless in check mode

    def clone(self, source, vmid, node, body):
        self._write("clone %s to %s on %s" % (source["vmid"], vmid, node),
                    "POST", "/nodes/%s/%s/%s/clone" % (source["node"], source["type"], source["vmid"]), body)

    def create(self, kind, vmid, node, body):
        self._write("create %s %s on %s" % (kind, vmid, node), "POST", "/nodes/%s/%s" % (node, kind), body)

    def set_config(self, entry, changes, deletes, digest):
        """One config update, refused by PVE when the config changed since ``digest`` was read."""
        if not changes and not deletes:
            return
        body = dict(changes, digest=digest) if digest else dict(changes)
        if deletes:
            body["delete"] = ",".join(deletes)
        # QEMU applies the config in a worker task; LXC answers at once.
        method = "POST" if entry["type"] == "qemu" else "PUT"
        self._write("set %s" % ", ".join(sorted(list(changes) + list(deletes))), method, _path(entry, "/config"), body)

    def resize(self, entry, key, size, have):
        self._write("resize %s %s -> %s" % (key, format_size(have), format_size(size)),
                    "PUT", _path(entry, "/resize"), {"disk": key, "size": format_size(size)})

    def set_pool(self, entry, pool):
        """Move the guest into ``pool``, or out of its pool when ``pool`` is empty."""
        current = entry.get("pool") or ""
        if pool == current:
            return
        if pool:
            self._write("move to pool %s" % pool, "PUT", "/pools", {"poolid": pool, "vms": str(entry["vmid"]), "allow-move": 1})
        else:
            self._write("remove from pool %s" % current, "PUT", "/pools", {"poolid": current, "vms": str(entry["vmid"]), "delete": 1})

    def power(self, entry, status, wanted):
        """Start or shut down; returns the status afterwards."""
        if wanted == "started" and status != "running":
            self._write("start", "POST", _path(entry, "/status/start"), {})
            return "running"
        if wanted == "stopped" and status == "running":
            self._write("shutdown", "POST", _path(entry, "/status/shutdown"), {"forceStop": 1, "timeout": self.timeout})
            return "stopped"
        return status

    def delete(self, entry, purge):
        """Stop the guest when it runs and delete it; its disks only with ``purge``."""
        config = self.config(entry)
        disks = sorted(key for key, value in config.items() if is_disk_volume(key, value))
        if disks and not purge:
            raise GuestError("purge: guest %s (%s) has disks (%s); set purge: true to delete it and destroy them"
                             % (entry["vmid"], entry.get("name"), ", ".join(disks)))
        if self.status(entry) == "running":
            self._write("stop", "POST", _path(entry, "/status/stop"), {})
        self._write("delete", "DELETE", _path(entry), {"purge": 1, "destroy-unreferenced-disks": 1})

    def _write(self, action, method, path, body):
        self.actions.append(action)
        if self.check_mode:
            return
        if method == "DELETE":
            answer = self.client.delete(path, params=body)
        else:
            answer = self.client.request(method, path, data=body)
        if isinstance(answer, str) and answer.startswith("UPID:"):
            self.client.wait_task(answer, self.timeout)


def _path(entry, suffix=""):
    return "/nodes/%s/%s/%s%s" % (entry["node"], entry["type"], entry["vmid"], suffix)

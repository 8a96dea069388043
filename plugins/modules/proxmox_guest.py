#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: proxmox_guest
short_description: Declare one Proxmox VE virtual machine or container
version_added: 0.1.0
description:
  - Makes one QEMU virtual machine or LXC container on a Proxmox VE cluster match the options. It
    creates it (from scratch, from an LXC template archive, or as a clone of a template), changes
    the settings that differ, grows disks and starts or stops it.
  - The guest is found by O(vmid), or by O(name) when that name is unique in the cluster; two guests
    with the same name are an error that asks for O(vmid).
  - Values are compared after normalising Proxmox VE's forms (tag order and case, URL-encoded SSH keys,
    disk sizes in any unit, MAC addresses PVE adds to network devices), so a second run changes nothing.
  - All changed settings go in one configuration update, guarded by the configuration's digest so a
    concurrent edit is not overwritten; each grown disk costs one resize. Disks are never shrunk.
  - Tasks (create, clone, resize, start, stop, delete) are followed by their task ID until they end or
    O(timeout) passes. A guest locked by Proxmox VE (a clone, backup or migration in progress) is waited for.
  - Only options that are set are managed; an option left unset keeps the guest's current value.
author:
  - homelab.stack maintainers (@homelab-stack)
attributes:
  check_mode:
    support: full
    description: Reads the cluster and reports what would change; sends no request that changes anything.
  diff_mode:
    support: full
    description: Shows the managed settings before and after.
  platform:
    support: full
    platforms: posix
    description: Runs where it can reach the API, usually the controller (C(delegate_to=localhost)).
requirements:
  - requests
  - proxmoxer
extends_documentation_fragment:
  - homelab.stack.proxmox.MODULES
options:
  name:
    description:
      - Name of the guest (QEMU C(name), LXC C(hostname)); must be a valid DNS name.
      - Finds the guest when O(vmid) is not given; renames it when O(vmid) is given.
    type: str
  vmid:
    description:
      - ID of the guest. When creating without it, the next free ID of the cluster (C(/cluster/nextid)) is used.
    type: int
  node:
    description:
      - Node that carries the guest; required to create one.
      - An existing guest found on another node is managed where it is (with a warning); this module does not migrate.
    type: str
  type:
    description: Kind of guest.
    type: str
    choices: [qemu, lxc]
    default: qemu
  state:
    description:
      - V(present) makes the guest exist with the given settings and leaves it running or stopped as it is.
      - V(started) and V(stopped) also start it or shut it down (a clean shutdown, forced after O(timeout)).
      - V(absent) deletes it; a guest with disks is only deleted with O(purge=true).
    type: str
    choices: [present, started, stopped, absent]
    default: present
  clone:
    description:
      - Name or VMID of the guest (usually a template) to clone when the guest does not exist yet.
      - Ignored for an existing guest.
    type: str
  full:
    description:
      - With O(clone), whether to copy all disks (V(true)) or to make a linked clone of a template (V(false)).
      - Unset means Proxmox VE's default, a linked clone of a template and a full clone of anything else.
    type: bool
  ostemplate:
    description:
      - LXC only. The template archive to create the container from, for example
        V(local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst). Required to create a container without O(clone).
    type: str
  storage:
    description:
      - Storage for new disks (V(local-lvm), V(ceph-vm)) and the target storage of a full clone;
        a linked clone stays on its template's storage.
      - Unset, new disks of an existing guest go to the storage of its first disk.
    type: str
  unprivileged:
    description: LXC only, at creation. Run the container as an unprivileged container, the safe default.
    type: bool
    default: true
  cores:
    description: Number of CPU cores.
    type: int
  memory:
    description: Memory in MiB.
    type: int
  disks:
    description:
      - Disk key to size, for example C(scsi0=40G) for QEMU or C(rootfs=16G) for LXC; units K, M, G, T.
      - A disk the guest lacks is allocated on O(storage) (whole GiB); a larger size grows the disk; a
        smaller size is refused, since shrinking loses data.
      - LXC mount points (C(mp0)...) must exist to be grown; they are not created by this module.
    type: dict
  net:
    description:
      - Network device key to its Proxmox VE string, for example C(net0) set to V(virtio,bridge=vmbr0,tag=20) for QEMU
        or to V(name=eth0,bridge=vmbr0,ip=dhcp) for LXC.
      - Compared setting by setting; the MAC address Proxmox VE assigned is kept unless one is given.
    type: dict
  tags:
    description: Tags of the guest; compared without regard to order and case. An empty list removes all tags.
    type: list
    elements: str
  pool:
    description: Resource pool the guest belongs to; V("") takes it out of its pool.
    type: str
  onboot:
    description: Start the guest when its node boots.
    type: bool
  agent:
    description: QEMU only. Enable the QEMU guest agent (needed by the inventory plugin to learn addresses).
    type: bool
  ciuser:
    description: QEMU only. Cloud-init user name.
    type: str
  sshkeys:
    description:
      - SSH public keys, one a line. QEMU, cloud-init; for LXC they are installed only when the container is created.
    type: str
  ipconfig:
    description:
      - QEMU only. Cloud-init network settings, for example C(ipconfig0) set to V(ip=dhcp) or
        to V(ip=10.0.1.20/24,gw=10.0.1.1).
    type: dict
  nameserver:
    description: DNS servers, separated by spaces (cloud-init for QEMU, the container's resolv.conf for LXC).
    type: str
  timeout:
    description: Seconds to wait for each Proxmox VE task (create, clone, resize, start, shutdown, delete) and for a guest's lock.
    type: int
    default: 300
  purge:
    description:
      - Confirms deleting a guest with disks when O(state=absent); the disks are destroyed with it, and the
        guest is removed from backup, replication and HA jobs.
    type: bool
    default: false
notes:
  - Cloud-init options (O(ciuser), O(sshkeys), O(ipconfig), O(nameserver)) need a cloud-init drive, which guests cloned
    from a cloud-init template have.
  - Settings changed on a running QEMU guest that cannot be hot-plugged stay pending until the guest restarts.
seealso:
  - plugin: homelab.stack.proxmox
    plugin_type: inventory
  - name: Proxmox VE API viewer
    description: The API this module uses.
    link: https://pve.proxmox.com/pve-docs/api-viewer/
"""

EXAMPLES = r"""
- name: A VM cloned from a cloud-init template, started
  homelab.stack.proxmox_guest:
    url: https://pve1.lab.example:8006
    token_id: ansible@pve!deploy
    token_secret: "{{ vault_pve_token_secret }}"
    node: pve1
    name: web
    clone: debian-13-cloud
    cores: 2
    memory: 4096
    disks:
      scsi0: 40G
    net:
      net0: virtio,bridge=vmbr0,tag=20
    tags: [web, prod]
    agent: true
    ciuser: admin
    sshkeys: "{{ lookup('ansible.builtin.file', 'files/admin.pub') }}"
    ipconfig:
      ipconfig0: ip=dhcp
    state: started
  delegate_to: localhost

- name: An unprivileged container from a template archive (credentials from PROXMOX_* variables)
  homelab.stack.proxmox_guest:
    type: lxc
    node: pve2
    name: dns
    ostemplate: local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst
    storage: local-lvm
    disks:
      rootfs: 8G
    net:
      net0: name=eth0,bridge=vmbr0,ip=dhcp
    onboot: true
    state: started
  delegate_to: localhost

- name: Delete a VM and its disks
  homelab.stack.proxmox_guest:
    vmid: 120
    state: absent
    purge: true
  delegate_to: localhost
"""

RETURN = r"""
vmid:
  description: ID of the guest (predicted in check mode for a new guest).
  returned: always
  type: int
  sample: 105
node:
  description: Node of the guest.
  returned: always
  type: str
  sample: pve1
type:
  description: Kind of guest.
  returned: always
  type: str
  sample: qemu
name:
  description: Name of the guest.
  returned: always
  type: str
  sample: web
status:
  description: Power state after the task (V(running), V(stopped)), or V(absent).
  returned: always
  type: str
  sample: running
created:
  description: Whether the guest was created (or would be, in check mode).
  returned: always
  type: bool
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: ["clone 9000 to 105 on pve1", "set cores, memory", "resize scsi0 32G -> 40G", "start"]
settings:
  description: The managed settings after the task, in the form of the options.
  returned: when the guest exists afterwards
  type: dict
  sample: {cores: 2, memory: 4096, disks: {scsi0: 40G}, tags: [prod, web]}
"""

import re

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.homelab.stack.plugins.module_utils.proxmox import (
    HAS_PROXMOXER, HAS_REQUESTS, ProxmoxError, client_from_module, module_argument_spec,
)
from ansible_collections.homelab.stack.plugins.module_utils.proxmox_config import (
    LXC_DISK, QEMU_DISK, ConfigValueError, agent_enabled, disk_size, format_size, is_disk_volume, memory_mib,
    net_matches, net_value, normalise_sshkeys, normalise_tags, normalise_words, parse_size, split_property_string,
    sshkeys_value, tags_value,
)
from ansible_collections.homelab.stack.plugins.module_utils.proxmox_guest_api import GuestError, ProxmoxGuestAPI
from ansible_collections.homelab.stack.plugins.module_utils.proxmox_guest_spec import type_problems

GIB = 1024 ** 3


def check_options(params):
    """Reject bad input before any request; returns the desired disk sizes in bytes."""
    kind = params["type"]
    if params["vmid"] is None and not params["name"]:
        raise GuestError("name or vmid is required to find the guest")
    if params["vmid"] is not None and not 100 <= params["vmid"] <= 999999999:
        raise GuestError("vmid: %s is outside Proxmox VE's range 100-999999999" % params["vmid"])
    problems = type_problems(params, kind)
    if problems:
        raise GuestError(problems[0])
    if params["clone"] and params["ostemplate"]:
        raise GuestError("clone and ostemplate: give one way to create the guest, not both")
    for option, minimum in (("cores", 1), ("memory", 16)):
        if params[option] is not None and params[option] < minimum:
            raise GuestError("%s: %s is below the minimum %s" % (option, params[option], minimum))
    pattern = QEMU_DISK if kind == "qemu" else LXC_DISK
    for key in params["disks"] or {}:
        if not pattern.fullmatch(str(key)):
            raise GuestError("disks: %r is not a %s disk key (%s)" % (key, kind, "scsi0, virtio0, sata0, ide0" if kind == "qemu" else "rootfs, mp0"))
    try:
        sizes = wanted_disk_sizes(params)
    except ConfigValueError as exc:
        raise GuestError(str(exc)) from exc
    for option, prefix in (("net", "net"), ("ipconfig", "ipconfig")):
        for key, value in (params[option] or {}).items():
            if not re.fullmatch(prefix + r"\d{1,2}", str(key)):
                raise GuestError("%s: %r is not a key such as %s0" % (option, key, prefix))
            if not isinstance(value, str) or not value.strip():
                raise GuestError("%s.%s: give the Proxmox VE string, for example %s" % (
                    option, key, "ip=dhcp" if option == "ipconfig" else "virtio,bridge=vmbr0"))
    return sizes


def settings(config, kind, pool):
    """The managed settings in the options' form, as the configuration has them."""
    qemu = kind == "qemu"
    current = {
        "name": config.get("name" if qemu else "hostname"),
        # A container without cores may use every core of its node; a VM has 1.
        "cores": int(config["cores"]) if "cores" in config else (1 if qemu else None),
        "memory": memory_mib(config.get("memory", 512)),
        "tags": normalise_tags(config.get("tags", "")),
        "onboot": str(config.get("onboot", 0)) in ("1", "true"),
        "pool": pool or "",
        "nameserver": " ".join(normalise_words(config.get("nameserver"))),
        "disks": {key: format_size(size) for key, size in disk_sizes(config).items()},
        "net": {key: value for key, value in config.items() if re.fullmatch(r"net\d+", key)},
    }
    if qemu:
        current.update({"agent": agent_enabled(config.get("agent", "0")), "ciuser": config.get("ciuser", ""),
                        "sshkeys": normalise_sshkeys(config.get("sshkeys", "")),
                        "ipconfig": {key: value for key, value in config.items() if re.fullmatch(r"ipconfig\d+", key)}})
    return current


def plan(config, params, kind, pool):
    """What makes an existing guest match the checked options ``params``:
    (config changes, keys to delete, resizes [(disk, bytes, bytes now)], current settings, wanted settings).

    ``config`` is the guest's configuration and ``pool`` its pool (None when it has none).
    """
    qemu = kind == "qemu"
    current = settings(config, kind, pool)
    wanted = dict(current, disks=dict(current["disks"]), net=dict(current["net"]))
    if qemu:
        wanted["ipconfig"] = dict(current["ipconfig"])
    changes, deletes, resizes = {}, [], []

    def update(option, key, value, shown):
        if current[option] != shown:
            wanted[option] = shown
            if value in (None, ""):
                deletes.append(key)
            else:
                changes[key] = value

    if params["name"] is not None:
        update("name", "name" if qemu else "hostname", params["name"], params["name"])
    if params["cores"] is not None:
        update("cores", "cores", params["cores"], params["cores"])
    if params["memory"] is not None:
        update("memory", "memory", params["memory"], params["memory"])
    if params["tags"] is not None:
        update("tags", "tags", tags_value(params["tags"]), normalise_tags(params["tags"]))
    if params["onboot"] is not None:
        update("onboot", "onboot", int(params["onboot"]), params["onboot"])
    if params["nameserver"] is not None:
        words = " ".join(normalise_words(params["nameserver"]))
        update("nameserver", "nameserver", words, words)
    if qemu and params["agent"] is not None and current["agent"] != params["agent"]:
        # Keep the agent's other options (fstrim_cloned_disks, type) when switching it.
        options = split_property_string(config.get("agent", ""))
        options.pop("", None)
        options["enabled"] = int(params["agent"])
        changes["agent"] = ",".join("%s=%s" % item for item in options.items())
        wanted["agent"] = params["agent"]
    if qemu and params["ciuser"] is not None:
        update("ciuser", "ciuser", params["ciuser"], params["ciuser"])
    if qemu and params["sshkeys"] is not None:
        keys = normalise_sshkeys(params["sshkeys"])
        update("sshkeys", "sshkeys", sshkeys_value(keys) if keys else "", keys)
    for key, value in (params["ipconfig"] or {}).items():
        if split_property_string(config.get(key)) != split_property_string(value):
            changes[key] = value
            wanted["ipconfig"][key] = value
    for key, value in (params["net"] or {}).items():
        if key not in config or not net_matches(value, config[key], kind):
            changes[key] = net_value(value, config.get(key), kind)
            wanted["net"][key] = changes[key]
    for key, size in wanted_disk_sizes(params).items():
        have = disk_size(config[key]) if key in config and is_disk_volume(key, config[key]) else None
        if key in config and have is None:
            raise GuestError("disks.%s: the guest's %s is a CD-ROM drive or a disk without a size (passthrough); "
                             "it is not managed here, use another disk key" % (key, key))
        if have is None:
            if not qemu and key != "rootfs":
                raise GuestError("disks.%s: the container has no mount point %s; add it in Proxmox VE with its path first" % (key, key))
            changes[key] = "%s:%s" % (new_disk_storage(config, key, params["storage"]), whole_gib(size, key))
        elif size < have:
            raise GuestError("disks.%s: %s is smaller than the disk's %s; shrinking a disk is refused because it loses data"
                             % (key, format_size(size), format_size(have)))
        elif size > have:
            resizes.append((key, size, have))
        wanted["disks"][key] = format_size(size)
    if params["pool"] is not None:
        wanted["pool"] = params["pool"]
    return changes, deletes, resizes, current, wanted


def new_disk_storage(config, key, storage):
    """Where a new disk of an existing guest goes: ``storage``, or else its first disk's storage."""
    if storage:
        return storage
    for name, value in sorted(config.items()):
        if is_disk_volume(name, value):
            volume = split_property_string(value)
            return volume.get("", volume.get("volume", "")).split(":")[0]
    raise GuestError("disks.%s: set storage to say where the new disk goes" % key)


def create_body(params, kind, vmid):
    """The request body that creates the guest from scratch or from a template archive."""
    qemu = kind == "qemu"
    body = {"vmid": vmid}
    for option, key in (("name", "name" if qemu else "hostname"), ("cores", "cores"), ("memory", "memory"),
                        ("nameserver", "nameserver"), ("pool", "pool"), ("ciuser", "ciuser")):
        if params[option] not in (None, ""):
            body[key] = params[option]
    if params["tags"]:
        body["tags"] = tags_value(params["tags"])
    if params["onboot"] is not None:
        body["onboot"] = int(params["onboot"])
    if qemu and params["agent"] is not None:
        body["agent"] = "enabled=%d" % params["agent"]
    if params["sshkeys"]:
        if qemu:
            body["sshkeys"] = sshkeys_value(params["sshkeys"])
        else:
            body["ssh-public-keys"] = normalise_sshkeys(params["sshkeys"]) + "\n"
    body.update(params["net"] or {})
    body.update(params["ipconfig"] or {})
    for key, size in wanted_disk_sizes(params).items():
        if not params["storage"]:
            raise GuestError("storage: required to allocate disks.%s of a new guest" % key)
        body[key] = "%s:%s" % (params["storage"], whole_gib(size, key))
    if not qemu:
        body["ostemplate"] = params["ostemplate"]
        body["unprivileged"] = int(params["unprivileged"])
    return body


def clone_body(params, kind, vmid, source):
    """The request body that clones ``source`` into the guest."""
    body = {"newid": vmid, "name" if kind == "qemu" else "hostname": params["name"]}
    if params["node"] != source["node"]:
        body["target"] = params["node"]
    if params["full"] is not None:
        body["full"] = int(params["full"])
    # PVE's default is a linked clone of a template; a linked clone stays on the
    # template's storage and PVE refuses a target storage for it.
    full = params["full"] if params["full"] is not None else not source.get("template")
    if params["storage"] and full:
        body["storage"] = params["storage"]
    if params["pool"]:
        body["pool"] = params["pool"]
    return body


def predicted(params, source):
    """The settings a guest created in check mode would get (those given as options)."""
    wanted = {option: params[option] for option in ("name", "cores", "memory", "onboot", "nameserver", "pool", "agent", "ciuser")
              if params[option] is not None}
    if params["tags"] is not None:
        wanted["tags"] = normalise_tags(params["tags"])
    if params["sshkeys"] is not None:
        wanted["sshkeys"] = normalise_sshkeys(params["sshkeys"])
    for option in ("net", "ipconfig"):
        if params[option]:
            wanted[option] = dict(params[option])
    if params["disks"]:
        wanted["disks"] = {key: format_size(size) for key, size in wanted_disk_sizes(params).items()}
    if source:
        wanted["clone"] = source["vmid"]
    return wanted


def shown(params, managed):
    """The settings the task manages: those given as options (and always the name)."""
    return {key: value for key, value in managed.items() if key == "name" or params.get(key) is not None}


def create(api, params, kind, resources):
    """Create or clone the guest; returns its /cluster/resources-like entry and the clone source."""
    if not params["node"]:
        raise GuestError("node: required to create guest %s" % (params["name"] or params["vmid"]))
    if kind == "lxc" and not params["clone"] and not params["ostemplate"]:
        raise GuestError("ostemplate: required to create a container without clone")
    if not params["name"] and params["clone"]:
        raise GuestError("name: required to clone a guest")
    source = api.clone_source(resources, params["clone"], kind) if params["clone"] else None
    vmid = params["vmid"] or api.next_vmid()
    entry = {"vmid": vmid, "node": params["node"], "type": kind, "name": params["name"], "status": "stopped",
             "pool": params["pool"] or None}
    if source:
        api.clone(source, vmid, params["node"], clone_body(params, kind, vmid, source))
    else:
        api.create(kind, vmid, params["node"], create_body(params, kind, vmid))
    return entry, source


def run(api, params, diff):
    """Make the guest match the checked options; returns the module's result."""
    kind = params["type"]
    resources = api.resources()
    entry = api.find(resources, params["vmid"], params["name"], kind, params["node"])
    if params["state"] == "absent":
        before = {"vmid": entry["vmid"], "status": entry.get("status")} if entry else {"status": "absent"}
        if entry:
            api.delete(entry, params["purge"])
        entry = entry or {"vmid": params["vmid"], "node": params["node"], "name": params["name"]}
        return result(api, kind, entry, "absent", False, None, before if diff else None, {"status": "absent"})
    created = entry is None
    if created:
        entry, source = create(api, params, kind, resources)
        if api.check_mode:
            # Nothing exists to compare with: what would be sent is what the guest will have.
            wanted = predicted(params, source)
            status = api.power(entry, "stopped", params["state"])
            return result(api, kind, entry, status, True, wanted, {"status": "absent"} if diff else None, dict(wanted, status=status))
        entry = api.lookup(entry["vmid"])
    config = api.config(entry)
    changes, deletes, resizes, current, wanted = plan(config, params, kind, entry.get("pool"))
    api.set_config(entry, changes, deletes, config.get("digest"))
    for key, size, have in resizes:
        api.resize(entry, key, size, have)
    if params["pool"] is not None:
        api.set_pool(entry, params["pool"])
    status = api.status(entry)
    after_status = api.power(entry, status, params["state"])
    before = {"status": "absent"} if created else dict(shown(params, current), status=status)
    return result(api, kind, entry, after_status, created, wanted, before if diff else None,
                  dict(shown(params, wanted), status=after_status))


def result(api, kind, entry, status, created, managed, before, after):
    """The module's result; ``before`` is None without diff mode."""
    # A rename is in the settings; the resources entry was read before it.
    name = (managed or {}).get("name") or entry.get("name")
    answer = {"changed": bool(api.actions), "vmid": entry.get("vmid"), "node": entry.get("node"), "type": kind,
              "name": name, "status": status, "created": created, "actions": api.actions}
    if managed is not None:
        answer["settings"] = managed
    if before is not None:
        answer["diff"] = {"before": before, "after": after}
    return answer


def disk_sizes(config):
    """Bytes of each disk of a config that has a known size (not CD-ROMs or passthrough disks)."""
    sizes = {key: disk_size(value) for key, value in config.items() if is_disk_volume(key, value)}
    return {key: size for key, size in sizes.items() if size}


def wanted_disk_sizes(params):
    """Bytes of each disk of the checked options."""
    return {key: parse_size(size, "disks.%s" % key) for key, size in (params["disks"] or {}).items()}


def whole_gib(size, key):
    if size % GIB:
        raise GuestError("disks.%s: new disks are allocated in whole GiB; %s is not" % (key, format_size(size)))
    return size // GIB


def main():
    argument_spec = module_argument_spec()
    argument_spec.update(
        name=dict(type="str"),
        vmid=dict(type="int"),
        node=dict(type="str"),
        type=dict(type="str", choices=["qemu", "lxc"], default="qemu"),
        state=dict(type="str", choices=["present", "started", "stopped", "absent"], default="present"),
        clone=dict(type="str"),
        full=dict(type="bool"),
        ostemplate=dict(type="str"),
        storage=dict(type="str"),
        unprivileged=dict(type="bool", default=True),
        cores=dict(type="int"),
        memory=dict(type="int"),
        disks=dict(type="dict"),
        net=dict(type="dict"),
        tags=dict(type="list", elements="str"),
        pool=dict(type="str"),
        onboot=dict(type="bool"),
        agent=dict(type="bool"),
        ciuser=dict(type="str"),
        sshkeys=dict(type="str", no_log=False),
        ipconfig=dict(type="dict"),
        nameserver=dict(type="str"),
        timeout=dict(type="int", default=300),
        purge=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not HAS_REQUESTS or not HAS_PROXMOXER:
        module.fail_json(msg=missing_required_lib("proxmoxer" if HAS_REQUESTS else "requests"))
    try:
        check_options(module.params)
    except GuestError as exc:
        module.fail_json(msg=str(exc))
    client = client_from_module(module)
    api = ProxmoxGuestAPI(client, module.params["timeout"], check_mode=module.check_mode, warn=module.warn)
    try:
        with client:
            answer = run(api, module.params, module._diff)
    except GuestError as exc:
        module.fail_json(msg=str(exc), actions=api.actions)
    except ProxmoxError as exc:
        module.fail_json(msg=exc.message, errors=exc.errors, actions=api.actions)
    module.exit_json(**answer)


if __name__ == "__main__":
    main()

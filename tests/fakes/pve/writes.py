# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The endpoints that write, following qemu-server, pve-container and pve-manager.

Configs are stored and changed by writes, their ``digest`` is the SHA1 of the rendered
config, asynchronous calls answer a task UPID and take effect when the task ends, guests
carry ``lock: create`` / ``clone`` / ``disk`` / ``destroyed`` while tasks run, and every
error comes where PVE raises it: a check PVE makes before it forks its worker fails the
request (HTTP 500, or 400 for a parameter exception), a check inside the worker makes the
task end with that exit status. Only ``POST /pools``, ``DELETE /pools`` and restores still
answer 501 ``... not implemented by the fake``.
"""

import re
import time
from urllib.parse import unquote

from fakes.pve.api import ApiError
from fakes.pve.cluster import Guest, guest_interfaces
from fakes.pve.config import (
    LXC_VOLUME_KEY, NET_KEY, NEW_DISK, QEMU_DRIVE_KEY, UNUSED_KEY, absorb, cdrom_drive, coerce, config_digest,
    default_boot, detach_volume, format_size, free_disk_number, is_base_volume, is_true, lxc_net, lxc_ostype,
    make_uuid, parse_size, pve_mac, qemu_net, render_property, split_list, split_property, stored_config, unique_tags,
    volume_keys,
)
from fakes.pve.reads import Reads
from fakes.pve.schema import property_schema


# What ``ssh-keygen -l`` (PVE's validate_ssh_public_keys) accepts, near enough: [options] type base64 [comment].
_SSH_KEY = re.compile(r"(\S+\s+)?(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)"
                      r"\s+[A-Za-z0-9+/]+={0,3}(\s.*)?")


# Keys of the create and update calls that steer the call and are not written to the config.
_QEMU_CREATE_ONLY = {"node", "vmid", "archive", "storage", "force", "unique", "live-restore", "pool", "bwlimit", "start",
                     "import-working-storage", "ha-managed"}
_LXC_CREATE_ONLY = {"node", "vmid", "ostemplate", "password", "storage", "force", "restore", "pool", "ignore-unpack-errors",
                    "ssh-public-keys", "bwlimit", "start", "unique", "ha-managed", "unprivileged"}


class Endpoints(Reads):
    """Every endpoint: the reads, and the writes as qemu-server, pve-container and pve-manager make them.

    Checks PVE makes before forking its worker raise ApiError; the worker's own checks
    become the task's failure (its exit status).
    """

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
            if (QEMU_DRIVE_KEY if kind == "qemu" else LXC_VOLUME_KEY).fullmatch(key):
                found = NEW_DISK.fullmatch(split_property(value)[0] or "")
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
        head, options = split_property(value)
        found = NEW_DISK.fullmatch(head or "")
        cloudinit = guest.type == "qemu" and (head or "").endswith(":cloudinit")
        if not found and not cloudinit:
            return render_property(head, options, first)
        storage = (head.rpartition(":")[0] if cloudinit else found.group(1)) or default_storage
        if not storage:
            raise ApiError(500, "no storage ID specified (and no default storage)")
        options.pop("format", None)
        if cloudinit:
            options.pop("size", None)
            options["media"] = "cdrom"
            return render_property("%s:vm-%d-cloudinit" % (storage, guest.vmid), options)
        size = int(float(found.group(2)) * 1024 ** 3)
        if options.pop("import-from", None) is not None:
            size = 2 * 1024 ** 3  # the fake's imported images are 2 GiB
        if key in ("efidisk0", "tpmstate0"):
            size = 4 * 1024 ** 2
        number = free_disk_number(config, guest.type, storage, guest.vmid)
        options["size"] = format_size(size)
        return render_property("%s:%s-%d-disk-%d" % (storage, "base" if guest.template else "vm", guest.vmid, number), options, first)

    def _store(self, guest, config, key, value, default_storage=None):
        """Set one option in a config the way PVE stores it."""
        net = NET_KEY.fullmatch(key)
        if (QEMU_DRIVE_KEY if guest.type == "qemu" else LXC_VOLUME_KEY).fullmatch(key):
            config[key] = self._allocate(guest, config, key, value, default_storage)
        elif net:
            config[key] = (qemu_net if guest.type == "qemu" else lxc_net)(value, pve_mac(guest.vmid, int(net.group(1))))
        elif key == "tags":
            config[key] = unique_tags(value)
            if not config[key]:
                del config[key]
        elif key == "vmgenid" and str(value) == "1":
            config[key] = make_uuid(time.monotonic_ns())
        else:
            config[key] = coerce(self.fake.schema.config_properties(guest.type), key, value)

    def _apply(self, guest, deletes, values, force=False):
        """Delete and set options as qemu-server and pve-container do: a removed or replaced disk
        stays as unusedN (QEMU's force drops it), then the Guest's fields follow the config."""
        if not self._alive(guest):
            return
        config = stored_config(guest)
        volume = QEMU_DRIVE_KEY if guest.type == "qemu" else LXC_VOLUME_KEY
        for key in deletes:
            if key in config:  # PVE only warns about options that are not set
                value = config.pop(key)
                if volume.fullmatch(key) and not force:
                    detach_volume(config, value)
        for key in sorted(values):
            old = config.get(key)
            self._store(guest, config, key, values[key])
            if old is not None and volume.fullmatch(key) and split_property(old)[0] != split_property(config[key])[0]:
                detach_volume(config, old)
        absorb(guest)

    def _deletes(self, kind, delete, revert, values):
        """The options of ``delete``, checked as PVE does (pending changes are not modelled: revert does nothing)."""
        properties = self.fake.schema.config_properties(kind)
        reverted = split_list(revert)
        for key in reverted:
            if property_schema(properties, key) is None:
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
            if property_schema(properties, key) is None:
                self._param_error("delete", "unknown option '%s'" % key)
            deletes.append(key)
        return deletes

    @staticmethod
    def _new_size(kind, config, disk, size, shrink):
        """(the new size in bytes, None if unchanged; the problem or None) of a resize request."""
        if not config.get(disk):
            return None, "disk '%s' does not exist" % disk
        options = split_property(config[disk])[1]
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
            head, options = split_property(guest.config[disk])
            options["size"] = format_size(size)
            guest.config[disk] = render_property(head, options, ("mp",) if guest.type == "lxc" else ())
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
        for key in volume_keys(guest.type, guest.config):
            head = split_property(guest.config[key])[0] or ""
            if not UNUSED_KEY.fullmatch(key) and ":" in head and (storage or head.partition(":")[0]) not in self.fake.shared_storages:
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
                volume = "%s:vm-%d-disk-%d" % (target, clone.vmid, free_disk_number(clone.config, clone.type, target, clone.vmid))
            else:
                volume = "%s:%s/vm-%d-disk-%d" % (source_storage, name.rsplit("/", 1)[-1], clone.vmid,
                                                  free_disk_number(clone.config, clone.type, source_storage, clone.vmid))
            clone.config[key] = render_property(volume, options, first)

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
            for key in volume_keys(guest.type, config):
                storage, _sep, name = (split_property(config[key])[0] or "").partition(":")
                prefix = "%s:%s/" % (storage, name.rsplit("/", 1)[-1])
                if name.rsplit("/", 1)[-1].startswith("base-") and any(
                        prefix in str(value) for other in self.cluster.guests if other is not guest and other.config for value in other.config.values()):
                    warnings += 1
            self._remove(guest)
            guest.pool, guest.status = None, "stopped"
            if is_true(purge):
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

    def _put_pools(self, poolid, **params):
        if poolid not in self.cluster.pools:
            raise ApiError(500, "update pools failed: pool '%s' does not exist" % poolid)
        moves = []
        for vmid in split_list(params.get("vms")):
            guest = self.cluster.guest(vmid) if vmid.isdigit() else None
            if guest is None:
                raise ApiError(500, "update pools failed: VM %s does not exist" % vmid)
            if is_true(params.get("delete")):
                if guest.pool != poolid:
                    raise ApiError(500, "update pools failed: VM %s is not a pool member" % vmid)
                moves.append((guest, None))
            elif guest.pool == poolid:
                raise ApiError(500, "update pools failed: VM %s is already a pool member" % vmid)
            elif guest.pool and not is_true(params.get("allow-move")):
                raise ApiError(500, "update pools failed: VM %s belongs already to pool '%s' and 'allow-move' is not set" % (vmid, guest.pool))
            else:
                moves.append((guest, poolid))
        for guest, pool in moves:
            guest.pool = pool
        if params.get("comment") is not None:
            self.cluster.pools[poolid] = params["comment"]

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
            values["ide2"] = cdrom_drive(values.pop("cdrom"))
        self._check_new_disks("qemu", values, storage)
        guest = Guest(vmid=vmid, type="qemu", name=None, node=node, status="stopped", agent=False, template=is_true(values.get("template")))
        guest.config = config = {}
        # Drives last, in sorted order as PVE allocates them; a template's disks are base volumes.
        for key in sorted(values, key=lambda key: (bool(QEMU_DRIVE_KEY.fullmatch(key)), key)):
            self._store(guest, config, key, values[key], storage)
        config.setdefault("smbios1", "uuid=%s" % make_uuid(time.monotonic_ns()))
        config.setdefault("vmgenid", make_uuid(time.monotonic_ns() + 1))
        config["meta"] = "creation-qemu=10.1.2,ctime=%d" % time.time()
        if "boot" not in config and default_boot(config):
            config["boot"] = default_boot(config)
        config["lock"] = "create"
        absorb(guest)
        self.cluster.guests.append(guest)
        return self._task(node, "qmcreate", vmid, lambda: self._created(guest, pool, params), lambda: self._remove(guest))

    def _created(self, guest, pool, params):
        if guest.config.get("lock") == "create":
            del guest.config["lock"]
        guest.pool = pool or guest.pool
        if is_true(params.get("ha-managed")):
            self.fake.ha_resources.add(guest.vmid)
        if is_true(params.get("start")):
            self._start(guest)

    def _post_nodes_node_lxc(self, node, vmid, ostemplate, **params):
        self._node(node)
        vmid = int(vmid)
        if is_true(params.get("restore")):
            raise ApiError(501, "Method 'POST %s' with 'restore' not implemented by the fake" % self.path)
        self._refuse_taken(vmid)
        self._check_ssh_keys(params.get("ssh-public-keys"), encoded=False)
        pool, storage = params.get("pool"), params.get("storage") or "local"
        self._check_pool(pool)
        values, mounts = {}, {}
        for key, value in params.items():
            if LXC_VOLUME_KEY.fullmatch(key):  # a bare size means the default storage
                mounts[key] = "%s:%s" % (storage, value) if re.fullmatch(r"\d+(\.\d+)?", str(value)) else value
            elif key not in _LXC_CREATE_ONLY and not UNUSED_KEY.fullmatch(key):
                values[key] = value
        if mounts and "rootfs" not in mounts:
            raise ApiError(500, "mount points configured, but 'rootfs' not set - aborting")
        mounts.setdefault("rootfs", "%s:4" % storage)
        guest = Guest(vmid=vmid, type="lxc", name=None, node=node, status="stopped", template=is_true(values.get("template")))
        guest.config = config = {}
        for key in sorted(values):
            self._store(guest, config, key, values[key])
        for key in sorted(mounts, key=lambda key: -1 if key == "rootfs" else int(key[2:])):
            config[key] = self._allocate(guest, config, key, mounts[key])
        if is_true(params.get("unprivileged", 1)):  # PVE 9 creates unprivileged containers unless told otherwise
            config["unprivileged"] = 1
        for key, value in (("ostype", lxc_ostype(ostemplate)), ("arch", "amd64"), ("hostname", "CT%d" % vmid), ("memory", 512), ("swap", 512)):
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
        full = is_true(params["full"]) if "full" in params else not source.template
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
            value, net = config[key], NET_KEY.fullmatch(key)
            head, options = split_property(value)
            if key in ("template", "lock") or UNUSED_KEY.fullmatch(key):
                continue
            if net:  # a clone always gets new MAC addresses
                newconf[key] = qemu_net(value, pve_mac(newid, int(net.group(1))), new_mac=True)
            elif QEMU_DRIVE_KEY.fullmatch(key) and head and ":" in head and (options.get("media") != "cdrom" or head.endswith("-cloudinit")):
                copy = full or head.endswith("-cloudinit") or key == "tpmstate0"
                if copy and key == "tpmstate0" and source.status == "running":
                    raise ApiError(500, "cannot clone TPM state while VM is running")
                if not copy and not is_base_volume(head):
                    raise ApiError(500, "Linked clone feature is not supported for '%s' (%s)" % (head, key))
                volumes.append((key, head, options, copy))
            else:
                newconf[key] = value
        newconf["name"] = params.get("name") or "Copy-of-VM-%s" % (config.get("name") or vmid)
        if params.get("description"):
            newconf["description"] = params["description"]
        newconf["smbios1"] = render_property(None, dict(split_property(config.get("smbios1", ""))[1], uuid=make_uuid(time.monotonic_ns())))
        if "vmgenid" in newconf:
            newconf["vmgenid"] = make_uuid(time.monotonic_ns() + 1)
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
        full = is_true(params["full"]) if "full" in params else not source.template
        if storage is not None and not full:
            raise ApiError(500, "parameter 'storage' not allowed for linked clones")
        if params.get("snapname"):
            raise ApiError(500, "snapshot '%s' does not exist" % params["snapname"])
        clone = Guest(vmid=newid, type="lxc", name=None, node=node, status="stopped")
        clone.config = newconf = {}
        volumes = []
        for key in sorted(config):
            value, net = config[key], NET_KEY.fullmatch(key)
            if key in ("template", "lock") or UNUSED_KEY.fullmatch(key):
                continue
            if LXC_VOLUME_KEY.fullmatch(key):
                head, options = split_property(value)
                if not head or ":" not in head:
                    raise ApiError(500, "unable to clone mountpoint '%s' (type %s)" % (key, "bind" if (head or "").startswith("/") else "device"))
                if full and source.status == "running":
                    raise ApiError(500, "Cannot do full clones on a running container without snapshots")
                if not full and not is_base_volume(head):
                    raise ApiError(500, "Linked clone feature for '%s' is not available" % head)
                volumes.append((key, head, options, full))
            elif net:
                newconf[key] = lxc_net(value, pve_mac(newid, int(net.group(1))), new_mac=True)
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
            values["ide2"] = cdrom_drive(values.pop("cdrom"))
        deletes = self._deletes("qemu", params.get("delete"), params.get("revert"), values)
        self._check_new_disks("qemu", values, None)
        if params.get("digest") and params["digest"] != config_digest(stored_config(guest)):
            raise ApiError(500, "checksum mismatch (file change by other user?)")
        self._check_lock(guest, is_true(params.get("skiplock")))
        force = is_true(params.get("force"))
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
        if "unprivileged" in values and is_true(values["unprivileged"]) != is_true(config.get("unprivileged")):
            raise ApiError(500, "unable to modify read-only option: 'unprivileged'")
        self._apply(guest, deletes, values)

    def _put_nodes_node_qemu_vmid_resize(self, node, vmid, disk, size, digest=None, skiplock=None):
        guest = self._guest(node, vmid, "qemu")
        config = stored_config(guest)
        new_size, problem = None, None
        if digest and digest != config_digest(config):
            problem = "checksum mismatch (file change by other user?)"
        else:
            problem = self._lock_problem(guest, is_true(skiplock))
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
        problem = "you can't start a vm if it's a template" if guest.template and not is_true(skiplock) else None
        problem = problem or self._lock_problem(guest, is_true(skiplock)) or ("VM %s already running" % vmid if guest.status == "running" else None)
        return self._task(node, "qmstart", vmid, lambda: self._start(guest), failure=problem)

    def _post_nodes_node_qemu_vmid_status_stop(self, node, vmid, skiplock=None, **_ignored):
        guest = self._guest(node, vmid, "qemu")  # stopping a stopped VM is a successful no-op
        return self._task(node, "qmstop", vmid, lambda: self._stop(guest), failure=self._lock_problem(guest, is_true(skiplock)))

    def _post_nodes_node_qemu_vmid_status_shutdown(self, node, vmid, skiplock=None, **_ignored):
        guest = self._guest(node, vmid, "qemu")
        return self._task(node, "qmshutdown", vmid, lambda: self._stop(guest), failure=self._lock_problem(guest, is_true(skiplock)))

    def _post_nodes_node_lxc_vmid_status_start(self, node, vmid, skiplock=None, debug=None):  # pylint: disable=unused-argument
        guest = self._guest(node, vmid, "lxc")
        if guest.status == "running":
            raise ApiError(500, "CT %s already running" % vmid)
        problem = "you can't start a CT if it's a template" if guest.template else self._lock_problem(guest, is_true(skiplock), ("mounted",))
        return self._task(node, "vzstart", vmid, lambda: self._start(guest), failure=problem)

    def _post_nodes_node_lxc_vmid_status_stop(self, node, vmid, skiplock=None, **_ignored):
        guest = self._guest(node, vmid, "lxc")
        if guest.status != "running":
            raise ApiError(500, "CT %s not running" % vmid)
        return self._task(node, "vzstop", vmid, lambda: self._stop(guest), failure=self._lock_problem(guest, is_true(skiplock), ("mounted",)))

    def _post_nodes_node_lxc_vmid_status_shutdown(self, node, vmid, **_ignored):
        guest = self._guest(node, vmid, "lxc")
        if guest.status != "running":
            raise ApiError(500, "CT %s not running" % vmid)
        return self._task(node, "vzshutdown", vmid, lambda: self._stop(guest), failure=self._lock_problem(guest))

    def _delete_nodes_node_qemu_vmid(self, node, vmid, purge=None, skiplock=None, **_ignored):
        guest = self._guest(node, vmid, "qemu")
        if is_true(stored_config(guest).get("protection")):
            raise ApiError(500, "can't remove VM %s - protection mode enabled" % vmid)
        if guest.vmid in self.fake.ha_resources and not is_true(purge):
            raise ApiError(500, "unable to remove VM %s - used in HA resources and purge parameter not set." % vmid)
        if guest.status == "running":
            raise ApiError(500, "VM %s is running - destroy failed" % vmid)
        return self._destroy(guest, node, "qmdestroy", self._lock_problem(guest, is_true(skiplock)), purge)

    def _delete_nodes_node_lxc_vmid(self, node, vmid, force=None, purge=None, **_ignored):
        guest = self._guest(node, vmid, "lxc")
        if is_true(stored_config(guest).get("protection")):
            raise ApiError(500, "can't remove CT %s - protection mode enabled" % vmid)
        self._check_lock(guest)
        if guest.vmid in self.fake.ha_resources and not is_true(purge):
            raise ApiError(500, "unable to remove CT %s - used in HA resources and purge parameter not set." % vmid)
        if guest.status == "running" and not is_true(force):
            raise ApiError(500, "unable to destroy CT %s - container is running" % vmid)
        return self._destroy(guest, node, "vzdestroy", None, purge)

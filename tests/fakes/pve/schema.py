# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PVE API schema the fake checks every request and answer against.

The contract is ``tests/fixtures/pve-apidata-subset.json`` (proxmox/pve-docs
``api-viewer/apidata.js``, see PROVENANCE-pve.md). Endpoints outside the subset are
described in ``EXTRA_SCHEMA``: two reads the community.proxmox inventory plugin (the
benchmark's baseline) needs (``GET .../{vmid}/snapshot``, ``GET /pools/{poolid}``) and the
writes the subset lacks (resize, LXC clone, LXC status and DELETE), written after the PVE
API viewer. Parameters are verified as pveproxy does (``check_parameters``); answers can be
checked against a method's ``returns`` (``check_returns``).
"""

import json
import pathlib
import re
from urllib.parse import unquote


SCHEMA_PATH = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "pve-apidata-subset.json"


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

INTEGER = re.compile(r"[+-]?\d+")
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
BOOLEAN = re.compile(r"(?i)1|0|true|false|yes|no|on|off")
_URLENCODED = re.compile(r"[-%a-zA-Z0-9_.!~*'()]*")


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


def property_schema(properties, name):
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
        schema = property_schema(properties, name)
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
    if kind == "integer" and not INTEGER.fullmatch(text):
        return "type check ('integer') failed - got '%s'" % text
    if kind == "number" and not NUMBER.fullmatch(text):
        return "type check ('number') failed - got '%s'" % text
    if kind == "boolean" and not BOOLEAN.fullmatch(text):
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
            child = property_schema(properties, name)
            if child is not None:
                problems.extend(check_returns(child, value, "%s.%s" % (where, name)))
        for name, child in properties.items():
            if "[n]" not in name and not child.get("optional") and name not in data:
                problems.append("%s: required property %r is missing" % (where, name))
    return problems

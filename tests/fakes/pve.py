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

Two read endpoints outside the subset are served because the community.proxmox
inventory plugin (the benchmark's baseline) needs them: ``GET .../{vmid}/snapshot`` and
``GET /pools/{poolid}``; ``EXTRA_SCHEMA`` describes them. Writes that the schema knows but
the fake does not model answer 501 ``... not implemented by the fake``.

Usage::

    cluster = make_cluster(nodes=3, guests=30)
    with FakePVE(cluster, latency=0.02) as pve:
        requests.get(pve.url + "/api2/json/cluster/resources", headers=pve.token_header())
        pve.count("GET", "/cluster/resources")
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, unquote, urlsplit

from fakes import FakeServer

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

# Endpoints beyond the contract subset, written after the PVE API viewer (read-only,
# path parameters only). Only the community.proxmox baseline of the benchmark uses them.
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
]

_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_BOOLEAN = re.compile(r"(?i)1|0|true|false|yes|no|on|off")


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


# The schema

class Schema:
    """The API tree as routes: (regex, path template, {METHOD: method schema})."""

    def __init__(self, tree, extras=()):
        self.routes = []
        stack = list(tree) + list(extras)
        while stack:
            entry = stack.pop()
            stack.extend(entry.get("children") or [])
            pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(entry["path"]))
            self.routes.append((re.compile(pattern), entry["path"], entry.get("info") or {}))
        # Literal segments win over parameters, as in PVE's router.
        self.routes.sort(key=lambda route: route[1].count("{"))

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

class _Fault:
    def __init__(self, kind, times, path, status, message, seconds):
        self.kind = kind
        self.remaining = times
        self.path = re.compile(path) if path is not None else None
        self.status = status
        self.message = message
        self.seconds = seconds


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
    status, connection (the client's port)}.
    """

    # _Handler is defined further down; the property looks it up when the fake starts.
    handler_class = property(lambda self: _Handler)
    thread_name = "fake-pve"

    def __init__(self, cluster, latency=0.0, user=USER, password=PASSWORD, token_name=TOKEN_NAME,
                 token_secret=TOKEN_SECRET, schema=None):
        self.cluster = cluster
        self.latency = latency
        self.user = user
        self.password = password
        self.token_id = "%s!%s" % (user, token_name)
        self.token_secret = token_secret
        self.schema = schema or Schema.load()
        self.requests = []
        self.tickets = {}
        self._faults = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._server = None
        self._thread = None

    def token_header(self):
        """The Authorization header of the valid API token."""
        return {"Authorization": "PVEAPIToken=%s=%s" % (self.token_id, self.token_secret)}

    # Test controls

    def count(self, method=None, path=None):
        """How many requests arrived, optionally only with this method and path (a regex)."""
        pattern = re.compile(path) if path is not None else None
        with self._lock:
            return sum(1 for r in self.requests
                       if (method is None or r["method"] == method) and (pattern is None or pattern.fullmatch(r["path"])))

    def reset(self):
        """Forget the recorded requests and pending faults."""
        with self._lock:
            self.requests.clear()
            self._faults.clear()

    def fail(self, status=500, times=None, path=None, message=None):
        """Answer requests (to paths matching the regex ``path``) with ``status``; ``times``
        None means every time."""
        self._add(_Fault("status", times, path, status, message, 0.0))

    def malformed(self, times=None, path=None):
        """Answer with HTTP 200 and a body that is not valid JSON."""
        self._add(_Fault("malformed", times, path, 200, None, 0.0))

    def hang(self, times=None, path=None, seconds=5.0):
        """Say nothing for ``seconds`` (or until stop), then answer normally."""
        self._add(_Fault("hang", times, path, 200, None, seconds))

    def _add(self, fault):
        with self._lock:
            self._faults.append(fault)

    def take_fault(self, path):
        """The fault to play for a request to ``path``, if one is pending."""
        with self._lock:
            for fault in self._faults:
                if (fault.remaining is None or fault.remaining > 0) and (fault.path is None or fault.path.fullmatch(path)):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault
        return None

    def record(self, entry):
        """Note one request (the handler calls this)."""
        with self._lock:
            self.requests.append(entry)

    # Authentication

    def issue_ticket(self, username):
        """A new ticket and CSRF token, shaped like PVE's."""
        ticket = "PVE:%s:%08X::%s" % (username, len(self.tickets) + 1, secrets.token_urlsafe(48))
        csrf = "%08X:%s" % (len(self.tickets) + 1, secrets.token_urlsafe(32))
        with self._lock:
            self.tickets[ticket] = csrf
        return {"username": username, "ticket": ticket, "CSRFPreventionToken": csrf, "clustername": self.cluster.name}

    def authenticate(self, headers, method):
        """Check the request's credentials like pveproxy; raise ApiError(401) when refused."""
        authorization = headers.get("Authorization") or ""
        if authorization.startswith("PVEAPIToken="):
            token_id, _sep, secret = authorization[len("PVEAPIToken="):].partition("=")
            user, _sep, name = token_id.partition("!")
            if token_id != self.token_id:
                raise ApiError(401, "no such token '%s' for user '%s'" % (name, user))
            if not secrets.compare_digest(secret, self.token_secret):
                raise ApiError(401, "invalid token value!")
            return
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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as pveproxy
    # Headers and body leave in two writes; with Nagle's algorithm the body would wait for
    # the client's delayed ACK (40 ms on Linux), a stall pveproxy does not have.
    disable_nagle_algorithm = True
    server_version = "pve-api-daemon/3.0"
    sys_version = ""
    timeout = 60
    fake = None  # set by FakePVE.start

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def do_PUT(self):
        self._handle()

    def do_DELETE(self):
        self._handle()

    def _handle(self):
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = parts.path[len(API_PREFIX):] if parts.path.startswith(API_PREFIX + "/") else None
        # "connection": the client's port, so tests can see how many connections were used.
        entry = {"method": self.command, "path": path if path is not None else parts.path, "query": parts.query,
                 "status": None, "connection": self.client_address[1]}
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
            self._send(fault.status, message, {"data": None, "message": message + "\n"})
            return
        try:
            data = _Api(self.fake, self.command, path, parts.query, body, self.headers).answer()
        except ApiError as error:
            entry["status"] = error.status
            answer = {"data": None, "message": error.message + ("\n" if error.status != 501 else "")}
            if error.errors:
                answer["errors"] = error.errors
            self._send(error.status, error.message, answer)
            return
        entry["status"] = 200
        self._send(200, "OK", {"data": data})

    def _send(self, status, reason, answer):
        self._send_raw(status, reason, json.dumps(answer).encode())

    def _send_raw(self, status, reason, raw):
        try:
            self.send_response(status, reason.splitlines()[0] if reason else None)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(raw)))
            self.send_header("Cache-Control", "max-age=0")
            self.end_headers()
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a hang it timed out on)


class _Api:
    """One request through PVE's pipeline: route, authenticate, verify, answer."""

    def __init__(self, fake, method, path, query, body, headers):
        self.fake = fake
        self.cluster = fake.cluster
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.headers = headers

    def answer(self):
        found = self.fake.schema.match(self.path)
        if found is None or self.method not in found[1]:
            raise ApiError(501, "Method '%s %s' not implemented" % (self.method, self.path))
        template, info, path_params = found
        method_schema = info[self.method]
        # Only methods open to the "world" (the login) go without credentials.
        if method_schema.get("permissions", {}).get("user") != "world":
            self.fake.authenticate(self.headers, self.method)
        params = self._params(path_params)
        errors = check_parameters(method_schema.get("parameters") or {}, params)
        if errors:
            raise ApiError(400, "Parameter verification failed.", errors)
        handler = getattr(self, "_%s_%s" % (self.method.lower(), re.sub(r"[^a-z]+", "_", template.lower()).strip("_")), None)
        if handler is None:
            raise ApiError(501, "Method '%s %s' not implemented by the fake" % (self.method, self.path))
        return handler(**params)

    def _params(self, path_params):
        values = dict(parse_qsl(self.query, keep_blank_values=True))
        if self.body:
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if content_type == "application/json":
                try:
                    decoded = json.loads(self.body)
                except ValueError as exc:
                    raise ApiError(400, "malformed JSON body: %s" % exc) from exc
                values.update(decoded if isinstance(decoded, dict) else {})
            else:
                values.update(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))
        values.update(path_params)
        return values

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

    def _config(self, guest):
        mac = next((mac for name, mac, _v4, _v6 in guest.interfaces if name == "eth0"), "bc:24:11:00:00:00").upper()
        # Types as the schema has them: QEMU's memory is a property string, LXC's an integer.
        memory = guest.maxmem // 1024 ** 2
        config = {"digest": hashlib.sha1(("%s-%s" % (guest.vmid, guest.name)).encode()).hexdigest(),
                  "memory": str(memory) if guest.type == "qemu" else memory, "cores": guest.cores, "onboot": 1}
        if guest.tags:
            config["tags"] = guest.tags
        if guest.template:
            config["template"] = 1
        if guest.type == "qemu":
            if guest.name:
                config["name"] = guest.name
            config.update({"ostype": "l26", "sockets": 1, "scsihw": "virtio-scsi-single", "boot": "order=scsi0;net0",
                           "scsi0": "local-lvm:vm-%d-disk-0,iothread=1,size=32G" % guest.vmid,
                           "net0": "virtio=%s,bridge=vmbr0,firewall=1" % mac,
                           "smbios1": "uuid=%s" % _uuid(guest.vmid), "vmgenid": _uuid(guest.vmid + 1)})
            if guest.agent:
                config["agent"] = "1"
        else:
            if guest.name:
                config["hostname"] = guest.name
            config.update({"ostype": "debian", "arch": "amd64", "swap": 512, "unprivileged": 1,
                           "rootfs": "local-lvm:vm-%d-disk-0,size=8G" % guest.vmid,
                           "net0": "name=eth0,bridge=vmbr0,hwaddr=%s,ip=dhcp,ip6=auto,type=veth" % mac})
        return config

    def _get_nodes_node_qemu_vmid_config(self, node, vmid, current=None, snapshot=None):  # pylint: disable=unused-argument
        return self._config(self._guest(node, vmid, "qemu"))

    def _get_nodes_node_lxc_vmid_config(self, node, vmid, current=None, snapshot=None):  # pylint: disable=unused-argument
        return self._config(self._guest(node, vmid, "lxc"))

    def _status(self, guest):
        answer = {key: value for key, value in resource_of_guest(self.cluster, guest).items()
                  if key not in ("id", "type", "node", "pool", "maxcpu", "hastate")}
        answer.update({"cpus": guest.cores, "ha": {"managed": 0}})
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
        return [{"name": "current", "description": "You are here!", "digest": self._config(guest)["digest"],
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
             "maxdisk": (32 if guest.type == "qemu" else 8) * 1024 ** 3}
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

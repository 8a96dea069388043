# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fake PVE server: credentials, the test controls, and the HTTP handler that answers in
PVE's envelope (``{"data": ...}``; errors as ``{"data": null, "message": "...", "errors":
{...}}`` with the message also in the HTTP reason phrase, as pve-http-server does)."""

import json
import secrets
import threading
from urllib.parse import urlsplit

from fakes import FakeHandler, FakeServer
from fakes.pve.api import ApiError, request_params
from fakes.pve.config import absorb, coerce, config_digest, stored_config
from fakes.pve.schema import Schema
from fakes.pve.tasks import WorkerTasks
from fakes.pve.writes import Endpoints


API_PREFIX = "/api2/json"

USER = "root@pam"
PASSWORD = "fake-root-password"
TOKEN_NAME = "inventory"
TOKEN_SECRET = "3f1a9d4e-6b2c-4e8f-9a7d-0c5b8e2f1d63"


class FakePVE(WorkerTasks, FakeServer):
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
        # Held while a request is answered and while tasks end: the cluster changes one write at a time.
        self.state = threading.RLock()

    def token_header(self):
        """The Authorization header of the valid API token."""
        return {"Authorization": "PVEAPIToken=%s=%s" % (self.token_id, self.token_secret)}

    # Test controls (the tasks' own are WorkerTasks')

    def writes(self):
        """The recorded requests that are not GETs, the login (POST /access/ticket) left out."""
        with self._lock:
            return [dict(entry) for entry in self.requests
                    if entry["method"] != "GET" and (entry["method"], entry["path"]) != ("POST", "/access/ticket")]

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
            data = Endpoints(self.fake, self.command, path, params, problem, self.headers).answer()
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

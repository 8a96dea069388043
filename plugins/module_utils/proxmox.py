# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one client for the Proxmox VE API (``/api2/json``).

Used by the homelab.stack.proxmox inventory plugin and the homelab.stack.proxmox_guest
module, and built on proxmoxer: its ``requests`` session and its two ways to
authenticate (an API token, or a ticket cookie with the CSRF token on writes, renewed
after an hour). On that session the client mounts the collection's retry policy
(``http_retry``: reads only, never a write the server may have seen) with a connection
pool sized to the caller's concurrency, counts every request it sends, follows task
UPIDs, and turns every failure into ProxmoxError or ProxmoxAuthError with a message that
can be shown to the user as it is.

Answers are decoded here rather than by proxmoxer's ``ProxmoxResource``, which returns an
answer that is not JSON as data, leaves the method and path out of its errors and only
builds ``https`` URLs.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

from ansible_collections.homelab.stack.plugins.module_utils.http_retry import mount_retries

try:
    import requests
    import urllib3
except ImportError:  # ansible-test sanity imports module_utils without extra packages
    requests = None
    urllib3 = None
    HAS_REQUESTS = False
else:
    HAS_REQUESTS = True

PROXMOXER_IMPORT_ERROR = None
if HAS_REQUESTS:  # proxmoxer's https backend exits the process when requests is missing
    try:
        from proxmoxer.backends.https import ProxmoxHttpSession, ProxmoxHTTPApiTokenAuth, ProxmoxHTTPAuth, ProxmoxHTTPAuthBase
        from proxmoxer.tools import Tasks
    except ImportError as exc:
        PROXMOXER_IMPORT_ERROR = exc
if not HAS_REQUESTS or PROXMOXER_IMPORT_ERROR is not None:
    ProxmoxHttpSession = ProxmoxHTTPApiTokenAuth = ProxmoxHTTPAuthBase = Tasks = None
    ProxmoxHTTPAuth = object
    HAS_PROXMOXER = False
else:
    HAS_PROXMOXER = True

DEFAULT_PORT = 8006
API_PREFIX = "/api2/json"
# Answers of a proxy or of a node that is restarting its API daemon: worth another try.
RETRY_STATUS = (502, 503, 504)
# Only requests that change nothing are repeated after the server may have seen them.
SAFE_METHODS = ("GET", "HEAD")


class ProxmoxError(Exception):
    """A failed API call: method, path, HTTP status (None without an answer) and PVE's text.

    ``errors`` holds PVE's per-parameter messages (HTTP 400), if any.
    """

    def __init__(self, message, method=None, path=None, status=None, errors=None):
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.errors = errors or {}


class ProxmoxAuthError(ProxmoxError):
    """The credentials were refused (HTTP 401) or lack a permission (HTTP 403)."""


class ProxmoxConnectionError(ProxmoxError):
    """No answer: the host is unreachable, refused the connection or timed out."""


def normalise_url(url):
    """The API base URL for what a user wrote: ``pve.lan`` -> ``https://pve.lan:8006``.

    A trailing ``/`` or ``/api2/json`` is dropped, so both the web UI address and the API
    address work.
    """
    text = (url or "").strip().rstrip("/")
    if not text:
        raise ProxmoxError("no Proxmox VE URL given")
    if "://" not in text:
        text = "https://" + text
        parts = urlsplit(text)
        if parts.port is None:
            text = "%s://%s:%d%s" % (parts.scheme, parts.hostname, DEFAULT_PORT, parts.path)
    if text.endswith(API_PREFIX):
        text = text[: -len(API_PREFIX)]
    return text.rstrip("/")


class ProxmoxClient:
    """A kept-alive proxmoxer session to one Proxmox VE cluster.

    Authenticates with an API token (``token_id`` and ``token_secret``, preferred: no
    login request, no expiry) or with ``user`` and ``password`` (one login request to
    ``/access/ticket`` on first use, then the ``PVEAuthCookie`` cookie and, for writes, the
    ``CSRFPreventionToken`` header). ``requests_made`` counts every HTTP request sent,
    retries and the login included. Safe to share between threads once logged in; the
    login itself is serialised.
    """

    def __init__(self, url, user=None, password=None, token_id=None, token_secret=None,
                 validate_certs=True, timeout=10, retries=2, backoff=0.5, pool_size=10):
        if not HAS_REQUESTS:
            raise ProxmoxError("the Python library 'requests' is required to talk to the Proxmox VE API")
        if not HAS_PROXMOXER:
            raise ProxmoxError("the Python library 'proxmoxer' is required to talk to the Proxmox VE API"
                               " (pip install proxmoxer): %s" % PROXMOXER_IMPORT_ERROR)
        self.url = normalise_url(url)
        self.user = (user or "").strip() or None
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.requests_made = 0
        self._password = password
        self._token_id = (token_id or "").strip() or None
        self._token_secret = (token_secret or "").strip() or None
        self._logged_in = False
        self._login_lock = threading.Lock()
        self._count_lock = threading.Lock()

        if self._token_id and self._token_secret:
            # PVE names a token USER@REALM!TOKENID; accept the full name or the short one.
            if "!" not in self._token_id:
                if not self.user:
                    raise ProxmoxAuthError("an API token needs the user it belongs to (user, e.g. root@pam) or a full token id (root@pam!name)")
                self._token_id = "%s!%s" % (self.user, self._token_id)
            self.credentials = "API token %s" % self._token_id
        elif self.user and password:
            self.credentials = "user %s (password)" % self.user
        else:
            raise ProxmoxAuthError("no Proxmox VE credentials: give token_id and token_secret, or user and password")

        self._session = ProxmoxHttpSession()
        self._session.headers["User-Agent"] = "homelab.stack-proxmox"
        self._session.headers["Accept"] = "application/json"
        # One kept-alive connection per concurrent caller, and reads retried (see http_retry).
        mount_retries(self._session, max(0, int(retries)), backoff, RETRY_STATUS, methods=SAFE_METHODS,
                      retry_connection_errors=True, pool_size=pool_size, on_retry=self._count)
        if not validate_certs:
            # The user chose not to verify; one warning per request would drown the output.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        """Close the kept-alive connections."""
        self._session.close()

    def get(self, path, params=None):
        """GET ``path`` (below /api2/json) and return PVE's ``data``."""
        return self.request("GET", path, params=params)

    def post(self, path, data=None):
        """POST form data to ``path`` and return PVE's ``data`` (often a task UPID)."""
        return self.request("POST", path, data=data)

    def put(self, path, data=None):
        """PUT form data to ``path`` and return PVE's ``data``."""
        return self.request("PUT", path, data=data)

    def delete(self, path, params=None):
        """DELETE ``path`` and return PVE's ``data``."""
        return self.request("DELETE", path, params=params)

    def wait_task(self, upid, timeout, poll=0.2):
        """Wait until the task ``upid`` ends and return its status; raise ProxmoxError when it
        failed or is still running after ``timeout`` seconds.

        ``WARNINGS: n`` is PVE's exit status of a task that succeeded with warnings.
        """
        node = upid_node(upid)
        deadline = time.monotonic() + timeout
        while True:
            status = self.get("/nodes/%s/tasks/%s/status" % (node, upid))
            if status.get("status") == "stopped":
                exit_status = str(status.get("exitstatus") or "")
                if exit_status != "OK" and not exit_status.startswith("WARNINGS"):
                    raise ProxmoxError("task %s failed: %s" % (upid, exit_status or "no exit status"), "GET", "/nodes/%s/tasks" % node)
                return status
            if time.monotonic() >= deadline:
                raise ProxmoxError("task %s still running after %s s (see timeout)" % (upid, timeout), "GET", "/nodes/%s/tasks" % node)
            time.sleep(poll)
            poll = min(poll * 1.5, 2.0)

    def login(self):
        """Authenticate now (a no-op for tokens); later calls do it on demand."""
        with self._login_lock:
            if self._logged_in:
                return
            if self._token_id:
                user, name = self._token_id.split("!", 1)
                self._session.auth = ProxmoxHTTPApiTokenAuth(user, name, self._token_secret, timeout=self.timeout,
                                                             verify_ssl=self.validate_certs)
            else:
                self._session.auth = _TicketAuth(self, self.user, self._password)
            self._logged_in = True

    def request(self, method, path, params=None, data=None):
        """Call the API and return the ``data`` member of PVE's answer."""
        if not self._logged_in:
            self.login()
        return self._send(method.upper(), path, params=params, data=data)

    def _count(self):
        with self._count_lock:
            self.requests_made += 1

    def _send(self, method, path, params=None, data=None, auth=None):
        if not path.startswith("/"):
            path = "/" + path
        self._count()  # the session counts its retries through the same method
        try:
            response = self._session.request(method, self.url + API_PREFIX + path, params=params, data=data, auth=auth,
                                             timeout=self.timeout, verify=self.validate_certs)
        except requests.exceptions.ReadTimeout as exc:
            # The server took the request and went quiet: another try would likely wait as long again.
            raise ProxmoxConnectionError("%s %s: no answer within %s s" % (method, path, self.timeout), method, path) from exc
        except requests.exceptions.SSLError as exc:
            # A certificate that is refused now is refused on a retry too.
            raise ProxmoxConnectionError("%s %s: TLS with %s failed (see validate_certs): %s"
                                         % (method, path, self.url, _reason(exc)), method, path) from exc
        except requests.exceptions.ConnectionError as exc:
            raise ProxmoxConnectionError("%s %s: cannot reach %s: %s" % (method, path, self.url, _reason(exc)), method, path) from exc
        except requests.exceptions.RequestException as exc:
            raise ProxmoxConnectionError("%s %s: %s" % (method, path, _reason(exc)), method, path) from exc
        return self._decode(method, path, response)

    def _decode(self, method, path, response):
        status = response.status_code
        if status >= 400 or status < 200:
            message, errors = _error_text(response)
            if status in (401, 403):
                what = "authentication failed" if status == 401 else "permission denied"
                raise ProxmoxAuthError("%s for %s at %s (%s %s: HTTP %d %s)" % (what, self.credentials, self.url, method, path, status, message),
                                       method, path, status, errors)
            details = "; ".join("%s: %s" % (key, value) for key, value in sorted(errors.items()))
            raise ProxmoxError("%s %s: HTTP %d %s%s" % (method, path, status, message, " (%s)" % details if details else ""),
                               method, path, status, errors)
        try:
            body = response.json()
        except ValueError as exc:
            raise ProxmoxError("%s %s: the answer is not valid JSON" % (method, path), method, path, status) from exc
        if not isinstance(body, dict) or "data" not in body:
            raise ProxmoxError("%s %s: the answer has no 'data' member" % (method, path), method, path, status)
        return body["data"]


class _TicketAuth(ProxmoxHTTPAuth):
    """proxmoxer's ticket authentication (the ``PVEAuthCookie`` cookie, the CSRF token on
    writes, a new ticket after an hour) with its logins sent by the client, so they are
    counted, pooled, retried like any request and a refusal names the credentials."""

    def __init__(self, client, username, password):
        self._client = client
        super().__init__(username, password, base_url=client.url + API_PREFIX, timeout=client.timeout,
                         verify_ssl=client.validate_certs)

    def _get_new_tokens(self, password=None, otp=None, otptype=None):
        no_auth = ProxmoxHTTPAuthBase(timeout=self._client.timeout, verify_ssl=self._client.validate_certs)
        ticket = self._client._send("POST", "/access/ticket", auth=no_auth,
                                    data={"username": self.username, "password": password or self.pve_auth_ticket})
        if not isinstance(ticket, dict) or not ticket.get("ticket"):
            raise ProxmoxAuthError("%s: login to %s returned no ticket" % (self._client.credentials, self._client.url),
                                   "POST", "/access/ticket")
        self.birth_time = time.monotonic()
        self.pve_auth_ticket = ticket["ticket"]
        self.csrf_prevention_token = ticket.get("CSRFPreventionToken")


def upid_node(upid):
    """The node that runs a task: the second field of ``UPID:node:pid:pstart:starttime:type:id:user:``."""
    try:
        return Tasks.decode_upid(str(upid or ""))["node"]
    except (AssertionError, ValueError, IndexError) as exc:
        raise ProxmoxError("%r is not a task ID (UPID)" % (upid,)) from exc


def _error_text(response):
    """PVE's message and per-parameter errors: in the JSON body and in the HTTP reason."""
    message = (response.reason or "").strip()
    errors = {}
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("message"), str) and body["message"].strip():
            message = body["message"].strip()
        if isinstance(body.get("errors"), dict):
            errors = body["errors"]
    return message, errors


def _reason(exc):
    """The cause of a requests error without urllib3's wrapping (pool, object addresses)."""
    reason = exc.args[0] if exc.args else exc
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError carries the cause
    text = str(reason)
    if text.startswith("<") and ">: " in text:
        text = text.split(">: ", 1)[1]
    return text


def module_argument_spec():
    """The connection options of the collection's Proxmox VE modules (doc fragment
    ``homelab.stack.proxmox.MODULES``), with the same environment fallbacks as the inventory plugin."""
    from ansible.module_utils.basic import env_fallback  # pylint: disable=import-outside-toplevel

    return dict(
        url=dict(type="str", fallback=(env_fallback, ["PROXMOX_URL"])),
        user=dict(type="str", fallback=(env_fallback, ["PROXMOX_USER"])),
        password=dict(type="str", no_log=True, fallback=(env_fallback, ["PROXMOX_PASSWORD"])),
        token_id=dict(type="str", no_log=False, fallback=(env_fallback, ["PROXMOX_TOKEN_ID"])),
        token_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["PROXMOX_TOKEN_SECRET"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["PROXMOX_VALIDATE_CERTS"])),
        api_timeout=dict(type="int", default=10),
    )


def client_from_module(module):
    """A ProxmoxClient for a module's connection options; fails the module with a clear message."""
    params = module.params
    if not params.get("url"):
        module.fail_json(msg="url: no Proxmox VE URL given (option url or environment variable PROXMOX_URL)")
    try:
        return ProxmoxClient(params["url"], user=params.get("user"), password=params.get("password"),
                             token_id=params.get("token_id"), token_secret=params.get("token_secret"),
                             validate_certs=params["validate_certs"], timeout=params["api_timeout"], pool_size=1)
    except ProxmoxError as exc:
        module.fail_json(msg=exc.message)

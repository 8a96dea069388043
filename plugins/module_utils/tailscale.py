# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One client for the Tailscale API v2, shared by the inventory plugin and the modules.

The API is documented at https://tailscale.com/api (the 2024 Markdown version is kept in
``tests/fixtures/tailscale-api/``). Requests are authenticated with an API access key
(HTTP basic auth with the key as user name and an empty password, or ``Authorization:
Bearer``) or with an OAuth client, whose ID and secret are traded for short-lived access
tokens at ``POST /api/v2/oauth/token``.

Failures are raised as ``TailscaleError`` (``TailscaleAuthError`` for 401/403) with a
message that names the request and the API's own ``message``, and never a secret.
"""

from __future__ import annotations

import time
from urllib.parse import quote

try:
    import requests
except ImportError as exc:  # the plugin reports this when the client is first used
    requests = None
    REQUESTS_IMPORT_ERROR = exc
else:
    REQUESTS_IMPORT_ERROR = None

from ansible_collections.homelab.stack.plugins.module_utils.http_retry import mount_retries

DEFAULT_API_URL = "https://api.tailscale.com"
TOKEN_PATH = "/api/v2/oauth/token"
# HTTP statuses that say "try again later" rather than "this request is wrong".
RETRY_STATUSES = (429, 500, 502, 503, 504)


class TailscaleError(Exception):
    """A failed API call: what was asked (method, path) and what the API answered.

    ``status`` is None when no answer arrived (timeout, connection refused) and
    ``api_message`` holds the ``message`` field of the API's error body when it had one.
    """

    def __init__(self, message, method=None, path=None, status=None, api_message=None):
        super().__init__(message)
        self.method = method
        self.path = path
        self.status = status
        self.api_message = api_message


class TailscaleAuthError(TailscaleError):
    """The API refused the credentials (HTTP 401 or 403)."""


class TailscaleClient:
    """A ``requests.Session`` bound to one Tailscale API endpoint and one credential.

    Give either ``api_key`` or both ``oauth_client_id`` and ``oauth_client_secret``.
    ``api_key_auth`` chooses how an API key is sent: ``basic`` (the key as user name,
    as in the API's curl examples) or ``bearer``. OAuth access tokens are always sent as
    bearer tokens and fetched again shortly before they expire.

    Answers 429 and 5xx are retried up to ``retries`` times, waiting what the API's
    ``Retry-After`` header asks for (when it asks for more than ``max_retry_wait``
    seconds, the client gives up at once instead) or else ``backoff``, 2 x ``backoff``,
    4 x ``backoff`` ... seconds. Timeouts and connection errors are not retried: the
    caller's ``timeout`` is meant to bound the wait.
    """

    def __init__(self, api_url=DEFAULT_API_URL, api_key=None, oauth_client_id=None, oauth_client_secret=None,
                 timeout=30, retries=3, backoff=1.0, max_retry_wait=60, api_key_auth="basic", session=None):
        if requests is None:
            raise TailscaleError("the Python library 'requests' is required to talk to the Tailscale API: %s"
                                 % REQUESTS_IMPORT_ERROR)
        if api_key_auth not in ("basic", "bearer"):
            raise TailscaleError("api_key_auth must be 'basic' or 'bearer', not %r" % (api_key_auth,))
        if api_key and (oauth_client_id or oauth_client_secret):
            raise TailscaleError("give either an API key or OAuth client credentials, not both")
        if not api_key and not (oauth_client_id and oauth_client_secret):
            raise TailscaleError("no Tailscale credentials: give an API key, or an OAuth client ID and secret")
        self.api_url = _base_url(api_url or DEFAULT_API_URL)
        self.timeout = timeout
        self._api_key = api_key
        self._api_key_auth = api_key_auth
        self._client_id = oauth_client_id
        self._client_secret = oauth_client_secret
        self._token = None
        self._token_expires = 0.0
        self.session = mount_retries(session or requests.Session(), retries, backoff, RETRY_STATUSES, max_wait=max_retry_wait)
        self.session.headers["Accept"] = "application/json"

    @property
    def credential_kind(self):
        """Which kind of credential the client uses, for messages: never the secret itself."""
        if self._api_key:
            return "API key"
        return "OAuth client %s" % self._client_id

    # The API calls the collection uses. ``deviceId`` may be a nodeId or a legacy id.

    def list_devices(self, tailnet="-", fields="all"):
        """``GET /api/v2/tailnet/{tailnet}/devices``: the list of device objects."""
        params = {"fields": fields} if fields else None
        path = "/api/v2/tailnet/%s/devices" % _segment(tailnet)
        answer = self.request("GET", path, params=params)
        if not isinstance(answer, dict) or not isinstance(answer.get("devices"), list):
            raise TailscaleError("Tailscale API GET %s: expected a JSON object with a 'devices' list" % path, "GET", path, 200)
        return answer["devices"]

    def get_device(self, device_id, fields=None):
        """``GET /api/v2/device/{deviceId}``: one device object."""
        params = {"fields": fields} if fields else None
        return self.request("GET", "/api/v2/device/%s" % _segment(device_id), params=params)

    def get_routes(self, device_id):
        """``GET /api/v2/device/{deviceId}/routes``: ``{advertisedRoutes, enabledRoutes}``."""
        return self.request("GET", "/api/v2/device/%s/routes" % _segment(device_id))

    def set_routes(self, device_id, routes):
        """``POST /api/v2/device/{deviceId}/routes``: replace the enabled routes."""
        return self.request("POST", "/api/v2/device/%s/routes" % _segment(device_id), json_body={"routes": list(routes)})

    def set_tags(self, device_id, tags):
        """``POST /api/v2/device/{deviceId}/tags``: replace the tags (each ``tag:name``)."""
        return self.request("POST", "/api/v2/device/%s/tags" % _segment(device_id), json_body={"tags": list(tags)})

    def request(self, method, path, params=None, json_body=None):
        """Send one authenticated API request and return its decoded JSON (None if empty)."""
        reused_token = self._api_key is None and self._token_is_valid()
        response = self._send(method, path, params=params, json_body=json_body, **self._credentials())
        if response.status_code == 401 and reused_token:
            # A token refused before its expiry (revoked, or the clocks disagree) gets one
            # more try with a new token before the credentials count as refused.
            self._token = None
            response = self._send(method, path, params=params, json_body=json_body, **self._credentials())
        return self._decode(response, method, path)

    def _credentials(self):
        """The ``headers`` and ``auth`` arguments that authenticate one request."""
        if self._api_key is None:
            return {"headers": {"Authorization": "Bearer %s" % self._access_token()}, "auth": None}
        if self._api_key_auth == "bearer":
            return {"headers": {"Authorization": "Bearer %s" % self._api_key}, "auth": None}
        return {"headers": None, "auth": (self._api_key, "")}

    def _token_is_valid(self):
        return self._token is not None and time.monotonic() < self._token_expires

    def _access_token(self):
        """The current OAuth access token, fetched again when missing or about to expire."""
        if not self._token_is_valid():
            data = {"client_id": self._client_id, "client_secret": self._client_secret}
            response = self._send("POST", TOKEN_PATH, data=data)
            answer = self._decode(response, "POST", TOKEN_PATH)
            token = answer.get("access_token") if isinstance(answer, dict) else None
            if not isinstance(token, str) or not token:
                raise TailscaleError("POST %s: the answer holds no access_token" % TOKEN_PATH, "POST", TOKEN_PATH,
                                     response.status_code)
            lifetime = answer.get("expires_in")
            lifetime = lifetime if isinstance(lifetime, (int, float)) and lifetime > 0 else 3600
            # Renew a little early (a tenth of the lifetime, at most a minute) so that a
            # token does not expire between this check and the API's.
            self._token = token
            self._token_expires = time.monotonic() + lifetime - min(60, lifetime / 10.0)
        return self._token

    def _send(self, method, path, params=None, json_body=None, data=None, headers=None, auth=None):
        """One request; the session retries it (see the class). Raises on no answer."""
        try:
            return self.session.request(method, self.api_url + path, params=params, json=json_body, data=data,
                                        headers=headers, auth=auth, timeout=self.timeout)
        except requests.Timeout:
            raise TailscaleError("Tailscale API %s %s: no answer within %s seconds" % (method, path, self.timeout),
                                 method, path) from None
        except requests.RequestException as error:
            raise TailscaleError("Tailscale API %s %s: cannot reach %s: %s" % (method, path, self.api_url, error),
                                 method, path) from None

    def _decode(self, response, method, path):
        """The JSON of a successful answer, or the matching exception for a failed one."""
        status = response.status_code
        if status >= 400:
            api_message = _api_message(response)
            for secret in (self._api_key, self._client_secret, self._token):
                if secret and api_message:
                    api_message = api_message.replace(secret, "***")
            detail = ": %s" % api_message if api_message else ""
            if status in (401, 403):
                raise TailscaleAuthError("Tailscale API refused the %s (HTTP %s) for %s %s%s"
                                         % (self.credential_kind, status, method, path, detail), method, path, status, api_message)
            raise TailscaleError("Tailscale API %s %s failed with HTTP %s%s" % (method, path, status, detail),
                                 method, path, status, api_message)
        if not response.content or not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError:
            raise TailscaleError("Tailscale API %s %s: the answer (HTTP %s) is not valid JSON: %r"
                                 % (method, path, status, response.text[:200]), method, path, status) from None


def _base_url(url):
    """The API origin without a trailing slash; a trailing ``/api/v2`` is accepted too."""
    url = url.rstrip("/")
    if url.endswith("/api/v2"):
        url = url[:-len("/api/v2")]
    return url


def _segment(value):
    """One URL path segment: tailnet names such as ``alice@example.com`` stay readable."""
    return quote(str(value), safe="@")


def _api_message(response):
    """The error text of an API answer: ``message``, an OAuth ``error_description``/``error``, or raw text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "error_description", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key]
    text = (response.text or "").strip()
    return text[:200] if text else None

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one client for the Semaphore UI REST API (``<api_url>/api``), and the
shapes Semaphore gives the objects of a project.

Semaphore 2.16's ``api-docs.yml`` (Swagger 2.0) is the contract; where it says nothing,
Semaphore's source is (api/projects/*.go, db/*.go):

- Requests carry the API token as ``Authorization: Bearer``; a wrong token is a 401 with
  no body. Errors are ``{"error": "..."}`` (or no body at all).
- List endpoints take ``sort`` and ``order`` (the contract marks both required) and answer
  a plain JSON array; names are not unique, so the client finds objects by name itself.
- Secrets are write-only: an access key is listed with its name and type only (its
  login, password, private key and passphrase never come back), and an environment shows
  each secret's name and type. A key's ``PUT`` changes its type and secret only with
  ``override_secret: true``; environment secrets change through the ``secrets`` list of
  the environment's ``PUT`` (``operation`` create, update or delete).
- ``PUT`` replaces the whole object (Go binds the body into a fresh struct): a field left
  out is reset, so updates send every field, carried over from the object when unmanaged.
- A template refers to its inventory, repository, environment and vault keys by id; a
  schedule to its template; a repository and an inventory to their keys. Deleting an
  object a template still uses is refused ("... is in use by one or more templates").
- A new project comes with an access key ``None`` (type ``none``) and an environment
  ``Empty`` (``{}``); see NEW_PROJECT_KEYS and NEW_PROJECT_ENVIRONMENTS.
- The project's schedules are listed at ``GET /project/{id}/schedules``, which Semaphore
  serves (api/router.go) but its api-docs.yml leaves out.

Retries are the collection's one policy (module_utils/http_retry.py): only reads are sent
again, after a 502/503/504 or a connection that failed.
"""

from __future__ import annotations

import json
import re

from ansible_collections.homelab.stack.plugins.module_utils.api_connection import (
    api_origin,
    bearer_session,
    connection_argument_spec,
    connection_problem,
)

try:
    import requests
except ImportError:  # ansible-test sanity imports module_utils without extra packages
    requests = None
    HAS_REQUESTS = False
else:
    HAS_REQUESTS = True

API_PREFIX = "/api"
TOKEN_ENV = "SEMAPHORE_TOKEN"
URL_ENV = "SEMAPHORE_URL"
RETRY_STATUS = (502, 503, 504)
KEY_TYPES = ("ssh", "login_password", "none")
# Survey variable types as the module names them -> as Semaphore stores them ("" is a string).
SURVEY_TYPES = {"string": "", "int": "int", "enum": "enum", "secret": "secret"}
# What stands for a write-only secret in views and diffs.
SECRET = "<secret>"
NEW_SECRET = "<secret: set by this task>"
NEW_PROJECT_KEYS = ({"name": "None", "type": "none"},)
NEW_PROJECT_ENVIRONMENTS = ({"name": "Empty", "json": "{}"},)


class SemaphoreError(Exception):
    """A failed API call: the message names method, path and HTTP status (None without an answer)."""

    def __init__(self, message, method=None, path=None, status=None):
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status = status


class SemaphoreAuthError(SemaphoreError):
    """The token was refused (HTTP 401) or its user may not do this (HTTP 403)."""


def api_argument_spec():
    """The connection options every Semaphore module takes (doc fragment ``semaphore``)."""
    return connection_argument_spec(URL_ENV, TOKEN_ENV)


def client_from_module(module):
    """A SemaphoreClient from a module's connection options; fails the module naming the bad option."""
    params = module.params
    if not HAS_REQUESTS:
        module.fail_json(msg="the Python library 'requests' is required to talk to the Semaphore API")
    problem = connection_problem(params, "Semaphore", URL_ENV, TOKEN_ENV)
    if problem:
        module.fail_json(msg=problem)
    try:
        return SemaphoreClient(params["api_url"], params["api_token"], validate_certs=params["validate_certs"],
                               timeout=params["timeout"])
    except SemaphoreError as error:
        module.fail_json(msg=str(error))


def base_url(url):
    """The server's origin without a trailing slash; a trailing ``/api`` is accepted too."""
    origin = api_origin(url, API_PREFIX)
    if origin is None:
        raise SemaphoreError("api_url: %r is not an address such as https://semaphore.example.com" % url)
    return origin


class SemaphoreClient:
    """A ``requests`` session bound to one Semaphore and one API token."""

    def __init__(self, api_url, token, validate_certs=True, timeout=30, retries=2, backoff=0.5, session=None):
        if not HAS_REQUESTS:
            raise SemaphoreError("the Python library 'requests' is required to talk to the Semaphore API")
        self.url = base_url(api_url)
        self.timeout = timeout
        self._token = token
        self.session = bearer_session(session or requests.Session(), token, validate_certs, retries, backoff,
                                      RETRY_STATUS)

    def request(self, method, path, params=None, body=None):
        """Send one request to ``/api<path>``; the decoded JSON answer (None when empty)."""
        method = method.upper()
        where = "Semaphore API %s %s%s" % (method, API_PREFIX, path)
        try:
            response = self.session.request(method, self.url + API_PREFIX + path, params=params, json=body,
                                            timeout=self.timeout)
        except requests.exceptions.ReadTimeout:
            raise SemaphoreError("%s: no answer within %s seconds" % (where, self.timeout), method, path) from None
        except requests.exceptions.SSLError as error:
            raise SemaphoreError("%s: TLS with %s failed (see validate_certs): %s" % (where, self.url, self._hide(error)),
                                 method, path) from None
        except requests.exceptions.ConnectionError as error:
            raise SemaphoreError("%s: cannot reach %s: %s" % (where, self.url, self._hide(error)), method, path) from None
        except requests.exceptions.RequestException as error:
            raise SemaphoreError("%s: %s" % (where, self._hide(error)), method, path) from None
        return self._decode(method, path, where, response)

    def _hide(self, error):
        text = str(error)
        return text.replace(self._token, "********") if self._token else text

    def _decode(self, method, path, where, response):
        status = response.status_code
        if status == 401:
            raise SemaphoreAuthError("Semaphore refused the API token (401) at %s %s%s: check api_token"
                                     % (method, API_PREFIX, path), method, path, status)
        if status == 403:
            raise SemaphoreAuthError("%s: Semaphore denied it to the API token's user (403): the user needs the "
                                     "project's owner or manager role" % where, method, path, status)
        if status >= 400:
            detail = _error_text(response)
            raise SemaphoreError("%s failed with HTTP %d%s" % (where, status, ": " + self._hide(detail) if detail else ""),
                                 method, path, status)
        if not response.content or not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError:
            raise SemaphoreError("%s: the answer (HTTP %d) is not JSON: %r" % (where, status, response.text[:200]),
                                 method, path, status) from None

    def list(self, path):
        """Every object of a list endpoint (a JSON array), sorted by name as the contract asks for."""
        params = None if path in ("/projects",) or path.endswith("/schedules") else {"sort": "name", "order": "asc"}
        answer = self.request("GET", path, params=params)
        if not isinstance(answer, list):
            raise SemaphoreError("Semaphore API GET %s%s: expected a JSON array" % (API_PREFIX, path), "GET", path)
        return answer

    def project(self, name):
        """The project with this name, or None; several raise."""
        found = [item for item in self.list("/projects") if item.get("name") == name]
        if len(found) > 1:
            raise SemaphoreError("name: Semaphore has %d projects named %r (ids %s); rename all but one"
                                 % (len(found), name, ", ".join(str(p["id"]) for p in found)))
        return found[0] if found else None


def _error_text(response):
    try:
        body = response.json()
    except ValueError:
        return (response.text or "").strip()[:200]
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"]
    return json.dumps(body)[:200]


# Paths of a project's collections (below /api), by kind.

COLLECTIONS = {
    "key": "keys",
    "repository": "repositories",
    "inventory": "inventory",
    "environment": "environment",
    "template": "templates",
    "schedule": "schedules",
}
# The order objects are written in (each refers only to kinds before it); deleted in reverse.
KINDS = ("key", "repository", "inventory", "environment", "template", "schedule")


def collection_path(project_id, kind):
    return "/project/%d/%s" % (project_id, COLLECTIONS[kind])


def object_path(project_id, kind, object_id):
    return "%s/%d" % (collection_path(project_id, kind), object_id)


# Cron as Semaphore parses it (robfig/cron's ParseStandard: five fields or a descriptor).

CRON_FIELDS = (("minute", 0, 59, None), ("hour", 0, 23, None), ("day of month", 1, 31, None),
               ("month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
               ("day of week", 0, 6, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")))
CRON_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


def cron_problem(text):
    """Why Semaphore would refuse this cron expression, or None when it takes it."""
    spec = (text or "").strip()
    if spec.startswith(("TZ=", "CRON_TZ=")):
        _tz, _sep, spec = spec.partition(" ")
    if spec.startswith("@"):
        if spec in CRON_DESCRIPTORS or re.fullmatch(r"@every ([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+", spec):
            return None
        return "%r is not a cron descriptor (%s, @every <duration>)" % (spec, ", ".join(CRON_DESCRIPTORS))
    fields = spec.split()
    if len(fields) != 5:
        return "%r has %d fields; Semaphore takes five (minute hour day-of-month month day-of-week)" % (text, len(fields))
    for value, (label, low, high, names) in zip(fields, CRON_FIELDS):
        for part in value.split(","):
            problem = _cron_part(part, low, high, names)
            if problem:
                return "%r: %s field %r: %s" % (text, label, value, problem)
    return None


def _cron_part(part, low, high, names):
    rng, _sep, step = part.partition("/")
    if step and not step.isdigit():
        return "step %r is not a number" % step
    if rng in ("*", "?"):
        return None
    bounds = rng.split("-")
    if len(bounds) > 2:
        return "%r is not a value or a range" % rng
    numbers = []
    for bound in bounds:
        if names and bound.lower() in names:
            numbers.append(names.index(bound.lower()) + low)
        elif bound.isdigit():
            numbers.append(int(bound))
        else:
            return "%r is not a number" % bound
    if any(n < low or n > high for n in numbers):
        return "%s is outside %d-%d" % (rng, low, high)
    if len(numbers) == 2 and numbers[0] > numbers[1]:
        return "range %s runs backwards" % rng
    return None


def json_text(value):
    """A JSON value as Semaphore stores it in a text field (stable key order)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def parsed_json(text, default):
    """A JSON text field of Semaphore decoded (``default`` when empty or not JSON)."""
    if text in (None, ""):
        return default
    try:
        return json.loads(text)
    except ValueError:
        return text

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one client for the Authentik REST API v3 (``<api_url>/api/v3``).

Used by the ``authentik_*`` modules. Requests carry the API token as ``Authorization:
Bearer``; list endpoints are read page by page (Authentik answers ``{"pagination":
{"next": <page or 0>, ...}, "results": [...]}``). Failures become AuthentikError (or
AuthentikAuthError for 401/403) with a message that names the method, the path, the HTTP
status and Authentik's own error body (``detail`` or the per-field messages of a 400), and
never the token.

Retries are the collection's one policy (module_utils/http_retry.py): only requests that
change nothing (GET) are sent again, after a 502/503/504 or a connection that failed; a
write the server may have seen is never repeated, and an answer that does not come within
``timeout`` is not waited for twice.
"""

from __future__ import annotations

import re
from urllib.parse import quote

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

API_PREFIX = "/api/v3"
TOKEN_ENV = "AUTHENTIK_TOKEN"
URL_ENV = "AUTHENTIK_URL"
RETRY_STATUS = (502, 503, 504)
PAGE_SIZE = 100
# Objects of a fresh Authentik (2026.2) that the modules default to.
EMBEDDED_OUTPOST = "authentik Embedded Outpost"
DEFAULT_AUTHORIZATION_FLOW = "default-provider-authorization-implicit-consent"
DEFAULT_INVALIDATION_FLOW = "default-provider-invalidation-flow"
DEFAULT_SIGNING_KEY = "authentik Self-signed Certificate"


class AuthentikError(Exception):
    """A failed API call: method, path, HTTP status (None without an answer) and Authentik's errors.

    ``errors`` holds the field errors of a 400 answer (``{"name": ["..."]}``), if any.
    """

    def __init__(self, message, method=None, path=None, status=None, errors=None):
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.errors = errors or {}


class AuthentikAuthError(AuthentikError):
    """The token was refused (HTTP 401) or lacks a permission (HTTP 403)."""


def api_argument_spec():
    """The connection options every ``authentik_*`` module takes (doc fragment ``authentik``)."""
    return connection_argument_spec(URL_ENV, TOKEN_ENV)


def client_from_module(module):
    """An AuthentikClient from a module's connection options; fails the module naming the bad option."""
    params = module.params
    if not HAS_REQUESTS:
        module.fail_json(msg="the Python library 'requests' is required to talk to the Authentik API")
    problem = connection_problem(params, "Authentik", URL_ENV, TOKEN_ENV)
    if problem:
        module.fail_json(msg=problem)
    return AuthentikClient(params["api_url"], params["api_token"], validate_certs=params["validate_certs"],
                           timeout=params["timeout"])


def provider_flows_argument_spec():
    """The flow options of a provider (doc fragment ``authentik.provider_flows``)."""
    return dict(
        authorization_flow=dict(type="str", default=DEFAULT_AUTHORIZATION_FLOW),
        invalidation_flow=dict(type="str", default=DEFAULT_INVALIDATION_FLOW),
    )


def base_url(url):
    """The server's origin without a trailing slash; a trailing ``/api/v3`` is accepted too."""
    origin = api_origin(url, API_PREFIX)
    if origin is None:
        raise AuthentikError("api_url: %r is not an address such as https://auth.example.com" % url)
    return origin


def segment(value):
    """One URL path segment (a slug, a UUID or an integer primary key)."""
    return quote(str(value), safe="")


class AuthentikClient:
    """A ``requests`` session bound to one Authentik and one API token."""

    def __init__(self, api_url, token, validate_certs=True, timeout=30, retries=2, backoff=0.5, session=None):
        if not HAS_REQUESTS:
            raise AuthentikError("the Python library 'requests' is required to talk to the Authentik API")
        if not token:
            raise AuthentikError("api_token: no Authentik API token given")
        self.url = base_url(api_url)
        self.timeout = timeout
        self._token = token
        self.session = bearer_session(session or requests.Session(), token, validate_certs, retries, backoff,
                                      RETRY_STATUS)

    # The generic calls

    def request(self, method, path, params=None, body=None):
        """Send one request to ``/api/v3<path>``; the decoded JSON answer (None when empty)."""
        method = method.upper()
        try:
            response = self.session.request(method, self.url + API_PREFIX + path, params=params, json=body,
                                            timeout=self.timeout)
        except requests.exceptions.ReadTimeout:
            # The server took the request and went quiet: another try would likely wait as long.
            raise AuthentikError("Authentik API %s %s: no answer within %s seconds" % (method, path, self.timeout),
                                 method, path) from None
        except requests.exceptions.SSLError as error:
            raise AuthentikError("Authentik API %s %s: TLS with %s failed (see validate_certs): %s"
                                 % (method, path, self.url, self._hide(str(error))), method, path) from None
        except requests.exceptions.ConnectionError as error:
            raise AuthentikError("Authentik API %s %s: cannot reach %s: %s"
                                 % (method, path, self.url, self._hide(str(error))), method, path) from None
        except requests.exceptions.RequestException as error:
            raise AuthentikError("Authentik API %s %s: %s" % (method, path, self._hide(str(error))), method, path) from None
        return self._decode(method, path, response)

    def _hide(self, text):
        return text.replace(self._token, "********") if text and self._token else text

    def _decode(self, method, path, response):
        status = response.status_code
        if status >= 400:
            detail, errors = _error_text(response)
            detail = self._hide(detail)
            where = "Authentik API %s %s%s" % (method, API_PREFIX, path)
            if status in (401, 403):
                what = "refused the API token" if status == 401 else "denied the API token's permission"
                raise AuthentikAuthError("%s: Authentik %s (HTTP %d)%s" % (where, what, status, ": " + detail if detail else ""),
                                         method, path, status, errors)
            raise AuthentikError("%s failed with HTTP %d%s" % (where, status, ": " + detail if detail else ""),
                                 method, path, status, errors)
        if not response.content or not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError:
            raise AuthentikError("Authentik API %s %s: the answer (HTTP %d) is not JSON: %r"
                                 % (method, path, status, self._hide(response.text[:200])), method, path, status) from None

    def get(self, path, params=None):
        return self.request("GET", path, params=params)

    def create(self, path, body):
        return self.request("POST", path, body=body)

    def update(self, path, body):
        """PATCH: only the fields given change."""
        return self.request("PATCH", path, body=body)

    def delete(self, path):
        return self.request("DELETE", path)

    def list(self, path, **filters):
        """Every object of a list endpoint, following ``pagination.next`` page by page."""
        results = []
        page = 1
        seen = set()
        while page and page not in seen:
            seen.add(page)
            answer = self.get(path, params=dict(filters, page=page, page_size=PAGE_SIZE))
            if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
                raise AuthentikError("Authentik API GET %s: expected a paginated answer with 'results'" % path, "GET", path)
            results.extend(answer["results"])
            page = int((answer.get("pagination") or {}).get("next") or 0)
        return results

    def find(self, path, field, value, query=None, **params):
        """The one object whose ``field`` equals ``value`` (None if none); asks with ``query``
        (default: the same name as ``field``) and ``params``, and checks the answers itself."""
        found = [item for item in self.list(path, **dict(params, **{query or field: value})) if item.get(field) == value]
        if len(found) > 1:
            raise AuthentikError("Authentik API GET %s: %d objects have %s %r" % (path, len(found), field, value), "GET", path)
        return found[0] if found else None

    # Lookups of the objects modules refer to by name

    def flow_pk(self, slug, option):
        """The pk of the flow with this slug; raises naming ``option`` when there is none."""
        flow = self.find("/flows/instances/", "slug", slug)
        if flow is None:
            raise AuthentikError("%s: Authentik has no flow with the slug %r" % (option, slug))
        return flow["pk"]

    def outpost(self, name, option="outpost"):
        """The outpost with this name; raises naming ``option`` when there is none."""
        outpost = self.find("/outposts/instances/", "name", name, query="name__iexact")
        if outpost is None:
            raise AuthentikError("%s: Authentik has no outpost named %r" % (option, name))
        return outpost

    def group(self, name):
        """The group with this name, or None."""
        # Without the member list, which Authentik sends by default and can be long.
        return self.find("/core/groups/", "name", name, include_users="false")

    def application(self, slug):
        """The application with this slug, or None."""
        return self.find("/core/applications/", "slug", slug)

    def certificate_pk(self, name, option):
        """The pk of the certificate-key pair with this name; raises naming ``option`` when there is none."""
        keypair = self.find("/crypto/certificatekeypairs/", "name", name)
        if keypair is None:
            raise AuthentikError("%s: Authentik has no certificate-key pair named %r" % (option, name))
        return keypair["pk"]

    def scope_mapping_pks(self, scopes, option):
        """The pks of the scope mappings for these scope names, in order; a scope with no
        mapping, or several, raises naming ``option``. Authentik's own (``managed``) mapping
        wins over copies users made for the same scope."""
        pks = []
        for scope in scopes:
            mappings = [item for item in self.list("/propertymappings/provider/scope/", scope_name=scope)
                        if item.get("scope_name") == scope]
            managed = [item for item in mappings if item.get("managed")]
            if len(managed) == 1:
                mappings = managed
            if not mappings:
                raise AuthentikError("%s: Authentik has no scope mapping for the scope %r" % (option, scope))
            if len(mappings) > 1:
                raise AuthentikError("%s: Authentik has %d scope mappings for the scope %r (%s); keep one"
                                     % (option, len(mappings), scope, ", ".join(sorted(m["name"] for m in mappings))))
            pks.append(mappings[0]["pk"])
        return pks


def _error_text(response):
    """(one line for the user, field errors) from an Authentik error answer."""
    try:
        body = response.json()
    except ValueError:
        text = (response.text or "").strip()
        return text[:200], {}
    if isinstance(body, dict):
        if isinstance(body.get("detail"), str):
            return body["detail"], {}
        errors = {key: value for key, value in body.items() if key != "code"}
        return "; ".join("%s: %s" % (key, _flatten(value)) for key, value in sorted(errors.items())), errors
    return str(body)[:200], {}


def _flatten(value):
    if isinstance(value, list):
        return " ".join(_flatten(item) for item in value)
    if isinstance(value, dict):
        return "; ".join("%s: %s" % (key, _flatten(item)) for key, item in sorted(value.items()))
    return str(value)


def fail_json_from(module, error, **result):
    """Fail a module with an AuthentikError: its message, status and field errors."""
    module.fail_json(msg=str(error), status=error.status, errors=error.errors, **result)


def changed_fields(current, desired):
    """The fields of ``desired`` whose value differs from ``current`` (a PATCH body)."""
    return {key: value for key, value in desired.items() if current.get(key) != value}


# An application and its provider: what authentik_application and authentik_oidc_client share.

APPLICATIONS = "/core/applications/"
# Stands for the pk of a provider that is still to be created, in planned request bodies.
NEW_PROVIDER = "(new provider)"


class SettingError(Exception):
    """A problem with one option; the message names it."""


def check_slug(slug):
    """Refuse a slug Authentik would refuse (its pattern ``^[-a-zA-Z0-9_]+$``), before any change."""
    if not re.fullmatch(r"[-a-zA-Z0-9_]+", slug or ""):
        raise SettingError("slug: %r may hold only letters, digits, '-' and '_'" % slug)


def flow_pks(client, params):
    """Flow slug -> pk for the ``authorization_flow`` and ``invalidation_flow`` options."""
    return {params[option]: client.flow_pk(params[option], option) for option in ("authorization_flow", "invalidation_flow")}


def application_view(application, provider_name):
    """The managed settings of an application API object (None stays None)."""
    if application is None:
        return None
    return {"slug": application["slug"], "name": application["name"],
            "meta_launch_url": application.get("meta_launch_url", ""), "provider": provider_name}


def provider_requests(path, provider, desired):
    """(requests, provider pk or NEW_PROVIDER, provider after) that make ``provider`` (None:
    missing) match ``desired``; a PATCH carries only the differing fields."""
    if provider is None:
        return [("POST", path, desired)], NEW_PROVIDER, dict(desired, pk=None)
    body = changed_fields(provider, desired)
    requests = [("PATCH", "%s%s/" % (path, segment(provider["pk"])), body)] if body else []
    return requests, provider["pk"], dict(provider, **desired)


def application_requests(application, desired):
    """(requests, application after) that make ``application`` (None: missing) match ``desired``."""
    if application is None:
        return [("POST", APPLICATIONS, desired)], dict(desired)
    body = changed_fields(application, desired)
    requests = [("PATCH", "%s%s/" % (APPLICATIONS, segment(application["slug"])), body)] if body else []
    return requests, dict(application, **desired)


def removal_requests(provider_path, application, provider):
    """The DELETE requests for an application and then its provider (either may be None)."""
    requests = []
    if application is not None:
        requests.append(("DELETE", "%s%s/" % (APPLICATIONS, segment(application["slug"])), None))
    if provider is not None:
        requests.append(("DELETE", "%s%s/" % (provider_path, segment(provider["pk"])), None))
    return requests


def fill_new_provider(body, pk):
    """A planned body with NEW_PROVIDER replaced by the created provider's pk."""
    if body is None:
        return None
    filled = {}
    for key, value in body.items():
        if isinstance(value, list):
            value = [pk if item == NEW_PROVIDER else item for item in value]
        elif value == NEW_PROVIDER:
            value = pk
        filled[key] = value
    return filled


def read_application(client, slug, provider_path, provider_name, kind, name_query):
    """(application, provider): the application with this slug and the provider it uses, or
    else the provider of this kind named ``provider_name`` (asked for with the query
    parameter ``name_query``: each provider list names its filter differently). Raises
    SettingError when the application uses a provider of another kind, or the provider
    found by name belongs to another application."""
    application = client.application(slug)
    if application is not None and application.get("provider") is not None:
        try:
            return application, client.get("%s%s/" % (provider_path, segment(application["provider"])))
        except AuthentikError as error:
            if error.status != 404:
                raise
        raise SettingError("slug: the application %r uses provider %s, which is not %s; give it another slug or "
                           "remove that provider" % (slug, application["provider"], kind))
    provider = client.find(provider_path, "name", provider_name, query=name_query)
    owner = provider and provider.get("assigned_application_slug")
    if owner and owner != slug:
        raise SettingError("provider_name: the provider %r belongs to the application %r; give another name"
                           % (provider_name, owner))
    return application, provider


def send_planned(client, requests, provider_path):
    """Send planned requests in order; returns the created provider (None if none was created)."""
    created = None
    for method, path, body in requests:
        answer = client.request(method, path, body=fill_new_provider(body, created and created["pk"]))
        if method == "POST" and path == provider_path:
            created = answer
    return created

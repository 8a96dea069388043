# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake Authentik REST API v3 that keeps state and follows Authentik's OpenAPI contract.

The contract is ``tests/fixtures/authentik/authentik-openapi-subset.yml`` (Authentik
2026.2.2's ``schema.yml``, cut to the paths the collection uses; see PROVENANCE.md there).
Every request is checked against it: an undeclared path or method, an undeclared query
parameter or a body that does not match the request schema gets a 400 with field errors
shaped as Authentik (Django REST framework) shapes them, ``{"field": ["message"]}``.
Every answer the fake gives is checked too; an answer that does not match the declared
response is a bug of the fake, recorded in ``contract_violations`` (tests assert it stays
empty) and sent as a 500.

Beyond the schema, the fake keeps the rules of Authentik's serializers that the modules
meet: unique group and provider names and application slugs, one application per provider,
references (flows, providers, keypairs, mappings) that must exist, generated OAuth2 client
ids and secrets, a deleted provider leaving its application and outposts. Read-only and
unknown fields in a body are refused (Authentik ignores them; see tests/fakes/openapi.py).

Authentication: ``Authorization: Bearer <token>``; none or an unknown token is a 401 and a
token in ``read_only_tokens`` gets a 403 for writes, both with ``{"detail": ...}``.

Seeded with what a fresh Authentik 2026.2 has and the modules rely on (see ``seed``).

Usage::

    with FakeAuthentik() as authentik:
        requests.get(authentik.url + "/api/v3/core/groups/", headers={"Authorization": "Bearer " + TOKEN})
        authentik.writes()
"""

from __future__ import annotations

import datetime
import json
import pathlib
import secrets
import threading
import uuid
from urllib.parse import parse_qs, unquote, urlsplit

from fakes import FakeHandler, FakeServer
from fakes.openapi import Contract

CONTRACT_PATH = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "authentik" / "authentik-openapi-subset.yml"
TOKEN = "ak-fake-api-token-0f3c9e1d2b7a4c58a6e0d9b1c2f3e4a5"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
_CONTRACT = None


def contract():
    """The loaded contract, shared by every fake of a test run (loading it takes a moment)."""
    global _CONTRACT  # pylint: disable=global-statement
    if _CONTRACT is None:
        _CONTRACT = Contract(CONTRACT_PATH)
    return _CONTRACT


def _uuid():
    return str(uuid.uuid4())


# Collections: URL prefix below /api/v3 -> (store name, lookup field of the detail path).
COLLECTIONS = {
    "/core/groups/": ("groups", "pk"),
    "/core/applications/": ("applications", "slug"),
    "/core/users/": ("users", "pk"),
    "/core/tokens/": ("tokens", "identifier"),
    "/providers/proxy/": ("proxy", "pk"),
    "/providers/oauth2/": ("oauth2", "pk"),
    "/outposts/instances/": ("outposts", "pk"),
    "/flows/instances/": ("flows", "slug"),
    "/crypto/certificatekeypairs/": ("keypairs", "pk"),
    "/propertymappings/provider/scope/": ("scopes", "pk"),
    "/propertymappings/all/": ("scopes", "pk"),
}

# Writable fields and their model defaults, per store (Authentik's models).
DEFAULTS = {
    "groups": {"attributes": {}, "is_superuser": False, "parents": [], "roles": [], "users": []},
    "applications": {"provider": None, "backchannel_providers": [], "open_in_new_tab": False, "meta_launch_url": "",
                     "meta_description": "", "meta_publisher": "", "policy_engine_mode": "any", "group": ""},
    "proxy": {"authentication_flow": None, "property_mappings": [], "internal_host": "", "internal_host_ssl_validation": True,
              "certificate": None, "skip_path_regex": "", "basic_auth_enabled": False, "basic_auth_password_attribute": "",
              "basic_auth_user_attribute": "", "mode": "proxy", "intercept_header_auth": True, "cookie_domain": "",
              "jwt_federation_sources": [], "jwt_federation_providers": [], "access_token_validity": "hours=24",
              "refresh_token_validity": "days=30"},
    "oauth2": {"authentication_flow": None, "property_mappings": [], "client_type": "confidential",
               "include_claims_in_id_token": True, "logout_uri": "", "logout_method": "backchannel",
               "access_code_validity": "minutes=1", "access_token_validity": "hours=1", "refresh_token_validity": "days=30",
               "refresh_token_threshold": "seconds=0", "signing_key": None, "encryption_key": None,
               "sub_mode": "hashed_user_id", "issuer_mode": "per_provider", "jwt_federation_sources": [],
               "jwt_federation_providers": []},
    "outposts": {"service_connection": None, "config": {}, "managed": None},
    "scopes": {"description": "", "managed": None},
}

PROVIDER_META = {
    "proxy": ("ak-provider-proxy-form", "authentik_providers_proxy.proxyprovider", "Proxy Provider"),
    "oauth2": ("ak-provider-oauth2-form", "authentik_providers_oauth2.oauth2provider", "OAuth2/OpenID Provider"),
}


class ApiError(Exception):
    """An answer other than success: status and Authentik's body."""

    def __init__(self, status, body):
        super().__init__(body)
        self.status = status
        self.body = body


def field_error(field, message, status=400):
    return ApiError(status, {field: [message]})


def not_found():
    return ApiError(404, {"detail": "No %s matches the given query." % "object"})


class FakeAuthentik(FakeServer):
    """The fake server. ``max_page_size`` caps ``page_size`` (small values force paging)."""

    handler_class = property(lambda self: _Handler)
    thread_name = "fake-authentik"

    def __init__(self, token=TOKEN, read_only_tokens=(), max_page_size=100):
        self.contract = contract()
        self.token = token
        self.read_only_tokens = set(read_only_tokens)
        self.max_page_size = max_page_size
        super().__init__()
        self.store = {store: {} for store, _lookup in COLLECTIONS.values()}
        self.next_provider_pk = 1
        self.contract_violations = []
        # Re-entrant: an answer is computed under the lock, and it adds objects.
        self._lock = threading.RLock()
        self.seed()

    # Seed: the objects a fresh Authentik 2026.2 has that the modules use. Names and slugs
    # from Authentik's blueprints (blueprints/default/flow-default-provider-*.yaml,
    # blueprints/system/providers-oauth2.yaml), the embedded outpost from
    # authentik/outposts/apps.py and the keypair from the docs (core/certificates.md).

    def seed(self):
        for slug, name, title, designation in (
                ("default-provider-authorization-implicit-consent", "Authorize Application", "Redirecting to %(app)s",
                 "authorization"),
                ("default-provider-authorization-explicit-consent", "Authorize Application", "Redirecting to %(app)s",
                 "authorization"),
                ("default-provider-invalidation-flow", "Logged out of application", "You've logged out of %(app)s.",
                 "invalidation"),
                ("default-authentication-flow", "Welcome to authentik!", "Welcome to authentik!", "authentication"),
                ("default-invalidation-flow", "Logout", "Default Invalidation Flow", "invalidation")):
            self.add("flows", {"pk": _uuid(), "slug": slug, "name": name, "title": title, "designation": designation,
                               "authentication": "require_authenticated" if designation != "authentication" else "none",
                               "layout": "stacked", "policy_engine_mode": "any", "compatibility_mode": False,
                               "denied_action": "message_continue", "background": ""})
        for scope in ("openid", "email", "profile", "offline_access"):
            self.add("scopes", dict(DEFAULTS["scopes"], pk=_uuid(), name="authentik default OAuth Mapping: OpenID '%s'" % scope,
                                    scope_name=scope, expression="return {}",
                                    managed="goauthentik.io/providers/oauth2/scope-%s" % scope))
        self.add("keypairs", {"pk": _uuid(), "name": "authentik Self-signed Certificate", "managed": None,
                              "cert_subject": "CN=authentik Self-signed Certificate,O=authentik,OU=Self-signed",
                              "key_type": "rsa", "private_key_available": True,
                              "fingerprint_sha256": secrets.token_hex(32), "fingerprint_sha1": secrets.token_hex(20),
                              "cert_expiry": (datetime.datetime.now(datetime.timezone.utc)
                                              + datetime.timedelta(days=365)).isoformat()})
        self.add("outposts", dict(DEFAULTS["outposts"], pk=_uuid(), name="authentik Embedded Outpost", type="proxy",
                                  providers=[], managed="goauthentik.io/outposts/embedded",
                                  config={"authentik_host": "http://localhost", "log_level": "info"}))

    def add(self, store, obj):
        with self._lock:
            self.store[store][str(obj["pk"])] = obj
        return obj

    # Test controls: recording and faults come from FakeServer (a fault may name a method).

    def writes(self):
        """The write requests received (method, path and body of each)."""
        with self._lock:
            return [entry for entry in self.requests if entry["method"] in WRITE_METHODS]

    # Lookups for tests

    def find(self, store, **fields):
        with self._lock:
            return [obj for obj in self.store[store].values() if all(obj.get(k) == v for k, v in fields.items())]

    def one(self, store, **fields):
        found = self.find(store, **fields)
        assert len(found) == 1, "%d objects in %s match %s" % (len(found), store, fields)
        return found[0]

    # Views: stored objects as the API shows them (read-only fields computed)

    def provider_store(self, pk):
        for store in ("proxy", "oauth2"):
            if str(pk) in self.store[store]:
                return store
        return None

    def application_of(self, provider_pk):
        for app in self.store["applications"].values():
            if app["provider"] == provider_pk:
                return app
        return None

    def view_provider_base(self, store, obj):
        app = self.application_of(obj["pk"])
        component, model, verbose = PROVIDER_META[store]
        return {"pk": obj["pk"], "name": obj["name"], "authentication_flow": obj["authentication_flow"],
                "authorization_flow": obj["authorization_flow"], "invalidation_flow": obj["invalidation_flow"],
                "property_mappings": list(obj["property_mappings"]), "component": component,
                "assigned_application_slug": app["slug"] if app else None,
                "assigned_application_name": app["name"] if app else None,
                "assigned_backchannel_application_slug": None, "assigned_backchannel_application_name": None,
                "verbose_name": verbose, "verbose_name_plural": verbose + "s", "meta_model_name": model}

    def view(self, store, obj):
        if store == "groups":
            shown = {key: value for key, value in obj.items() if key != "_num"}
            return dict(shown, num_pk=obj["_num"], children=[], children_obj=None, parents_obj=None,
                        inherited_roles_obj=None, roles_obj=[], users_obj=[])
        if store == "applications":
            provider = obj["provider"]
            pstore = self.provider_store(provider) if provider is not None else None
            launch = obj["meta_launch_url"] or (self.store["proxy"][str(provider)]["external_host"] if pstore == "proxy" else None)
            return dict(obj, pk=obj["pk"], launch_url=launch or None, meta_icon_url=None, meta_icon_themed_urls=None,
                        provider_obj=self.view_provider_base(pstore, self.store[pstore][str(provider)]) if pstore else None,
                        backchannel_providers_obj=[])
        if store == "proxy":
            base = self.view_provider_base(store, obj)
            callback = obj["external_host"].rstrip("/") + "/outpost.goauthentik.io/callback?X-authentik-auth-callback=true"
            outposts = [o["name"] for o in self.store["outposts"].values() if obj["pk"] in o["providers"]]
            return dict(obj, **base, outpost_set=outposts,
                        redirect_uris=[{"matching_mode": "strict", "url": callback}])
        if store == "oauth2":
            return dict(obj, **self.view_provider_base(store, obj))
        if store == "outposts":
            providers = []
            for pk in obj["providers"]:
                pstore = self.provider_store(pk)
                providers.append(self.view_provider_base(pstore, self.store[pstore][str(pk)]))
            return dict(obj, providers_obj=providers, refresh_interval_s=300, service_connection_obj=None,
                        token_identifier="ak-outpost-%s-api" % obj["pk"])
        if store == "flows":
            return dict(obj, background_url="/static/dist/assets/images/flow_background.jpg", background_themed_urls=None,
                        cache_count=0, export_url="/api/v3/flows/instances/%s/export/" % obj["slug"], policies=[],
                        stages=[], policybindingmodel_ptr_id=obj["pk"])
        if store == "keypairs":
            return dict(obj, certificate_download_url="/api/v3/crypto/certificatekeypairs/%s/view_certificate/?download"
                        % obj["pk"], private_key_download_url="/api/v3/crypto/certificatekeypairs/%s/view_private_key/?download"
                        % obj["pk"])
        if store == "scopes":
            return dict(obj, component="ak-property-mapping-provider-scope-form",
                        meta_model_name="authentik_providers_oauth2.scopemapping",
                        verbose_name="Scope Mapping", verbose_name_plural="Scope Mappings")
        return dict(obj)


class _Handler(FakeHandler):
    """Routes one request; ``fake`` is set on the per-server subclass."""

    server_version = "fake-authentik/1"

    def handle_request(self):
        fake = self.fake
        parts = urlsplit(self.path)
        path = parts.path
        raw = self.read_body()
        entry = {"method": self.command, "path": path, "query": parts.query, "body": None,
                 "authorization": self.headers.get("Authorization")}
        fake.record(entry)
        fault = fake.take_fault(path, self.command)
        if fault is not None:
            if fault.kind == "hang":
                fake.stopping.wait(fault.seconds)
                self.close_connection = True
                return
            self._send(fault.status, {"detail": "injected failure (HTTP %d)" % fault.status})
            return
        operation = None
        try:
            try:
                body = json.loads(raw.decode()) if raw else None
            except (UnicodeDecodeError, ValueError):
                raise ApiError(400, {"detail": "JSON parse error"}) from None
            entry["body"] = body
            self._authenticate()
            found = fake.contract.match(self.command, path)
            if found is None:
                raise ApiError(404, {"detail": "Not found."})
            operation, params = found
            if operation is None:
                raise ApiError(405, {"detail": 'Method "%s" not allowed.' % self.command})
            query = parse_qs(parts.query, keep_blank_values=True)
            errors = operation.query_errors(query)
            if not errors and raw and "json" not in (self.headers.get("Content-Type") or ""):
                raise ApiError(415, {"detail": "Unsupported media type in request."})
            errors = errors or operation.body_errors(body)
            if errors:
                raise ApiError(400, errors)
            with fake._lock:  # pylint: disable=protected-access
                status, answer = _Api(fake, operation, {k: unquote(v) for k, v in params.items()}, query, body).run()
        except ApiError as error:
            status, answer = error.status, error.body
        if operation is not None:
            problems = operation.response_errors(status, answer)
            if problems:
                fake.contract_violations.append({"method": self.command, "path": path, "status": status, "problems": problems})
                status, answer = 500, {"detail": "fake Authentik broke its contract: %s" % "; ".join(problems[:3])}
        self._send(status, answer)

    def _authenticate(self):
        header = self.headers.get("Authorization") or ""
        scheme, _sep, token = header.partition(" ")
        if not header or scheme.lower() != "bearer":
            raise ApiError(401, {"detail": "Authentication credentials were not provided."})
        if token.strip() != self.fake.token and token.strip() not in self.fake.read_only_tokens:
            raise ApiError(401, {"detail": "Token invalid/expired"})
        if token.strip() in self.fake.read_only_tokens and self.command in WRITE_METHODS:
            raise ApiError(403, {"detail": "You do not have permission to perform this action."})

    def _send(self, status, answer):
        payload = b"" if answer is None else json.dumps(answer).encode()
        self.send_response(status)
        if answer is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Api:
    """One validated request against the fake's state: Authentik's serializer rules."""

    def __init__(self, fake, operation, params, query, body):
        self.fake = fake
        self.operation = operation
        self.params = params
        self.query = {key: values[-1] for key, values in query.items()}
        self.body = body
        prefix = operation.template.split("{")[0]
        self.store_name, self.lookup = COLLECTIONS[prefix]
        self.store = fake.store[self.store_name]

    def run(self):
        method = self.operation.method
        if "{" not in self.operation.template:
            if method == "GET":
                return 200, self.list()
            return 201, self.create()
        obj = self.existing()
        if method == "GET":
            return 200, self.fake.view(self.store_name, obj)
        if method == "DELETE":
            self.remove(obj)
            return 204, None
        return 200, self.change(obj, partial=method == "PATCH")

    # Reading

    def existing(self):
        value = next(iter(self.params.values()))
        for obj in self.store.values():
            if str(obj[self.lookup]) == value:
                return obj
        raise not_found()

    def list(self):
        items = [obj for obj in self.store.values() if self.matches(obj)]
        page_size = min(int(self.query.get("page_size", 20)), self.fake.max_page_size)
        page = int(self.query.get("page", 1))
        total_pages = max(1, -(-len(items) // page_size))
        if page < 1 or page > total_pages:
            raise ApiError(404, {"detail": "Invalid page."})
        chunk = items[(page - 1) * page_size:page * page_size]
        start = (page - 1) * page_size + 1 if chunk else 0
        return {"pagination": {"count": len(items), "current": page, "next": page + 1 if page < total_pages else 0,
                               "previous": page - 1 if page > 1 else 0, "start_index": start,
                               "end_index": start + len(chunk) - 1 if chunk else 0, "total_pages": total_pages},
                "results": [self.fake.view(self.store_name, obj) for obj in chunk], "autocomplete": {}}

    def matches(self, obj):
        for name, value in self.query.items():
            if name in ("page", "page_size", "ordering") or name.startswith("include_"):
                # include_users etc. choose what a group shows, not which groups.
                continue
            if name == "search":
                if value.lower() not in str(obj.get("name", "")).lower():
                    return False
            elif name.endswith("__iexact"):
                if str(obj.get(name[:-len("__iexact")], "")).lower() != value.lower():
                    return False
            elif name in obj and not isinstance(obj[name], (list, dict)):
                if str(obj[name]) != value and not (isinstance(obj[name], bool) and str(obj[name]).lower() == value):
                    return False
            else:
                # Declared by the contract but not filtered by the fake: refuse rather than
                # answer as if it had filtered.
                raise field_error(name, "The fake Authentik does not implement this filter.")
        return True

    # Writing

    def create(self):
        obj = dict(DEFAULTS.get(self.store_name, {}))
        obj.update(self.body)
        if self.store_name in ("proxy", "oauth2"):
            obj["pk"] = self.fake.next_provider_pk
            self.fake.next_provider_pk += 1
        else:
            obj["pk"] = _uuid()
        if self.store_name == "groups":
            obj["_num"] = len(self.store) + 1
        if self.store_name == "proxy":
            obj["client_id"] = secrets.token_hex(20)
        if self.store_name == "oauth2":
            obj.setdefault("client_id", secrets.token_hex(20))
            obj.setdefault("client_secret", secrets.token_urlsafe(96)[:128])
        self.check(obj, None)
        self.store[str(obj["pk"])] = obj
        return self.fake.view(self.store_name, obj)

    def change(self, obj, partial):
        if partial:
            updated = dict(obj, **self.body)
        else:
            updated = dict(DEFAULTS.get(self.store_name, {}), **{k: obj[k] for k in ("pk", "_num", "client_id") if k in obj})
            updated.update(self.body)
        self.check(updated, obj)
        obj.clear()
        obj.update(updated)
        return self.fake.view(self.store_name, obj)

    def remove(self, obj):
        del self.store[str(obj["pk"])]
        if self.store_name in ("proxy", "oauth2"):
            # Application.provider is SET_NULL; outposts lose the provider from their list.
            for app in self.fake.store["applications"].values():
                if app["provider"] == obj["pk"]:
                    app["provider"] = None
            for outpost in self.fake.store["outposts"].values():
                outpost["providers"] = [pk for pk in outpost["providers"] if pk != obj["pk"]]

    def check(self, obj, old):
        """Authentik's serializer and model rules beyond the schema."""
        others = [o for o in self.store.values() if old is None or o["pk"] != old["pk"]]
        unique = {"groups": "name", "applications": "slug", "proxy": "name", "oauth2": "name", "outposts": "name"}
        field = unique.get(self.store_name)
        if field and any(o[field] == obj[field] for o in others):
            noun = {"groups": "group", "applications": "application", "outposts": "outpost"}.get(self.store_name, "provider")
            raise field_error(field, "%s with this %s already exists." % (noun, field))
        if self.store_name in ("proxy", "oauth2"):
            # Provider.name is unique across every provider type.
            other_store = "oauth2" if self.store_name == "proxy" else "proxy"
            if any(o["name"] == obj["name"] for o in self.fake.store[other_store].values()):
                raise field_error("name", "provider with this name already exists.")
            for flow_field in ("authorization_flow", "invalidation_flow", "authentication_flow"):
                self.reference(flow_field, obj.get(flow_field), "flows")
            for pk in obj.get("property_mappings", []):
                self.reference("property_mappings", pk, "scopes")
        if self.store_name == "proxy" and obj.get("mode", "proxy") == "proxy" and not obj.get("internal_host"):
            raise field_error("internal_host", "Internal host cannot be empty when forward auth is disabled.")
        if self.store_name == "oauth2":
            for key_field in ("signing_key", "encryption_key"):
                self.reference(key_field, obj.get(key_field), "keypairs")
            if obj["client_type"] == "confidential" and not obj.get("client_secret"):
                raise field_error("client_secret", "This field may not be blank.")
        if self.store_name == "applications":
            provider = obj.get("provider")
            if provider is not None:
                if self.fake.provider_store(provider) is None:
                    raise field_error("provider", 'Invalid pk "%s" - object does not exist.' % provider)
                if any(o["provider"] == provider for o in others):
                    raise field_error("provider", "application with this provider already exists.")
        if self.store_name == "outposts":
            for pk in obj["providers"]:
                if self.fake.provider_store(pk) is None:
                    raise field_error("providers", 'Invalid pk "%s" - object does not exist.' % pk)

    def reference(self, field, pk, store):
        if pk is not None and str(pk) not in self.fake.store[store]:
            raise field_error(field, 'Invalid pk "%s" - object does not exist.' % pk)

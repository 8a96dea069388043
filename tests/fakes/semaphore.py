# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake Semaphore UI API that keeps state and follows Semaphore 2.16's API description.

The contract is ``tests/fixtures/semaphore/semaphore-api-docs.yml`` (Semaphore's own
``api-docs.yml``, Swagger 2.0; see PROVENANCE.md there), read through ``fakes.swagger``.
Every request is checked against it: an undeclared path is a 404 and an undeclared method a
405 (as Semaphore's router answers), a query parameter that is undeclared, missing while
required or outside its enum, or a body that does not match the request definition, is a 400
``{"error": "..."}`` naming the fields. Body fields the definition does not list are refused
(Semaphore's JSON binding would ignore them), so that a client never believes it set
something. Every success answer is checked against the declared response; an answer that
does not conform is a bug of the fake, recorded in ``contract_violations`` (tests assert it
stays empty) and sent as a 500.

Beyond the document, the fake keeps the rules of Semaphore's handlers and models that a
client meets (see PROVENANCE.md): ids in the body equal to the URL's, write-only secrets,
``override_secret``, references that must exist in the project, objects in use that cannot be
deleted, a template's schedules deleted with it, ``None`` and ``Empty`` in each new project,
cron as Semaphore parses it, and the project's schedule list Semaphore serves undocumented.

Authentication, as Semaphore's api/auth.go and api/login.go do it: ``GET /api/ping`` and
``POST /api/auth/login`` need none; every other request carries ``Authorization: Bearer
<token>`` (an API token that is not expired) or the ``semaphore`` session cookie that a login
sets; anything else is a 401 with no body. A login with a wrong user or password is a 401
with no body. ``POST /api/user/tokens`` makes a token for the signed-in user and
``DELETE /api/user/tokens/{id}`` expires it (it stays listed, expired, and no longer signs
anything in; an id that is not the user's expires nothing and is still a 204, as upstream).
The cookie is the fake's own signed value, not securecookie's format: clients only send it back.

Usage::

    with FakeSemaphore() as semaphore:
        requests.get(semaphore.url + "/api/projects", headers={"Authorization": "Bearer " + TOKEN})
        semaphore.writes()
        semaphore.tokens_of(ADMIN)   # the admin's API tokens: [{id, created, expired, user_id}]
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import os
import pathlib
import re
import threading
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs, urlsplit

from ansible_collections.homelab.stack.plugins.module_utils.semaphore import cron_problem

from fakes import FakeHandler, FakeServer
from fakes import swagger

CONTRACT_PATH = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "semaphore" / "semaphore-api-docs.yml"
TOKEN = "fakesemaphoretoken0f3c9e1d2b7a4c58a6e0d9b1c2f3="
# The admin Semaphore's setup creates from SEMAPHORE_ADMIN and SEMAPHORE_ADMIN_PASSWORD.
ADMIN = "admin"
ADMIN_PASSWORD = "fake-semaphore-admin-7b3e"
# Served without authentication (api/router.go: pingRouter, publicAPIRouter).
PUBLIC_PATHS = ("/api/ping", "/api/auth/login")
WRITE_METHODS = ("POST", "PUT", "DELETE")
# Served by Semaphore (api/router.go: projects.GetProjectSchedules), absent from api-docs.yml.
UNDOCUMENTED_PATHS = {
    "/project/{project_id}/schedules": {
        "get": {"summary": "Get the project's schedules (served by Semaphore, not in api-docs.yml)",
                "responses": {200: {"description": "schedules",
                                    "schema": {"type": "array", "items": {"$ref": "#/definitions/Schedule"}}}}},
    },
}
# Templates' apps Semaphore knows (util.Config.Apps defaults).
APPS = ("ansible", "terraform", "tofu", "bash", "powershell", "python", "pulumi")
# Collections of a project: URL segment -> store name.
COLLECTIONS = {"keys": "keys", "repositories": "repositories", "inventory": "inventories", "environment": "environments",
               "templates": "templates", "schedules": "schedules"}
_CONTRACT = None


def contract():
    """The loaded contract, shared by every fake of a test run."""
    global _CONTRACT  # pylint: disable=global-statement
    if _CONTRACT is None:
        _CONTRACT = swagger.load(CONTRACT_PATH, extra_paths=UNDOCUMENTED_PATHS)
    return _CONTRACT


class ApiError(Exception):
    """An answer other than success: status and Semaphore's body (None: no body)."""

    def __init__(self, status, body=None):
        super().__init__(body)
        self.status = status
        self.body = body


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def refused(message, **extra):
    return ApiError(400, dict({"error": message}, **extra))


class FakeSemaphore(FakeServer):
    """The fake server, with one admin user (``admin``, ``password``) who already has the API
    token ``token``."""

    handler_class = property(lambda self: _Handler)
    thread_name = "fake-semaphore"

    def __init__(self, token=TOKEN, admin=ADMIN, password=ADMIN_PASSWORD):
        self.contract = contract()
        self.token = token
        super().__init__()
        self.users = {1: {"id": 1, "username": admin, "email": admin + "@localhost", "password": password}}
        self.sessions = {}
        self.api_tokens = {token: {"id": token, "created": _now(), "expired": False, "user_id": 1}}
        self._cookie_key = os.urandom(32)
        self.projects = {}
        # Semaphore's tables count ids across projects; so does the fake.
        self._next_id = {}
        self.contract_violations = []
        self._lock = threading.RLock()

    def next_id(self, table):
        with self._lock:
            self._next_id[table] = self._next_id.get(table, 0) + 1
            return self._next_id[table]

    # Test controls and lookups

    def writes(self):
        """The write requests received (method, path and body of each)."""
        with self._lock:
            return [entry for entry in self.requests if entry["method"] in WRITE_METHODS]

    def tokens_of(self, username):
        """The API tokens of a user, as Semaphore keeps them (expired ones too)."""
        with self._lock:
            user_ids = [user["id"] for user in self.users.values() if user["username"] == username]
            return [dict(token) for token in self.api_tokens.values() if token["user_id"] in user_ids]

    def session_cookie(self, user_id):
        """A new session of the user and its signed cookie value (api/login.go createSession)."""
        with self._lock:
            session_id = self.next_id("sessions")
            self.sessions[session_id] = {"id": session_id, "user_id": user_id, "expired": False}
        value = base64.urlsafe_b64encode(json.dumps({"user": user_id, "session": session_id}).encode()).decode()
        return value + "|" + hmac.new(self._cookie_key, value.encode(), hashlib.sha256).hexdigest()

    def user_of_cookie(self, cookie):
        """The id of the user whose live session the cookie names, or None."""
        value, _sep, signature = cookie.partition("|")
        if not hmac.compare_digest(hmac.new(self._cookie_key, value.encode(), hashlib.sha256).hexdigest(), signature):
            return None
        fields = json.loads(base64.urlsafe_b64decode(value.encode()))
        session = self.sessions.get(fields["session"])
        if session is None or session["expired"] or session["user_id"] != fields["user"]:
            return None
        return fields["user"]

    def project(self, name):
        """The stored project with this name (its objects under their store names), or None."""
        with self._lock:
            found = [p for p in self.projects.values() if p["name"] == name]
        assert len(found) <= 1
        return found[0] if found else None

    def named(self, project_name, store, name):
        """The one stored object of this name in a project's store."""
        found = [obj for obj in self.project(project_name)[store].values() if obj["name"] == name]
        assert len(found) == 1, "%d %s named %r" % (len(found), store, name)
        return found[0]

    def environment_secrets(self, project_name, environment_name):
        """{"env.NAME": value} of an environment, as Semaphore stores them (the test's view)."""
        project = self.project(project_name)
        env = self.named(project_name, "environments", environment_name)
        return {key["name"]: key["string"] for key in project["secret_keys"].values() if key["environment_id"] == env["id"]}

    def add_project(self, name):
        """A project as Semaphore creates it: its ``None`` key and ``Empty`` environment (projects.go)."""
        with self._lock:
            project = {"id": self.next_id("projects"), "name": name, "alert": False, "alert_chat": "",
                       "max_parallel_tasks": 0, "type": "",
                       "created": _now(),
                       "secret_keys": {}}
            for store in COLLECTIONS.values():
                project[store] = {}
            self.projects[project["id"]] = project
            key = {"id": self.next_id("keys"), "name": "None", "type": "none", "project_id": project["id"],
                   "secret": None}
            project["keys"][key["id"]] = key
            env = {"id": self.next_id("environments"), "name": "Empty", "project_id": project["id"], "json": "{}",
                   "env": None, "password": None}
            project["environments"][env["id"]] = env
            return project


class _Handler(FakeHandler):
    """Routes one request; ``fake`` is set on the per-server subclass."""

    server_version = "fake-semaphore/2.16"

    def do_HEAD(self):  # pylint: disable=invalid-name
        self.handle_request()

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
            self._send(fault.status, {"error": fault.message or "injected failure (HTTP %d)" % fault.status})
            return
        operation = None
        headers = {}
        try:
            if path == "/api/ping":
                self._pong()
                return
            user_id = None if path in PUBLIC_PATHS else self._authenticate()
            try:
                body = json.loads(raw.decode()) if raw else None
            except (UnicodeDecodeError, ValueError):
                raise ApiError(400) from None  # helpers.Bind: a bare 400
            entry["body"] = body
            found = fake.contract.match(self.command, path)
            if found is None:
                raise ApiError(404)
            operation, params = found
            if operation is None:
                raise ApiError(405)
            errors = operation.query_errors(parse_qs(parts.query, keep_blank_values=True))
            errors = errors or operation.body_errors(body)
            if errors:
                raise refused("; ".join("%s: %s" % (field, " ".join(messages)) for field, messages in sorted(errors.items())))
            ids = {}
            for name, value in params.items():
                if operation.parameters[("path", name)]["schema"].get("type") != "integer":
                    ids[name] = value
                elif not re.fullmatch(r"[0-9]+", value):
                    raise refused("Invalid %s" % name.replace("_", " "))
                else:
                    ids[name] = int(value)
            with fake._lock:  # pylint: disable=protected-access
                if operation.template.startswith(("/auth/", "/user/")):
                    status, answer = _Account(fake, operation, ids, body, user_id, headers).run()
                else:
                    status, answer = _Api(fake, operation, ids, body).run()
        except ApiError as error:
            status, answer = error.status, error.body
        if operation is not None and status < 300:
            problems = operation.response_errors(status, answer)
            if problems:
                fake.contract_violations.append({"method": self.command, "path": path, "status": status, "problems": problems})
                status, answer = 500, {"error": "fake Semaphore broke its contract: %s" % "; ".join(problems[:3])}
        self._send(status, answer, headers)

    def _pong(self):
        """api/router.go pongHandler: ``pong`` as plain text, for GET and HEAD, to anyone."""
        if self.command not in ("GET", "HEAD"):
            self._send(405, None)
            return
        payload = b"pong"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(payload)

    def _authenticate(self):
        """The user id a request is made as (api/auth.go authenticationHandler), or a 401.

        A header that mentions "bearer" is a token lookup, lower-cased as upstream does, and
        only a token that is not expired passes; otherwise the session cookie must name a
        live session."""
        fake = self.fake
        header = (self.headers.get("Authorization") or "").lower()
        if header and "bearer" in header:
            with fake._lock:  # pylint: disable=protected-access
                token = fake.api_tokens.get(header.replace("bearer ", "", 1))
            if token is None or token["expired"]:
                raise ApiError(401)
            return token["user_id"]
        cookie = SimpleCookie()
        try:
            cookie.load(self.headers.get("Cookie") or "")
        except CookieError:
            raise ApiError(401) from None
        with fake._lock:  # pylint: disable=protected-access
            user_id = fake.user_of_cookie(cookie["semaphore"].value) if "semaphore" in cookie else None
        if user_id is None:
            raise ApiError(401)
        return user_id

    def _send(self, status, answer, headers=None):
        payload = b"" if answer is None else (json.dumps(answer) + "\n").encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if answer is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Account:
    """Signing in and API tokens (api/login.go, api/user.go), for the user ``user_id`` (None:
    the request needs no user). ``headers`` takes the answer's extra headers."""

    def __init__(self, fake, operation, ids, body, user_id, headers):
        self.fake = fake
        self.operation = operation
        self.ids = ids
        self.body = body
        self.user_id = user_id
        self.headers = headers

    def run(self):
        route = (self.operation.method, self.operation.template)
        if route == ("POST", "/auth/login"):
            return self.login()
        if route == ("POST", "/user/tokens"):
            token_id = base64.urlsafe_b64encode(os.urandom(32)).decode().lower()
            token = {"id": token_id, "created": _now(), "expired": False, "user_id": self.user_id}
            self.fake.api_tokens[token_id] = token
            return 201, dict(token)
        if route == ("DELETE", "/user/tokens/{api_token_id}"):
            # db/sql/session.go ExpireAPIToken: an update whose row count nobody checks.
            token = self.fake.api_tokens.get(self.ids["api_token_id"])
            if token is not None and token["user_id"] == self.user_id:
                token["expired"] = True
            return 204, None
        raise ApiError(404)  # declared by the contract, not served by the fake

    def login(self):
        """The user by login or e-mail (lower-cased first) and the password (upstream checks its
        bcrypt hash); a wrong one is the same bare 401 as an unknown user. Success sets the
        session cookie."""
        auth = str(self.body.get("auth") or "").lower()
        password = str(self.body.get("password") or "").encode()
        found = [user for user in self.fake.users.values() if auth in (user["username"], user["email"])]
        if not found or not hmac.compare_digest(password, found[0]["password"].encode()):
            raise ApiError(401)
        self.headers["Set-Cookie"] = "semaphore=%s; Path=/; HttpOnly" % self.fake.session_cookie(found[0]["id"])
        return 204, None


def _shown(obj, fields):
    """An object as the API shows it: the listed fields that are set (the contract has no nulls)."""
    return {field: obj[field] for field in fields if obj.get(field) is not None}


KEY_FIELDS = ("id", "name", "type", "project_id")
REPOSITORY_FIELDS = ("id", "name", "project_id", "git_url", "git_branch", "ssh_key_id")
INVENTORY_FIELDS = ("id", "name", "project_id", "inventory", "ssh_key_id", "become_key_id", "repository_id", "type")
ENVIRONMENT_FIELDS = ("id", "name", "project_id", "password", "json", "env")
TEMPLATE_FIELDS = ("id", "project_id", "inventory_id", "repository_id", "environment_id", "view_id", "name", "playbook",
                   "arguments", "description", "allow_override_args_in_task", "suppress_success_alerts", "app",
                   "git_branch", "type", "start_version", "build_template_id", "autorun", "survey_vars")
SCHEDULE_FIELDS = ("id", "cron_format", "project_id", "template_id", "name", "active")
PROJECT_FIELDS = ("id", "name", "created", "alert", "alert_chat", "max_parallel_tasks", "type")


class _Api:
    """One checked request against the fake's state: Semaphore's handler and model rules."""

    def __init__(self, fake, operation, ids, body):
        self.fake = fake
        self.operation = operation
        self.ids = ids
        self.body = body
        self.method = operation.method

    def run(self):
        template = self.operation.template
        if template == "/projects":
            if self.method == "GET":
                return 200, [_shown(p, PROJECT_FIELDS) for p in self.fake.projects.values()]
            if not self.body.get("name"):
                raise refused("Project name can not be empty")
            project = self.fake.add_project(self.body["name"])
            for field in ("alert", "alert_chat", "max_parallel_tasks", "type"):
                if field in self.body:
                    project[field] = self.body[field]
            return 201, _shown(project, PROJECT_FIELDS)
        project = self.fake.projects.get(self.ids.get("project_id"))
        if project is None:
            raise ApiError(404)
        self.project = project  # pylint: disable=attribute-defined-outside-init
        match = re.fullmatch(r"/project/\{project_id\}/(\w+)(/\{(\w+)\})?", template)
        if template == "/project/{project_id}/":
            return self.project_itself()
        if match is None or match.group(1) not in COLLECTIONS:
            raise ApiError(404)  # declared by the contract, not served by the fake
        store = COLLECTIONS[match.group(1)]
        handler = getattr(self, store)
        if match.group(2) is None:
            if self.method == "GET":
                return 200, [self.view(store, obj) for obj in sorted(self.visible(store), key=lambda o: o["name"])]
            self.same_project(self.body, "project_id", required=store in ("keys", "repositories", "inventories",
                                                                          "environments"))
            obj = handler(None, dict(self.body))
            obj["id"] = self.fake.next_id(store)
            obj["project_id"] = project["id"]
            project[store][obj["id"]] = obj
            self.after_write(store, obj)
            return 201, self.view(store, obj)
        obj = project[store].get(self.ids[match.group(3)])
        if obj is None:
            raise ApiError(404)
        if self.method == "GET":
            return 200, self.view(store, obj, single=True)
        if self.method == "DELETE":
            self.delete(store, obj)
            return 204, None
        if self.body.get("id") != obj["id"]:
            raise refused("%s ID in body and URL must be the same" % store[:-1].capitalize())
        self.same_project(self.body, "project_id", required=True)
        updated = handler(obj, dict(self.body))
        updated["id"], updated["project_id"] = obj["id"], project["id"]
        project[store][obj["id"]] = updated
        self.after_write(store, updated)
        return 204, None

    def project_itself(self):
        if self.method == "GET":
            return 200, _shown(self.project, PROJECT_FIELDS)
        if self.method == "DELETE":
            del self.fake.projects[self.project["id"]]
            return 204, None
        if self.body.get("id") != self.project["id"]:
            raise refused("Project ID in body and URL must be the same")
        self.project.update({k: v for k, v in self.body.items() if k in PROJECT_FIELDS and k != "id"})
        return 204, None

    def same_project(self, body, field, required):
        if (required or field in body) and body.get(field) != self.project["id"]:
            raise refused("Project ID in body and URL must be the same")

    def visible(self, store):
        return list(self.project[store].values())

    def view(self, store, obj, single=False):
        if store == "keys":
            return _shown(obj, KEY_FIELDS)
        if store == "repositories":
            return _shown(obj, REPOSITORY_FIELDS)
        if store == "inventories":
            return _shown(obj, INVENTORY_FIELDS)
        if store == "environments":
            shown = _shown(obj, ENVIRONMENT_FIELDS)
            if single:
                # Only the single environment lists its secrets (EnvironmentMiddleware), never their values.
                shown["secrets"] = [dict(_secret_label(key), id=key["id"]) for key in self.project["secret_keys"].values()
                                    if key["environment_id"] == obj["id"]]
            return shown
        if store == "templates":
            return dict(_shown(obj, TEMPLATE_FIELDS), vaults=[_shown(v, ("id", "name", "type", "vault_key_id", "script"))
                                                              for v in obj["vaults"]])
        return _shown(obj, SCHEDULE_FIELDS)

    # Each store: the new or updated object from the body (old: the stored one, or None)

    def reference(self, store, object_id, field, required=False, status=400):
        """An id that must name an object of the project. Semaphore looks the keys of a repository
        or an inventory up first (ValidateRepository, ValidateInventory: a 404 with no body);
        other references fail on the database's foreign key (a 400 with no body)."""
        if object_id is None:
            if required:
                raise refused("%s can not be empty" % field)
            return
        if object_id not in self.project[store]:
            raise ApiError(status)

    def keys(self, old, body):
        if not body.get("name"):
            raise refused("name can not be empty")
        body.pop("project_id", None)
        override = body.pop("override_secret", False)
        if old is not None and not override:
            # Only the name changes (db/sql/access_key.go UpdateAccessKey).
            return dict(old, name=body["name"])
        kind = body.get("type")
        ssh, login = body.pop("ssh", None) or {}, body.pop("login_password", None) or {}
        if kind == "ssh" and not ssh.get("private_key"):
            raise refused("private key can not be empty")
        if kind == "login_password" and not login.get("password"):
            raise refused("password can not be empty")
        secret = {"ssh": ssh, "login_password": login}.get(kind)
        return {"name": body["name"], "type": kind, "secret": json.dumps(secret, sort_keys=True) if secret else None}

    def repositories(self, _old, body):
        for field in ("name", "git_url", "git_branch"):
            if not body.get(field):
                raise refused("%s can not be empty" % field)
        self.reference("keys", body.get("ssh_key_id"), "ssh_key_id", required=True, status=404)
        return {field: body.get(field) for field in REPOSITORY_FIELDS}

    def inventories(self, _old, body):
        if not body.get("name"):
            raise refused("name can not be empty")
        if body.get("type") not in ("static", "static-yaml", "file", "terraform-workspace"):
            raise refused("Not supported inventory type")
        if body["type"] == "file" and (body.get("inventory", "").startswith("/") or ".." in body.get("inventory", "").split("/")):
            raise refused("Invalid inventory file pathname. Must be: path/to/inventory.")
        self.reference("keys", body.get("ssh_key_id"), "ssh_key_id", status=404)
        self.reference("keys", body.get("become_key_id"), "become_key_id", status=404)
        self.reference("repositories", body.get("repository_id"), "repository_id")
        return {field: body.get(field) for field in INVENTORY_FIELDS}

    def environments(self, old, body):
        if not body.get("name"):
            raise refused("Environment name can not be empty")
        for field, what in (("json", "Extra variables"), ("env", "Environment variables")):
            if body.get(field) is not None:
                try:
                    json.loads(body[field])
                except ValueError:
                    raise refused("%s must be valid JSON" % what) from None
        if body.get("json") is None:
            raise refused("Extra variables must be valid JSON")
        self.pending_secrets = body.get("secrets") or []  # pylint: disable=attribute-defined-outside-init
        return {field: body.get(field) for field in ENVIRONMENT_FIELDS}

    def templates(self, _old, body):
        app = body.get("app", "")
        if app not in APPS:
            raise refused("Invalid app id: " + app)
        if not body.get("name"):
            raise refused("template name can not be empty")
        if not body.get("playbook"):
            raise refused("template playbook can not be empty")
        if app == "ansible" and body.get("inventory_id") is None:
            raise refused("template inventory can not be empty")
        if body.get("arguments") not in (None, ""):
            try:
                json.loads(body["arguments"])
            except ValueError:
                raise refused("template arguments must be valid JSON") from None
        self.reference("inventories", body.get("inventory_id"), "inventory_id")
        self.reference("repositories", body.get("repository_id"), "repository_id", required=True)
        self.reference("environments", body.get("environment_id"), "environment_id")
        vaults = []
        for vault in body.get("vaults") or []:
            self.reference("keys", vault.get("vault_key_id"), "vault_key_id", required=True)
            vaults.append(dict(vault, id=vault.get("id") or self.fake.next_id("template_vault")))
        template = {field: body.get(field) for field in TEMPLATE_FIELDS}
        template["arguments"] = body.get("arguments") or None
        template["vaults"] = vaults
        return template

    def schedules(self, _old, body):
        problem = cron_problem(body.get("cron_format"))
        if problem:
            raise refused("Cron: " + problem)
        self.reference("templates", body.get("template_id"), "template_id", required=True)
        return {field: body.get(field) for field in SCHEDULE_FIELDS}

    def after_write(self, store, obj):
        if store != "environments":
            return
        for secret in self.pending_secrets:
            keys = self.project["secret_keys"]
            if secret.get("type") not in ("env", "var"):
                continue  # EnvironmentSecret.Validate: skipped, not refused
            label = "%s.%s" % (secret["type"], secret.get("name"))
            operation = secret.get("operation")
            if operation == "create":
                key_id = self.fake.next_id("keys")
                keys[key_id] = {"id": key_id, "name": label, "string": secret.get("secret", ""),
                                "environment_id": obj["id"]}
            elif secret.get("id") in keys and keys[secret["id"]]["environment_id"] == obj["id"]:
                if operation == "delete":
                    del keys[secret["id"]]
                elif operation == "update":
                    keys[secret["id"]].update(name=label, string=secret.get("secret", ""))

    def delete(self, store, obj):
        templates = self.project["templates"].values()
        in_use = {
            "keys": any(obj["id"] in (r["ssh_key_id"],) for r in self.project["repositories"].values())
            or any(obj["id"] in (i["ssh_key_id"], i["become_key_id"]) for i in self.project["inventories"].values())
            or any(obj["id"] == v["vault_key_id"] for t in templates for v in t["vaults"]),
            "repositories": any(obj["id"] == t["repository_id"] for t in templates)
            or any(obj["id"] == i["repository_id"] for i in self.project["inventories"].values()),
            "inventories": any(obj["id"] == t["inventory_id"] for t in templates),
            "environments": any(obj["id"] == t["environment_id"] for t in templates),
        }.get(store, False)
        if in_use:
            noun = {"keys": "Access Key", "repositories": "Repository", "inventories": "Inventory",
                    "environments": "Environment"}[store]
            raise refused("%s is in use by one or more templates" % noun, inUse=True)
        del self.project[store][obj["id"]]
        if store == "templates":
            for schedule in [s for s in self.project["schedules"].values() if s["template_id"] == obj["id"]]:
                del self.project["schedules"][schedule["id"]]
        if store == "environments":
            for key_id in [k for k, key in self.project["secret_keys"].items() if key["environment_id"] == obj["id"]]:
                del self.project["secret_keys"][key_id]


def _secret_label(key):
    kind, _sep, name = key["name"].partition(".")
    return {"name": name, "type": kind}

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The identity provider (Authentik) in the catalog: one entry, three services.

A user writes one entry ``{name: authentik, host: jove, platform: authentik, secrets:
{...}}`` and the catalog makes from it what Authentik runs as: the server (the entry
itself: web interface, API, the embedded outpost that answers the edge's forward auth),
the worker ``<name>-worker`` (background tasks; it applies the blueprints the authentik
role installs) and its PostgreSQL ``<name>-postgresql`` (data in a named volume, backed
up daily). Server and worker run one image, so one Authentik version; both start after
the database. Authentik 2025.10 and later need no Redis, so there is none.

To change a field of the worker or the database (e.g. the database's resources), declare
the part yourself with its name and kind (``{name: authentik-postgresql, platform:
authentik_postgresql, resources: {...}}``): the fields you set win over the made ones.
That is also why a normalised catalog normalises to itself.

Each service with ``oidc`` gets its OpenID Connect client's id and secret: the id is the
service name (env ``OIDC_CLIENT_ID``), the secret a Podman secret ``OIDC_CLIENT_SECRET``,
derived from Authentik's secret key (so it is the same on every run and host, and never
stored anywhere else) unless the service sets that secret itself. The worker gets the
same value as ``HOMELAB_OIDC_<NAME>_SECRET``, which the blueprint reads with ``!Env``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.errors import _error, _quote
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.names import oidc_secret_env

KIND = "authentik"
WORKER_KIND = "authentik_worker"
DATABASE_KIND = "authentik_postgresql"
KINDS = (KIND, WORKER_KIND, DATABASE_KIND)
# The name of each part: the entry's name and this suffix.
PART_SUFFIXES = {WORKER_KIND: "-worker", DATABASE_KIND: "-postgresql"}

# The official images: server and worker are one image (Authentik's release of the
# contracts in tests/fixtures/authentik), PostgreSQL the major release of Authentik's compose file.
IMAGE = "ghcr.io/goauthentik/server:2026.2.2"
POSTGRESQL_IMAGE = "docker.io/library/postgres:16-alpine"
MINIMUM_VERSION = (2025, 10)  # no Redis from this release on
MINIMUM_POSTGRESQL = 14
PORT = 9000  # HTTP: web interface, API and the embedded outpost
METRICS_PORT = 9300
# Media and other files of server and worker (one directory both mount, as Authentik's
# compose file does); the image runs as this user, which must own it.
DATA_HOST_DIR = "/var/lib/homelab/authentik"
DATA_DIR = "/data"
# Where the worker discovers blueprints of its own (/blueprints holds Authentik's), and the
# host directory the authentik role writes the catalog's blueprint to.
BLUEPRINTS_HOST_DIR = "/etc/homelab/authentik/blueprints"
BLUEPRINTS_DIR = "/blueprints/custom"
DATABASE = "authentik"  # PostgreSQL database and role

SECRET_KEY = "AUTHENTIK_SECRET_KEY"
BOOTSTRAP_PASSWORD = "AUTHENTIK_BOOTSTRAP_PASSWORD"
BOOTSTRAP_TOKEN = "AUTHENTIK_BOOTSTRAP_TOKEN"
DATABASE_PASSWORD = "AUTHENTIK_POSTGRESQL__PASSWORD"
REQUIRED_SECRETS = {KIND: (SECRET_KEY, BOOTSTRAP_PASSWORD, BOOTSTRAP_TOKEN, DATABASE_PASSWORD)}
OIDC_CLIENT_ID = "OIDC_CLIENT_ID"
OIDC_CLIENT_SECRET = "OIDC_CLIENT_SECRET"
_OIDC_WORKER_PREFIX = "HOMELAB_OIDC_"  # the worker's client secrets (names.oidc_secret_env)

# What the authentik role needs of the server and the worker (see views.platform_service).
FACTS = {KIND: {"config_dir": DATA_DIR, "port": PORT}, WORKER_KIND: {"config_dir": BLUEPRINTS_DIR}}

_HEALTHCHECK = {"cmd": "ak healthcheck", "interval": "30s", "start_period": "60s"}
_DATA_MOUNT = {"source": DATA_HOST_DIR, "target": DATA_DIR, "readonly": False}
_CALVER = re.compile(r":(\d{4})\.(\d{1,2})(?:\.\d+)?(?:[-@].*)?$")
_MAJOR = re.compile(r":(\d+)(?:[.-].*)?$")


def _database_env(name: str) -> dict:
    return {"AUTHENTIK_POSTGRESQL__HOST": name + PART_SUFFIXES[DATABASE_KIND],
            "AUTHENTIK_POSTGRESQL__USER": DATABASE, "AUTHENTIK_POSTGRESQL__NAME": DATABASE}


def _merged(made: dict, declared: Mapping) -> dict:
    """The made entry with the user's fields over it; ``env`` and ``secrets`` key by key,
    ``depends_on`` keeps the made dependencies first."""
    result = dict(made)
    for field, value in declared.items():
        if value is None:
            continue
        if field in ("env", "secrets") and isinstance(value, Mapping) and field in made:
            result[field] = {**made[field], **value}
        elif field == "depends_on" and isinstance(value, (list, tuple)) and field in made:
            result[field] = list(made[field]) + [dep for dep in value if dep not in made[field]]
        else:
            result[field] = value
    return result


def _parts(entry: Mapping) -> list:
    """The server, worker and database made from an authentik entry (before the user's own parts)."""
    name = entry["name"]
    database = name + PART_SUFFIXES[DATABASE_KIND]
    server = _merged({"image": IMAGE, "command": ["server"], "port": PORT, "route": {"auth": "none"},
                      "env": _database_env(name), "mounts": [dict(_DATA_MOUNT)], "depends_on": [database],
                      "healthcheck": dict(_HEALTHCHECK), "metrics": {"port": METRICS_PORT, "path": "/metrics"}}, entry)
    secrets = entry.get("secrets") if isinstance(entry.get("secrets"), Mapping) else {}
    common = {"host": entry.get("host"), "state": entry.get("state")}
    worker = dict(common, name=name + PART_SUFFIXES[WORKER_KIND], platform=WORKER_KIND, image=server["image"],
                  command=["worker"], env=dict(server["env"]) if isinstance(server["env"], Mapping) else {},
                  secrets={key: secrets[key] for key in (SECRET_KEY, DATABASE_PASSWORD, BOOTSTRAP_PASSWORD,
                                                         BOOTSTRAP_TOKEN) if key in secrets},
                  mounts=[dict(_DATA_MOUNT), {"source": BLUEPRINTS_HOST_DIR, "target": BLUEPRINTS_DIR, "readonly": True}],
                  depends_on=[database], healthcheck=dict(_HEALTHCHECK), auto_update=entry.get("auto_update"))
    postgresql = dict(common, name=database, platform=DATABASE_KIND, image=POSTGRESQL_IMAGE,
                      env={"POSTGRES_USER": DATABASE, "POSTGRES_DB": DATABASE},
                      secrets={"POSTGRES_PASSWORD": secrets[DATABASE_PASSWORD]} if DATABASE_PASSWORD in secrets else {},
                      volumes=[{"name": "data", "mount": "/var/lib/postgresql/data", "backup": "daily"}],
                      healthcheck={"cmd": f"pg_isready -d {DATABASE} -U {DATABASE}", "interval": "30s",
                                   "start_period": "20s", "retries": 5},
                      purge_volumes=entry.get("purge_volumes"))
    return [server, worker, postgresql]


def expand(services: list) -> list:
    """The raw catalog with each ``platform: authentik`` entry replaced by its server and
    its worker and database added after the user's entries (or merged into the user's own
    declaration of them). Entries too malformed to expand are left to the field checks."""
    result = list(services)
    claimed: set = set()
    by_name = {entry.get("name"): index for index, entry in enumerate(result)
               if isinstance(entry, Mapping) and isinstance(entry.get("name"), str)}
    for index, entry in enumerate(services):
        if not isinstance(entry, Mapping) or entry.get("platform") != KIND or not isinstance(entry.get("name"), str):
            continue
        server, *parts = _parts(entry)
        result[index] = server
        for part in parts:
            declared_at = by_name.get(part["name"])
            if declared_at is None:
                result.append(part)
                continue
            declared = result[declared_at]
            if declared.get("platform") != part["platform"]:
                raise _error(part["name"], "name", f"is made by platform {KIND} of service {entry['name']}; declare it"
                             f" with platform {part['platform']} to change its fields, or use another name")
            result[declared_at] = _merged(part, declared)
            claimed.add(part["name"])
    for entry in services:
        if isinstance(entry, Mapping) and entry.get("platform") in PART_SUFFIXES and entry.get("name") not in claimed:
            name = entry.get("name")
            raise _error(name if isinstance(name, str) else "?", "platform",
                         f"{_quote(entry['platform'])} is made by a platform {KIND} entry (its name and"
                         f" {PART_SUFFIXES[entry['platform']]}): declare that entry instead")
    return result


def _version(image: str, pattern: re.Pattern) -> tuple | None:
    match = pattern.search(image)
    return tuple(int(group) for group in match.groups()) if match else None


def check(services: list) -> None:
    """What Authentik needs of its three services (after each field was checked)."""
    by_name = {service["name"]: service for service in services}
    for server in (service for service in services if service["platform"] == KIND):
        name = server["name"]
        route = server["route"]
        if route is None or route["auth"] != "none":
            raise _error(name, "route", f"platform {KIND} needs a route with auth none: users sign in there, and the"
                         " edge's forward auth reaches its outpost through it (it cannot guard itself)")
        version = _version(server["image"], _CALVER)
        if version is not None and version < MINIMUM_VERSION:
            raise _error(name, "image", f"{_quote(server['image'])} is older than Authentik 2025.10, which needs Redis;"
                         " this collection runs 2025.10 or later without it")
        for kind, suffix in PART_SUFFIXES.items():
            part = by_name[name + suffix]
            if part["host"] != server["host"]:
                raise _error(part["name"], "host", f"runs beside service {name} on {server['host']}"
                             " (they reach each other by name on the host's network)")
        worker = by_name[name + PART_SUFFIXES[WORKER_KIND]]
        if worker["image"] != server["image"]:
            raise _error(worker["name"], "image", f"must be the image of service {name}, {_quote(server['image'])}"
                         " (server and worker run one Authentik version)")
        database = by_name[name + PART_SUFFIXES[DATABASE_KIND]]
        major = _version(database["image"], _MAJOR)
        if major is not None and major[0] < MINIMUM_POSTGRESQL:
            raise _error(database["name"], "image", f"{_quote(database['image'])}: Authentik needs PostgreSQL"
                         f" {MINIMUM_POSTGRESQL} or newer")


def client_secret(secret_key: str, service: str) -> str:
    """The OIDC client secret of ``service``, derived from Authentik's secret key."""
    message = f"homelab.stack oidc client {service}".encode()
    return hmac.new(str(secret_key).encode(), message, hashlib.sha256).hexdigest()


def deliver_oidc_secrets(services: list) -> None:
    """Give each present ``oidc`` service its client id and secret, and the worker every
    client secret (for the blueprint's ``!Env``). Without a present authentik entry with
    its secret key there is no identity provider to deliver for."""
    servers = [service for service in services if service["platform"] == KIND and service["state"] == "present"
               and SECRET_KEY in service["secrets"]]
    if not servers:
        return
    server = servers[0]
    worker = next((service for service in services if service["name"] == server["name"] + PART_SUFFIXES[WORKER_KIND]),
                  None)
    clients = {}
    for service in services:
        if service["oidc"] is None or service["state"] != "present":
            continue
        name = service["name"]
        if service["env"].get(OIDC_CLIENT_ID, name) != name:
            raise _error(name, "env", f"{OIDC_CLIENT_ID} is the OIDC client id, which is the service name ({name})")
        if OIDC_CLIENT_ID in service["secrets"]:
            raise _error(name, "secrets", f"{OIDC_CLIENT_ID} is the OIDC client id, given in env")
        if OIDC_CLIENT_SECRET in service["env"]:
            raise _error(name, "env", f"{OIDC_CLIENT_SECRET} is the OIDC client secret, given as a Podman secret")
        secret = service["secrets"].get(OIDC_CLIENT_SECRET) or client_secret(server["secrets"][SECRET_KEY], name)
        service["env"][OIDC_CLIENT_ID] = name
        service["secrets"][OIDC_CLIENT_SECRET] = secret
        clients[oidc_secret_env(name)] = secret
    if worker is not None:
        kept = {key: value for key, value in worker["secrets"].items() if not key.startswith(_OIDC_WORKER_PREFIX)}
        worker["secrets"] = dict(kept, **dict(sorted(clients.items())))

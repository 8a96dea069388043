# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared PostgreSQL in the catalog: the ``postgres`` kind and a service's ``database`` field.

A user writes ``{name: postgres, host: kronos, platform: postgres, secrets:
{POSTGRES_PASSWORD: ...}}`` and the entry gets the official image, its data in a volume
backed up hourly as a logical dump (``dump: postgres``: the backup layer runs
``pg_dumpall`` in the container), a ``pg_isready`` health check, and its unix socket
directory mounted from :data:`SOCKET_HOST_DIR` on the host. The platform's databases role
creates each app's database and role through that socket as the superuser: the image
trusts its local socket, so no password leaves the host, and the directory's parent is
root-only, so no other user of the host gets in that way. Its port is published on its
host's mesh address only when an app on another host uses it (:func:`mesh_published`),
and nowhere else: no app of another site needs more, and nothing public ever does.

An app writes ``database: {server: postgres}`` (optionally ``name``, ``user``, and
``env_prefix``, default ``DATABASE``). Its database and role default to the service's
name made a PostgreSQL identifier (``-`` becomes ``_``). It receives ``<prefix>_HOST``,
``_PORT``, ``_NAME`` and ``_USER`` in its environment (:func:`client`) and its password
as the Podman secret ``<prefix>_PASSWORD`` (:func:`deliver_passwords`).

The password is derived from the server's superuser password and the two service names
(an HMAC, as identity.client_secret derives OIDC secrets): the same on every run and on
every controller, stored nowhere but in the app's Podman secret and in the server's role,
and so never regenerated. Changing the superuser password changes every app's password;
the next run sets each role's new password and restarts the apps, whose secret changed.
An app may set the secret itself to pin a password of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import backup
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.errors import _error, _kind, _quote
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.names import secret_name

KIND = "postgres"
# The official image, the release the lab's image stands in for (tests/lab/postgres).
IMAGE = "docker.io/library/postgres:17"
PORT = 5432
DATA_DIR = "/var/lib/postgresql/data"
DATA_VOLUME = "data"
# The image's socket directory, and where the host sees it: under a root-only directory
# (the databases role makes it 0700), since the socket trusts whoever reaches it.
SOCKET_DIR = "/var/run/postgresql"
SOCKET_PARENT = "/var/lib/homelab/postgres"
SOCKET_HOST_DIR = SOCKET_PARENT + "/socket"
SUPERUSER_PASSWORD = "POSTGRES_PASSWORD"
# The official image's superuser unless the entry's env sets POSTGRES_USER.
SUPERUSER = "postgres"
# How the backup layer dumps the data volume (a kind of backup.DUMPS).
DUMP = "postgres"

DEFAULTS = {
    KIND: {
        "image": IMAGE,
        "port": PORT,
        "volumes": [{"name": DATA_VOLUME, "mount": DATA_DIR, "backup": {"schedule": "hourly", "dump": DUMP}}],
        "mounts": [{"source": SOCKET_HOST_DIR, "target": SOCKET_DIR, "readonly": False}],
        "healthcheck": {"cmd": f"pg_isready -q -h {SOCKET_DIR}", "interval": "30s", "start_period": "30s",
                        "retries": 5},
    },
}
REQUIRED_SECRETS = {KIND: (SUPERUSER_PASSWORD,)}

FIELDS = ("server", "name", "user", "env_prefix")
DEFAULT_ENV_PREFIX = "DATABASE"
ENV_SUFFIXES = ("HOST", "PORT", "NAME", "USER")
PASSWORD_SUFFIX = "PASSWORD"
# Lower-case identifiers PostgreSQL takes unquoted, within its 63 bytes.
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_ENV_PREFIX = re.compile(r"[A-Z][A-Z0-9_]{0,30}")
# Names an app must not take: the cluster's own databases, and roles PostgreSQL reserves.
RESERVED_DATABASES = ("postgres", "template0", "template1")
RESERVED_USER_PREFIX = "pg_"


def identifier(name: str) -> str:
    """A service name (a DNS label) as a PostgreSQL identifier: ``-`` becomes ``_``, and a
    leading digit gets a ``_`` before it (an unquoted identifier cannot start with one)."""
    text = name.replace("-", "_")
    return "_" + text if text[0].isdigit() else text


def _name(service: str, field: str, value: object, default: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        raise _error(service, field, f"must be a string, got {_kind(value)}")
    if not _IDENTIFIER.fullmatch(value):
        raise _error(service, field, f"{_quote(value)} is not a PostgreSQL name (a-z, 0-9 and _, not starting with"
                     " a digit, at most 63 characters)")
    return value


def normalise(service: str, value: object, kind: str | None = None) -> dict | None:
    """A service's ``database`` as ``{server, name, user, env_prefix}``, or None;
    ``kind`` is the service's platform kind (a server has no database of its own)."""
    if value is None:
        return None
    if kind == KIND:
        raise _error(service, "database", f"a platform {KIND} service is a server, not a client")
    if not isinstance(value, Mapping):
        raise _error(service, "database", f"must be a mapping with a server, got {_kind(value)}")
    for key in value:
        if key not in FIELDS:
            raise _error(service, f"database.{key}", "is not a known field")
    server = value.get("server")
    if server is None:
        raise _error(service, "database.server", "is required (the name of a platform postgres service)")
    if not isinstance(server, str):
        raise _error(service, "database.server", f"must be a string, got {_kind(server)}")
    name = _name(service, "database.name", value.get("name"), identifier(service))
    if name in RESERVED_DATABASES:
        raise _error(service, "database.name", f"{_quote(name)} is one of the server's own databases")
    user = _name(service, "database.user", value.get("user"), identifier(service))
    if user.startswith(RESERVED_USER_PREFIX):
        raise _error(service, "database.user", f"{_quote(user)}: PostgreSQL reserves role names starting with"
                     f" {RESERVED_USER_PREFIX}")
    prefix = DEFAULT_ENV_PREFIX if value.get("env_prefix") is None else value["env_prefix"]
    if not isinstance(prefix, str):
        raise _error(service, "database.env_prefix", f"must be a string, got {_kind(prefix)}")
    if not _ENV_PREFIX.fullmatch(prefix):
        raise _error(service, "database.env_prefix", f"{_quote(prefix)} is not an upper-case variable prefix"
                     " such as DATABASE")
    return {"server": server, "name": name, "user": user, "env_prefix": prefix}


def superuser(server: dict) -> str:
    """The server's superuser: its env's POSTGRES_USER, else the image's ``postgres``."""
    return server["env"].get("POSTGRES_USER") or SUPERUSER


def env_names(database: dict) -> dict:
    """``{HOST: <prefix>_HOST, ...}``: the variables an app receives, by what they carry."""
    prefix = database["env_prefix"]
    return {suffix: f"{prefix}_{suffix}" for suffix in ENV_SUFFIXES + (PASSWORD_SUFFIX,)}


def password(superuser_password: str, server: str, service: str) -> str:
    """The password of ``service``'s role on ``server``, derived from the superuser's."""
    message = f"homelab.stack database {server} {service}".encode()
    return hmac.new(str(superuser_password).encode(), message, hashlib.sha256).hexdigest()


def check(services: list) -> None:
    """Every ``database.server`` is a postgres service of the catalog, present when the app
    is; one postgres per host (they would share :data:`SOCKET_HOST_DIR`); no two apps of
    a server share a database or a role, and none takes the superuser's name."""
    by_name = {service["name"]: service for service in services}
    hosts: dict = {}
    for service in services:
        if service["platform"] == KIND and service["state"] == "present":
            if service["host"] in hosts:
                raise _error(service["name"], "platform", f"host {service['host']} already runs {KIND}"
                             f" {hosts[service['host']]}; one per host (they would share {SOCKET_HOST_DIR})")
            hosts[service["host"]] = service["name"]
            if service["port"] != PORT:
                raise _error(service["name"], "port", f"must be {PORT}, where platform {KIND} listens")
    taken: dict = {}
    for service in services:
        database = service.get("database")
        if database is None:
            continue
        name, server = service["name"], by_name.get(database["server"])
        if server is None:
            raise _error(name, "database.server", f"{_quote(database['server'])} is not a service in the catalog")
        if server["platform"] != KIND:
            raise _error(name, "database.server", f"{_quote(server['name'])} is not a PostgreSQL service of the"
                         f" catalog (platform {KIND})")
        if service["state"] == "present" and server["state"] == "absent":
            raise _error(name, "database.server", f"{_quote(server['name'])} has state absent")
        if database["user"] == superuser(server):
            raise _error(name, "database.user", f"{_quote(database['user'])} is the superuser of {server['name']}")
        for field in ("name", "user"):
            key = (server["name"], field, database[field])
            if key in taken:
                raise _error(name, f"database.{field}", f"{_quote(database[field])} is already service {taken[key]}'s"
                             f" on {server['name']}")
            taken[key] = name
        names = env_names(database)
        for suffix in ENV_SUFFIXES:
            if names[suffix] in service["env"] or names[suffix] in service["secrets"]:
                raise _error(name, "env", f"{names[suffix]} is given by database (set database.env_prefix to use"
                             " other names)")
        if names[PASSWORD_SUFFIX] in service["env"]:
            raise _error(name, "env", f"{names[PASSWORD_SUFFIX]} is the database password, given as a Podman secret")


def deliver_passwords(services: list) -> None:
    """Give each app its password secret (unless it sets its own) and, on the server's
    host, a dependency on the server (its unit starts after the database's). A server
    without its superuser password (an error _check_platform reports) delivers none."""
    by_name = {service["name"]: service for service in services}
    for service in services:
        database = service.get("database")
        if database is None:
            continue
        server = by_name[database["server"]]
        key = env_names(database)[PASSWORD_SUFFIX]
        if key not in service["secrets"] and SUPERUSER_PASSWORD in server["secrets"]:
            service["secrets"][key] = password(server["secrets"][SUPERUSER_PASSWORD], server["name"], service["name"])
        if server["host"] == service["host"] and server["name"] not in service["depends_on"]:
            service["depends_on"].append(server["name"])


def remote_clients(server: dict, services: list) -> list:
    """The present apps on other hosts than ``server``'s that use it, by name."""
    return sorted(service["name"] for service in services
                  if service["state"] == "present" and service.get("database") is not None
                  and service["database"]["server"] == server["name"] and service["host"] != server["host"])


def mesh_published(server: dict, services: list) -> list:
    """``(why, mesh port, container port)`` when an app on another host uses ``server``."""
    if server["platform"] != KIND or server["state"] != "present" or not remote_clients(server, services):
        return []
    return [("used by an app on another host over the mesh", PORT, PORT)]


def check_backup(services: list) -> None:
    """A server's data volume is dumped, never copied live (:mod:`backup`), when backed up."""
    for service in services:
        if service["platform"] != KIND:
            continue
        for index, volume in enumerate(service["volumes"]):
            if volume["mount"] == DATA_DIR and volume["backup"]["schedule"] != backup.NEVER \
                    and volume["backup"]["dump"] != DUMP:
                raise _error(service["name"], f"volumes[{index}].backup.dump", f"must be {DUMP}: a running"
                             " database's files copied live may not restore")


def client(service: dict, services: list, addresses: Mapping | None, filter_name: str) -> dict | None:
    """How ``service`` reaches its database (database_view.database_client), or None.

    The server's container by name when both share a host (and its network), else the
    mesh address of the server's host, where :func:`mesh_published` binds the port.
    """
    database = service["database"]
    if database is None:
        return None
    server = next(other for other in services if other["name"] == database["server"])
    if server["host"] == service["host"]:
        address = server["name"]
    else:
        address = (addresses or {}).get(server["host"])
        if not isinstance(address, str) or not address:
            raise AnsibleFilterError(f"{filter_name}: addresses: no mesh address for host {server['host']} (service"
                                     f" {service['name']}'s database server {server['name']} runs there); pass"
                                     " hostvars | homelab.stack.mesh_addresses(groups['all'])")
    names = env_names(database)
    env = {names[suffix]: value for suffix, value in
           zip(ENV_SUFFIXES, (address, str(PORT), database["name"], database["user"]))}
    target = names[PASSWORD_SUFFIX]
    return {"server": server["name"], "server_host": server["host"], "host": address, "port": PORT,
            "name": database["name"], "user": database["user"], "env": env,
            "password_secret": {"name": secret_name(service["name"], target), "target": target}}

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database views of a normalised catalog: what a PostgreSQL server's host creates
(:func:`database_server`), and how an app reaches its database (:func:`database_client`).

Both follow the ``database`` field as postgres.py settles it, so the databases role and
the app's unit agree on names, the user and the password without deriving anything.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import postgres
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.errors import _kind, _quote
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.monitoring_view import _addresses
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import _catalog, _host, _present

SERVER = "database_server"
CLIENT = "database_client"


def _socket_dir(server: dict) -> str:
    """The host directory the server's socket directory is mounted from."""
    for mount in server["mounts"]:
        if mount["target"] == postgres.SOCKET_DIR:
            return mount["source"]
    raise AnsibleFilterError(f"service {server['name']}: mounts: nothing is mounted at {postgres.SOCKET_DIR}, where"
                             " the databases role reaches the server's socket")


def database_server(catalog: object, host: object) -> dict | None:
    """What the databases role creates on ``host``: None when ``host`` runs no present
    ``platform: postgres`` entry, else ``{service, superuser, socket_dir, port, databases}``.

    ``socket_dir`` is the host directory of the server's socket (the role connects there
    as ``superuser``); ``databases`` has one ``{client, name, user, password}`` per present
    app of the server, by name. ``password`` is a secret: handle the view with no_log.
    """
    host = _host(host, SERVER)
    services = _present(_catalog(catalog, SERVER))
    server = next((service for service in services
                   if service["platform"] == postgres.KIND and service["host"] == host), None)
    if server is None:
        return None
    databases = []
    for service in services:
        database = service["database"]
        if database is None or database["server"] != server["name"]:
            continue
        key = postgres.env_names(database)[postgres.PASSWORD_SUFFIX]
        databases.append({"client": service["name"], "name": database["name"], "user": database["user"],
                          "password": service["secrets"][key]})
    return {"service": server["name"], "superuser": postgres.superuser(server), "socket_dir": _socket_dir(server),
            "port": postgres.PORT, "databases": sorted(databases, key=lambda item: item["client"])}


def database_client(catalog: object, service: object, addresses: object = None) -> dict | None:
    """How the app ``service`` reaches its database: None when it declares none, else
    ``{server, server_host, host, port, name, user, env, password_secret}``.

    ``host`` is the server's container name when both run on one host (they share its
    network), else the server host's mesh address from ``addresses`` (the
    ``mesh_addresses`` filter's ``{host: address}``). ``env`` holds the variables the app
    receives (``<prefix>_HOST``, ``_PORT``, ``_NAME``, ``_USER``); ``password_secret`` the
    name and target of the Podman secret with its password (never the value).
    """
    if not isinstance(service, str):
        raise AnsibleFilterError(f"{CLIENT}: service: must be a service name, got {_kind(service)}")
    services = _catalog(catalog, CLIENT)
    entry = next((item for item in services if item["name"] == service), None)
    if entry is None:
        raise AnsibleFilterError(f"{CLIENT}: service: {_quote(service)} is not a service of the catalog")
    if addresses is not None:
        addresses = _addresses(addresses, CLIENT)
    return postgres.client(entry, services, addresses, CLIENT)

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup views of a normalised catalog: what one host backs up and where to
(:func:`backup_client`), and whose backups a host's rest-server keeps (:func:`backup_server`).

Backups cross sites: a host backs up to every ``platform: rest_server`` entry at a site
other than its own, so losing a site loses no data. ``sites`` maps each host to its
``homelab_site``; a host without one (null or empty) is a site of its own. The two views
follow one rule, so they agree: a host has a repository on a rest-server exactly when it
is one of that server's clients, i.e. when it has volumes to back up (the ``backup_sets``
view) and the server is at another site. A host with volumes to back up and no
rest-server at another site gets no repository here: that is not an error of the
catalog, since the backup role may send them elsewhere (its extra repositories) and
decides.

The volume entries are the runner's (``config.json``'s ``services.<name>.volumes``);
a volume with ``dump`` gets the commands that dump the service's database to stdout
and load such a dump from stdin (:func:`dump_commands`).
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.module_utils.quadlet import service_name
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import rest_server
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.errors import _kind, _quote
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.monitoring_view import _addresses
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.names import volume_name
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import (
    _bracketed,
    _catalog,
    _host,
    _present,
    backup_sets,
)

CLIENT = "backup_client"
SERVER = "backup_server"
# The PostgreSQL user when the service's env sets no POSTGRES_USER (the official image's
# default superuser).
POSTGRES_USER = "postgres"

# The drill's scratch database: a throw-away cluster in the database's own image (the same
# PostgreSQL release, so the dump loads as it would in a restore), without network, on a
# socket in its temporary data directory, the dump loaded from stdin and then queried.
# It fails when the cluster cannot start, or the databases cannot be listed after the load.
SCRATCH_POSTGRES = (
    'set -e; export PGDATA="$(mktemp -d)"; initdb -A trust -U postgres >/dev/null;'
    ' pg_ctl -w -l "$PGDATA/log" -o "-c listen_addresses= -k $PGDATA" start >/dev/null;'
    ' psql -X -q -h "$PGDATA" -U postgres -d postgres >/dev/null 2>&1;'
    ' psql -X -At -h "$PGDATA" -U postgres -d postgres -c "select count(*) from pg_database";'
    ' pg_ctl -w -m immediate stop >/dev/null')


def _postgres(container: str, env: Mapping, image: str) -> tuple:
    """``pg_dumpall`` and ``psql`` in the database's container, as its superuser, and the
    drill's load into a scratch cluster of its image (:data:`SCRATCH_POSTGRES`).

    Why these flags: the whole cluster (every database and role), with ``--clean
    --if-exists`` so that loading it into the running database (a restore goes into the
    live container, never over its files) drops and makes again what it holds, without
    errors for what is missing. ``psql -X`` ignores any psqlrc; ``-d postgres`` because the
    dump connects to each database itself. No ``ON_ERROR_STOP``: the dump drops every
    role, the loading superuser's too, which PostgreSQL refuses ("current user cannot be
    dropped"), and stopping there would leave every database unloaded (the restore's tests
    with a real PostgreSQL met it). ``-i`` keeps stdin open, for the dump to reach psql.
    """
    user = env.get("POSTGRES_USER") or POSTGRES_USER
    return (["podman", "exec", container, "pg_dumpall", "--clean", "--if-exists", "-U", user],
            ["podman", "exec", "-i", container, "psql", "-X", "-q", "-U", user, "-d", "postgres"],
            ["podman", "run", "--rm", "-i", "--network", "none", "--user", "postgres", "--entrypoint", "sh", image,
             "-c", SCRATCH_POSTGRES])


# The commands of each kind of backup.DUMPS, written once here: the runner only runs them.
DUMPS = {"postgres": _postgres}


def dump_commands(dump: str | None, service: dict) -> tuple:
    """``(dump_command, load_command, verify_load_command)`` of a volume: argv lists for a
    ``dump`` in the service's container (named after the service) and for the drill's
    scratch database of its image, or ``(None, None, None)``."""
    if dump is None:
        return None, None, None
    return DUMPS[dump](service["name"], service["env"], service["image"])


def _sites(sites: object, filter_name: str) -> dict:
    if not isinstance(sites, Mapping):
        raise AnsibleFilterError(f"{filter_name}: sites: must be a mapping of host to homelab_site (or null),"
                                 f" got {_kind(sites)}")
    for host, site in sites.items():
        if site is not None and not isinstance(site, str):
            raise AnsibleFilterError(f"{filter_name}: sites: host {host}: must be a site name or null, got {_kind(site)}")
    return dict(sites)


def _site_of(sites: dict, host: str, why: str, filter_name: str) -> tuple:
    """The site of ``host``, comparable across hosts: its ``homelab_site``, or the host
    itself when it has none (a site of its own)."""
    if host not in sites:
        raise AnsibleFilterError(f"{filter_name}: sites: no entry for host {host} ({why}); map every host to its"
                                 " homelab_site, or null for a site of its own")
    site = sites[host]
    return ("site", site) if site else ("host", host)


def _this_host(host: object, sites: dict, filter_name: str) -> tuple:
    host = _host(host, filter_name)
    if host not in sites:
        raise AnsibleFilterError(f"{filter_name}: host: {_quote(host)} is not one of the hosts of sites"
                                 f" ({', '.join(sorted(sites)) or 'none'})")
    return host, _site_of(sites, host, "the host asked about", filter_name)


def _rest_servers(services: list) -> list:
    return sorted((service for service in services if service["platform"] == rest_server.KIND),
                  key=lambda service: service["name"])


def _volume(item: dict, service: dict) -> dict:
    """A backup set as the runner's volume entry."""
    dump_command, load_command, verify_load_command = dump_commands(item["dump"], service)
    keep = item["keep"]
    return {"volume": item["volume"], "schedule": item["schedule"], "interval_seconds": item["interval_seconds"],
            "keep": dict(keep) if isinstance(keep, Mapping) else keep, "pause": item["pause"], "dump": item["dump"],
            "dump_command": dump_command, "load_command": load_command, "verify_load_command": verify_load_command}


def backup_client(catalog: object, host: object, sites: object, addresses: object) -> dict:
    """What ``host`` backs up and where to: ``{repositories, services}``.

    ``services`` maps each service of ``host`` with volumes to back up to ``{unit,
    volumes}``: its systemd unit (the one Quadlet makes of its container) and the runner's
    volume entries (``volume, schedule, interval_seconds, keep, pause, dump,
    dump_command, load_command``), by volume. ``repositories`` are the present
    rest-servers at a site other than ``host``'s, by name, each ``{name, server_host,
    url}``: ``name`` the rest-server service's, ``url``
    ``rest:https://<mesh address of its host>:8000/<host>/`` (the one repository
    ``--private-repos`` lets ``host`` open). Empty when ``host`` has nothing to back up,
    and when no rest-server is at another site (the role decides what that means).

    ``sites`` maps every host to its ``homelab_site`` (null: a site of its own),
    ``addresses`` is the ``mesh_addresses`` filter's ``{host: mesh address}``. Fails
    when ``host`` is not in ``sites``, or a rest-server's host has no site entry or
    mesh address.
    """
    services = _present(_catalog(catalog, CLIENT))
    sites = _sites(sites, CLIENT)
    addresses = _addresses(addresses, CLIENT)
    host, site = _this_host(host, sites, CLIENT)
    by_name = {service["name"]: service for service in services}
    result: dict = {}
    for item in backup_sets(services):
        if item["host"] != host:
            continue
        service = by_name[item["service"]]
        entry = result.setdefault(service["name"], {"unit": service_name(service["name"], "container"), "volumes": []})
        entry["volumes"].append(_volume(item, service))
    repositories = []
    for server in _rest_servers(services) if result else []:
        why = f"{rest_server.KIND} {server['name']} runs there"
        if _site_of(sites, server["host"], why, CLIENT) == site:
            continue
        address = addresses.get(server["host"])
        if address is None:
            raise AnsibleFilterError(f"{CLIENT}: addresses: no mesh address for host {server['host']} ({why});"
                                     " pass hostvars | homelab.stack.mesh_addresses(...) of every host")
        repositories.append({"name": server["name"], "server_host": server["host"],
                             "url": f"rest:https://{_bracketed(address)}:{rest_server.PORT}/{host}/"})
    return {"repositories": repositories, "services": result}


def backup_server(catalog: object, host: object, sites: object) -> dict | None:
    """Whose backups the rest-server of ``host`` keeps: None when ``host`` runs no present
    ``platform: rest_server`` entry, else ``{service, volume, port, clients}``.

    ``service`` is the entry's name, ``volume`` the Podman volume of its repositories
    (mounted at ``/data``; a client's repository is ``<its mountpoint>/<client>/``),
    ``port`` the port it listens on. ``clients`` are the hosts at another site with
    volumes to back up, by name, each ``{client, sets}``: its sets ``{service, volume,
    keep}`` by service and volume, whose old snapshots the server's host forgets. Fails
    when ``host``, or a host with volumes to back up, is not in ``sites``.
    """
    services = _present(_catalog(catalog, SERVER))
    sites = _sites(sites, SERVER)
    host, site = _this_host(host, sites, SERVER)
    server = next((service for service in _rest_servers(services) if service["host"] == host), None)
    if server is None:
        return None
    data = next(volume for volume in server["volumes"] if volume["mount"] == rest_server.DATA_DIR)
    clients: dict = {}
    for item in backup_sets(services):
        client = item["host"]
        if _site_of(sites, client, f"service {item['service']} there has volumes to back up", SERVER) == site:
            continue
        clients.setdefault(client, []).append(
            {"service": item["service"], "volume": item["volume"],
             "keep": dict(item["keep"]) if isinstance(item["keep"], Mapping) else item["keep"]})
    return {"service": server["name"], "volume": volume_name(server["name"], data["name"]), "port": rest_server.PORT,
            "clients": [{"client": client, "sets": clients[client]} for client in sorted(clients)]}

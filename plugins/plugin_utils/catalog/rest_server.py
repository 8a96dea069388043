# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""restic's rest-server in the catalog: where the other site's hosts back up.

A user writes ``{name: backup-a, host: jove, platform: rest_server}``, one per site, and
the entry gets restic's official rest-server container: its repositories in a volume
``data`` at ``/data`` (never backed up itself: it holds the other hosts' backups, and
sending them back to their own site would undo the point), the backup role's files
(``htpasswd``, ``tls.crt``, ``tls.key``) mounted read-only from ``/etc/homelab/rest-server``,
and its port published on its host's mesh address only (``MESH_PUBLISHED``, as Loki's):
only the other hosts, over the mesh, talk to it.

The flags make the server safe to expose to the hosts it keeps: ``--append-only`` (a
client can add snapshots but never delete or overwrite one, so an intruder on a host
cannot destroy that host's backups; the backup role forgets and prunes on the server's
own host instead), ``--private-repos`` (a user reaches ``/<user>/`` only, its own
repository), the users from the role's ``htpasswd``, and TLS with the role's key and
certificate (the clients trust exactly that certificate).

No health check: every path needs a user (the server answers 401 to a request without
one), so a check from inside would need a client's password in the unit, and the
metrics endpoint (the one path that can go without) is not turned on. Nor metrics: the
monitoring scrapes over plain HTTP, and this server speaks TLS only. Its users' backups
are watched instead, by the clients' textfile metrics (the BackupStale alert).

One entry per host at most (:func:`check`): two would share the host's configuration
directory and port.
"""

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import backup
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.errors import _error

KIND = "rest_server"
# The official image, pinned to the latest release (0.14.0). Its Dockerfile
# (github.com/restic/rest-server, Dockerfile.goreleaser, v0.14.0) puts the binary at
# /usr/bin/rest-server, runs as root and starts with CMD ["/entrypoint.sh"], no
# ENTRYPOINT: so ``command`` replaces the whole command line, and names the binary
# itself rather than the entrypoint script, which would add its own --path and
# --htpasswd-file (under /data).
IMAGE = "docker.io/restic/rest-server:0.14.0"
BINARY = "/usr/bin/rest-server"
PORT = 8000
# Where the backup role writes the server's files on the host, and where it reads them.
HOST_DIR = "/etc/homelab/rest-server"
CONFIG_DIR = "/etc/rest-server"
HTPASSWD_FILE = CONFIG_DIR + "/htpasswd"
TLS_CERT = CONFIG_DIR + "/tls.crt"
TLS_KEY = CONFIG_DIR + "/tls.key"
# The repositories, one directory per client host (``/data/<host>/``).
DATA_DIR = "/data"
DATA_VOLUME = "data"

COMMAND = [BINARY, "--path", DATA_DIR, "--listen", f":{PORT}", "--append-only", "--private-repos",
           "--htpasswd-file", HTPASSWD_FILE, "--tls", "--tls-cert", TLS_CERT, "--tls-key", TLS_KEY]

DEFAULTS = {
    KIND: {
        "image": IMAGE,
        "port": PORT,
        "mounts": [{"source": HOST_DIR, "target": CONFIG_DIR, "readonly": True}],
        "volumes": [{"name": DATA_VOLUME, "mount": DATA_DIR, "backup": backup.NEVER}],
        "command": COMMAND,
    },
}
# What the backup role needs of the container (see views.platform_service).
FACTS = {KIND: {"config_dir": CONFIG_DIR, "htpasswd_file": HTPASSWD_FILE, "tls_cert": TLS_CERT,
                "tls_key": TLS_KEY, "data_dir": DATA_DIR, "port": PORT}}
# The port every other site's hosts reach over the mesh (platform.mesh_published).
MESH_PUBLISHED = {KIND: ("backed up to by the other site's hosts over the mesh", PORT)}


def check(services: list) -> None:
    """One present rest-server per host; each keeps its repositories in a volume at
    :data:`DATA_DIR` that is never backed up, and listens on :data:`PORT` (its mesh
    binding and the clients' URLs)."""
    seen: dict = {}
    for service in services:
        if service["platform"] != KIND or service["state"] != "present":
            continue
        name, host = service["name"], service["host"]
        if host in seen:
            raise _error(name, "platform", f"host {host} already runs {KIND} {seen[host]}; one rest-server per host"
                         " (each keeps all the repositories of the hosts that back up to it)")
        seen[host] = name
        if service["port"] != PORT:
            raise _error(name, "port", f"must be {PORT}, where platform {KIND} listens (--listen :{PORT})")
        data = [index for index, volume in enumerate(service["volumes"]) if volume["mount"] == DATA_DIR]
        if not data:
            raise _error(name, "volumes", f"no volume is mounted at {DATA_DIR}, where platform {KIND} keeps the"
                         " repositories")
        for index in data:
            if service["volumes"][index]["backup"]["schedule"] != backup.NEVER:
                raise _error(name, f"volumes[{index}].backup", f"must be {backup.NEVER}: it holds the other hosts'"
                             " backups, which would go back to their own site")

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The log agent (Grafana Alloy) in the catalog: one entry, one container per host.

A user writes one entry without a host, ``{name: alloy, platform: alloy}``, and the
catalog makes from it one service ``<name>-<host>`` on every host that runs a service of
the catalog (:func:`expand`). Each reads its host's systemd journal, where Podman's
journald log driver also writes every container's output, and pushes it to Loki over the
mesh (the monitoring role writes each one's configuration, module_utils/alloy.py).

Why a container per host from the catalog, not a package the role installs: the catalog
already runs containers on exactly these hosts through one path (Quadlet units, the
service role, pinned official images, auto-update, state absent to remove them), while a
package needs Grafana's APT repository on every host (an offline site has no mirror of it).
Why not one per inventory host: the inventory also holds hosts that run no containers
(e.g. Proxmox nodes), which have no Podman to run it; a host joins when the catalog puts a
service there. Why the journal and not the container log files: with the journald driver
the journal has both the units and the containers, with the unit and container names as
fields, and survives a removed container.

The container runs as root (the image's default) to read the journal, mounted read-only
with the machine id (the journal reader opens the directory of this machine's id). Its
position in the journal is kept in a volume (not backed up), so a new container does not
send the same lines again. Every field the entry sets (e.g. ``image``, ``resources``)
goes to every agent; an agent of the expected name that the user declares with ``platform:
alloy`` and a ``host`` is left as declared (to change one host's agent). The agent has no
health check (the image has no HTTP client) and is not scraped: its UI listens on the
container's loopback only.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.errors import _error, _quote
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.names import is_dns_label

KIND = "alloy"
# The official image, pinned to a release.
IMAGE = "docker.io/grafana/alloy:v1.12.2"
# Where the monitoring role writes each host's configuration, and where the agent reads it.
HOST_DIR = "/etc/homelab/alloy"
CONFIG_DIR = "/etc/alloy"
CONFIG_FILE = CONFIG_DIR + "/config.alloy"
DATA_DIR = "/var/lib/alloy/data"
UI_PORT = 12345
# The journal (persistent and volatile) and the machine id that names its directory.
JOURNAL_MOUNTS = ("/var/log/journal", "/run/log/journal", "/etc/machine-id")

DEFAULTS = {
    KIND: {
        "image": IMAGE,
        "mounts": [{"source": HOST_DIR, "target": CONFIG_DIR, "readonly": True}]
        + [{"source": path, "target": path, "readonly": True} for path in JOURNAL_MOUNTS],
        "volumes": [{"name": "data", "mount": DATA_DIR, "backup": "never"}],
        # The image's entrypoint is the alloy binary; no usage reporting to Grafana Labs.
        "command": ["run", "--server.http.listen-addr=127.0.0.1:" + str(UI_PORT), "--storage.path=" + DATA_DIR,
                    "--disable-reporting", CONFIG_FILE],
    },
}
FACTS = {KIND: {"config_dir": CONFIG_DIR, "config_file": CONFIG_FILE}}


def _is_template(entry: object) -> bool:
    """Whether a raw entry is an agent template: platform alloy, a name and no host."""
    return (isinstance(entry, Mapping) and entry.get("platform") == KIND and entry.get("host") is None
            and isinstance(entry.get("name"), str))


def _service_hosts(services: list) -> list:
    """The hosts (sorted) that run an entry of the catalog other than a log agent template."""
    hosts = set()
    for entry in services:
        if isinstance(entry, Mapping) and entry.get("state") != "absent" and isinstance(entry.get("host"), str):
            hosts.add(entry["host"])
    return sorted(hosts)


def agent_name(name: str, host: str) -> str:
    """The agent of ``host`` made from the entry ``name``."""
    return f"{name}-{host}"


def expand(services: list) -> list:
    """The raw catalog with each ``platform: alloy`` entry without a host replaced by one
    agent per host that runs a service (after the user's entries, by host). An agent the
    user declared under the same name with ``platform: alloy`` is kept as declared; another
    entry of that name is refused. Entries too malformed to expand are left to the field
    checks."""
    templates = [entry for entry in services if _is_template(entry)]
    result = [entry for entry in services if not _is_template(entry)]
    declared = {entry.get("name"): entry for entry in result if isinstance(entry, Mapping)}
    hosts = _service_hosts(services)
    for entry in templates:
        name = entry["name"]
        for host in hosts:
            agent = agent_name(name, host)
            if not is_dns_label(agent):
                raise _error(name, "host", f"the agent of host {_quote(host)} would be named {_quote(agent)}, which is"
                             " not a DNS label; give that host an inventory name that is one")
            if agent in declared:
                if declared[agent].get("platform") != KIND:
                    raise _error(agent, "name", f"is the log agent platform {KIND} of service {name} makes for host"
                                 f" {host}; declare it with platform {KIND} to change it, or use another name")
                continue
            result.append(dict({key: value for key, value in entry.items() if key != "host"}, name=agent, host=host))
    return result


def check(services: list) -> None:
    """One present agent per host at most (each reads the whole journal of its host)."""
    seen: dict = {}
    for service in services:
        if service["platform"] != KIND or service["state"] != "present":
            continue
        if service["host"] in seen:
            raise _error(service["name"], "host", f"host {service['host']} already has log agent {seen[service['host']]}"
                         " (each reads the whole journal)")
        seen[service["host"]] = service["name"]

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The service role's internals: what it does on one host, from the catalog and the
host's actual state (start order, stale units and secrets, restarts, volume purges).
Not public API: the role is; these may change with it.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.module_utils.quadlet import (
    UNIT_MODE,
    QuadletError,
    text_digest,
    unit_filename,
    unit_text,
)
from ansible_collections.homelab.stack.plugins.module_utils.service_state import MANAGED_LABEL, image_id
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.errors import _is_list
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.names import secret_name, volume_name
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import (
    _catalog,
    _dependency_order,
    _host,
    _present,
    host_units,
    unit_owner,
)


def host_containers(catalog: object, host: object) -> list:
    """The present services of ``host`` in start order: ``{name, image, healthcheck}``.

    ``healthcheck`` is a bool: whether the service declares one. The order is the order
    of :func:`host_units`' containers, so dependencies start first.
    """
    host = _host(host, "host_containers")
    services = [service for service in _present(_catalog(catalog, "host_containers")) if service["host"] == host]
    return [{"name": service["name"], "image": service["image"], "healthcheck": service["healthcheck"] is not None}
            for service in _dependency_order(services)]


def stale_units(paths: object, units: object) -> list:
    """Managed unit files that :func:`host_units` no longer asks for, as quadlet removals.

    ``paths`` are the files found with the managed marker, ``units`` the host's wanted
    units. Containers come first, then volumes, then networks, so nothing still uses
    what is being removed. Each item is ``{name, type, state: absent}``.
    """
    if not _is_list(paths) or not _is_list(units):
        raise AnsibleFilterError("stale_units: expects a list of paths and a list of units")
    wanted = {f"{unit['name']}.{unit['type']}" for unit in units}
    order = {"container": 0, "volume": 1, "network": 2}
    stale = []
    for path in sorted(str(p) for p in paths):
        filename = path.rsplit("/", 1)[-1]
        name, dot, unit_type = filename.rpartition(".")
        if dot and unit_type in order and filename not in wanted:
            stale.append({"name": name, "type": unit_type, "state": "absent"})
    return sorted(stale, key=lambda item: (order[item["type"]], item["name"]))


def units_to_write(units: object, files: object) -> list:
    """File names of ``units`` that P(homelab.stack.quadlet#module) would write, in order.

    ``units`` are :func:`host_units`, ``files`` the ``units`` that
    P(homelab.stack.service_info#module) read on the host. A unit is written when its file
    is missing, when its text differs (the digest of the text rendered here, by the same
    code as the module, against the digest of the file) or when its permissions are not
    the module's. An empty list means the module would change nothing: the role does not
    call it. A unit that cannot be rendered counts as to write, so that the module refuses
    it with its own message.
    """
    if not _is_list(units) or not isinstance(files, Mapping):
        raise AnsibleFilterError("units_to_write: expects a list of units and the units result of"
                                 " homelab.stack.service_info")
    to_write = []
    for unit in units:
        if not isinstance(unit, Mapping):
            raise AnsibleFilterError("units_to_write: units: each item must be a unit of homelab.stack.host_units")
        try:
            filename = unit_filename(unit.get("name"), unit.get("type") or "container")
            digest = text_digest(unit_text(unit))
        except QuadletError:
            to_write.append(f"{unit.get('name')}.{unit.get('type') or 'container'}")
            continue
        found = files.get(filename)
        if not isinstance(found, Mapping) or found.get("digest") != digest or found.get("mode") != UNIT_MODE:
            to_write.append(filename)
    return to_write


def unit_files(catalog: object, host: object, address: object = None, addresses: object = None) -> dict:
    """The unit files of ``host`` (:func:`host_units`, with the host's mesh ``address`` and
    every host's ``addresses``) by the service that owns them.

    Key None holds the files no service owns (the network): every service uses them.
    """
    files: dict = {None: []}
    for unit in host_units(catalog, host, address, addresses):
        files.setdefault(unit_owner(unit), []).append(unit_filename(unit["name"], unit["type"]))
    return files


def restart_plan(catalog: object, host: object, unit_results: object, secret_services: object,
                 stale_images: object, address: object = None, addresses: object = None) -> list:
    """Names of the services of ``host`` that must restart, in start order.

    A service restarts when its container unit or one of its volume units was changed
    (``unit_results``: the quadlet module's per-unit results), when one of its secrets
    changed (``secret_services``: names of services whose secrets changed), or when its
    image tag now points at a newer image (``stale_images``: service names). A changed
    network unit restarts every service of the host. Nothing else restarts. ``address``
    is the host's mesh address, ``addresses`` every host's, as :func:`host_units` takes them.
    """
    changed_units = {f"{r['name']}.{r['type']}" for r in (unit_results or []) if r.get("changed")}
    restart = set(secret_services or []) | set(stale_images or [])
    services = host_containers(catalog, host)  # checks the catalog first
    files = unit_files(catalog, host, address, addresses)
    everything = bool(changed_units.intersection(files[None]))
    return [service["name"] for service in services
            if everything or service["name"] in restart or changed_units.intersection(files[service["name"]])]


def purge_volumes(catalog: object, host: object) -> list:
    """Podman volumes to delete on ``host``: those of absent services with ``purge_volumes``."""
    host = _host(host, "purge_volumes")
    return [volume_name(service["name"], volume["name"])
            for service in _catalog(catalog, "purge_volumes")
            if service["host"] == host and service["state"] == "absent" and service["purge_volumes"]
            for volume in service["volumes"]]


def stale_secrets(secrets: object, wanted: object) -> list:
    """Names of the Podman secrets the service role created that ``wanted`` no longer lists.

    ``secrets`` are the host's secrets as P(homelab.stack.service_info#module) reports them,
    ``wanted`` the items of :func:`host_secrets`. Only a secret whose ``homelab.managed``
    label is exactly ``true`` counts as the role's: any other value, or none, is the
    user's, and is never removed.
    """
    if not _is_list(secrets) or not _is_list(wanted):
        raise AnsibleFilterError("stale_secrets: expects the secrets of service_info and a list of wanted secrets")
    keep = {item["name"] for item in wanted}
    return sorted(secret["name"] for secret in secrets
                  if (secret.get("labels") or {}).get(MANAGED_LABEL) == "true" and secret["name"] not in keep)


def _restart_reasons(service: dict, state: dict, files: list) -> list:
    """Why the running container of ``service`` no longer matches what it was started from.

    ``state`` is P(homelab.stack.service_info#module)'s result, ``files`` the unit files
    the service uses (its own, then the network). Every time compared is from the
    host's own clock: one of those files written after the container was created, a
    secret created after it, an image tag that now names another image, or a unit
    systemd has not reloaded since it changed.
    """
    name = service["name"]
    facts = state["services"].get(name) or {}
    reasons = []
    if facts.get("need_daemon_reload"):
        reasons.append("systemd has not loaded its unit since the unit changed")
    container = facts.get("container")
    if not container or facts.get("active_state") != "active":
        return reasons
    created = container["created"]
    for filename in files:
        unit = state["units"].get(filename)
        if unit and unit["mtime"] > created:
            reasons.append(f"{filename} changed after the container started")
    by_name = {secret["name"]: secret for secret in state["secrets"]}
    for key in service["secrets"]:
        secret = by_name.get(secret_name(name, key))
        if secret and secret["created"] > created:
            reasons.append(f"secret {secret['name']} changed after the container started")
    current = image_id(state["images"], service["image"])
    if current and container["image_id"] and current != container["image_id"]:
        reasons.append(f"{service['image']} now names another image than the container runs")
    return reasons


def service_plan(catalog: object, host: object, state: object, changed_now: object = None,
                 address: object = None, addresses: object = None) -> list:
    """What the service role does with each present service of ``host``, in start order.

    ``state`` is P(homelab.stack.service_info#module)'s result for the host, read before
    this run wrote units or secrets; ``changed_now`` the names :func:`restart_plan` gives
    for what this run then changed, which the state cannot show. Decisions come from the
    actual state, so a run that was interrupted after writing a unit restarts the service
    the next time.

    Each item is ``{name, action, reasons, reload, loaded, healthcheck}``: ``action`` is
    ``start`` (not running), ``restart`` (running from something that changed since,
    ``reasons`` say what) or ``keep``; ``reload`` tells that systemd must reload before
    acting; ``loaded`` whether systemd knows the service yet (in check mode a service
    whose unit this run would write does not exist, so there is nothing to start).
    ``address`` is the host's mesh address, ``addresses`` every host's, as :func:`host_units`
    takes them.
    """
    host = _host(host, "service_plan")
    if not isinstance(state, Mapping) or not all(key in state for key in ("services", "units", "images", "secrets")):
        raise AnsibleFilterError("service_plan: state: must be the result of homelab.stack.service_info")
    services = _dependency_order([service for service in _present(_catalog(catalog, "service_plan"))
                                  if service["host"] == host])
    changed_now = set(changed_now or [])
    files = unit_files(catalog, host, address, addresses)
    plan = []
    for service in services:
        name = service["name"]
        facts = state["services"].get(name) or {}
        reasons = _restart_reasons(service, state, files[name] + files[None])
        if name in changed_now:
            reasons.insert(0, "changed in this run")
        if facts.get("active_state") != "active":
            action = "start"
        else:
            action = "restart" if reasons else "keep"
        plan.append({"name": name, "action": action, "reasons": reasons if action == "restart" else [],
                     "reload": bool(facts.get("need_daemon_reload")),
                     "loaded": facts.get("load_state", "not-found") != "not-found",
                     "healthcheck": service["healthcheck"] is not None})
    return plan


def host_tiers(catalog: object, hosts: object, tiers: object = 4) -> list:
    """``{host, tier}`` for each of ``hosts``, by tier then host: when the services layer
    converges it.

    A host's tier is one more than the highest tier of the hosts its present services
    depend on (0 when they depend on none elsewhere), so converging tier after tier
    starts every dependency on another host, and waits for its health, before the
    services that need it. Hosts that depend on each other, or a chain deeper than
    ``tiers``, cannot be ordered that way and fail with the services that cause it.
    """
    present = {service["name"]: service for service in _present(_catalog(catalog, "host_tiers"))}
    if not _is_list(hosts):
        raise AnsibleFilterError("host_tiers: hosts: must be a list of inventory host names")
    needs: dict = {}
    for service in present.values():
        for dep in service["depends_on"]:
            other = present[dep]["host"] if dep in present else service["host"]
            if other != service["host"]:
                needs.setdefault(service["host"], {}).setdefault(other, f"{service['name']} needs {dep}")
    tier: dict = {}

    def place(host, path):
        if host in path:
            loop = path[path.index(host):] + [host]
            reasons = "; ".join(needs[a][b] for a, b in zip(loop, loop[1:]))
            raise AnsibleFilterError(f"host_tiers: hosts {' -> '.join(loop)} depend on each other ({reasons}):"
                                     " the services layer converges one host after another, so cross-host"
                                     " depends_on must not loop between hosts")
        if host not in tier:
            tier[host] = 1 + max((place(other, path + [host]) for other in needs.get(host, {})), default=-1)
        return tier[host]

    for host in hosts:
        if place(host, []) >= int(tiers):
            raise AnsibleFilterError(f"host_tiers: host {host} would converge in tier {tier[host]}: chains of"
                                     f" cross-host depends_on deeper than {tiers} hosts are not supported")
    return sorted(({"host": host, "tier": tier[host]} for host in hosts), key=lambda item: (item["tier"], item["host"]))

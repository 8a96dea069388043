# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# The service catalog of homelab.stack: users declare every service once in
# `homelab_services`; this module validates and normalises that list and derives the
# per-host views the roles consume (Quadlet units, secrets, routes, scrape targets,
# backup sets). The filter plugins in plugins/filter/ are thin wrappers around it.
#
# Every validation error is an AnsibleFilterError whose message reads
# `service <name>: <field>: <problem>` (`service #<index>` while the entry has no valid
# name). Secret values never appear in a message.

import ipaddress
import math
import re
import shlex
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.module_utils.service_state import (
    MANAGED_KEY,
    MANAGED_LABEL,
    SERVICE_LABEL,
    image_reference,
)
from ansible_collections.homelab.stack.plugins.module_utils.quadlet import (
    QuadletError,
    describe_character,
    exec_words,
    literal,
    service_name,
    unit_filename,
    unsafe_character,
)

FIELDS = (
    "name", "host", "image", "state", "port", "route", "env", "secrets", "volumes", "depends_on",
    "metrics", "healthcheck", "publish", "labels", "command", "auto_update", "resources",
    "purge_volumes",
)
STATES = ("present", "absent")
AUTH_MODES = ("sso", "none")
BACKUP_SCHEDULES = ("none", "daily", "weekly", "monthly")

ROUTE_FIELDS = ("auth", "subdomain")
VOLUME_FIELDS = ("name", "mount", "backup")
METRICS_FIELDS = ("port", "path")
HEALTHCHECK_FIELDS = ("cmd", "interval", "retries", "start_period")
RESOURCES_FIELDS = ("memory", "cpus")

HEALTHCHECK_DEFAULTS = {"interval": "30s", "retries": 3, "start_period": "10s"}
METRICS_DEFAULT_PATH = "/metrics"

NETWORK_NAME = "homelab"

_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VOLUME_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
_LABEL_KEY = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?")
_MEMORY = re.compile(r"([0-9]+)[kmg]?")
_DURATION = re.compile(r"([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+")
_DIGITS = re.compile(r"[0-9]+")
_PUBLISH = re.compile(
    r"(?:(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<ipv4>[0-9.]+)):)?"
    r"(?P<host_port>[0-9]+):(?P<container_port>[0-9]+)(?:/(?P<protocol>tcp|udp))?"
)


# --- helpers -------------------------------------------------------------------------


def _error(service: str, field: str, problem: str) -> AnsibleFilterError:
    """Build the error for one field of one service (``service #3`` or ``service web``)."""
    return AnsibleFilterError(f"service {service}: {field}: {problem}")


def _kind(value: object) -> str:
    """Name the YAML-level type of a value for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


def _quote(value: object) -> str:
    """Quote a user value for an error message: ``'mars'``."""
    return repr(str(value))


def _is_list(value: object) -> bool:
    return isinstance(value, (list, tuple))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _unit_text(service: str, field: str, text: str, line_break: tuple[str, str]) -> str:
    """Refuse a value that could end a line or a string in a unit (quadlet.unsafe_character).

    A line break keeps wave one's wording, ``line_break`` = (field, problem); every other
    unsafe character is named with the exact field it was found in.
    """
    char = unsafe_character(text)
    if char is None:
        return text
    if char in "\n\r":
        raise _error(service, *line_break)
    raise _error(service, field, f"contains {describe_character(char)}, which cannot be written into a unit")


def _quadlet(service: str, rule, *args):
    """Apply a rule of module_utils/quadlet.py, its ``field: problem`` error as a catalog error."""
    try:
        return rule(*args)
    except QuadletError as exc:
        field, _sep, problem = str(exc).partition(": ")
        raise _error(service, field, problem) from None


def _reject_unknown(service: str, prefix: str, value: Mapping, known: tuple[str, ...]) -> None:
    for key in value:
        if key not in known:
            field = f"{prefix}.{key}" if prefix else str(key)
            raise _error(service, field, "is not a known field")


def _string(service: str, field: str, value: object) -> str:
    if not isinstance(value, str):
        raise _error(service, field, f"must be a string, got {_kind(value)}")
    return value


def _required_string(service: str, field: str, value: object) -> str:
    if value is None:
        raise _error(service, field, "is required")
    return _string(service, field, value)


def _choice(service: str, field: str, value: object, choices: tuple[str, ...], default: str) -> str:
    if value is None:
        return default
    text = _string(service, field, value)
    if text not in choices:
        raise _error(service, field, f"{_quote(text)} is not one of {', '.join(choices)}")
    return text


def _boolean(service: str, field: str, value: object) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _error(service, field, f"must be a boolean, got {_kind(value)}")
    return value


def _port(service: str, field: str, value: object) -> int | None:
    """A port number 1..65535; a string of digits is accepted and becomes an int."""
    if value is None:
        return None
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    elif isinstance(value, str):
        raise _error(service, field, f"{_quote(value)} is not a port number (1-65535)")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _error(service, field, f"must be an integer, got {_kind(value)}")
    if not 1 <= value <= 65535:
        raise _error(service, field, f"{value} is not a port number (1-65535)")
    return int(value)


def _mapping(service: str, field: str, value: object) -> Mapping:
    if not isinstance(value, Mapping):
        raise _error(service, field, f"must be a mapping, got {_kind(value)}")
    return value


def _list(service: str, field: str, value: object) -> list | tuple:
    if not _is_list(value):
        raise _error(service, field, f"must be a list, got {_kind(value)}")
    return value


def _scalar_text(value: object) -> str | None:
    """Render a str/int/float/bool as text (bools as ``true``/``false``); None otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _variable_name(service: str, field: str, key: object) -> str:
    if not isinstance(key, str):
        raise _error(service, field, f"key {_quote(key)} must be a string, got {_kind(key)}")
    if not _VARIABLE.fullmatch(key):
        raise _error(service, field, f"{_quote(key)} is not a valid variable name")
    return key


def is_dns_label(value: object) -> bool:
    """Tell whether ``value`` is a lower-case DNS label (1-63 of a-z, 0-9 and inner ``-``)."""
    return isinstance(value, str) and _DNS_LABEL.fullmatch(value) is not None


def is_dns_name(value: object) -> bool:
    """Tell whether ``value`` is a lower-case DNS name: dot-separated labels, at most 253 characters."""
    return (isinstance(value, str) and 0 < len(value) <= 253
            and all(is_dns_label(label) for label in value.split(".")))


def volume_name(service: str, volume: str) -> str:
    """The Podman volume (and Quadlet ``.volume`` unit) name of a service volume: ``<svc>-<vol>``."""
    return f"{service}-{volume}"


def secret_name(service: str, key: str) -> str:
    """The Podman secret name of a service secret: ``<svc>-<key lower-cased, _ as ->``."""
    return f"{service}-{key.lower().replace('_', '-')}"


def network_service_name() -> str:
    """The systemd unit Quadlet generates for the homelab network."""
    return service_name(NETWORK_NAME, "network")


# --- normalisation of one service ----------------------------------------------------


def _service_name(index: int, entry: object) -> str:
    label = f"#{index}"
    if not isinstance(entry, Mapping):
        raise _error(label, "entry", f"must be a mapping, got {_kind(entry)}")
    name = _required_string(label, "name", entry.get("name"))
    if not is_dns_label(name):
        raise _error(label, "name", f"{_quote(name)} is not a valid DNS label")
    return name


def _image(service: str, value: object) -> str:
    image = _required_string(service, "image", value)
    if not image:
        raise _error(service, "image", "must not be empty")
    if any(char.isspace() for char in image):
        raise _error(service, "image", f"{_quote(image)} must not contain whitespace")
    return _unit_text(service, "image", image, ("image", "must not contain a line break"))


def _route(service: str, value: object, port: int | None) -> dict | None:
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    if not isinstance(value, Mapping):
        raise _error(service, "route", f"must be a mapping or true, got {_kind(value)}")
    _reject_unknown(service, "route", value, ROUTE_FIELDS)
    auth = _choice(service, "route.auth", value.get("auth"), AUTH_MODES, "sso")
    subdomain = value.get("subdomain")
    if subdomain is None:
        subdomain = service
    elif not is_dns_label(_string(service, "route.subdomain", subdomain)):
        raise _error(service, "route.subdomain", f"{_quote(subdomain)} is not a valid DNS label")
    if port is None:
        raise _error(service, "route", "needs a port")
    return {"auth": auth, "subdomain": subdomain}


def _env(service: str, value: object) -> dict:
    if value is None:
        return {}
    result = {}
    for key, item in _mapping(service, "env", value).items():
        key = _variable_name(service, "env", key)
        text = _scalar_text(item)
        if text is None:
            raise _error(service, "env", f"{key} must be a string, number or boolean, got {_kind(item)}")
        result[key] = _unit_text(service, f"env.{key}", text, ("env", f"{key} must not contain a line break"))
    return result


def _secrets(service: str, value: object, env: dict) -> dict:
    if value is None:
        return {}
    result = {}
    for key, item in _mapping(service, "secrets", value).items():
        key = _variable_name(service, "secrets", key)
        if key in env:
            raise _error(service, "secrets", f"{key} is also set in env")
        if item is None or item == "":
            raise _error(service, "secrets", f"{key} has no value")
        if not isinstance(item, str) and not _is_number(item):
            raise _error(service, "secrets", f"{key} must be a string or number, got {_kind(item)}")
        result[key] = str(item)
    return result


def _volumes(service: str, value: object) -> list:
    if value is None:
        return []
    result = []
    names: dict[str, int] = {}
    mounts: dict[str, int] = {}
    for index, item in enumerate(_list(service, "volumes", value)):
        field = f"volumes[{index}]"
        _mapping(service, field, item)
        _reject_unknown(service, field, item, VOLUME_FIELDS)
        name = _required_string(service, f"{field}.name", item.get("name"))
        if not _VOLUME_NAME.fullmatch(name):
            raise _error(service, f"{field}.name", f"{_quote(name)} is not a safe volume name")
        if name in names:
            raise _error(service, f"{field}.name", f"duplicate of volumes[{names[name]}]")
        mount = _required_string(service, f"{field}.mount", item.get("mount"))
        if not mount.startswith("/"):
            raise _error(service, f"{field}.mount", f"{_quote(mount)} is not an absolute path")
        if any(char in ":," or char.isspace() for char in mount):
            raise _error(service, f"{field}.mount", f"{_quote(mount)} must not contain ':', ',' or whitespace")
        _unit_text(service, f"{field}.mount", mount, (f"{field}.mount", "must not contain a line break"))
        if mount in mounts:
            raise _error(service, f"{field}.mount", f"{_quote(mount)} is already mounted by volumes[{mounts[mount]}]")
        backup = _choice(service, f"{field}.backup", item.get("backup"), BACKUP_SCHEDULES, "none")
        names[name] = index
        mounts[mount] = index
        result.append({"name": name, "mount": mount, "backup": backup})
    return result


def _depends_on(service: str, value: object) -> list:
    """The list shape only; what the names point to is checked across the catalog."""
    if value is None:
        return []
    result: list[str] = []
    for item in _list(service, "depends_on", value):
        name = _string(service, "depends_on", item)
        if name in result:
            raise _error(service, "depends_on", f"{_quote(name)} is listed twice")
        result.append(name)
    return result


def _metrics(service: str, value: object, port: int | None) -> dict | None:
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    if not isinstance(value, Mapping):
        raise _error(service, "metrics", f"must be a mapping or true, got {_kind(value)}")
    _reject_unknown(service, "metrics", value, METRICS_FIELDS)
    metrics_port = _port(service, "metrics.port", value.get("port"))
    if metrics_port is None:
        metrics_port = port
    path = value.get("path")
    if path is None:
        path = METRICS_DEFAULT_PATH
    elif not _string(service, "metrics.path", path).startswith("/"):
        raise _error(service, "metrics.path", f"{_quote(path)} must start with /")
    elif any(char.isspace() for char in path):
        raise _error(service, "metrics.path", f"{_quote(path)} must not contain whitespace")
    else:
        _unit_text(service, "metrics.path", path, ("metrics.path", "must not contain a line break"))
    if metrics_port is None:
        raise _error(service, "metrics", "needs a port")
    return {"port": metrics_port, "path": path}


def _duration(service: str, field: str, value: object, default: str) -> str:
    if value is None:
        return default
    text = _string(service, field, value)
    if not _DURATION.fullmatch(text):
        raise _error(service, field, f"{_quote(text)} is not a duration such as 30s or 1m30s")
    return text


def _healthcheck(service: str, value: object) -> dict | None:
    if value is None:
        return None
    _mapping(service, "healthcheck", value)
    _reject_unknown(service, "healthcheck", value, HEALTHCHECK_FIELDS)
    cmd = _required_string(service, "healthcheck.cmd", value.get("cmd"))
    if not cmd.strip():
        raise _error(service, "healthcheck.cmd", "must not be empty")
    _unit_text(service, "healthcheck.cmd", cmd, ("healthcheck.cmd", "must not contain a line break"))
    _quadlet(service, literal, cmd, "healthcheck.cmd")
    retries = value.get("retries")
    if retries is None:
        retries = HEALTHCHECK_DEFAULTS["retries"]
    elif isinstance(retries, bool) or not isinstance(retries, int):
        raise _error(service, "healthcheck.retries", f"must be an integer, got {_kind(retries)}")
    elif retries < 1:
        raise _error(service, "healthcheck.retries", f"{retries} is not a positive integer")
    return {
        "cmd": cmd,
        "interval": _duration(service, "healthcheck.interval", value.get("interval"),
                              HEALTHCHECK_DEFAULTS["interval"]),
        "retries": int(retries),
        "start_period": _duration(service, "healthcheck.start_period", value.get("start_period"),
                                  HEALTHCHECK_DEFAULTS["start_period"]),
    }


def _publish(service: str, value: object) -> list:
    if value is None:
        return []
    result = []
    for index, item in enumerate(_list(service, "publish", value)):
        field = f"publish[{index}]"
        text = _string(service, field, item)
        match = _PUBLISH.fullmatch(text)
        if not match:
            raise _error(service, field, f"{_quote(text)} is not [ip:]hostPort:containerPort[/tcp|udp]")
        try:
            if match["ipv4"] is not None:
                ipaddress.IPv4Address(match["ipv4"])
            if match["ipv6"] is not None:
                ipaddress.IPv6Address(match["ipv6"])
        except ValueError:
            address = match["ipv4"] if match["ipv4"] is not None else match["ipv6"]
            raise _error(service, field, f"{_quote(address)} is not an IP address") from None
        for port in (match["host_port"], match["container_port"]):
            if not 1 <= int(port) <= 65535:
                raise _error(service, field, f"{port} is not a port number (1-65535)")
        result.append(text)
    return result


def _labels(service: str, value: object) -> dict:
    if value is None:
        return {}
    result = {}
    for key, item in _mapping(service, "labels", value).items():
        if not isinstance(key, str) or not _LABEL_KEY.fullmatch(key):
            raise _error(service, "labels", f"{_quote(key)} is not a valid label key")
        if key == SERVICE_LABEL:
            raise _error(service, "labels", f"{_quote(key)} is reserved")
        text = _scalar_text(item)
        if text is None:
            raise _error(service, "labels", f"{key} must be a string, got {_kind(item)}")
        result[key] = _unit_text(service, f"labels.{key}", text, ("labels", f"{key} must not contain a line break"))
    return result


def _command(service: str, value: object) -> list | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            words = shlex.split(value)
        except ValueError as exc:
            raise _error(service, "command", f"cannot be split: {exc}") from None
    else:
        words = []
        for index, item in enumerate(_list(service, "command", value)):
            if not isinstance(item, str) and not _is_number(item):
                raise _error(service, f"command[{index}]", f"must be a string, got {_kind(item)}")
            words.append(str(item))
    if not words:
        raise _error(service, "command", "must not be empty")
    for index, word in enumerate(words):
        _unit_text(service, f"command[{index}]", word, ("command", "must not contain a line break"))
    _quadlet(service, exec_words, words, "command")
    return words


def _resources(service: str, value: object) -> dict:
    if value is None:
        return {}
    _mapping(service, "resources", value)
    _reject_unknown(service, "resources", value, RESOURCES_FIELDS)
    result: dict = {}
    memory = value.get("memory")
    if memory is not None:
        if isinstance(memory, int) and not isinstance(memory, bool):
            memory = str(memory)
        text = _string(service, "resources.memory", memory)
        match = _MEMORY.fullmatch(text)
        if not match or int(match[1]) == 0:
            raise _error(service, "resources.memory", f"{_quote(text)} is not a size such as 512m or 2g")
        result["memory"] = text
    cpus = value.get("cpus")
    if cpus is not None:
        if not _is_number(cpus):
            raise _error(service, "resources.cpus", f"must be a number, got {_kind(cpus)}")
        if not (math.isfinite(cpus) and cpus > 0):
            raise _error(service, "resources.cpus", f"{cpus} is not a positive number")
        result["cpus"] = cpus
    return result


def normalise_service(index: int, entry: object, hosts: frozenset) -> dict:
    """Validate one catalog entry and return it normalised, every field present.

    ``index`` is the entry's position in the catalog (used in errors while the entry
    has no valid name), ``hosts`` the inventory host names. Checks that need the whole
    catalog (unique names, dependencies, generated names) are done by
    :func:`normalise_catalog`. Raises AnsibleFilterError.
    """
    name = _service_name(index, entry)
    _reject_unknown(name, "", entry, FIELDS)
    host = _required_string(name, "host", entry.get("host"))
    if host not in hosts:
        raise _error(name, "host", f"{_quote(host)} is not in the inventory")
    image = _image(name, entry.get("image"))
    state = _choice(name, "state", entry.get("state"), STATES, "present")
    port = _port(name, "port", entry.get("port"))
    route = _route(name, entry.get("route"), port)
    env = _env(name, entry.get("env"))
    secrets = _secrets(name, entry.get("secrets"), env)
    volumes = _volumes(name, entry.get("volumes"))
    depends_on = _depends_on(name, entry.get("depends_on"))
    metrics = _metrics(name, entry.get("metrics"), port)
    healthcheck = _healthcheck(name, entry.get("healthcheck"))
    publish = _publish(name, entry.get("publish"))
    labels = _labels(name, entry.get("labels"))
    command = _command(name, entry.get("command"))
    auto_update = _boolean(name, "auto_update", entry.get("auto_update"))
    resources = _resources(name, entry.get("resources"))
    purge_volumes = _boolean(name, "purge_volumes", entry.get("purge_volumes"))
    if purge_volumes and state != "absent":
        raise _error(name, "purge_volumes", "only applies to state absent")
    return {
        "name": name,
        "host": host,
        "image": image,
        "state": state,
        "port": port,
        "route": route,
        "env": env,
        "secrets": secrets,
        "volumes": volumes,
        "depends_on": depends_on,
        "metrics": metrics,
        "healthcheck": healthcheck,
        "publish": publish,
        "labels": labels,
        "command": command,
        "auto_update": auto_update,
        "resources": resources,
        "purge_volumes": purge_volumes,
    }


# --- checks across the catalog -------------------------------------------------------


def _find_cycle(name: str, by_name: dict, visiting: list, done: set) -> list | None:
    """Depth-first search from ``name``; return the first cycle met as a path, or None."""
    visiting.append(name)
    for dep in by_name[name]["depends_on"]:
        if dep in visiting:
            return visiting[visiting.index(dep):] + [dep]
        if dep not in done:
            cycle = _find_cycle(dep, by_name, visiting, done)
            if cycle:
                return cycle
    visiting.pop()
    done.add(name)
    return None


def _check_dependencies(services: list) -> None:
    by_name = {service["name"]: service for service in services}
    for service in services:
        name = service["name"]
        for dep in service["depends_on"]:
            if dep == name:
                raise _error(name, "depends_on", "a service cannot depend on itself")
            if dep not in by_name:
                raise _error(name, "depends_on", f"{_quote(dep)} is not a service in the catalog")
            if service["state"] == "present" and by_name[dep]["state"] == "absent":
                raise _error(name, "depends_on", f"{_quote(dep)} has state absent")
    done: set = set()
    for service in services:
        if service["name"] not in done:
            cycle = _find_cycle(service["name"], by_name, [], done)
            if cycle:
                raise _error(cycle[0], "depends_on", "cycle " + " -> ".join(cycle))


def _claim(taken: dict, key: str, owner: str) -> str | None:
    """Record ``owner`` for ``key`` unless taken; return the earlier owner if there is one."""
    previous = taken.get(key)
    if previous is None:
        taken[key] = owner
    return previous


def _check_generated_names(services: list) -> None:
    """Names derived from several services must not collide on a host (or, for routes, at all)."""
    units: dict[str, dict] = {}
    volumes: dict[str, dict] = {}
    secrets: dict[str, dict] = {}
    subdomains: dict[str, str] = {}
    for service in services:
        name = service["name"]
        host_units = units.setdefault(service["host"], {network_service_name(): f"the {NETWORK_NAME} network"})
        host_volumes = volumes.setdefault(service["host"], {})
        host_secrets = secrets.setdefault(service["host"], {})
        unit = service_name(name, "container")
        previous = _claim(host_units, unit, f"service {name}")
        if previous:
            raise _error(name, "name", f"systemd unit {_quote(unit)} is already used by {previous}")
        for index, volume in enumerate(service["volumes"]):
            field = f"volumes[{index}].name"
            owner = f"volume {volume['name']} of service {name}"
            full_name = volume_name(name, volume["name"])
            previous = _claim(host_volumes, full_name, owner)
            if previous:
                raise _error(name, field, f"podman volume {_quote(full_name)} is already used by {previous}")
            try:
                unit_filename(full_name, "volume")
            except QuadletError as exc:
                raise _error(name, field, f"{_quote(volume['name'])} cannot name a Quadlet volume unit"
                             f" ({str(exc).partition(': ')[2]})") from None
            unit = service_name(full_name, "volume")
            previous = _claim(host_units, unit, owner)
            if previous:
                raise _error(name, field, f"systemd unit {_quote(unit)} is already used by {previous}")
        for key in service["secrets"]:
            full_name = secret_name(name, key)
            previous = _claim(host_secrets, full_name, f"secret {key} of service {name}")
            if previous:
                raise _error(name, "secrets",
                             f"{key} becomes podman secret {_quote(full_name)}, already used by {previous}")
        if service["state"] == "present" and service["route"] is not None:
            subdomain = service["route"]["subdomain"]
            previous = _claim(subdomains, subdomain, f"service {name}")
            if previous:
                raise _error(name, "route.subdomain", f"{_quote(subdomain)} is already used by {previous}")


def _binding(text: str) -> tuple[str | None, int, str]:
    """(address or None for every address, host port, protocol) of a valid publish entry."""
    match = _PUBLISH.fullmatch(text)
    return (match["ipv4"] or match["ipv6"], int(match["host_port"]), match["protocol"] or "tcp")


def _same_socket(address: str | None, other: str | None) -> bool:
    """Whether binding both addresses to one port and protocol would collide.

    No address means every address; 0.0.0.0 and :: mean every address of their family.
    """
    if address is None or other is None or address == other:
        return True
    family = ipaddress.ip_address(address).version
    if family != ipaddress.ip_address(other).version:
        return False
    return any(ipaddress.ip_address(a).is_unspecified for a in (address, other))


def _check_published_ports(services: list) -> None:
    """Two present services of one host cannot publish one port; nor one service twice.

    Between services, overlapping addresses collide (:func:`_same_socket`); within one
    service only an exact repeat is refused, the forms a service may combine being Podman's
    to judge.
    """
    taken: dict[str, list] = {}
    for service in _present(services):
        host_bindings = taken.setdefault(service["host"], [])
        for index, text in enumerate(service["publish"]):
            address, port, protocol = _binding(text)
            for other_address, other_port, other_protocol, owner, other_service in host_bindings:
                same = address == other_address if other_service == service["name"] \
                    else _same_socket(address, other_address)
                if (port, protocol) == (other_port, other_protocol) and same:
                    raise _error(service["name"], f"publish[{index}]",
                                 f"{_quote(text)} binds port {port}/{protocol} that {owner} already publishes"
                                 f" on host {service['host']}")
            host_bindings.append((address, port, protocol, f"publish[{index}] of service {service['name']}",
                                  service["name"]))


def _host_names(hosts: object) -> frozenset:
    if not isinstance(hosts, (list, tuple, set, frozenset)):
        raise AnsibleFilterError(f"validate_catalog: hosts: must be a list of inventory host names, got {_kind(hosts)}")
    for host in hosts:
        if not isinstance(host, str):
            raise AnsibleFilterError(f"validate_catalog: hosts: must list host names, got {_kind(host)}")
    return frozenset(hosts)


def normalise_catalog(services: object, hosts: object) -> list:
    """Validate the whole service catalog and return it normalised.

    ``services`` is the user's ``homelab_services`` list (None counts as empty),
    ``hosts`` the inventory host names (``groups['all']``). The result is a new list in
    input order of new dicts with every field of :data:`FIELDS` present and defaults
    filled; the input is not modified. Normalising a normalised catalog returns an equal
    catalog. Raises AnsibleFilterError with ``service <name>: <field>: <problem>``.
    """
    host_names = _host_names(hosts)
    if services is None:
        services = []
    if not _is_list(services):
        raise AnsibleFilterError(f"validate_catalog: services: must be a list of services, got {_kind(services)}")
    result = []
    first: dict[str, int] = {}
    for index, entry in enumerate(services):
        name = _service_name(index, entry)
        if name in first:
            raise _error(name, "name", f"duplicate of service #{first[name]}")
        first[name] = index
        result.append(normalise_service(index, entry, host_names))
    _check_dependencies(result)
    _check_generated_names(result)
    _check_published_ports(result)
    return result


# --- views ---------------------------------------------------------------------------


def _catalog(catalog: object, filter_name: str) -> list:
    """Check that ``catalog`` looks like the output of :func:`normalise_catalog`."""
    if not _is_list(catalog):
        raise AnsibleFilterError(f"{filter_name}: catalog: must be a list of services, got {_kind(catalog)}")
    for index, service in enumerate(catalog):
        if not isinstance(service, Mapping) or any(field not in service for field in FIELDS):
            raise AnsibleFilterError(
                f"{filter_name}: catalog: item #{index} is not a normalised service;"
                " pass the catalog through homelab.stack.validate_catalog first")
    return list(catalog)


def _host(host: object, filter_name: str) -> str:
    if not isinstance(host, str):
        raise AnsibleFilterError(f"{filter_name}: host: must be a string, got {_kind(host)}")
    return host


def _present(catalog: list) -> list:
    return [service for service in catalog if service["state"] == "present"]


def _dependency_order(services: list) -> list:
    """Order services so that each comes after those of ``services`` it depends on.

    Dependencies on services outside the list are ignored. Among the services whose
    dependencies are placed, the one earliest in the input always comes next (a stable
    topological sort), so an input that is already in order is returned unchanged.
    """
    names = {service["name"] for service in services}
    remaining = list(services)
    placed: set = set()
    ordered = []
    while remaining:
        index = next((i for i, service in enumerate(remaining)
                      if all(dep in placed for dep in service["depends_on"] if dep in names)), None)
        if index is None:
            raise AnsibleFilterError(
                "host_units: catalog: services " + ", ".join(service["name"] for service in remaining)
                + " depend on each other; pass the catalog through homelab.stack.validate_catalog first")
        service = remaining.pop(index)
        placed.add(service["name"])
        ordered.append(service)
    return ordered


def _network_unit() -> dict:
    return {
        "name": NETWORK_NAME,
        "type": "network",
        "unit": {"Description": "homelab.stack service network", MANAGED_KEY: "true"},
        "spec": {"NetworkName": NETWORK_NAME},
        "service": {},
        "install": {},
    }


def _volume_unit(service: dict, volume: dict) -> dict:
    name = volume_name(service["name"], volume["name"])
    return {
        "name": name,
        "type": "volume",
        "unit": {"Description": f"Volume {volume['name']} of {service['name']}", MANAGED_KEY: "true"},
        "spec": {"VolumeName": name, "Label": {SERVICE_LABEL: service["name"]}},
        "service": {},
        "install": {},
    }


def _container_unit(service: dict, local_names: set) -> dict:
    name = service["name"]
    unit: dict = {"Description": f"homelab service {name}", MANAGED_KEY: "true"}
    after = [f"{dep}.service" for dep in service["depends_on"] if dep in local_names]
    if after:
        unit["After"] = after
        unit["Requires"] = list(after)
    spec: dict = {
        "ContainerName": name,
        "Image": service["image"],
        "Network": f"{NETWORK_NAME}.network",
        "Label": {SERVICE_LABEL: name, **service["labels"]},
    }
    if service["env"]:
        spec["Environment"] = dict(service["env"])
    if service["secrets"]:
        spec["Secret"] = [f"{secret_name(name, key)},type=env,target={key}" for key in service["secrets"]]
    if service["volumes"]:
        spec["Volume"] = [f"{volume_name(name, volume['name'])}.volume:{volume['mount']}"
                          for volume in service["volumes"]]
    if service["publish"]:
        spec["PublishPort"] = list(service["publish"])
    if service["command"] is not None:
        spec["Exec"] = exec_words(service["command"], "command")
    if service["auto_update"]:
        spec["AutoUpdate"] = "registry"
    healthcheck = service["healthcheck"]
    if healthcheck is not None:
        spec["HealthCmd"] = literal(healthcheck["cmd"], "healthcheck.cmd")
        spec["HealthInterval"] = healthcheck["interval"]
        spec["HealthRetries"] = healthcheck["retries"]
        spec["HealthStartPeriod"] = healthcheck["start_period"]
    resources = service["resources"]
    podman_args = []
    if resources.get("memory") is not None:
        podman_args.append(f"--memory={resources['memory']}")
    if resources.get("cpus") is not None:
        podman_args.append(f"--cpus={resources['cpus']}")
    if podman_args:
        spec["PodmanArgs"] = podman_args
    return {
        "name": name,
        "type": "container",
        "unit": unit,
        "spec": spec,
        "service": {"Restart": "always", "TimeoutStartSec": 900},
        "install": {"WantedBy": "multi-user.target"},
    }


def host_units(catalog: object, host: object) -> list:
    """The Quadlet units for the present services of ``host``, in apply order.

    First the network, then every volume (catalog order), then the containers, each
    after the same-host services it depends on and otherwise in catalog order. Same-host
    dependencies become ``After``/``Requires``; dependencies on other hosts only order the
    play and are left out. Returns [] when the host has no present service. ``catalog``
    is a normalised catalog.
    """
    host = _host(host, "host_units")
    services = [service for service in _present(_catalog(catalog, "host_units")) if service["host"] == host]
    if not services:
        return []
    local_names = {service["name"] for service in services}
    units = [_network_unit()]
    units.extend(_volume_unit(service, volume) for service in services for volume in service["volumes"])
    units.extend(_container_unit(service, local_names) for service in _dependency_order(services))
    return units


def host_secrets(catalog: object, host: object) -> list:
    """The Podman secrets of the present services of ``host``, sorted by secret name.

    Each item is ``{name, value, service, target}``; ``name`` is :func:`secret_name`, the
    name the container units of :func:`host_units` refer to, ``target`` the variable.
    """
    host = _host(host, "host_secrets")
    result = [
        {"name": secret_name(service["name"], key), "value": value, "service": service["name"], "target": key}
        for service in _present(_catalog(catalog, "host_secrets")) if service["host"] == host
        for key, value in service["secrets"].items()
    ]
    return sorted(result, key=lambda item: item["name"])


def routes(catalog: object, domain: object) -> list:
    """The edge routes: one ``{name, host, fqdn, port, auth, url}`` per present routed service, by name."""
    if not isinstance(domain, str):
        raise AnsibleFilterError(f"routes: domain: must be a string, got {_kind(domain)}")
    if not is_dns_name(domain):
        raise AnsibleFilterError(f"routes: domain: {_quote(domain)} is not a valid DNS name")
    result = [
        {
            "name": service["name"],
            "host": service["host"],
            "fqdn": f"{service['route']['subdomain']}.{domain}",
            "port": service["port"],
            "auth": service["route"]["auth"],
            "url": f"http://{service['name']}:{service['port']}",
        }
        for service in _present(_catalog(catalog, "routes")) if service["route"] is not None
    ]
    return sorted(result, key=lambda item: item["name"])


def scrape_targets(catalog: object) -> list:
    """The metrics endpoints: one ``{job, host, port, path}`` per present service with metrics, by job."""
    result = [
        {"job": service["name"], "host": service["host"], "port": service["metrics"]["port"],
         "path": service["metrics"]["path"]}
        for service in _present(_catalog(catalog, "scrape_targets")) if service["metrics"] is not None
    ]
    return sorted(result, key=lambda item: item["job"])


def backup_sets(catalog: object) -> list:
    """The volumes to back up: ``{service, host, volume, mount, schedule}`` sorted by host, service, volume.

    Only volumes of present services whose ``backup`` is not ``none``; ``volume`` is the
    Podman volume name (:func:`volume_name`).
    """
    result = [
        {"service": service["name"], "host": service["host"], "volume": volume_name(service["name"], volume["name"]),
         "mount": volume["mount"], "schedule": volume["backup"]}
        for service in _present(_catalog(catalog, "backup_sets"))
        for volume in service["volumes"] if volume["backup"] != "none"
    ]
    return sorted(result, key=lambda item: (item["host"], item["service"], item["volume"]))


# --- what the service role does on one host ------------------------------------------


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


def restart_plan(catalog: object, host: object, unit_results: object, secret_services: object,
                 stale_images: object) -> list:
    """Names of the services of ``host`` that must restart, in start order.

    A service restarts when its container unit or one of its volume units was changed
    (``unit_results``: the quadlet module's per-unit results), when one of its secrets
    changed (``secret_services``: names of services whose secrets changed), or when its
    image tag now points at a newer image (``stale_images``: service names). A changed
    network unit restarts every service of the host. Nothing else restarts.
    """
    changed_units = {f"{r['name']}.{r['type']}" for r in (unit_results or []) if r.get("changed")}
    restart = set(secret_services or []) | set(stale_images or [])
    everything = f"{NETWORK_NAME}.network" in changed_units
    services = host_containers(catalog, host)  # checks the catalog first
    by_name = {entry["name"]: entry for entry in catalog}
    names = []
    for service in services:
        own_units = {f"{service['name']}.container"} | {
            f"{volume_name(service['name'], volume['name'])}.volume" for volume in by_name[service["name"]]["volumes"]}
        if everything or service["name"] in restart or own_units & changed_units:
            names.append(service["name"])
    return names


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


def _restart_reasons(service: dict, state: dict, network_changed_at: float) -> list:
    """Why the running container of ``service`` no longer matches what it was started from.

    ``state`` is P(homelab.stack.service_info#module)'s result. Every time compared is
    from the host's own clock: a unit file, volume unit or network unit written after the
    container was created, a secret created after it, an image tag that now names another
    image, or a unit systemd has not reloaded since it changed.
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
    files = [f"{name}.container"] + [f"{volume_name(name, volume['name'])}.volume" for volume in service["volumes"]]
    for filename in files:
        unit = state["units"].get(filename)
        if unit and unit["mtime"] > created:
            reasons.append(f"{filename} changed after the container started")
    if network_changed_at > created:
        reasons.append(f"{NETWORK_NAME}.network changed after the container started")
    by_name = {secret["name"]: secret for secret in state["secrets"]}
    for key in service["secrets"]:
        secret = by_name.get(secret_name(name, key))
        if secret and secret["created"] > created:
            reasons.append(f"secret {secret['name']} changed after the container started")
    reference = image_reference(service["image"])
    current = state["images"].get(reference) if reference else None
    if current and container["image_id"] and current != container["image_id"]:
        reasons.append(f"{reference} now names another image than the container runs")
    return reasons


def service_plan(catalog: object, host: object, state: object, changed_now: object = None) -> list:
    """What the service role does with each present service of ``host``, in start order.

    ``state`` is P(homelab.stack.service_info#module)'s result for the host, read after the
    units and secrets were written; ``changed_now`` the names :func:`restart_plan` gives for
    what this run changed, which only matters in check mode, where nothing was written
    and the state cannot show it. Decisions come from the actual state, so a run that
    was interrupted after writing a unit restarts the service the next time.

    Each item is ``{name, action, reasons, reload, healthcheck}``: ``action`` is ``start``
    (not running), ``restart`` (running from something that changed since, ``reasons``
    say what) or ``keep``; ``reload`` tells that systemd must reload before acting.
    """
    host = _host(host, "service_plan")
    if not isinstance(state, Mapping) or not all(key in state for key in ("services", "units", "images", "secrets")):
        raise AnsibleFilterError("service_plan: state: must be the result of homelab.stack.service_info")
    services = _dependency_order([service for service in _present(_catalog(catalog, "service_plan"))
                                  if service["host"] == host])
    changed_now = set(changed_now or [])
    network = state["units"].get(f"{NETWORK_NAME}.network")
    network_changed_at = network["mtime"] if network else 0.0
    plan = []
    for service in services:
        name = service["name"]
        facts = state["services"].get(name) or {}
        reasons = _restart_reasons(service, state, network_changed_at)
        if name in changed_now:
            reasons.insert(0, "changed in this run")
        if facts.get("active_state") != "active":
            action = "start"
        else:
            action = "restart" if reasons else "keep"
        plan.append({"name": name, "action": action, "reasons": reasons if action == "restart" else [],
                     "reload": bool(facts.get("need_daemon_reload")),
                     "healthcheck": service["healthcheck"] is not None})
    return plan

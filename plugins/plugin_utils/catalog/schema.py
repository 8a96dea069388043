# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog's fields: checking and normalising each entry, then the whole list.

Every error is an AnsibleFilterError reading ``service <name>: <field>: <problem>``
(``service #<index>`` while the entry has no valid name); secret values never appear in
a message. Normalising a normalised catalog returns an equal catalog.
"""

from __future__ import annotations

import ipaddress
import math
import re
import shlex
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.module_utils.quadlet import (
    QuadletError,
    check_value,
    exec_words,
    literal,
    service_name,
    unit_filename,
    unsafe_character,
)
from ansible_collections.homelab.stack.plugins.module_utils.service_state import SERVICE_LABEL
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import backup as backup_field
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import alloy, identity, monitoring, platform, postgres, rest_server, semaphore
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.errors import (
    _error,
    _is_list,
    _is_number,
    _kind,
    _quote,
)
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.names import (
    NETWORK_NAME,
    is_dns_label,
    is_dns_name,
    network_service_name,
    secret_name,
    volume_name,
)

FIELDS = (
    "name", "host", "image", "state", "port", "route", "env", "secrets", "volumes", "depends_on",
    "metrics", "healthcheck", "publish", "labels", "command", "auto_update", "resources",
    "purge_volumes", "oidc", "mounts", "platform", "database",
)
STATES = ("present", "absent")
AUTH_MODES = ("sso", "none")

ROUTE_FIELDS = ("auth", "subdomain", "hosts", "paths", "allow_from", "rate_limit", "public", "groups", "mesh_port")
RATE_LIMIT_FIELDS = ("average", "burst")
OIDC_FIELDS = ("redirect_paths", "scopes")
OIDC_DEFAULT_SCOPES = ("openid", "profile", "email")
VOLUME_FIELDS = ("name", "mount", "backup")
MOUNT_FIELDS = ("source", "target", "readonly")
METRICS_FIELDS = ("port", "path", "mesh_port")
HEALTHCHECK_FIELDS = ("cmd", "interval", "retries", "start_period")
RESOURCES_FIELDS = ("memory", "cpus")

HEALTHCHECK_DEFAULTS = {"interval": "30s", "retries": 3, "start_period": "10s"}
METRICS_DEFAULT_PATH = "/metrics"

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VOLUME_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
_LABEL_KEY = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?")
_MEMORY = re.compile(r"([0-9]+)[kmg]?")
_DURATION = re.compile(r"([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+")
_DIGITS = re.compile(r"[0-9]+")
# A URL path prefix Traefik can match literally: no spaces, quotes, backticks or query.
_PATH_PREFIX = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")
_SCOPE = re.compile(r"[A-Za-z0-9_.:/-]{1,128}")
_GROUP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}")
_PUBLISH = re.compile(
    r"(?:(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<ipv4>[0-9.]+)):)?"
    r"(?P<host_port>[0-9]+):(?P<container_port>[0-9]+)(?:/(?P<protocol>tcp|udp))?"
)


def _unit_text(service: str, field: str, text: str, line_break: tuple[str, str]) -> str:
    """Refuse a value that could end a line or a string in a unit (quadlet.check_value).

    A line break keeps wave one's wording, ``line_break`` = (field, problem); every other
    unsafe character gets the module's message, with the exact field it was found in.
    """
    if unsafe_character(text) in ("\n", "\r"):
        raise _error(service, *line_break)
    return _quadlet(service, check_value, text, field)


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


def _names(service: str, field: str, value: object, check, what: str) -> list:
    """A list of distinct strings that each pass ``check``; ``what`` names a valid item."""
    if value is None:
        return []
    result: list[str] = []
    for index, item in enumerate(_list(service, field, value)):
        text = _string(service, f"{field}[{index}]", item)
        if not check(text):
            raise _error(service, f"{field}[{index}]", f"{_quote(text)} is not {what}")
        if text in result:
            raise _error(service, f"{field}[{index}]", f"{_quote(text)} is listed twice")
        result.append(text)
    return result


def _is_network(text: str) -> bool:
    """A CIDR network or a single address (Traefik's ipAllowList takes both)."""
    try:
        ipaddress.ip_network(text, strict=True)
    except ValueError:
        return False
    return True


def _positive(service: str, field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _error(service, field, f"must be an integer, got {_kind(value)}")
    if value < 1:
        raise _error(service, field, f"{value} is not a positive integer")
    return value


def _rate_limit(service: str, value: object) -> dict | None:
    """Requests per second on average and in a burst, per client address."""
    if value is None:
        return None
    _mapping(service, "route.rate_limit", value)
    _reject_unknown(service, "route.rate_limit", value, RATE_LIMIT_FIELDS)
    average = _positive(service, "route.rate_limit.average", value.get("average"))
    burst = value.get("burst")
    burst = average if burst is None else _positive(service, "route.rate_limit.burst", burst)
    return {"average": average, "burst": burst}


def _route(service: str, value: object, port: int | None) -> dict | None:
    """The route's own fields; ``mesh_port`` is settled by :func:`_place_routes`."""
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
    hosts = _names(service, "route.hosts", value.get("hosts"), is_dns_name, "a valid lower-case DNS name")
    paths = _names(service, "route.paths", value.get("paths"), _PATH_PREFIX.fullmatch,
                   "a path prefix such as /app (starts with /, no spaces, quotes or query)")
    allow_from = _names(service, "route.allow_from", value.get("allow_from"), _is_network,
                        "a network in CIDR form (e.g. 192.168.1.0/24) or an address")
    groups = _names(service, "route.groups", value.get("groups"), _GROUP_NAME.fullmatch, "a group name")
    if groups and auth != "sso":
        raise _error(service, "route.groups", "needs auth sso (a route without sign-on has no users to check)")
    return {
        "auth": auth,
        "subdomain": subdomain,
        "hosts": hosts,
        "paths": paths,
        "allow_from": allow_from,
        "rate_limit": _rate_limit(service, value.get("rate_limit")),
        "public": _boolean(service, "route.public", value.get("public")),
        "groups": groups,
        "mesh_port": _port(service, "route.mesh_port", value.get("mesh_port")),
    }


def _oidc(service: str, value: object, route: dict | None) -> dict | None:
    """An OpenID Connect client for the service: its redirect paths on the route's host
    names and the scopes it asks for. The identity provider makes the client id and
    secret and hands them to the service as Podman secrets."""
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    if not isinstance(value, Mapping):
        raise _error(service, "oidc", f"must be a mapping or true, got {_kind(value)}")
    _reject_unknown(service, "oidc", value, OIDC_FIELDS)
    if route is None:
        raise _error(service, "oidc", "needs a route (the redirect URIs are on the route's host names)")
    redirect_paths = _names(service, "oidc.redirect_paths", value.get("redirect_paths"), _PATH_PREFIX.fullmatch,
                            "a path such as /oauth/callback (starts with /, no spaces, quotes or query)")
    if not redirect_paths:
        raise _error(service, "oidc.redirect_paths", "needs at least one path, e.g. /oauth/callback")
    scopes = _names(service, "oidc.scopes", value.get("scopes"), _SCOPE.fullmatch, "a scope name")
    return {"redirect_paths": redirect_paths, "scopes": scopes or list(OIDC_DEFAULT_SCOPES)}


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
        backup = backup_field.normalise(service, f"{field}.backup", item.get("backup"))
        names[name] = index
        mounts[mount] = index
        result.append({"name": name, "mount": mount, "backup": backup})
    backup_field.check_dumps(service, result)
    return result


def _path(service: str, field: str, value: object) -> str:
    """An absolute path that fits a Quadlet Volume= value (no ':', ',' or whitespace)."""
    path = _required_string(service, field, value)
    if not path.startswith("/"):
        raise _error(service, field, f"{_quote(path)} is not an absolute path")
    if any(char in ":," or char.isspace() for char in path):
        raise _error(service, field, f"{_quote(path)} must not contain ':', ',' or whitespace")
    _unit_text(service, field, path, (field, "must not contain a line break"))
    return path


def _mounts(service: str, value: object, volumes: list) -> list:
    """Host directories or files bind-mounted into the container (configuration, media)."""
    if value is None:
        return []
    result = []
    targets = {volume["mount"]: f"volumes[{index}]" for index, volume in enumerate(volumes)}
    for index, item in enumerate(_list(service, "mounts", value)):
        field = f"mounts[{index}]"
        _mapping(service, field, item)
        _reject_unknown(service, field, item, MOUNT_FIELDS)
        source = _path(service, f"{field}.source", item.get("source"))
        target = _path(service, f"{field}.target", item.get("target"))
        if target in targets:
            raise _error(service, f"{field}.target", f"{_quote(target)} is already mounted by {targets[target]}")
        targets[target] = field
        result.append({"source": source, "target": target,
                       "readonly": _boolean(service, f"{field}.readonly", item.get("readonly"))})
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
    """The metrics endpoint; ``mesh_port`` is settled by monitoring.place_metrics."""
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
    return {"port": metrics_port, "path": path, "mesh_port": _port(service, "metrics.mesh_port", value.get("mesh_port"))}


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
    retries = HEALTHCHECK_DEFAULTS["retries"] if retries is None else _positive(service, "healthcheck.retries", retries)
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
    kind = entry.get("platform")
    if kind is not None:
        if not isinstance(kind, str) or kind not in platform.KINDS:
            raise _error(name, "platform", f"{_quote(kind)} is not one of {', '.join(platform.KINDS)}")
        entry = platform.with_defaults(kind, entry)
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
    oidc = _oidc(name, entry.get("oidc"), route)
    mounts = _mounts(name, entry.get("mounts"), volumes)
    database = postgres.normalise(name, entry.get("database"), kind)
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
        "oidc": oidc,
        "mounts": mounts,
        "platform": kind,
        "database": database,
    }


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
    extra_hosts: dict[str, str] = {}
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
            for index, extra in enumerate(service["route"]["hosts"]):
                previous = _claim(extra_hosts, extra, f"service {name}")
                if previous:
                    raise _error(name, f"route.hosts[{index}]", f"{_quote(extra)} is already routed to {previous}")


def _binding(text: str) -> tuple[str | None, int, str]:
    """(address or None for every address, host port, protocol) of a valid publish entry."""
    match = _PUBLISH.fullmatch(text)
    return (match["ipv4"] or match["ipv6"], int(match["host_port"]), match["protocol"] or "tcp")


# Stands for a host's mesh address in the port check: the catalog does not know it, but it
# is one IPv4 address (Tailscale's 100.64.0.0/10), distinct from loopback and the LAN.
MESH_ADDRESS = "mesh"


def _family(address: str) -> int:
    return 4 if address == MESH_ADDRESS else ipaddress.ip_address(address).version


def _same_socket(address: str | None, other: str | None) -> bool:
    """Whether binding both addresses to one port and protocol would collide.

    No address means every address; 0.0.0.0 and :: mean every address of their family.
    """
    if address is None or other is None or address == other:
        return True
    family = _family(address)
    if family != _family(other):
        return False
    return any(a != MESH_ADDRESS and ipaddress.ip_address(a).is_unspecified for a in (address, other))


def _bindings(service: dict, services: list) -> list:
    """(field, text, address, port, protocol) of every port the service publishes on its host,
    the route's and the metrics' mesh ports included (see :func:`_place_routes` and
    monitoring.place_metrics; metrics sharing the route's binding publish nothing more)."""
    result = [(f"publish[{index}]", text, *_binding(text)) for index, text in enumerate(service["publish"])]
    route, metrics = service["route"], service["metrics"]
    if route is not None and route["mesh_port"] is not None:
        result.append(("route.mesh_port", f"mesh address:{route['mesh_port']}", MESH_ADDRESS, route["mesh_port"],
                       "tcp"))
    if metrics is not None and metrics["mesh_port"] is not None and not monitoring.shares_route_binding(service):
        result.append(("metrics.mesh_port", f"mesh address:{metrics['mesh_port']}", MESH_ADDRESS,
                       metrics["mesh_port"], "tcp"))
    result.extend(("platform", f"mesh address:{mesh_port}", MESH_ADDRESS, mesh_port, "tcp")
                  for _why, mesh_port, _port in platform.mesh_published(service, services))
    return result


def _check_published_ports(services: list) -> None:
    """Two present services of one host cannot publish one port; nor one service twice.

    Between services, overlapping addresses collide (:func:`_same_socket`); within one
    service only an exact repeat is refused, the forms a service may combine being Podman's
    to judge.
    """
    taken: dict[str, list] = {}
    for service in (service for service in services if service["state"] == "present"):
        host_bindings = taken.setdefault(service["host"], [])
        for field, text, address, port, protocol in _bindings(service, services):
            for other_address, other_port, other_protocol, owner, other_service in host_bindings:
                same = address == other_address if other_service == service["name"] \
                    else _same_socket(address, other_address)
                if (port, protocol) == (other_port, other_protocol) and same:
                    hint = f"; set {field} to a free port" if field.endswith(".mesh_port") else ""
                    raise _error(service["name"], field,
                                 f"{_quote(text)} binds port {port}/{protocol} that {owner} already publishes"
                                 f" on host {service['host']}{hint}")
            host_bindings.append((address, port, protocol, f"{field} of service {service['name']}",
                                  service["name"]))


def _check_platform(services: list, edge: str | None) -> None:
    """Platform services that belong to the edge run there, each kind once (a kind of
    platform.PER_HOST once per host, which its own check counts), with its secrets."""
    seen: dict[str, str] = {}
    for service in (service for service in services if service["state"] == "present"):
        kind = service["platform"]
        if kind is None:
            continue
        if kind not in platform.PER_HOST:
            if kind in seen:
                raise _error(service["name"], "platform", f"{_quote(kind)} is already service {seen[kind]}")
            seen[kind] = service["name"]
        if kind in platform.ON_EDGE and service["host"] != edge:
            where = f"the edge host {edge} (homelab_edge_host)" if edge else "homelab_edge_host, which is not set"
            raise _error(service["name"], "host", f"platform {kind} runs on {where}")
        for key in platform.REQUIRED_SECRETS.get(kind, ()):
            if key not in service["secrets"]:
                raise _error(service["name"], "secrets", f"platform {kind} needs {key} (from a vault)")


def _place_routes(services: list, edge: str | None) -> None:
    """Settle how the edge reaches each routed service.

    On the edge host itself the proxy reaches the container by name on the host's network
    (``mesh_port`` None). On another host the container's port is published on that host's
    mesh address only, never on every interface, as ``mesh_port`` (default: the container
    port). Without an edge host nothing is published.
    """
    for service in services:
        route = service["route"]
        if route is None:
            continue
        if edge is None or service["host"] == edge:
            route["mesh_port"] = None
        elif route["mesh_port"] is None:
            route["mesh_port"] = service["port"]


def _host_names(hosts: object) -> frozenset:
    if not isinstance(hosts, (list, tuple, set, frozenset)):
        raise AnsibleFilterError(f"validate_catalog: hosts: must be a list of inventory host names, got {_kind(hosts)}")
    for host in hosts:
        if not isinstance(host, str):
            raise AnsibleFilterError(f"validate_catalog: hosts: must list host names, got {_kind(host)}")
    return frozenset(hosts)


def normalise_catalog(services: object, hosts: object, edge: object = None) -> list:
    """Validate the whole service catalog and return it normalised.

    ``services`` is the user's ``homelab_services`` list (None counts as empty),
    ``hosts`` the inventory host names (``groups['all']``), ``edge`` the host that runs the
    reverse proxy (``homelab_edge_host``; None when there is none). The result is a new list in
    input order of new dicts with every field of :data:`FIELDS` present and defaults
    filled, followed by the services a platform entry makes (identity.expand, then one log
    agent per host: alloy.expand); the input is
    not modified. Normalising a normalised catalog returns an equal
    catalog. Raises AnsibleFilterError with ``service <name>: <field>: <problem>``.
    """
    host_names = _host_names(hosts)
    if edge is not None and (not isinstance(edge, str) or edge not in host_names):
        raise AnsibleFilterError(f"validate_catalog: edge: {_quote(edge)} is not a host of the inventory")
    if services is None:
        services = []
    if not _is_list(services):
        raise AnsibleFilterError(f"validate_catalog: services: must be a list of services, got {_kind(services)}")
    result = []
    first: dict[str, int] = {}
    for index, entry in enumerate(alloy.expand(identity.expand(services))):
        name = _service_name(index, entry)
        if name in first:
            raise _error(name, "name", f"duplicate of service #{first[name]}")
        first[name] = index
        result.append(normalise_service(index, entry, host_names))
    postgres.check(result)
    postgres.check_backup(result)
    identity.deliver_oidc_secrets(result)
    postgres.deliver_passwords(result)
    _check_dependencies(result)
    _check_generated_names(result)
    _check_platform(result, edge)
    identity.check(result)
    monitoring.check(result)
    monitoring.settle_grafana(result)
    semaphore.settle(result)
    alloy.check(result)
    rest_server.check(result)
    _place_routes(result, edge)
    monitoring.place_metrics(result)
    _check_published_ports(result)
    return result

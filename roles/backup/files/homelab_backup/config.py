"""The runner's configuration, /etc/homelab/backup/config.json, and what it says about restic.

roles/backup writes the file from the catalog's backup views; it holds no secret, only the
paths of the root-only files that do (a repository's password_file and env_file). Every
field is checked once, here, so that the rest of the runner can trust it; a bad field is
named by its path in the file (``services.files.volumes[0].keep.daily: ...``).
"""

import json
import os

from homelab_backup import restic

DEFAULT_PATH = "/etc/homelab/backup/config.json"
# The binaries the runner calls, looked up on PATH unless the file names them.
BINARIES = {"restic": "restic", "podman": "podman", "systemctl": "systemctl"}
DUMPS = ("postgres",)


class ConfigError(Exception):
    """The configuration (or a file it names) is not usable; the message names the field."""


def load(path=DEFAULT_PATH):
    """The checked configuration read from ``path``, or raise ConfigError."""
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except OSError as error:
        raise ConfigError("%s: cannot be read: %s" % (path, error.strerror)) from None
    except ValueError as error:
        raise ConfigError("%s: is not JSON: %s" % (path, error)) from None
    return check(config)


def check(config):
    """``config`` with every field checked and the binaries defaulted, or raise ConfigError."""
    _mapping(config, "config")
    for field in ("host", "textfile_dir", "state_dir"):
        _string(config.get(field), field)
    checked = dict(config)
    for field, default in BINARIES.items():
        checked[field] = _string(config.get(field, default), field)
    repositories = config.get("repositories")
    if not isinstance(repositories, list):
        raise ConfigError("repositories: must be a list")
    for index, repository in enumerate(repositories):
        _repository(repository, "repositories[%d]" % index)
    names = [repository["name"] for repository in repositories]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError("repositories: the name %r is used twice" % name)
    _mapping(config.get("services"), "services")
    for name, service in config["services"].items():
        _service(service, "services.%s" % name)
    if config.get("server") is not None:
        _server(config["server"], "server")
    return checked


def service(config, name):
    """The entry of service ``name``, or raise ConfigError naming the services there are."""
    if name not in config["services"]:
        raise ConfigError("service %s: not in the backup configuration (known: %s)"
                          % (name, ", ".join(sorted(config["services"])) or "none"))
    return config["services"][name]


def repository(config, name=None):
    """The repository ``name``, or the first one when ``name`` is None; or raise ConfigError."""
    if not config["repositories"]:
        raise ConfigError("repositories: none configured")
    if name is None:
        return config["repositories"][0]
    for entry in config["repositories"]:
        if entry["name"] == name:
            return entry
    raise ConfigError("repository %s: not in the backup configuration (known: %s)"
                      % (name, ", ".join(entry["name"] for entry in config["repositories"])))


def read_env_file(path):
    """The ``NAME=value`` lines of a repository's env_file (blank and # lines skipped).

    Errors name the file and the line number, never a value: the values are secrets.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as error:
        raise ConfigError("%s: cannot be read: %s" % (path, error.strerror)) from None
    env = {}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.partition("=")
        if not equals:
            raise ConfigError("%s: line %d is not NAME=value" % (path, number))
        env[name.strip()] = value
    return env


def restic_environment(entry):
    """The whole environment for restic on repository ``entry``: this process's own (PATH,
    HOME for restic's cache) plus repository, password file and env_file variables, so no
    secret is ever on restic's command line."""
    env = read_env_file(entry["env_file"]) if entry.get("env_file") else {}
    problems = restic.check_env(env, restic.parse_repository(entry["url"])[0])
    if problems:
        raise ConfigError("%s: %s" % (entry["env_file"], "; ".join(problems)))
    return dict(os.environ, **restic.restic_environment(entry["url"], password_file=entry["password_file"], env=env))


def restic_argv(config, entry, args):
    """restic's argument list for ``args`` on repository ``entry`` (its CA as --cacert)."""
    return restic.restic_command(config["restic"], args, cacert=entry.get("cacert"))


def _mapping(value, where):
    if not isinstance(value, dict):
        raise ConfigError("%s: must be a mapping" % where)
    return value


def _string(value, where):
    if not isinstance(value, str) or not value:
        raise ConfigError("%s: must be a non-empty string" % where)
    return value


def _optional_string(value, where):
    return None if value is None else _string(value, where)


def _argv(value, where):
    if not isinstance(value, list) or not value or not all(isinstance(item, str) and item for item in value):
        raise ConfigError("%s: must be a command as a non-empty list of strings" % where)
    return value


def _keep(value, where):
    """A keep policy restic.forget_args accepts; its messages start with ``keep``."""
    try:
        restic.forget_args(value)
    except restic.ResticError as error:
        raise ConfigError("%s.%s" % (where, error)) from None


def _repository(entry, where):
    _mapping(entry, where)
    _string(entry.get("name"), where + ".name")
    _string(entry.get("url"), where + ".url")
    try:
        restic.parse_repository(entry["url"])
    except restic.ResticError as error:
        raise ConfigError("%s.url: %s" % (where, str(error).split(": ", 1)[1])) from None
    _string(entry.get("password_file"), where + ".password_file")
    _optional_string(entry.get("env_file"), where + ".env_file")
    _optional_string(entry.get("cacert"), where + ".cacert")


def _service(entry, where):
    _mapping(entry, where)
    _string(entry.get("unit"), where + ".unit")
    volumes = entry.get("volumes")
    if not isinstance(volumes, list) or not volumes:
        raise ConfigError("%s.volumes: must be a non-empty list" % where)
    for index, volume in enumerate(volumes):
        _volume(volume, "%s.volumes[%d]" % (where, index))


def _volume(entry, where):
    _mapping(entry, where)
    _string(entry.get("volume"), where + ".volume")
    _string(entry.get("schedule"), where + ".schedule")
    interval = entry.get("interval_seconds")
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
        raise ConfigError("%s.interval_seconds: must be a positive integer" % where)
    _keep(entry.get("keep"), where)
    if not isinstance(entry.get("pause", False), bool):
        raise ConfigError("%s.pause: must be true or false" % where)
    dump = entry.get("dump")
    if dump is None:
        for field in ("dump_command", "load_command", "verify_load_command"):
            if entry.get(field) is not None:
                raise ConfigError("%s.%s: only a volume with a dump has one" % (where, field))
    elif dump in DUMPS:
        for field in ("dump_command", "load_command"):
            _argv(entry.get(field), "%s.%s" % (where, field))
        # Optional: without it the drill checks the dump's shape only.
        if entry.get("verify_load_command") is not None:
            _argv(entry["verify_load_command"], "%s.verify_load_command" % where)
    else:
        raise ConfigError("%s.dump: %r is not one of %s (or null)" % (where, dump, ", ".join(DUMPS)))


def _server(entry, where):
    _mapping(entry, where)
    _string(entry.get("volume"), where + ".volume")
    clients = entry.get("clients")
    if not isinstance(clients, list):
        raise ConfigError("%s.clients: must be a list" % where)
    for index, client in enumerate(clients):
        at = "%s.clients[%d]" % (where, index)
        _mapping(client, at)
        _string(client.get("client"), at + ".client")
        _string(client.get("password_file"), at + ".password_file")
        if not isinstance(client.get("sets"), list):
            raise ConfigError("%s.sets: must be a list" % at)
        for number, backup_set in enumerate(client["sets"]):
            set_at = "%s.sets[%d]" % (at, number)
            _mapping(backup_set, set_at)
            _string(backup_set.get("service"), set_at + ".service")
            _string(backup_set.get("volume"), set_at + ".volume")
            _keep(backup_set.get("keep"), set_at)

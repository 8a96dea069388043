"""The backup runner's config.json checks (roles/backup/files/homelab_backup/config.py): every
bad field named by its path, env_file lines, and restic's environment and argv built from a
repository entry without a secret on the command line."""

import copy
import json

import pytest

import backup_runner  # noqa: F401 pylint: disable=unused-import
from homelab_backup import config as configuration

SECRET = "rest-secret-7d1c"
VOLUME = {"volume": "files-data", "schedule": "daily", "interval_seconds": 86400, "keep": {"daily": 30},
          "pause": False, "dump": None, "dump_command": None, "load_command": None}
DB = {"volume": "wiki-db", "schedule": "hourly", "interval_seconds": 3600, "keep": {"hourly": 72}, "pause": False,
      "dump": "postgres", "dump_command": ["podman", "exec", "wiki-db", "pg_dumpall"],
      "load_command": ["podman", "exec", "-i", "wiki-db", "psql"]}
CONFIG = {
    "host": "kronos", "textfile_dir": "/var/lib/prometheus/node-exporter", "state_dir": "/var/lib/homelab-backup",
    "repositories": [{"name": "jove-backup", "url": "rest:https://10.231.0.10:8000/kronos/",
                      "password_file": "/etc/homelab/backup/repositories/jove-backup.password",
                      "env_file": None, "cacert": "/etc/homelab/backup/repositories/jove-backup.pem"}],
    "services": {"files": {"unit": "files.service", "volumes": [VOLUME]},
                 "wiki": {"unit": "wiki.service", "volumes": [DB]}},
    "server": {"volume": "rest-server-data", "clients": [
        {"client": "jove", "password_file": "/etc/homelab/backup/served/jove.password",
         "sets": [{"service": "traefik", "volume": "traefik-acme", "keep": "all"}]}]},
}


def changed(path, value):
    """CONFIG with the field at ``path`` (keys and list indexes) set to ``value`` (deleted if ...)."""
    config = copy.deepcopy(CONFIG)
    target = config
    for key in path[:-1]:
        target = target[key]
    if value is Ellipsis:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return config


def test_a_good_config_passes_and_the_binaries_default_to_path_lookups():
    config = configuration.check(copy.deepcopy(CONFIG))
    assert (config["restic"], config["podman"], config["systemctl"]) == ("restic", "podman", "systemctl")
    assert config["services"] == CONFIG["services"]


@pytest.mark.parametrize("path, value, message", [
    (("host",), ..., "host: must be a non-empty string"),
    (("restic",), "", "restic: must be a non-empty string"),
    (("repositories",), {}, "repositories: must be a list"),
    (("repositories", 0, "url"), "ftp://x/", "repositories[0].url: unknown scheme 'ftp' in ftp://x/; use a local "
     "path, sftp:, rest: or s3: (a local path with a colon is written ./NAME or as an absolute path)"),
    (("repositories", 0, "password_file"), None, "repositories[0].password_file: must be a non-empty string"),
    (("repositories", 0, "cacert"), 5, "repositories[0].cacert: must be a non-empty string"),
    (("services", "files", "volumes"), [], "services.files.volumes: must be a non-empty list"),
    (("services", "files", "volumes", 0, "interval_seconds"), 0,
     "services.files.volumes[0].interval_seconds: must be a positive integer"),
    (("services", "files", "volumes", 0, "keep"), {"daily": 0},
     "services.files.volumes[0].keep.daily: 0 is not a positive integer or 'all'"),
    (("services", "files", "volumes", 0, "keep"), {"dayly": 3},
     "services.files.volumes[0].keep: dayly is not one of last, hourly, daily, weekly, monthly, yearly"),
    (("services", "files", "volumes", 0, "pause"), "yes", "services.files.volumes[0].pause: must be true or false"),
    (("services", "files", "volumes", 0, "dump"), "mysql",
     "services.files.volumes[0].dump: 'mysql' is not one of postgres (or null)"),
    (("services", "files", "volumes", 0, "dump_command"), ["pg_dumpall"],
     "services.files.volumes[0].dump_command: only a volume with a dump has one"),
    (("services", "wiki", "volumes", 0, "load_command"), None,
     "services.wiki.volumes[0].load_command: must be a command as a non-empty list of strings"),
    (("server", "clients", 0, "sets", 0, "keep"), {"weekly": -1},
     "server.clients[0].sets[0].keep.weekly: -1 is not a positive integer or 'all'"),
    (("server", "clients", 0, "client"), "", "server.clients[0].client: must be a non-empty string"),
])
def test_a_bad_field_is_named_by_its_path(path, value, message):
    with pytest.raises(configuration.ConfigError) as info:
        configuration.check(changed(path, value))
    assert str(info.value) == message


def test_a_repository_name_used_twice_is_refused():
    config = copy.deepcopy(CONFIG)
    config["repositories"].append(dict(config["repositories"][0], url="/srv/restic"))
    with pytest.raises(configuration.ConfigError, match="^repositories: the name 'jove-backup' is used twice$"):
        configuration.check(config)


def test_load_names_the_file_that_is_missing_or_not_json(tmp_path):
    with pytest.raises(configuration.ConfigError, match="config.json: cannot be read: No such file or directory$"):
        configuration.load(str(tmp_path / "config.json"))
    (tmp_path / "config.json").write_text("{")
    with pytest.raises(configuration.ConfigError, match="config.json: is not JSON: "):
        configuration.load(str(tmp_path / "config.json"))
    (tmp_path / "config.json").write_text(json.dumps(CONFIG))
    assert configuration.load(str(tmp_path / "config.json"))["host"] == "kronos"


def test_an_unknown_service_or_repository_names_the_known_ones():
    with pytest.raises(configuration.ConfigError, match=r"^service nope: not in the backup configuration "
                                                        r"\(known: files, wiki\)$"):
        configuration.service(CONFIG, "nope")
    with pytest.raises(configuration.ConfigError, match=r"^repository other: not in the backup configuration "
                                                        r"\(known: jove-backup\)$"):
        configuration.repository(CONFIG, "other")
    assert configuration.repository(CONFIG)["name"] == "jove-backup"


def test_restic_gets_the_password_file_and_env_file_through_its_environment(tmp_path):
    env_file = tmp_path / "jove-backup.env"
    env_file.write_text("# rest-server's user\nRESTIC_REST_USERNAME=kronos\n\nRESTIC_REST_PASSWORD=%s\n" % SECRET)
    repository = dict(CONFIG["repositories"][0], env_file=str(env_file))
    env = configuration.restic_environment(repository)
    assert env["RESTIC_REPOSITORY"] == "rest:https://10.231.0.10:8000/kronos/"
    assert env["RESTIC_PASSWORD_FILE"] == repository["password_file"] and env["RESTIC_PASSWORD"] == ""
    assert (env["RESTIC_REST_USERNAME"], env["RESTIC_REST_PASSWORD"]) == ("kronos", SECRET)
    assert "PATH" in env  # the process's own environment too: restic finds its cache through HOME
    argv = configuration.restic_argv(configuration.check(copy.deepcopy(CONFIG)), repository, ["snapshots", "--json"])
    assert argv == ["restic", "--cacert", repository["cacert"], "snapshots", "--json"]


def test_an_env_file_line_without_equals_is_named_by_number_without_its_value(tmp_path):
    env_file = tmp_path / "bad.env"
    env_file.write_text("RESTIC_REST_USERNAME=kronos\n%s\n" % SECRET)
    with pytest.raises(configuration.ConfigError) as info:
        configuration.restic_environment(dict(CONFIG["repositories"][0], env_file=str(env_file)))
    assert str(info.value) == "%s: line 2 is not NAME=value" % env_file
    assert SECRET not in str(info.value)


def test_an_env_file_may_not_set_the_password_or_repository(tmp_path):
    env_file = tmp_path / "bad.env"
    env_file.write_text("RESTIC_PASSWORD=%s\n" % SECRET)
    with pytest.raises(configuration.ConfigError) as info:
        configuration.restic_environment(dict(CONFIG["repositories"][0], env_file=str(env_file)))
    assert str(info.value).startswith("%s: env: RESTIC_PASSWORD is set by the module" % env_file)
    assert SECRET not in str(info.value)

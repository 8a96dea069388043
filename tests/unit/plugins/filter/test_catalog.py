# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# The service catalog filters: validation and normalisation of homelab_services and the
# per-host views derived from it. The filters are taken from the filter plugins, as
# Ansible loads them.

import copy
import importlib
import json
import pathlib
import subprocess
import sys

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.filter import backup_sets as backup_sets_plugin
from ansible_collections.homelab.stack.plugins.filter import host_secrets as host_secrets_plugin
from ansible_collections.homelab.stack.plugins.filter import host_units as host_units_plugin
from ansible_collections.homelab.stack.plugins.filter import routes as routes_plugin
from ansible_collections.homelab.stack.plugins.filter import scrape_targets as scrape_targets_plugin
from ansible_collections.homelab.stack.plugins.filter import validate_catalog as validate_catalog_plugin
from catalog_entry import BACKUP, backup_set, svc

# Every filter plugin of the collection, and the doc fragments they extend.
PLUGINS = {
    path.stem: importlib.import_module(f"ansible_collections.homelab.stack.plugins.filter.{path.stem}")
    for path in sorted((pathlib.Path(__file__).resolve().parents[4] / "plugins" / "filter").glob("*.py"))
}
FRAGMENTS = {
    path.stem: importlib.import_module(f"ansible_collections.homelab.stack.plugins.doc_fragments.{path.stem}")
    for path in sorted((pathlib.Path(__file__).resolve().parents[4] / "plugins" / "doc_fragments").glob("*.py"))
}

validate_catalog = validate_catalog_plugin.FilterModule().filters()["validate_catalog"]
host_units = host_units_plugin.FilterModule().filters()["host_units"]
host_secrets = host_secrets_plugin.FilterModule().filters()["host_secrets"]
routes = routes_plugin.FilterModule().filters()["routes"]
scrape_targets = scrape_targets_plugin.FilterModule().filters()["scrape_targets"]
backup_sets = backup_sets_plugin.FilterModule().filters()["backup_sets"]
monitoring_targets = PLUGINS["monitoring_targets"].FilterModule().filters()["monitoring_targets"]

HOSTS = ["jove", "kronos", "vesta"]
# The route fields a bare route gets (the edge issue added them after wave one).
ROUTE_DEFAULTS = {"hosts": [], "paths": [], "allow_from": [], "rate_limit": None, "public": False, "groups": [],
                  "mesh_port": None}
ROUTE_VIEW_DEFAULTS = {"paths": [], "allow_from": [], "rate_limit": None, "public": False, "groups": []}
FIELDS = ["name", "host", "image", "state", "port", "route", "env", "secrets", "volumes", "depends_on", "metrics",
          "healthcheck", "publish", "labels", "command", "auto_update", "resources", "purge_volumes", "oidc",
          "mounts", "platform", "database"]
# Filters that return one document rather than a list, and its type.
DOCUMENT_FILTERS = {"traefik_config": "dict", "firewall_ruleset": "str", "traefik_static": "dict", "platform_service": "dict",
                    "mesh_addresses": "dict", "cloudflared_config": "dict", "authentik_blueprint": "str",
                    "sso_outpost_url": "str", "monitoring_targets": "dict", "prometheus_config": "str",
                    "alertmanager_config": "str", "blackbox_config": "str", "grafana_provisioning": "dict",
                    "loki_config": "str", "alloy_config": "str", "backup_client": "dict", "backup_server": "dict",
                    "database_server": "dict", "database_client": "dict", "semaphore_api": "dict",
                    "backup_verify_report": "dict", "verify_plan": "dict", "verify_report": "dict",
                    "image_update_plan": "dict"}
UNIT_KEYS = ["name", "type", "unit", "spec", "service", "install"]


def one(**fields):
    """Normalise a catalog of one service ``web`` and return that service."""
    return validate_catalog([svc(**fields)], HOSTS)[0]


def error(services, hosts=None):
    """The message validate_catalog fails with for ``services``."""
    with pytest.raises(AnsibleFilterError) as info:
        validate_catalog(services, HOSTS if hosts is None else hosts)
    return info.value.message


# --- the plugins ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_each_plugin_provides_exactly_its_own_filter(name):
    filters = PLUGINS[name].FilterModule().filters()
    assert list(filters) == [name]
    assert callable(filters[name])


def documented_options(doc):
    """A plugin's options with those of its homelab.stack doc fragments merged in."""
    options = dict(doc.get("options") or {})
    for fragment in doc.get("extends_documentation_fragment", []):
        name, dummy, attribute = fragment.removeprefix("homelab.stack.").partition(".")
        text = getattr(FRAGMENTS[name].ModuleDocFragment, attribute.upper() or "DOCUMENTATION")
        options.update(yaml.safe_load(text)["options"])
    return options


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_each_plugin_documents_itself(name):
    module = PLUGINS[name]
    doc = yaml.safe_load(module.DOCUMENTATION)
    options = documented_options(doc)
    assert doc["name"] == name
    assert doc["version_added"] == "0.1.0"
    assert doc["short_description"]
    assert options["_input"]["required"] is True
    assert set(doc.get("positional", "").split(",")) - {""} <= set(options) - {"_input"}
    # The catalog views are lists; a format view (traefik_config) and the edge entry are one document.
    assert yaml.safe_load(module.RETURN)["_value"]["type"] == DOCUMENT_FILTERS.get(name, "list")
    examples = yaml.safe_load(module.EXAMPLES)
    assert f"homelab.stack.{name}" in json.dumps(examples)


# --- normalisation --------------------------------------------------------------------


def test_minimal_service_gets_every_default():
    assert one() == {
        "name": "web",
        "host": "jove",
        "image": "docker.io/library/nginx:1.27",
        "state": "present",
        "port": None,
        "route": None,
        "env": {},
        "secrets": {},
        "volumes": [],
        "depends_on": [],
        "metrics": None,
        "healthcheck": None,
        "publish": [],
        "labels": {},
        "command": None,
        "auto_update": False,
        "resources": {},
        "purge_volumes": False,
        "oidc": None,
        "mounts": [],
        "platform": None,
        "database": None,
    }


def test_fields_come_out_in_a_fixed_order_whatever_the_input_order():
    entry = svc(port=80, route=True, env={"A": 1}, state="present", volumes=[{"mount": "/d", "name": "d"}])
    reversed_entry = dict(reversed(list(entry.items())))
    results = [validate_catalog([e], HOSTS)[0] for e in (entry, reversed_entry)]
    for result in results:
        assert list(result) == FIELDS
        assert list(result["volumes"][0]) == ["name", "mount", "backup"]
        assert list(result["route"]) == ["auth", "subdomain", *ROUTE_DEFAULTS]
    assert json.dumps(results[0]) == json.dumps(results[1])


def test_null_fields_take_their_defaults():
    nulls = {field: None for field in FIELDS if field not in ("name", "host", "image")}
    assert one(**nulls) == one()


def test_empty_catalog_and_null_catalog_are_empty():
    assert validate_catalog([], HOSTS) == []
    assert validate_catalog(None, HOSTS) == []


def test_catalog_keeps_input_order():
    names = ["zeta", "alpha", "mid"]
    assert [s["name"] for s in validate_catalog([svc(n) for n in names], HOSTS)] == names


@pytest.mark.parametrize("route, expected", [
    (True, {"auth": "sso", "subdomain": "web", **ROUTE_DEFAULTS}),
    ({}, {"auth": "sso", "subdomain": "web", **ROUTE_DEFAULTS}),
    ({"auth": "none"}, {"auth": "none", "subdomain": "web", **ROUTE_DEFAULTS}),
    ({"auth": "sso", "subdomain": "www"}, {"auth": "sso", "subdomain": "www", **ROUTE_DEFAULTS}),
    (False, None),
    (None, None),
])
def test_route_is_normalised(route, expected):
    assert one(port=80, route=route)["route"] == expected


def test_port_accepts_a_string_of_digits():
    assert one(port="8080")["port"] == 8080


@pytest.mark.parametrize("port", [1, 65535])
def test_port_bounds_are_accepted(port):
    assert one(port=port)["port"] == port


def test_env_values_become_strings():
    env = {"NAME": "x", "COUNT": 3, "RATIO": 1.5, "ON": True, "OFF": False, "_UNDER": "", "lower_9": "y"}
    assert one(env=env)["env"] == {"NAME": "x", "COUNT": "3", "RATIO": "1.5", "ON": "true", "OFF": "false",
                                   "_UNDER": "", "lower_9": "y"}


def test_secret_numbers_become_strings():
    assert one(secrets={"PIN": 1234, "RATIO": 0.5, "PASS": "s3cret"})["secrets"] == {
        "PIN": "1234", "RATIO": "0.5", "PASS": "s3cret"}


def test_volume_backup_defaults_to_never():
    volumes = [{"name": "data", "mount": "/data"}, {"name": "db_1.x-y", "mount": "/var/lib/db", "backup": "weekly"}]
    assert one(volumes=volumes)["volumes"] == [
        {"name": "data", "mount": "/data", "backup": BACKUP["never"]},
        {"name": "db_1.x-y", "mount": "/var/lib/db", "backup": BACKUP["weekly"]},
    ]


@pytest.mark.parametrize("fields, expected", [
    ({"port": 8080, "metrics": {}}, {"port": 8080, "path": "/metrics", "mesh_port": None}),
    ({"port": 8080, "metrics": True}, {"port": 8080, "path": "/metrics", "mesh_port": None}),
    ({"port": 8080, "metrics": {"port": 9100}}, {"port": 9100, "path": "/metrics", "mesh_port": None}),
    ({"metrics": {"port": 9100, "path": "/stats"}}, {"port": 9100, "path": "/stats", "mesh_port": None}),
    ({"port": 8080, "metrics": False}, None),
])
def test_metrics_are_normalised(fields, expected):
    assert one(**fields)["metrics"] == expected


def test_healthcheck_defaults():
    assert one(healthcheck={"cmd": "true"})["healthcheck"] == {
        "cmd": "true", "interval": "30s", "retries": 3, "start_period": "10s"}


def test_healthcheck_keeps_given_values():
    check = {"cmd": "curl -f http://127.0.0.1/", "interval": "1m30s", "retries": 5, "start_period": "500ms"}
    assert one(healthcheck=check)["healthcheck"] == check


@pytest.mark.parametrize("command, expected", [
    ("sleep infinity", ["sleep", "infinity"]),
    ("sh -c 'echo hello world'", ["sh", "-c", "echo hello world"]),
    (["sleep", 3600], ["sleep", "3600"]),
    (["run", "--ratio", 0.5], ["run", "--ratio", "0.5"]),
    (None, None),
])
def test_command_becomes_a_list_of_strings(command, expected):
    assert one(command=command)["command"] == expected


@pytest.mark.parametrize("resources, expected", [
    ({"memory": "512m", "cpus": 1.5}, {"memory": "512m", "cpus": 1.5}),
    ({"cpus": 2, "memory": "1g"}, {"memory": "1g", "cpus": 2}),
    ({"memory": 1048576}, {"memory": "1048576"}),
    ({"cpus": 0.25}, {"cpus": 0.25}),
    ({}, {}),
])
def test_resources_keep_only_what_is_given(resources, expected):
    result = one(resources=resources)["resources"]
    assert result == expected
    assert list(result) == list(expected)


def test_labels_values_become_strings():
    labels = {"traefik.enable": True, "com.example/tier": 2, "owner": "me"}
    assert one(labels=labels)["labels"] == {"traefik.enable": "true", "com.example/tier": "2", "owner": "me"}


def test_publish_forms_are_accepted():
    publish = ["8080:80", "127.0.0.1:8080:8080", "0.0.0.0:53:53/udp", "[::1]:9000:9000/tcp"]
    assert one(publish=publish)["publish"] == publish


def test_booleans_and_absent_state():
    result = one(state="absent", auto_update=True, purge_volumes=True)
    assert (result["state"], result["auto_update"], result["purge_volumes"]) == ("absent", True, True)


def full_catalog():
    """A catalog that sets every field of the service app."""
    return [
        svc("auth", host="kronos", image="ghcr.io/authelia/authelia:4.38", port=9091,
            route={"auth": "none", "subdomain": "login"}, metrics={"port": 9959},
            volumes=[{"name": "config", "mount": "/config", "backup": "monthly"}]),
        svc("app", image="ghcr.io/example/app:1.0", port=8000, route=True,
            env={"LOG_LEVEL": "info", "WORKERS": 4, "DEBUG": False},
            secrets={"API_TOKEN": "t0ken", "DB_PASS": "hunter2"},
            volumes=[{"name": "data", "mount": "/data", "backup": "daily"},
                     {"name": "cache", "mount": "/cache", "backup": "weekly"},
                     {"name": "scratch", "mount": "/scratch"}],
            depends_on=["db", "auth"],
            metrics={"path": "/stats"},
            healthcheck={"cmd": "wget -q -O /dev/null http://127.0.0.1:8000/"},
            publish=["127.0.0.1:8000:8000"],
            labels={"traefik.enable": "true"},
            command="app serve --bind '0.0.0.0:8000' --name 'my app'",
            auto_update=True,
            resources={"memory": "512m", "cpus": 1.5}),
        svc("db", image="docker.io/library/postgres:16", secrets={"POSTGRES_PASSWORD": "pw"},
            volumes=[{"name": "pgdata", "mount": "/var/lib/postgresql/data", "backup": "weekly"}]),
        svc("old", state="absent", port=80, route=True, metrics={}, secrets={"X": "y"}, purge_volumes=True,
            volumes=[{"name": "data", "mount": "/data", "backup": "daily"}]),
        svc("whoami", image="docker.io/traefik/whoami:v1.10", port=80, route={"auth": "none"}),
        svc("gone", host="vesta", state="absent", port=80, route={"subdomain": "gone"}),
    ]


def test_input_is_not_modified():
    catalog = full_catalog()
    before = copy.deepcopy(catalog)
    validate_catalog(catalog, HOSTS)
    assert catalog == before


def test_output_shares_no_mutable_values_with_the_input():
    catalog = full_catalog()
    before = copy.deepcopy(catalog)
    result = validate_catalog(catalog, HOSTS)
    app = result[1]
    app["env"]["NEW"] = "1"
    app["secrets"]["NEW"] = "1"
    app["labels"]["new"] = "1"
    app["volumes"][0]["backup"]["keep"]["daily"] = 1
    app["volumes"].append({})
    app["depends_on"].append("x")
    app["publish"].append("1:1")
    app["resources"]["memory"] = "1g"
    result[0]["metrics"]["path"] = "/x"
    result[0]["route"]["auth"] = "sso"
    assert catalog == before


def test_normalising_twice_changes_nothing():
    once = validate_catalog(full_catalog(), HOSTS)
    twice = validate_catalog(once, HOSTS)
    assert twice == once
    assert json.dumps(twice) == json.dumps(once)


def test_same_input_same_output():
    assert json.dumps(validate_catalog(full_catalog(), HOSTS)) == json.dumps(validate_catalog(full_catalog(), HOSTS))


def test_tuples_count_as_lists():
    result = validate_catalog((svc(publish=("8080:80",), depends_on=("db",)), svc("db")), ("jove",))
    assert result[0]["publish"] == ["8080:80"]
    assert result[0]["depends_on"] == ["db"]


# --- errors ---------------------------------------------------------------------------


LONG_LABEL = "a" * 63

ERRORS = {
    # the catalog and the host list
    "hosts-not-a-list": ([], "jove", "validate_catalog: hosts: must be a list of inventory host names, got string"),
    "hosts-not-names": ([], ["jove", 3], "validate_catalog: hosts: must list host names, got integer"),
    # entries and names
    "entry-not-a-mapping": ([svc(), "db"], None, "service #1: entry: must be a mapping, got string"),
    "name-missing": ([{"host": "jove", "image": "x"}], None, "service #0: name: is required"),
    "name-null": ([svc(None)], None, "service #0: name: is required"),
    "name-not-a-string": ([svc(), svc(7)], None, "service #1: name: must be a string, got integer"),
    "name-upper-case": ([svc("Web")], None, "service #0: name: 'Web' is not a valid DNS label"),
    "name-underscore": ([svc("my_web")], None, "service #0: name: 'my_web' is not a valid DNS label"),
    "name-trailing-hyphen": ([svc("web-")], None, "service #0: name: 'web-' is not a valid DNS label"),
    "name-trailing-newline": ([svc("web\n")], None, "service #0: name: 'web\\n' is not a valid DNS label"),
    "name-too-long": ([svc(LONG_LABEL + "a")], None, f"service #0: name: '{LONG_LABEL}a' is not a valid DNS label"),
    "name-empty": ([svc("")], None, "service #0: name: '' is not a valid DNS label"),
    "name-duplicate": ([svc(), svc("db"), svc(host="kronos")], None, "service web: name: duplicate of service #0"),
    "unknown-field": ([svc(ports=[80])], None, "service web: ports: is not a known field"),
    # host, image, state
    "host-missing": ([{"name": "web", "image": "x"}], None, "service web: host: is required"),
    "host-unknown": ([svc(host="mars")], None, "service web: host: 'mars' is not in the inventory"),
    "host-not-a-string": ([svc(host=["jove"])], None, "service web: host: must be a string, got list"),
    "image-missing": ([{"name": "web", "host": "jove"}], None, "service web: image: is required"),
    "image-empty": ([svc(image="")], None, "service web: image: must not be empty"),
    "image-whitespace": ([svc(image="nginx latest")], None, "service web: image: 'nginx latest' must not contain whitespace"),
    "image-not-a-string": ([svc(image=1)], None, "service web: image: must be a string, got integer"),
    "state-unknown": ([svc(state="running")], None, "service web: state: 'running' is not one of present, absent"),
    "state-boolean": ([svc(state=True)], None, "service web: state: must be a string, got boolean"),
    # port
    "port-zero": ([svc(port=0)], None, "service web: port: 0 is not a port number (1-65535)"),
    "port-too-high": ([svc(port=65536)], None, "service web: port: 65536 is not a port number (1-65535)"),
    "port-boolean": ([svc(port=True)], None, "service web: port: must be an integer, got boolean"),
    "port-float": ([svc(port=80.0)], None, "service web: port: must be an integer, got float"),
    "port-word": ([svc(port="http")], None, "service web: port: 'http' is not a port number (1-65535)"),
    # route
    "route-without-port": ([svc(route=True)], None, "service web: route: needs a port"),
    "route-string": ([svc(port=80, route="yes")], None, "service web: route: must be a mapping or true, got string"),
    "route-unknown-field": ([svc(port=80, route={"path": "/"})], None, "service web: route.path: is not a known field"),
    "route-auth": ([svc(port=80, route={"auth": "basic"})], None,
                   "service web: route.auth: 'basic' is not one of sso, none"),
    "route-auth-boolean": ([svc(port=80, route={"auth": False})], None,
                           "service web: route.auth: must be a string, got boolean"),
    "route-subdomain": ([svc(port=80, route={"subdomain": "Www"})], None,
                        "service web: route.subdomain: 'Www' is not a valid DNS label"),
    "route-subdomain-dotted": ([svc(port=80, route={"subdomain": "a.b"})], None,
                               "service web: route.subdomain: 'a.b' is not a valid DNS label"),
    "route-subdomain-taken": ([svc(port=80, route={"subdomain": "www"}), svc("www", port=80, route=True)], None,
                              "service www: route.subdomain: 'www' is already used by service web"),
    # env
    "env-not-a-mapping": ([svc(env=["A=1"])], None, "service web: env: must be a mapping, got list"),
    "env-key-digit": ([svc(env={"1A": "x"})], None, "service web: env: '1A' is not a valid variable name"),
    "env-key-hyphen": ([svc(env={"A-B": "x"})], None, "service web: env: 'A-B' is not a valid variable name"),
    "env-key-not-a-string": ([svc(env={1: "x"})], None, "service web: env: key '1' must be a string, got integer"),
    "env-value-list": ([svc(env={"A": [1]})], None, "service web: env: A must be a string, number or boolean, got list"),
    "env-value-null": ([svc(env={"A": None})], None, "service web: env: A must be a string, number or boolean, got null"),
    "env-value-newline": ([svc(env={"A": "x\ny"})], None, "service web: env: A must not contain a line break"),
    # secrets
    "secret-null": ([svc("db", secrets={"DB_PASS": None})], None, "service db: secrets: DB_PASS has no value"),
    "secret-empty": ([svc("db", secrets={"DB_PASS": ""})], None, "service db: secrets: DB_PASS has no value"),
    "secret-boolean": ([svc(secrets={"FLAG": True})], None, "service web: secrets: FLAG must be a string or number, got boolean"),
    "secret-list": ([svc(secrets={"KEY": ["hunter2"]})], None, "service web: secrets: KEY must be a string or number, got list"),
    "secret-key": ([svc(secrets={"db-pass": "hunter2"})], None, "service web: secrets: 'db-pass' is not a valid variable name"),
    "secret-also-env": ([svc(env={"TOKEN": "a"}, secrets={"TOKEN": "b"})], None, "service web: secrets: TOKEN is also set in env"),
    "secrets-not-a-mapping": ([svc(secrets="x")], None, "service web: secrets: must be a mapping, got string"),
    "secret-names-clash": ([svc(secrets={"DB_PASS": "a", "db_pass": "b"})], None,
                           "service web: secrets: db_pass becomes podman secret 'web-db-pass', already used by secret "
                           "DB_PASS of service web"),
    "secret-names-clash-across-services": (
        [svc("a-b", secrets={"C": "x"}), svc("a", secrets={"B_C": "y"})], None,
        "service a: secrets: B_C becomes podman secret 'a-b-c', already used by secret C of service a-b"),
    # volumes
    "volumes-not-a-list": ([svc(volumes={"name": "data"})], None, "service web: volumes: must be a list, got mapping"),
    "volume-not-a-mapping": ([svc(volumes=["data:/data"])], None, "service web: volumes[0]: must be a mapping, got string"),
    "volume-unknown-field": ([svc(volumes=[{"name": "d", "mount": "/d", "size": "1g"}])], None,
                             "service web: volumes[0].size: is not a known field"),
    "volume-name-missing": ([svc(volumes=[{"mount": "/d"}])], None, "service web: volumes[0].name: is required"),
    "volume-name-unsafe": ([svc(volumes=[{"name": "data", "mount": "/data"}, {"name": "Bad Name", "mount": "/b"}])], None,
                           "service web: volumes[1].name: 'Bad Name' is not a safe volume name"),
    "volume-name-leading-dot": ([svc(volumes=[{"name": ".data", "mount": "/data"}])], None,
                                "service web: volumes[0].name: '.data' is not a safe volume name"),
    "volume-name-too-long": ([svc(volumes=[{"name": "v" * 64, "mount": "/data"}])], None,
                             f"service web: volumes[0].name: '{'v' * 64}' is not a safe volume name"),
    "volume-name-duplicate": ([svc(volumes=[{"name": "data", "mount": "/a"}, {"name": "data", "mount": "/b"}])], None,
                              "service web: volumes[1].name: duplicate of volumes[0]"),
    "volume-mount-missing": ([svc(volumes=[{"name": "data"}])], None, "service web: volumes[0].mount: is required"),
    "volume-mount-relative": ([svc(volumes=[{"name": "data", "mount": "data"}])], None,
                              "service web: volumes[0].mount: 'data' is not an absolute path"),
    "volume-mount-colon": ([svc(volumes=[{"name": "data", "mount": "/data:ro"}])], None,
                           "service web: volumes[0].mount: '/data:ro' must not contain ':', ',' or whitespace"),
    "volume-mount-duplicate": ([svc(volumes=[{"name": "a", "mount": "/data"}, {"name": "b", "mount": "/data"}])], None,
                               "service web: volumes[1].mount: '/data' is already mounted by volumes[0]"),
    "volume-backup": ([svc(volumes=[{"name": "data", "mount": "/data", "backup": "yearly"}])], None,
                      "service web: volumes[0].backup: 'yearly' is not one of hourly, daily, weekly, monthly, never"),
    "volume-names-clash": ([svc("a-b", volumes=[{"name": "data", "mount": "/d"}]),
                            svc("a", volumes=[{"name": "b-data", "mount": "/d"}])], None,
                           "service a: volumes[0].name: podman volume 'a-b-data' is already used by volume data of service a-b"),
    "volume-unit-clashes-with-container": (
        [svc("a", volumes=[{"name": "data", "mount": "/d"}]), svc("a-data-volume")], None,
        "service a-data-volume: name: systemd unit 'a-data-volume.service' is already used by volume data of service a"),
    "container-unit-clashes-with-volume": (
        [svc("a-data-volume"), svc("a", volumes=[{"name": "data", "mount": "/d"}])], None,
        "service a: volumes[0].name: systemd unit 'a-data-volume.service' is already used by service a-data-volume"),
    "container-unit-clashes-with-network": ([svc("homelab-network")], None,
                                            "service homelab-network: name: systemd unit 'homelab-network.service' "
                                            "is already used by the homelab network"),
    # depends_on
    "depends-not-a-list": ([svc(depends_on="db"), svc("db")], None, "service web: depends_on: must be a list, got string"),
    "depends-not-names": ([svc(depends_on=[1])], None, "service web: depends_on: must be a string, got integer"),
    "depends-twice": ([svc(depends_on=["db", "db"]), svc("db")], None, "service web: depends_on: 'db' is listed twice"),
    "depends-unknown": ([svc(depends_on=["postgres"])], None,
                        "service web: depends_on: 'postgres' is not a service in the catalog"),
    "depends-on-itself": ([svc(depends_on=["web"])], None, "service web: depends_on: a service cannot depend on itself"),
    "depends-on-absent": ([svc(depends_on=["db"]), svc("db", state="absent")], None,
                          "service web: depends_on: 'db' has state absent"),
    # metrics
    "metrics-without-port": ([svc(metrics={})], None, "service web: metrics: needs a port"),
    "metrics-path-relative": ([svc(port=80, metrics={"path": "metrics"})], None,
                              "service web: metrics.path: 'metrics' must start with /"),
    "metrics-path-whitespace": ([svc(port=80, metrics={"path": "/a b"})], None,
                                "service web: metrics.path: '/a b' must not contain whitespace"),
    "metrics-port": ([svc(metrics={"port": 70000})], None, "service web: metrics.port: 70000 is not a port number (1-65535)"),
    "metrics-unknown-field": ([svc(port=80, metrics={"scheme": "https"})], None,
                              "service web: metrics.scheme: is not a known field"),
    "metrics-string": ([svc(port=80, metrics="/metrics")], None,
                       "service web: metrics: must be a mapping or true, got string"),
    # healthcheck
    "healthcheck-string": ([svc(healthcheck="true")], None, "service web: healthcheck: must be a mapping, got string"),
    "healthcheck-cmd-missing": ([svc(healthcheck={"interval": "5s"})], None, "service web: healthcheck.cmd: is required"),
    "healthcheck-cmd-blank": ([svc(healthcheck={"cmd": " "})], None, "service web: healthcheck.cmd: must not be empty"),
    "healthcheck-cmd-list": ([svc(healthcheck={"cmd": ["true"]})], None,
                             "service web: healthcheck.cmd: must be a string, got list"),
    "healthcheck-interval-unitless": ([svc(healthcheck={"cmd": "true", "interval": "30"})], None,
                                      "service web: healthcheck.interval: '30' is not a duration such as 30s or 1m30s"),
    "healthcheck-interval-number": ([svc(healthcheck={"cmd": "true", "interval": 30})], None,
                                    "service web: healthcheck.interval: must be a string, got integer"),
    "healthcheck-start-period": ([svc(healthcheck={"cmd": "true", "start_period": "soon"})], None,
                                 "service web: healthcheck.start_period: 'soon' is not a duration such as 30s or 1m30s"),
    "healthcheck-retries-zero": ([svc(healthcheck={"cmd": "true", "retries": 0})], None,
                                 "service web: healthcheck.retries: 0 is not a positive integer"),
    "healthcheck-retries-string": ([svc(healthcheck={"cmd": "true", "retries": "3"})], None,
                                   "service web: healthcheck.retries: must be an integer, got string"),
    "healthcheck-unknown-field": ([svc(healthcheck={"cmd": "true", "timeout": "5s"})], None,
                                  "service web: healthcheck.timeout: is not a known field"),
    # publish
    "publish-string": ([svc(publish="8080:80")], None, "service web: publish: must be a list, got string"),
    "publish-number": ([svc(publish=[8080])], None, "service web: publish[0]: must be a string, got integer"),
    "publish-no-host-port": ([svc(publish=["8080:80", "80"])], None,
                             "service web: publish[1]: '80' is not [ip:]hostPort:containerPort[/tcp|udp]"),
    "publish-protocol": ([svc(publish=["8080:80/sctp"])], None,
                         "service web: publish[0]: '8080:80/sctp' is not [ip:]hostPort:containerPort[/tcp|udp]"),
    "publish-host-port-zero": ([svc(publish=["0:80"])], None, "service web: publish[0]: 0 is not a port number (1-65535)"),
    "publish-container-port": ([svc(publish=["127.0.0.1:8080:65536"])], None,
                               "service web: publish[0]: 65536 is not a port number (1-65535)"),
    "publish-bad-ipv4": ([svc(publish=["999.1.1.1:80:80"])], None, "service web: publish[0]: '999.1.1.1' is not an IP address"),
    "publish-bad-ipv6": ([svc(publish=["[1::2::3]:80:80"])], None, "service web: publish[0]: '1::2::3' is not an IP address"),
    "publish-unbracketed-ipv6": ([svc(publish=["::1:80:80"])], None,
                                 "service web: publish[0]: '::1:80:80' is not [ip:]hostPort:containerPort[/tcp|udp]"),
    # labels
    "labels-key": ([svc(labels={"bad key": "x"})], None, "service web: labels: 'bad key' is not a valid label key"),
    "labels-reserved": ([svc(labels={"homelab.service": "other"})], None, "service web: labels: 'homelab.service' is reserved"),
    "labels-value": ([svc(labels={"tier": ["a"]})], None, "service web: labels: tier must be a string, got list"),
    "labels-newline": ([svc(labels={"tier": "a\nb"})], None, "service web: labels: tier must not contain a line break"),
    # command
    "command-empty-list": ([svc(command=[])], None, "service web: command: must not be empty"),
    "command-empty-string": ([svc(command="  ")], None, "service web: command: must not be empty"),
    "command-unbalanced-quote": ([svc(command="sh -c 'echo")], None, "service web: command: cannot be split: No closing quotation"),
    "command-mapping": ([svc(command={"sleep": 1})], None, "service web: command: must be a list, got mapping"),
    "command-item": ([svc(command=["sleep", {"s": 1}])], None, "service web: command[1]: must be a string, got mapping"),
    "command-boolean-item": ([svc(command=["run", True])], None, "service web: command[1]: must be a string, got boolean"),
    "command-newline": ([svc(command=["sh", "-c", "a\nb"])], None, "service web: command: must not contain a line break"),
    # booleans
    "auto-update-string": ([svc(auto_update="yes")], None, "service web: auto_update: must be a boolean, got string"),
    "purge-volumes-string": ([svc(state="absent", purge_volumes="yes")], None,
                             "service web: purge_volumes: must be a boolean, got string"),
    "purge-volumes-present": ([svc(purge_volumes=True)], None, "service web: purge_volumes: only applies to state absent"),
    # resources
    "resources-string": ([svc(resources="512m")], None, "service web: resources: must be a mapping, got string"),
    "resources-unknown-field": ([svc(resources={"swap": "1g"})], None, "service web: resources.swap: is not a known field"),
    "resources-memory-unit": ([svc(resources={"memory": "512MB"})], None,
                              "service web: resources.memory: '512MB' is not a size such as 512m or 2g"),
    "resources-memory-zero": ([svc(resources={"memory": "0m"})], None,
                              "service web: resources.memory: '0m' is not a size such as 512m or 2g"),
    "resources-cpus-zero": ([svc(resources={"cpus": 0})], None, "service web: resources.cpus: 0 is not a positive number"),
    "resources-cpus-negative": ([svc(resources={"cpus": -1.5})], None,
                                "service web: resources.cpus: -1.5 is not a positive number"),
    "resources-cpus-infinite": ([svc(resources={"cpus": float("inf")})], None,
                                "service web: resources.cpus: inf is not a positive number"),
    "resources-cpus-string": ([svc(resources={"cpus": "2"})], None, "service web: resources.cpus: must be a number, got string"),
    "resources-cpus-boolean": ([svc(resources={"cpus": True})], None,
                               "service web: resources.cpus: must be a number, got boolean"),
}


@pytest.mark.parametrize("services, hosts, message", ERRORS.values(), ids=ERRORS.keys())
def test_error_message(services, hosts, message):
    assert error(services, hosts) == message


def test_catalog_must_be_a_list():
    assert error({"web": svc()}) == "validate_catalog: services: must be a list of services, got mapping"


def test_name_is_checked_before_anything_else():
    assert error([{"name": "Bad", "bogus": 1}]) == "service #0: name: 'Bad' is not a valid DNS label"


def test_longest_dns_label_is_a_valid_name():
    assert one(name=LONG_LABEL)["name"] == LONG_LABEL


def test_secret_values_never_appear_in_errors():
    for secrets in ({"KEY": ["hunter2"]}, {"KEY": {"hunter2": 1}}, {"bad-key": "hunter2"}):
        assert "hunter2" not in error([svc(secrets=secrets)])


def test_generated_names_may_repeat_on_other_hosts():
    catalog = [svc("a-b", secrets={"C": "x"}, volumes=[{"name": "data", "mount": "/d"}]),
               svc("a", host="kronos", secrets={"B_C": "y"}, volumes=[{"name": "b-data", "mount": "/d"}])]
    assert len(validate_catalog(catalog, HOSTS)) == 2


def test_absent_services_may_keep_a_subdomain():
    catalog = [svc(port=80, route={"subdomain": "www"}), svc("www", state="absent", port=80, route=True)]
    assert validate_catalog(catalog, HOSTS)[1]["route"] == {"auth": "sso", "subdomain": "www", **ROUTE_DEFAULTS}


def test_depends_on_services_of_other_hosts():
    catalog = validate_catalog([svc(depends_on=["db"]), svc("db", host="kronos")], HOSTS)
    assert catalog[0]["depends_on"] == ["db"]


def test_absent_service_may_depend_on_absent_or_present_services():
    catalog = [svc("a", state="absent", depends_on=["b", "c"]), svc("b", state="absent"), svc("c")]
    assert [s["depends_on"] for s in validate_catalog(catalog, HOSTS)] == [["b", "c"], [], []]


@pytest.mark.parametrize("catalog, message", [
    ([svc(depends_on=["db"]), svc("db", depends_on=["web"])], "service web: depends_on: cycle web -> db -> web"),
    ([svc("db", depends_on=["web"]), svc(depends_on=["db"])], "service db: depends_on: cycle db -> web -> db"),
    ([svc("a", depends_on=["b"]), svc("b", depends_on=["c"]), svc("c", depends_on=["a"])],
     "service a: depends_on: cycle a -> b -> c -> a"),
    ([svc("x", depends_on=["a"]), svc("a", depends_on=["b"]), svc("b", depends_on=["c"]),
      svc("c", depends_on=["d", "a"]), svc("d")],
     "service a: depends_on: cycle a -> b -> c -> a"),
    ([svc("a", depends_on=["b"]), svc("b", host="kronos", depends_on=["a"])],
     "service a: depends_on: cycle a -> b -> a"),
    ([svc("a", state="absent", depends_on=["b"]), svc("b", state="absent", depends_on=["a"])],
     "service a: depends_on: cycle a -> b -> a"),
], ids=["two", "two-other-order", "three", "reached-from-outside", "across-hosts", "absent"])
def test_dependency_cycles_are_reported_with_their_path(catalog, message):
    assert error(catalog) == message


def test_shared_dependencies_are_not_a_cycle():
    catalog = [svc("a", depends_on=["b", "c"]), svc("b", depends_on=["d"]), svc("c", depends_on=["d"]), svc("d")]
    assert len(validate_catalog(catalog, HOSTS)) == 4


# --- host_units -----------------------------------------------------------------------


def units_of(catalog, host="jove"):
    return host_units(validate_catalog(catalog, HOSTS), host)


def container_names(units):
    return [u["name"] for u in units if u["type"] == "container"]


NETWORK_UNIT = {
    "name": "homelab",
    "type": "network",
    "unit": {"Description": "homelab.stack service network", "X-HomelabManaged": "true"},
    "spec": {"NetworkName": "homelab"},
    "service": {},
    "install": {},
}


def test_host_units_of_the_full_catalog():
    units = units_of(full_catalog())
    assert [(u["type"], u["name"]) for u in units] == [
        ("network", "homelab"),
        ("volume", "app-data"), ("volume", "app-cache"), ("volume", "app-scratch"), ("volume", "db-pgdata"),
        ("container", "db"), ("container", "app"), ("container", "whoami"),
    ]
    assert units[0] == NETWORK_UNIT
    assert units[1] == {
        "name": "app-data",
        "type": "volume",
        "unit": {"Description": "Volume data of app", "X-HomelabManaged": "true"},
        "spec": {"VolumeName": "app-data", "Label": {"homelab.service": "app"}},
        "service": {},
        "install": {},
    }
    assert units[6] == {
        "name": "app",
        "type": "container",
        "unit": {"Description": "homelab service app", "X-HomelabManaged": "true",
                 "After": ["db.service"], "Requires": ["db.service"]},
        "spec": {
            "ContainerName": "app",
            "Image": "ghcr.io/example/app:1.0",
            "Network": "homelab.network",
            "Label": {"homelab.service": "app", "traefik.enable": "true"},
            "Environment": {"LOG_LEVEL": "info", "WORKERS": "4", "DEBUG": "false"},
            "Secret": ["app-api-token,type=env,target=API_TOKEN", "app-db-pass,type=env,target=DB_PASS"],
            "Volume": ["app-data.volume:/data", "app-cache.volume:/cache", "app-scratch.volume:/scratch"],
            "PublishPort": ["127.0.0.1:8000:8000"],
            "Exec": "app serve --bind 0.0.0.0:8000 --name 'my app'",
            "AutoUpdate": "registry",
            "HealthCmd": "wget -q -O /dev/null http://127.0.0.1:8000/",
            "HealthInterval": "30s",
            "HealthRetries": 3,
            "HealthStartPeriod": "10s",
            "PodmanArgs": ["--memory=512m", "--cpus=1.5"],
        },
        "service": {"Restart": "always", "TimeoutStartSec": 900},
        "install": {"WantedBy": "multi-user.target"},
    }


def test_unit_keys_come_in_a_fixed_order():
    units = units_of(full_catalog())
    for unit in units:
        assert list(unit) == UNIT_KEYS
    app = units[6]
    assert list(app["unit"]) == ["Description", "X-HomelabManaged", "After", "Requires"]
    assert list(app["spec"]) == ["ContainerName", "Image", "Network", "Label", "Environment", "Secret", "Volume",
                                 "PublishPort", "Exec", "AutoUpdate", "HealthCmd", "HealthInterval", "HealthRetries",
                                 "HealthStartPeriod", "PodmanArgs"]
    assert list(units[1]["spec"]) == ["VolumeName", "Label"]


def test_minimal_container_leaves_optional_keys_out():
    units = units_of([svc("whoami", image="docker.io/traefik/whoami:v1.10")])
    assert units == [NETWORK_UNIT, {
        "name": "whoami",
        "type": "container",
        "unit": {"Description": "homelab service whoami", "X-HomelabManaged": "true"},
        "spec": {"ContainerName": "whoami", "Image": "docker.io/traefik/whoami:v1.10", "Network": "homelab.network",
                 "Label": {"homelab.service": "whoami"}},
        "service": {"Restart": "always", "TimeoutStartSec": 900},
        "install": {"WantedBy": "multi-user.target"},
    }]


@pytest.mark.parametrize("resources, args", [
    ({"memory": "1g"}, ["--memory=1g"]),
    ({"cpus": 2}, ["--cpus=2"]),
])
def test_podman_args_only_for_given_resources(resources, args):
    assert units_of([svc(resources=resources)])[-1]["spec"]["PodmanArgs"] == args


def test_healthcheck_keys_only_with_a_healthcheck():
    spec = units_of([svc(healthcheck={"cmd": "true", "interval": "1m", "retries": 1, "start_period": "0s"})])[-1]["spec"]
    assert {k: v for k, v in spec.items() if k.startswith("Health")} == {
        "HealthCmd": "true", "HealthInterval": "1m", "HealthRetries": 1, "HealthStartPeriod": "0s"}


def test_exec_is_quoted_for_quadlet():
    spec = units_of([svc(command=["sh", "-c", "echo 'hi' there"])])[-1]["spec"]
    assert spec["Exec"] == "sh -c 'echo '\"'\"'hi'\"'\"' there'"


def test_other_hosts_get_their_own_units():
    units = units_of(full_catalog(), "kronos")
    assert [(u["type"], u["name"]) for u in units] == [("network", "homelab"), ("volume", "auth-config"),
                                                       ("container", "auth")]
    assert "After" not in units[-1]["unit"]


@pytest.mark.parametrize("host", ["vesta", "mars"])
def test_host_without_present_services_has_no_units(host):
    assert units_of(full_catalog(), host) == []


def test_absent_services_make_no_units():
    names = [u["name"] for u in units_of(full_catalog())]
    assert not [n for n in names if n.startswith("old")]


@pytest.mark.parametrize("catalog, order", [
    ([svc("c", depends_on=["b"]), svc("b", depends_on=["a"]), svc("a")], ["a", "b", "c"]),
    ([svc("a", depends_on=["c"]), svc("b"), svc("c")], ["b", "c", "a"]),
    ([svc("b"), svc("c"), svc("a", depends_on=["c"])], ["b", "c", "a"]),
    ([svc("a", depends_on=["b", "c"]), svc("b", depends_on=["d"]), svc("c", depends_on=["d"]), svc("d")],
     ["d", "b", "c", "a"]),
    ([svc("z"), svc("y"), svc("x")], ["z", "y", "x"]),
    ([svc("a", depends_on=["r"]), svc("b"), svc("r", host="kronos")], ["a", "b"]),
], ids=["chain", "moved-after-dependency", "already-ordered", "diamond", "independent", "other-host"])
def test_containers_come_after_their_same_host_dependencies(catalog, order):
    assert container_names(units_of(catalog)) == order


def test_after_and_requires_name_same_host_dependencies_in_declared_order():
    catalog = [svc("x"), svc("y"), svc("r", host="kronos"), svc("z", depends_on=["y", "r", "x"])]
    unit = units_of(catalog)[-1]["unit"]
    assert unit["After"] == ["y.service", "x.service"]
    assert unit["Requires"] == ["y.service", "x.service"]
    assert unit["After"] is not unit["Requires"]


def test_host_units_is_deterministic_and_leaves_the_catalog_alone():
    catalog = validate_catalog(full_catalog(), HOSTS)
    before = copy.deepcopy(catalog)
    first = host_units(catalog, "jove")
    first[6]["spec"]["Environment"]["NEW"] = "1"
    first[6]["spec"]["PublishPort"].append("1:1")
    first[6]["spec"]["Label"]["new"] = "1"
    assert catalog == before
    assert json.dumps(host_units(catalog, "jove")) == json.dumps(host_units(copy.deepcopy(catalog), "jove"))


def test_host_units_refuses_a_cycle_the_validation_would_have_caught():
    catalog = validate_catalog([svc("a"), svc("b")], HOSTS)
    catalog[0]["depends_on"] = ["b"]
    catalog[1]["depends_on"] = ["a"]
    with pytest.raises(AnsibleFilterError) as info:
        host_units(catalog, "jove")
    assert info.value.message == ("host_units: catalog: services a, b depend on each other; "
                                  "pass the catalog through homelab.stack.validate_catalog first")


# --- host_secrets ---------------------------------------------------------------------


def test_host_secrets_sorted_by_name_for_present_services():
    catalog = validate_catalog(full_catalog(), HOSTS)
    assert host_secrets(catalog, "jove") == [
        {"name": "app-api-token", "value": "t0ken", "service": "app", "target": "API_TOKEN"},
        {"name": "app-db-pass", "value": "hunter2", "service": "app", "target": "DB_PASS"},
        {"name": "db-postgres-password", "value": "pw", "service": "db", "target": "POSTGRES_PASSWORD"},
    ]
    assert host_secrets(catalog, "kronos") == []


def test_host_secrets_match_the_container_secret_entries():
    catalog = validate_catalog(full_catalog(), HOSTS)
    referenced = sorted(entry for unit in host_units(catalog, "jove") for entry in unit["spec"].get("Secret", []))
    assert referenced == sorted(f"{s['name']},type=env,target={s['target']}" for s in host_secrets(catalog, "jove"))


def test_secret_names_lower_case_the_key_and_use_hyphens():
    catalog = validate_catalog([svc("vault", secrets={"ROOT_TOKEN_2": "x", "_lead": "y"})], HOSTS)
    assert [s["name"] for s in host_secrets(catalog, "jove")] == ["vault--lead", "vault-root-token-2"]


# --- routes, scrape targets, backup sets ----------------------------------------------


def test_routes_sorted_by_name_for_present_services():
    assert routes(validate_catalog(full_catalog(), HOSTS), "lab.example.com") == [
        {"name": "app", "host": "jove", "fqdn": "app.lab.example.com", "port": 8000, "auth": "sso",
         "url": "http://app:8000", **ROUTE_VIEW_DEFAULTS, "hosts": ["app.lab.example.com"]},
        {"name": "auth", "host": "kronos", "fqdn": "login.lab.example.com", "port": 9091, "auth": "none",
         "url": "http://auth:9091", **ROUTE_VIEW_DEFAULTS, "hosts": ["login.lab.example.com"]},
        {"name": "whoami", "host": "jove", "fqdn": "whoami.lab.example.com", "port": 80, "auth": "none",
         "url": "http://whoami:80", **ROUTE_VIEW_DEFAULTS, "hosts": ["whoami.lab.example.com"]},
    ]


def test_routes_accept_a_single_label_domain():
    assert routes(validate_catalog([svc(port=80, route=True)], HOSTS), "lan")[0]["fqdn"] == "web.lan"


@pytest.mark.parametrize("domain, message", [
    ("Lab.Example.com", "routes: domain: 'Lab.Example.com' is not a valid DNS name"),
    ("lab.example.com.", "routes: domain: 'lab.example.com.' is not a valid DNS name"),
    ("lab..com", "routes: domain: 'lab..com' is not a valid DNS name"),
    ("", "routes: domain: '' is not a valid DNS name"),
    ("-lab.com", "routes: domain: '-lab.com' is not a valid DNS name"),
    (".".join(["a" * 63] * 4), f"routes: domain: '{'.'.join(['a' * 63] * 4)}' is not a valid DNS name"),
    (None, "routes: domain: must be a string, got null"),
    (5, "routes: domain: must be a string, got integer"),
])
def test_routes_refuse_a_bad_domain(domain, message):
    with pytest.raises(AnsibleFilterError) as info:
        routes([], domain)
    assert info.value.message == message


def test_scrape_targets_sorted_by_job_for_present_services():
    assert scrape_targets(validate_catalog(full_catalog(), HOSTS)) == [
        {"job": "app", "host": "jove", "port": 8000, "path": "/stats"},
        {"job": "auth", "host": "kronos", "port": 9959, "path": "/metrics"},
    ]


def test_backup_sets_sorted_by_host_service_volume():
    volumes = [{"name": "z", "mount": "/z", "backup": "daily"}, {"name": "a", "mount": "/a", "backup": "daily"}]
    catalog = full_catalog() + [svc("aardvark", host="kronos", volumes=volumes)]
    assert backup_sets(validate_catalog(catalog, HOSTS)) == [
        backup_set("app", "jove", "app-cache", "/cache", "weekly"),
        backup_set("app", "jove", "app-data", "/data", "daily"),
        backup_set("db", "jove", "db-pgdata", "/var/lib/postgresql/data", "weekly"),
        backup_set("aardvark", "kronos", "aardvark-a", "/a", "daily"),
        backup_set("aardvark", "kronos", "aardvark-z", "/z", "daily"),
        backup_set("auth", "kronos", "auth-config", "/config", "monthly"),
    ]


@pytest.mark.parametrize("view", [scrape_targets, backup_sets])
def test_views_of_an_empty_catalog_are_empty(view):
    assert view([]) == []


def test_host_views_of_an_empty_catalog_are_empty():
    assert host_units([], "jove") == []
    assert host_secrets([], "jove") == []
    assert routes([], "lab.example.com") == []


# --- views need a normalised catalog ---------------------------------------------------


VIEW_CALLS = {
    "host_units": lambda catalog: host_units(catalog, "jove"),
    "host_secrets": lambda catalog: host_secrets(catalog, "jove"),
    "routes": lambda catalog: routes(catalog, "lab.example.com"),
    "scrape_targets": scrape_targets,
    "backup_sets": backup_sets,
    "monitoring_targets": lambda catalog: monitoring_targets(catalog, {"jove": "100.64.0.10"}, "lab.example.com"),
}


@pytest.mark.parametrize("name", sorted(VIEW_CALLS))
def test_views_refuse_a_raw_catalog(name):
    with pytest.raises(AnsibleFilterError) as info:
        VIEW_CALLS[name]([svc()])
    assert info.value.message == (f"{name}: catalog: item #0 is not a normalised service; "
                                  "pass the catalog through homelab.stack.validate_catalog first")


@pytest.mark.parametrize("name", sorted(VIEW_CALLS))
def test_views_refuse_a_non_list(name):
    with pytest.raises(AnsibleFilterError) as info:
        VIEW_CALLS[name]({"web": svc()})
    assert info.value.message == f"{name}: catalog: must be a list of services, got mapping"


@pytest.mark.parametrize("view", [host_units, host_secrets], ids=["host_units", "host_secrets"])
def test_host_views_need_a_host_name(view):
    with pytest.raises(AnsibleFilterError) as info:
        view([], ["jove"])
    assert info.value.message == f"{view.__name__}: host: must be a string, got list"


# --- through Ansible ------------------------------------------------------------------


PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  vars:
    homelab_services:
      - name: app
        host: localhost
        image: ghcr.io/example/app:1.0
        port: 8000
        route: {auth: none}
        env: {WORKERS: "{{ 2 * 2 }}", DEBUG: false}
        secrets: {DB_PASS: hunter2}
        volumes: [{name: data, mount: /data, backup: daily}]
        depends_on: [db]
        metrics: {}
      - name: db
        host: localhost
        image: docker.io/library/postgres:16
    catalog: "{{ homelab_services | homelab.stack.validate_catalog(groups['all']) }}"
  tasks:
    - name: Write the views
      ansible.builtin.copy:
        dest: "{{ out }}"
        mode: "0600"
        content: >-
          {{ {'catalog': catalog,
              'units': catalog | homelab.stack.host_units(inventory_hostname),
              'secrets': catalog | homelab.stack.host_secrets(inventory_hostname),
              'routes': catalog | homelab.stack.routes('lab.example.com'),
              'targets': catalog | homelab.stack.scrape_targets,
              'backups': catalog | homelab.stack.backup_sets,
              'monitoring': catalog | homelab.stack.monitoring_targets({'localhost': '127.0.0.1'},
                                                                       'lab.example.com')} | to_json }}
"""


def test_filters_run_in_a_playbook(tmp_path):
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    out = tmp_path / "views.json"
    ansible_playbook = pathlib.Path(sys.executable).parent / "ansible-playbook"
    result = subprocess.run(
        [str(ansible_playbook), "-i", "localhost,", "-c", "local", "-e", f"out={out}",
         "-e", f"ansible_python_interpreter={sys.executable}", str(tmp_path / "play.yml")],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    views = json.loads(out.read_text())
    assert views["catalog"][0]["env"] == {"WORKERS": "4", "DEBUG": "false"}
    assert list(views["catalog"][0]) == FIELDS
    assert [(u["type"], u["name"]) for u in views["units"]] == [
        ("network", "homelab"), ("volume", "app-data"), ("container", "db"), ("container", "app")]
    assert list(views["units"][-1]["spec"]) == ["ContainerName", "Image", "Network", "Label", "Environment", "Secret",
                                                "Volume"]
    assert views["units"][-1]["unit"]["After"] == ["db.service"]
    assert views["secrets"] == [{"name": "app-db-pass", "value": "hunter2", "service": "app", "target": "DB_PASS"}]
    assert views["routes"] == [{"name": "app", "host": "localhost", "fqdn": "app.lab.example.com", "port": 8000,
                                "auth": "none", "url": "http://app:8000", **ROUTE_VIEW_DEFAULTS,
                                "hosts": ["app.lab.example.com"]}]
    assert views["targets"] == [{"job": "app", "host": "localhost", "port": 8000, "path": "/metrics"}]
    assert views["backups"] == [backup_set("app", "localhost", "app-data", "/data", "daily")]
    assert views["monitoring"]["prometheus_host"] is None
    assert [job["job"] for job in views["monitoring"]["jobs"]] == ["app", "node"]
    assert views["monitoring"]["probes"][0] == {"module": "http_2xx", "target": "https://app.lab.example.com/",
                                                "labels": {"instance": "https://app.lab.example.com/",
                                                           "service": "app", "auth": "none", "probe": "route"}}

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared PostgreSQL: the postgres kind, a service's database field, and the views the
databases role and an app's unit read."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.filter import database_client as database_client_plugin
from ansible_collections.homelab.stack.plugins.filter import database_server as database_server_plugin
from ansible_collections.homelab.stack.plugins.filter import host_secrets as host_secrets_plugin
from ansible_collections.homelab.stack.plugins.filter import host_units as host_units_plugin
from ansible_collections.homelab.stack.plugins.filter import validate_catalog as validate_catalog_plugin
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import postgres
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.backup_view import backup_client

validate_catalog = validate_catalog_plugin.FilterModule().filters()["validate_catalog"]
host_units = host_units_plugin.FilterModule().filters()["host_units"]
host_secrets = host_secrets_plugin.FilterModule().filters()["host_secrets"]
database_server = database_server_plugin.FilterModule().filters()["database_server"]
database_client = database_client_plugin.FilterModule().filters()["database_client"]

HOSTS = ["jove", "kronos"]
ADDRESSES = {"jove": "100.64.0.10", "kronos": "100.64.0.11"}
SUPERUSER_PASSWORD = "superuser-secret-value"
SERVER = {"name": "postgres", "host": "kronos", "platform": "postgres",
          "secrets": {"POSTGRES_PASSWORD": SUPERUSER_PASSWORD}}


def app(name="wiki", host="jove", **fields):
    return {"name": name, "host": host, "image": "docker.io/library/busybox:1.37",
            "database": fields.pop("database", {"server": "postgres"}), **fields}


def error(services):
    with pytest.raises(AnsibleFilterError) as info:
        validate_catalog(services, HOSTS)
    return info.value.message


def container(catalog, host, name, address=None, addresses=None):
    return next(unit for unit in host_units(catalog, host, address, addresses=addresses)
                if unit["type"] == "container" and unit["name"] == name)


# --- the postgres kind ---------------------------------------------------------------------------


def test_a_server_gets_the_official_image_a_dumped_volume_a_health_check_and_its_socket_on_the_host():
    [server] = validate_catalog([SERVER], HOSTS)
    assert server["image"] == "docker.io/library/postgres:17"
    assert server["port"] == 5432
    assert server["volumes"] == [{"name": "data", "mount": "/var/lib/postgresql/data",
                                  "backup": {"schedule": "hourly", "keep": {"hourly": 72}, "dump": "postgres",
                                             "pause": False}}]
    assert server["mounts"] == [{"source": "/var/lib/homelab/postgres/socket", "target": "/var/run/postgresql",
                                 "readonly": False}]
    assert server["healthcheck"]["cmd"] == "pg_isready -q -h /var/run/postgresql"


def test_a_server_without_an_app_elsewhere_publishes_nothing():
    catalog = validate_catalog([SERVER, app(host="kronos")], HOSTS)
    assert "PublishPort" not in container(catalog, "kronos", "postgres", "100.64.0.11")["spec"]


def test_a_server_publishes_on_its_mesh_address_only_when_an_app_of_another_host_uses_it():
    catalog = validate_catalog([SERVER, app()], HOSTS)
    assert container(catalog, "kronos", "postgres", "100.64.0.11")["spec"]["PublishPort"] == ["100.64.0.11:5432:5432"]
    absent = validate_catalog([SERVER, app(state="absent")], HOSTS)
    assert "PublishPort" not in container(absent, "kronos", "postgres", "100.64.0.11")["spec"]


def test_a_published_server_port_collides_with_another_binding_of_its_host():
    message = error([SERVER, app(), {"name": "other", "host": "kronos", "image": "x", "publish": ["5432:5432"]}])
    assert message.startswith("service other: publish[0]:") and "5432/tcp" in message


def test_a_server_needs_its_superuser_password():
    assert error([{"name": "postgres", "host": "kronos", "platform": "postgres"}]) == (
        "service postgres: secrets: platform postgres needs POSTGRES_PASSWORD (from a vault)")


def test_one_server_per_host_but_one_on_each_host_is_fine():
    second = dict(SERVER, name="postgres-2")
    assert error([SERVER, second]).startswith("service postgres-2: platform: host kronos already runs postgres postgres")
    assert len(validate_catalog([SERVER, dict(second, host="jove")], HOSTS)) == 2


def test_a_server_listens_on_its_port_and_dumps_its_data():
    assert error([dict(SERVER, port=5433)]) == "service postgres: port: must be 5432, where platform postgres listens"
    copied = dict(SERVER, volumes=[{"name": "data", "mount": "/var/lib/postgresql/data", "backup": "daily"}])
    assert error([copied]).startswith("service postgres: volumes[0].backup.dump: must be postgres:")


# --- the database field --------------------------------------------------------------------------


def test_name_and_user_default_to_the_service_name_made_a_postgresql_name():
    catalog = validate_catalog([SERVER, app(name="wiki-js"), app(name="2fa")], HOSTS)
    assert catalog[1]["database"] == {"server": "postgres", "name": "wiki_js", "user": "wiki_js",
                                      "env_prefix": "DATABASE"}
    assert catalog[2]["database"]["name"] == "_2fa"
    unset = validate_catalog([SERVER, app(database={"server": "postgres", "name": None, "env_prefix": None})], HOSTS)
    assert unset[1]["database"] == {"server": "postgres", "name": "wiki", "user": "wiki", "env_prefix": "DATABASE"}


def test_normalising_a_normalised_catalog_changes_nothing():
    catalog = validate_catalog([SERVER, app(), app(name="local", host="kronos")], HOSTS)
    assert validate_catalog(catalog, HOSTS) == catalog


@pytest.mark.parametrize("database, message", [
    ("postgres", "database: must be a mapping with a server, got string"),
    ({}, "database.server: is required (the name of a platform postgres service)"),
    ({"server": 5}, "database.server: must be a string, got integer"),
    ({"server": "mysql"}, "database.server: 'mysql' is not a service in the catalog"),
    ({"server": "web"}, "database.server: 'web' is not a PostgreSQL service of the catalog (platform postgres)"),
    ({"server": "postgres", "port": 5432}, "database.port: is not a known field"),
    ({"server": "postgres", "name": "Wiki"}, "database.name: 'Wiki' is not a PostgreSQL name"),
    ({"server": "postgres", "name": "wiki-db"}, "database.name: 'wiki-db' is not a PostgreSQL name"),
    ({"server": "postgres", "name": "x" * 64}, "database.name: '" + "x" * 64 + "' is not a PostgreSQL name"),
    ({"server": "postgres", "name": 3}, "database.name: must be a string, got integer"),
    ({"server": "postgres", "name": "template1"}, "database.name: 'template1' is one of the server's own databases"),
    ({"server": "postgres", "user": "pg_monitor"}, "database.user: 'pg_monitor': PostgreSQL reserves role names"),
    ({"server": "postgres", "user": "postgres"}, "database.user: 'postgres' is the superuser of postgres"),
    ({"server": "postgres", "user": "1st"}, "database.user: '1st' is not a PostgreSQL name"),
    ({"server": "postgres", "env_prefix": "db"}, "database.env_prefix: 'db' is not an upper-case variable prefix"),
    ({"server": "postgres", "env_prefix": 1}, "database.env_prefix: must be a string, got integer"),
])
def test_a_bad_database_field_is_named(database, message):
    web = {"name": "web", "host": "jove", "image": "x"}
    assert error([SERVER, web, app(database=database)]).startswith(f"service wiki: {message}")


def test_the_server_must_be_present_when_the_app_is():
    assert error([dict(SERVER, state="absent"), app()]) == "service wiki: database.server: 'postgres' has state absent"


def test_a_server_is_not_a_client():
    assert error([dict(SERVER, database={"server": "postgres"})]) == (
        "service postgres: database: a platform postgres service is a server, not a client")


def test_two_apps_of_one_server_cannot_share_a_database_or_a_role():
    assert error([SERVER, app(), app(name="other", database={"server": "postgres", "name": "wiki"})]) == (
        "service other: database.name: 'wiki' is already service wiki's on postgres")
    assert error([SERVER, app(), app(name="other", database={"server": "postgres", "user": "wiki"})]) == (
        "service other: database.user: 'wiki' is already service wiki's on postgres")


def test_the_apps_own_env_cannot_take_the_names_the_database_gives():
    assert error([SERVER, app(env={"DATABASE_HOST": "x"})]).startswith(
        "service wiki: env: DATABASE_HOST is given by database")
    assert error([SERVER, app(env={"DATABASE_PASSWORD": "x"})]) == (
        "service wiki: env: DATABASE_PASSWORD is the database password, given as a Podman secret")
    catalog = validate_catalog([SERVER, app(env={"DATABASE_HOST": "x"},
                                            database={"server": "postgres", "env_prefix": "WIKI_DB"})], HOSTS)
    assert catalog[1]["env"] == {"DATABASE_HOST": "x"}


# --- the password ----------------------------------------------------------------------------------


def test_the_password_is_derived_stable_distinct_per_app_and_changes_with_the_superusers():
    first = validate_catalog([SERVER, app(), app(name="other")], HOSTS)
    again = validate_catalog([SERVER, app(), app(name="other")], HOSTS)
    password = first[1]["secrets"]["DATABASE_PASSWORD"]
    assert len(password) == 64 and password == again[1]["secrets"]["DATABASE_PASSWORD"]
    assert password != first[2]["secrets"]["DATABASE_PASSWORD"]
    assert SUPERUSER_PASSWORD not in password
    rotated = dict(SERVER, secrets={"POSTGRES_PASSWORD": "another"})
    assert validate_catalog([rotated, app()], HOSTS)[1]["secrets"]["DATABASE_PASSWORD"] != password


def test_an_app_may_pin_its_own_password():
    catalog = validate_catalog([SERVER, app(secrets={"DATABASE_PASSWORD": "pinned"})], HOSTS)
    assert catalog[1]["secrets"]["DATABASE_PASSWORD"] == "pinned"
    assert database_server(catalog, "kronos")["databases"][0]["password"] == "pinned"


def test_the_password_reaches_the_app_as_a_podman_secret_never_in_its_unit():
    catalog = validate_catalog([SERVER, app()], HOSTS)
    password = catalog[1]["secrets"]["DATABASE_PASSWORD"]
    [secret] = host_secrets(catalog, "jove")
    assert secret == {"name": "wiki-database-password", "value": password, "service": "wiki",
                      "target": "DATABASE_PASSWORD"}
    unit = container(catalog, "jove", "wiki", "100.64.0.10", ADDRESSES)
    assert "wiki-database-password,type=env,target=DATABASE_PASSWORD" in unit["spec"]["Secret"]
    assert password not in repr(unit) and SUPERUSER_PASSWORD not in repr(unit)


# --- the views ---------------------------------------------------------------------------------------


def test_an_app_on_another_host_reaches_the_servers_mesh_address():
    catalog = validate_catalog([SERVER, app(name="wiki-js")], HOSTS)
    assert database_client(catalog, "wiki-js", ADDRESSES) == {
        "server": "postgres", "server_host": "kronos", "host": "100.64.0.11", "port": 5432, "name": "wiki_js",
        "user": "wiki_js",
        "env": {"DATABASE_HOST": "100.64.0.11", "DATABASE_PORT": "5432", "DATABASE_NAME": "wiki_js",
                "DATABASE_USER": "wiki_js"},
        "password_secret": {"name": "wiki-js-database-password", "target": "DATABASE_PASSWORD"}}
    unit = container(catalog, "jove", "wiki-js", "100.64.0.10", ADDRESSES)
    assert unit["spec"]["Environment"] == database_client(catalog, "wiki-js", ADDRESSES)["env"]
    # Another host: the services layer orders hosts by depends_on only, which the app does not get.
    assert catalog[1]["depends_on"] == [] and "After" not in unit["unit"]


def test_an_app_on_the_servers_host_reaches_its_container_by_name_and_starts_after_it():
    catalog = validate_catalog([SERVER, app(host="kronos", env={"A": "1"},
                                            database={"server": "postgres", "env_prefix": "PG"})], HOSTS)
    view = database_client(catalog, "wiki")
    assert view["host"] == "postgres"
    unit = container(catalog, "kronos", "wiki")
    assert unit["spec"]["Environment"] == {"A": "1", "PG_HOST": "postgres", "PG_PORT": "5432", "PG_NAME": "wiki",
                                           "PG_USER": "wiki"}
    assert "wiki-pg-password,type=env,target=PG_PASSWORD" in unit["spec"]["Secret"]
    assert unit["unit"]["After"] == ["postgres.service"]


def test_an_app_on_another_host_needs_the_servers_mesh_address():
    catalog = validate_catalog([SERVER, app()], HOSTS)
    for call in (lambda: database_client(catalog, "wiki", {"jove": "100.64.0.10"}),
                 lambda: host_units(catalog, "jove", "100.64.0.10")):
        with pytest.raises(AnsibleFilterError, match="addresses: no mesh address for host kronos"):
            call()


def test_database_client_of_a_service_without_a_database_or_outside_the_catalog():
    catalog = validate_catalog([SERVER, app()], HOSTS)
    assert database_client(catalog, "postgres", ADDRESSES) is None
    with pytest.raises(AnsibleFilterError, match="database_client: service: 'nope' is not a service of the catalog"):
        database_client(catalog, "nope", ADDRESSES)
    with pytest.raises(AnsibleFilterError, match="database_client: service: must be a service name, got integer"):
        database_client(catalog, 3, ADDRESSES)


def test_database_server_lists_the_present_apps_of_the_hosts_server():
    catalog = validate_catalog([SERVER, app(name="wiki-js"), app(name="gone", state="absent"),
                                app(name="books", host="kronos", database={"server": "postgres", "user": "reader"})],
                               HOSTS)
    view = database_server(catalog, "kronos")
    passwords = {service["name"]: service["secrets"].get("DATABASE_PASSWORD") for service in catalog}
    assert view == {"service": "postgres", "superuser": "postgres", "socket_dir": "/var/lib/homelab/postgres/socket",
                    "port": 5432,
                    "databases": [{"client": "books", "name": "books", "user": "reader", "password": passwords["books"]},
                                  {"client": "wiki-js", "name": "wiki_js", "user": "wiki_js",
                                   "password": passwords["wiki-js"]}]}
    assert database_server(catalog, "jove") is None


def test_database_server_uses_the_servers_superuser_and_socket_mount():
    server = dict(SERVER, env={"POSTGRES_USER": "admin"},
                  mounts=[{"source": "/srv/pg-socket", "target": "/var/run/postgresql"}])
    view = database_server(validate_catalog([server], HOSTS), "kronos")
    assert (view["superuser"], view["socket_dir"]) == ("admin", "/srv/pg-socket")
    moved = dict(SERVER, mounts=[{"source": "/srv/elsewhere", "target": "/run/other"}])
    with pytest.raises(AnsibleFilterError, match="service postgres: mounts: nothing is mounted at /var/run/postgresql"):
        database_server(validate_catalog([moved], HOSTS), "kronos")


def test_the_backup_layer_dumps_the_servers_data_as_its_superuser():
    catalog = validate_catalog([SERVER], HOSTS)
    [volume] = backup_client(catalog, "kronos", {"jove": "a", "kronos": "b"}, ADDRESSES)["services"]["postgres"]["volumes"]
    assert volume["dump"] == "postgres"
    assert volume["dump_command"] == ["podman", "exec", "postgres", "pg_dumpall", "--clean", "--if-exists", "-U",
                                      "postgres"]


def test_the_password_function_is_an_hmac_of_both_names():
    assert postgres.password("k", "postgres", "wiki") != postgres.password("k", "postgres", "wiki2")
    assert postgres.password("k", "pg-a", "wiki") != postgres.password("k", "pg-b", "wiki")

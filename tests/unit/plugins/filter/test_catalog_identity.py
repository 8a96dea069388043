# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The identity provider in the catalog: one ``platform: authentik`` entry becomes server,
worker and PostgreSQL; OIDC clients get their id and secret; the edge finds the outpost."""

from __future__ import annotations

import re

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.filter import backup_sets as backup_sets_plugin
from ansible_collections.homelab.stack.plugins.filter import host_secrets as host_secrets_plugin
from ansible_collections.homelab.stack.plugins.filter import host_units as host_units_plugin
from ansible_collections.homelab.stack.plugins.filter import platform_service as platform_service_plugin
from ansible_collections.homelab.stack.plugins.filter import sso_outpost_url as sso_outpost_url_plugin
from ansible_collections.homelab.stack.plugins.filter import validate_catalog as validate_catalog_plugin
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import identity
from catalog_entry import BACKUP, backup_set

validate_catalog = validate_catalog_plugin.FilterModule().filters()["validate_catalog"]
host_units = host_units_plugin.FilterModule().filters()["host_units"]
host_secrets = host_secrets_plugin.FilterModule().filters()["host_secrets"]
backup_sets = backup_sets_plugin.FilterModule().filters()["backup_sets"]
platform_service = platform_service_plugin.FilterModule().filters()["platform_service"]
sso_outpost_url = sso_outpost_url_plugin.FilterModule().filters()["sso_outpost_url"]

HOSTS = ["jove", "kronos"]
SECRETS = {"AUTHENTIK_SECRET_KEY": "key-0", "AUTHENTIK_BOOTSTRAP_PASSWORD": "admin-pw",
           "AUTHENTIK_BOOTSTRAP_TOKEN": "admin-token", "AUTHENTIK_POSTGRESQL__PASSWORD": "db-pw"}
AUTHENTIK = {"name": "authentik", "host": "jove", "platform": "authentik", "secrets": SECRETS}
GRAFANA = {"name": "grafana", "host": "kronos", "image": "docker.io/grafana/grafana:12.0.0", "port": 3000,
           "route": {"auth": "none"}, "oidc": {"redirect_paths": ["/login/generic_oauth"]}}


def catalog(*entries, edge="jove"):
    return validate_catalog(list(entries), HOSTS, edge=edge)


def by_name(services):
    return {service["name"]: service for service in services}


def error(*entries, edge="jove"):
    with pytest.raises(AnsibleFilterError) as info:
        catalog(*entries, edge=edge)
    return info.value.message


def test_one_entry_becomes_server_worker_and_database():
    services = catalog(AUTHENTIK)
    assert [(s["name"], s["platform"]) for s in services] == [
        ("authentik", "authentik"), ("authentik-worker", "authentik_worker"),
        ("authentik-postgresql", "authentik_postgresql")]
    server, worker, database = services
    assert server["image"] == worker["image"] == identity.IMAGE
    assert (server["command"], worker["command"]) == (["server"], ["worker"])
    assert server["port"] == 9000 and server["route"]["auth"] == "none" and server["route"]["subdomain"] == "authentik"
    assert server["depends_on"] == worker["depends_on"] == ["authentik-postgresql"]
    assert server["env"] == worker["env"] == {"AUTHENTIK_POSTGRESQL__HOST": "authentik-postgresql",
                                              "AUTHENTIK_POSTGRESQL__USER": "authentik",
                                              "AUTHENTIK_POSTGRESQL__NAME": "authentik"}
    assert server["healthcheck"]["cmd"] == worker["healthcheck"]["cmd"] == "ak healthcheck"
    assert {"source": "/etc/homelab/authentik/blueprints", "target": "/blueprints/custom",
            "readonly": True} in worker["mounts"]
    assert database["image"] == "docker.io/library/postgres:16-alpine"
    assert database["volumes"] == [{"name": "data", "mount": "/var/lib/postgresql/data", "backup": BACKUP["daily"]}]
    assert database["env"] == {"POSTGRES_USER": "authentik", "POSTGRES_DB": "authentik"}
    assert database["healthcheck"]["cmd"] == "pg_isready -d authentik -U authentik"


def test_each_part_gets_only_the_secrets_it_reads():
    server, worker, database = catalog(AUTHENTIK)
    assert server["secrets"] == SECRETS
    assert worker["secrets"] == SECRETS
    assert database["secrets"] == {"POSTGRES_PASSWORD": "db-pw"}
    # Podman secrets, referred to by the units, never values in them.
    units = host_units(catalog(AUTHENTIK), "jove")
    text = repr(units)
    assert not any(value in text for value in SECRETS.values())
    worker_unit = next(unit for unit in units if unit["name"] == "authentik-worker")
    assert "authentik-worker-authentik-bootstrap-token,type=env,target=AUTHENTIK_BOOTSTRAP_TOKEN" in \
        worker_unit["spec"]["Secret"]
    assert "authentik-postgresql-postgres-password" in [s["name"] for s in host_secrets(catalog(AUTHENTIK), "jove")]


def test_the_database_starts_first_and_its_data_is_backed_up():
    units = host_units(catalog(AUTHENTIK), "jove")
    containers = [unit["name"] for unit in units if unit["type"] == "container"]
    assert containers == ["authentik-postgresql", "authentik", "authentik-worker"]
    assert units[-1]["unit"]["Requires"] == ["authentik-postgresql.service"]
    assert backup_sets(catalog(AUTHENTIK)) == [backup_set("authentik-postgresql", "jove", "authentik-postgresql-data",
                                                          "/var/lib/postgresql/data", "daily")]


def test_a_normalised_catalog_normalises_to_itself():
    services = catalog(AUTHENTIK, GRAFANA)
    assert catalog(*services) == services


def test_the_users_fields_win_and_the_image_is_one_version():
    services = by_name(catalog(dict(AUTHENTIK, image="registry.lan/goauthentik/server:2025.12.3",
                                    env={"AUTHENTIK_EMAIL__HOST": "mail.lan"})))
    assert services["authentik-worker"]["image"] == "registry.lan/goauthentik/server:2025.12.3"
    assert services["authentik-worker"]["env"]["AUTHENTIK_EMAIL__HOST"] == "mail.lan"
    assert services["authentik"]["env"]["AUTHENTIK_POSTGRESQL__HOST"] == "authentik-postgresql"


def test_a_declared_part_changes_the_made_one():
    services = by_name(catalog(AUTHENTIK, {"name": "authentik-postgresql", "platform": "authentik_postgresql",
                                           "resources": {"memory": "1g"}, "image": "docker.io/library/postgres:17"}))
    database = services["authentik-postgresql"]
    assert database["resources"] == {"memory": "1g"} and database["image"] == "docker.io/library/postgres:17"
    assert database["secrets"] == {"POSTGRES_PASSWORD": "db-pw"} and database["volumes"][0]["backup"] == BACKUP["daily"]
    assert len(services) == 3


@pytest.mark.parametrize(("entries", "message"), [
    ((dict(AUTHENTIK, secrets={k: v for k, v in SECRETS.items() if k != "AUTHENTIK_BOOTSTRAP_TOKEN"}),),
     "service authentik: secrets: platform authentik needs AUTHENTIK_BOOTSTRAP_TOKEN (from a vault)"),
    ((dict(AUTHENTIK, route={"auth": "sso"}),), "service authentik: route: platform authentik needs a route with auth"
                                                " none"),
    ((dict(AUTHENTIK, route=False),), "service authentik: route: platform authentik needs a route with auth none"),
    ((dict(AUTHENTIK, image="ghcr.io/goauthentik/server:2025.8.4"),),
     "service authentik: image: 'ghcr.io/goauthentik/server:2025.8.4' is older than Authentik 2025.10"),
    ((AUTHENTIK, {"name": "authentik-postgresql", "platform": "authentik_postgresql",
                  "image": "docker.io/library/postgres:13-alpine"}),
     "service authentik-postgresql: image: 'docker.io/library/postgres:13-alpine': Authentik needs PostgreSQL 14"),
    ((AUTHENTIK, {"name": "authentik-worker", "platform": "authentik_worker", "image": "ghcr.io/goauthentik/server:2026.5.5"}),
     "service authentik-worker: image: must be the image of service authentik"),
    ((AUTHENTIK, {"name": "authentik-worker", "platform": "authentik_worker", "host": "kronos"}),
     "service authentik-worker: host: runs beside service authentik on jove"),
    ((AUTHENTIK, {"name": "authentik-worker", "host": "jove", "image": "x/y:1"}),
     "service authentik-worker: name: is made by platform authentik of service authentik"),
    (({"name": "idp-worker", "host": "jove", "platform": "authentik_worker"},),
     "service idp-worker: platform: 'authentik_worker' is made by a platform authentik entry"),
    ((AUTHENTIK, dict(AUTHENTIK, name="sso")), "service sso: platform: 'authentik' is already service authentik"),
    ((AUTHENTIK, dict(GRAFANA, env={"OIDC_CLIENT_ID": "other"})),
     "service grafana: env: OIDC_CLIENT_ID is the OIDC client id, which is the service name (grafana)"),
    ((dict(AUTHENTIK, secrets="nope"),), "service authentik: secrets: must be a mapping, got string"),
])
def test_a_wrong_shape_is_refused_naming_service_and_field(entries, message):
    assert error(*entries).startswith(message)


def test_an_oidc_service_and_the_worker_share_the_client_secret():
    services = by_name(catalog(AUTHENTIK, GRAFANA))
    grafana, worker = services["grafana"], services["authentik-worker"]
    assert grafana["env"]["OIDC_CLIENT_ID"] == "grafana"
    secret = grafana["secrets"]["OIDC_CLIENT_SECRET"]
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    assert worker["secrets"]["HOMELAB_OIDC_GRAFANA_SECRET"] == secret
    # The same on every run, another for another key or service, never the key itself.
    assert by_name(catalog(AUTHENTIK, GRAFANA))["grafana"]["secrets"]["OIDC_CLIENT_SECRET"] == secret
    other_key = dict(AUTHENTIK, secrets=dict(SECRETS, AUTHENTIK_SECRET_KEY="key-1"))
    assert by_name(catalog(other_key, GRAFANA))["grafana"]["secrets"]["OIDC_CLIENT_SECRET"] != secret
    assert by_name(catalog(AUTHENTIK, dict(GRAFANA, name="wiki")))["wiki"]["secrets"]["OIDC_CLIENT_SECRET"] != secret
    assert "key-0" not in secret


def test_a_client_secret_of_the_services_own_is_kept_and_given_to_the_worker():
    services = by_name(catalog(AUTHENTIK, dict(GRAFANA, secrets={"OIDC_CLIENT_SECRET": "from-my-vault"})))
    assert services["grafana"]["secrets"]["OIDC_CLIENT_SECRET"] == "from-my-vault"
    assert services["authentik-worker"]["secrets"]["HOMELAB_OIDC_GRAFANA_SECRET"] == "from-my-vault"


def test_without_an_identity_provider_oidc_services_are_left_alone():
    grafana = catalog(GRAFANA)[0]
    assert grafana["env"] == {} and grafana["secrets"] == {}


def test_a_removed_oidc_service_leaves_the_worker():
    services = catalog(AUTHENTIK, GRAFANA)
    without = catalog(*[service for service in services if service["name"] != "grafana"])
    assert "HOMELAB_OIDC_GRAFANA_SECRET" not in by_name(without)["authentik-worker"]["secrets"]


def test_the_edge_reaches_the_outpost_like_a_route():
    assert sso_outpost_url(catalog(AUTHENTIK)) == "http://authentik:9000"
    elsewhere = catalog(dict(AUTHENTIK, host="kronos"))
    assert sso_outpost_url(elsewhere, {"jove": "100.64.0.10", "kronos": "100.64.0.11"}) == "http://100.64.0.11:9000"
    # Published on kronos's mesh address only, for the edge.
    server = host_units(elsewhere, "kronos", "100.64.0.11")[-2]
    assert server["name"] == "authentik" and server["spec"]["PublishPort"] == ["100.64.0.11:9000:9000"]


def test_without_an_identity_provider_sso_fails_closed():
    assert sso_outpost_url(catalog(GRAFANA)) == "http://identity-provider.invalid"
    absent = catalog(dict(AUTHENTIK, state="absent"))
    assert sso_outpost_url(absent) == "http://identity-provider.invalid"
    with pytest.raises(AnsibleFilterError, match=re.escape("sso_outpost_url: addresses: must be a mapping")):
        sso_outpost_url(catalog(AUTHENTIK), ["jove"])


def test_the_role_finds_its_directories():
    services = catalog(AUTHENTIK)
    assert platform_service(services, "authentik") == {
        "name": "authentik", "host": "jove", "image": identity.IMAGE, "host_dir": "/var/lib/homelab/authentik",
        "secrets": sorted(SECRETS), "config_dir": "/data", "port": 9000}
    assert platform_service(services, "authentik_worker")["host_dir"] == "/etc/homelab/authentik/blueprints"

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The semaphore kind: Semaphore UI as a catalog entry (its defaults, the user's fields
over them, the required secrets, the route), and the semaphore_api view the role reads."""

from __future__ import annotations

import re

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.filter import backup_sets as backup_sets_plugin
from ansible_collections.homelab.stack.plugins.filter import host_secrets as host_secrets_plugin
from ansible_collections.homelab.stack.plugins.filter import host_units as host_units_plugin
from ansible_collections.homelab.stack.plugins.filter import routes as routes_plugin
from ansible_collections.homelab.stack.plugins.filter import semaphore_api as semaphore_api_plugin
from ansible_collections.homelab.stack.plugins.filter import validate_catalog as validate_catalog_plugin

validate_catalog = validate_catalog_plugin.FilterModule().filters()["validate_catalog"]
host_units = host_units_plugin.FilterModule().filters()["host_units"]
host_secrets = host_secrets_plugin.FilterModule().filters()["host_secrets"]
routes = routes_plugin.FilterModule().filters()["routes"]
backup_sets = backup_sets_plugin.FilterModule().filters()["backup_sets"]
semaphore_api = semaphore_api_plugin.FilterModule().filters()["semaphore_api"]

HOSTS = ["jove", "kronos"]
DOMAIN = "lab.example.com"
# head -c32 /dev/urandom | base64, as Semaphore's docs make it.
KEY = "gs72mPntFATGJs9qK0pQ0rKtfidlexiMjYCH9gWKhTU="
SECRETS = {"SEMAPHORE_ADMIN_PASSWORD": "admin-pw-7c1e", "SEMAPHORE_ACCESS_KEY_ENCRYPTION": KEY}
SEMAPHORE = {"name": "semaphore", "host": "jove", "platform": "semaphore", "secrets": SECRETS}


def error(services, edge="jove"):
    with pytest.raises(AnsibleFilterError) as info:
        validate_catalog(services, HOSTS, edge=edge)
    return info.value.message


def container(catalog, host="jove", name="semaphore"):
    return next(unit for unit in host_units(catalog, host, "100.64.0.10") if unit["type"] == "container"
                and unit["name"] == name)


def test_an_entry_gets_the_official_image_its_sqlite_volume_and_the_health_check():
    [entry] = validate_catalog([SEMAPHORE], HOSTS, edge="jove")
    assert entry["image"] == "docker.io/semaphoreui/semaphore:v2.16.50"
    assert entry["port"] == 3000
    assert entry["env"] == {"SEMAPHORE_DB_DIALECT": "sqlite", "SEMAPHORE_DB_PATH": "/var/lib/semaphore",
                            "SEMAPHORE_CONFIG_PATH": "/var/lib/semaphore", "SEMAPHORE_ADMIN": "admin",
                            "SEMAPHORE_ADMIN_NAME": "Semaphore admin", "SEMAPHORE_ADMIN_EMAIL": "admin@localhost"}
    assert entry["volumes"] == [{"name": "data", "mount": "/var/lib/semaphore",
                                 "backup": {"schedule": "daily", "keep": {"daily": 30}, "dump": None, "pause": True}}]
    assert entry["healthcheck"]["cmd"] == "curl -fsS -o /dev/null http://127.0.0.1:3000/api/ping"
    # Semaphore has no Prometheus endpoint; its route is probed instead.
    assert entry["metrics"] is None
    # The API on the host's loopback only, for the role (the route is behind SSO).
    assert entry["publish"] == ["127.0.0.1:3000:3000"]
    # A normalised catalog normalises to itself.
    assert validate_catalog([entry], HOSTS, edge="jove") == [entry]


def test_its_route_needs_sso_unless_the_user_says_otherwise():
    [route] = routes(validate_catalog([SEMAPHORE], HOSTS, edge="jove"), DOMAIN)
    assert (route["fqdn"], route["auth"], route["url"]) == ("semaphore.lab.example.com", "sso", "http://semaphore:3000")
    catalog = validate_catalog([dict(SEMAPHORE, route={"auth": "none", "subdomain": "ansible"})], HOSTS, edge="jove")
    [route] = routes(catalog, DOMAIN)
    assert (route["fqdn"], route["auth"]) == ("ansible.lab.example.com", "none")


def test_the_data_volume_is_backed_up_daily_with_the_service_paused():
    [backup] = backup_sets(validate_catalog([SEMAPHORE], HOSTS, edge="jove"))
    assert (backup["service"], backup["volume"], backup["schedule"], backup["pause"]) == (
        "semaphore", "semaphore-data", "daily", True)


def test_the_secrets_reach_the_container_as_podman_secrets_only():
    catalog = validate_catalog([SEMAPHORE], HOSTS, edge="jove")
    spec = container(catalog)["spec"]
    assert sorted(spec["Secret"]) == [
        "semaphore-semaphore-access-key-encryption,type=env,target=SEMAPHORE_ACCESS_KEY_ENCRYPTION",
        "semaphore-semaphore-admin-password,type=env,target=SEMAPHORE_ADMIN_PASSWORD"]
    assert spec["PublishPort"] == ["127.0.0.1:3000:3000"]
    assert spec["Volume"] == ["semaphore-data.volume:/var/lib/semaphore"]
    assert "admin-pw-7c1e" not in repr(host_units(catalog, "jove", "100.64.0.10"))
    assert KEY not in repr(host_units(catalog, "jove", "100.64.0.10"))
    assert sorted((item["target"], item["value"]) for item in host_secrets(catalog, "jove")) == sorted(SECRETS.items())


def test_the_users_fields_win_and_env_is_merged_key_by_key():
    entry = dict(SEMAPHORE, image="docker.io/semaphoreui/semaphore:v2.19.12", publish=["127.0.0.1:3300:3000"],
                 env={"SEMAPHORE_ADMIN": "ops", "TZ": "Europe/Paris"},
                 volumes=[{"name": "data", "mount": "/var/lib/semaphore", "backup": "weekly"}],
                 healthcheck={"cmd": "true"})
    [normalised] = validate_catalog([entry], HOSTS, edge="jove")
    assert normalised["image"] == "docker.io/semaphoreui/semaphore:v2.19.12"
    assert normalised["env"]["SEMAPHORE_ADMIN"] == "ops" and normalised["env"]["TZ"] == "Europe/Paris"
    assert normalised["env"]["SEMAPHORE_DB_DIALECT"] == "sqlite"
    assert normalised["volumes"][0]["backup"]["schedule"] == "weekly"
    assert normalised["healthcheck"]["cmd"] == "true"
    assert semaphore_api([normalised]) == {"name": "semaphore", "host": "jove", "url": "http://127.0.0.1:3300",
                                           "ping_path": "/api/ping", "admin": "ops",
                                           "password_secret": "SEMAPHORE_ADMIN_PASSWORD"}


@pytest.mark.parametrize("missing", ["SEMAPHORE_ADMIN_PASSWORD", "SEMAPHORE_ACCESS_KEY_ENCRYPTION"])
def test_a_missing_secret_is_named(missing):
    secrets = {key: value for key, value in SECRETS.items() if key != missing}
    assert error([dict(SEMAPHORE, secrets=secrets)]) == (
        f"service semaphore: secrets: platform semaphore needs {missing} (from a vault)")


@pytest.mark.parametrize("key", ["not base64!", "c2hvcnQ=", KEY[:-4]])
def test_an_encryption_key_that_is_not_an_aes_key_is_refused_without_showing_it(key):
    message = error([dict(SEMAPHORE, secrets=dict(SECRETS, SEMAPHORE_ACCESS_KEY_ENCRYPTION=key))])
    assert message == ("service semaphore: secrets: SEMAPHORE_ACCESS_KEY_ENCRYPTION is not a key of 16, 24 or 32"
                       " bytes in base64; make one with: head -c32 /dev/urandom | base64")
    assert key not in message


def test_without_a_loopback_binding_the_role_could_not_reach_the_api():
    assert error([dict(SEMAPHORE, publish=["100.64.0.10:3000:3000"])]) == (
        "service semaphore: publish: needs 127.0.0.1:<port>:3000: the semaphore role reaches the API on the host's"
        " loopback (the route is behind SSO)")
    # An absent entry publishes nothing, and the view has none.
    [absent] = validate_catalog([dict(SEMAPHORE, state="absent", publish=[])], HOSTS, edge="jove")
    assert semaphore_api([absent]) is None


def test_one_semaphore_per_catalog():
    other = dict(SEMAPHORE, name="semaphore-b", host="kronos")
    assert error([SEMAPHORE, other]) == "service semaphore-b: platform: 'semaphore' is already service semaphore"


def test_another_service_on_the_loopback_port_collides():
    app = {"name": "app", "host": "jove", "image": "docker.io/library/nginx:1.27", "publish": ["127.0.0.1:3000:80"]}
    assert re.fullmatch(r"service app: publish\[0\]: '127\.0\.0\.1:3000:80' binds port 3000/tcp that .*semaphore.*",
                        error([SEMAPHORE, app]))


def test_the_view_without_a_semaphore_and_with_a_raw_catalog():
    assert semaphore_api(validate_catalog([], HOSTS)) is None
    with pytest.raises(AnsibleFilterError, match="semaphore_api: catalog: item #0 is not a normalised service"):
        semaphore_api([SEMAPHORE])

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The grafana kind in the catalog (its container, its environment with and without
``oidc``, bad input) and the grafana_provisioning filter with module_utils/grafana.py."""

from __future__ import annotations

import copy

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.filter import grafana_provisioning as grafana_provisioning_plugin
from ansible_collections.homelab.stack.plugins.filter import monitoring_targets as monitoring_targets_plugin
from ansible_collections.homelab.stack.plugins.filter import platform_service as platform_service_plugin
from ansible_collections.homelab.stack.plugins.filter import validate_catalog as validate_catalog_plugin
from ansible_collections.homelab.stack.plugins.module_utils import grafana
from catalog_entry import BACKUP
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import monitoring

validate_catalog = validate_catalog_plugin.FilterModule().filters()["validate_catalog"]
platform_service = platform_service_plugin.FilterModule().filters()["platform_service"]
monitoring_targets = monitoring_targets_plugin.FilterModule().filters()["monitoring_targets"]
grafana_provisioning = grafana_provisioning_plugin.FilterModule().filters()["grafana_provisioning"]

HOSTS = ["jove", "kronos"]
DOMAIN = "lab.example.com"
PROMETHEUS = {"name": "prometheus", "host": "jove", "platform": "prometheus"}
ALERTMANAGER = {"name": "alertmanager", "host": "jove", "platform": "alertmanager"}
GRAFANA = {"name": "grafana", "host": "jove", "platform": "grafana", "route": {"auth": "none"},
           "secrets": {"GF_SECURITY_ADMIN_PASSWORD": "admin-pw"}}
OIDC = {"redirect_paths": ["/login/generic_oauth"]}
AUTHENTIK = {"name": "authentik", "host": "kronos", "platform": "authentik", "route": {"auth": "none", "subdomain": "auth"},
             "secrets": {"AUTHENTIK_SECRET_KEY": "k", "AUTHENTIK_BOOTSTRAP_PASSWORD": "b",
                         "AUTHENTIK_BOOTSTRAP_TOKEN": "t", "AUTHENTIK_POSTGRESQL__PASSWORD": "p"}}


def entry(catalog, name="grafana"):
    return next(service for service in catalog if service["name"] == name)


def test_the_official_image_is_pinned_to_a_release():
    assert monitoring.GRAFANA_IMAGE == "docker.io/grafana/grafana:12.3.0"


def test_a_grafana_entry_gets_its_container():
    service = entry(validate_catalog([PROMETHEUS, GRAFANA], HOSTS))
    assert service["image"] == monitoring.GRAFANA_IMAGE
    assert service["port"] == 3000 and service["publish"] == []
    assert service["mounts"] == [{"source": "/etc/homelab/grafana", "target": "/etc/grafana/provisioning",
                                  "readonly": True}]
    assert service["volumes"] == [{"name": "data", "mount": "/var/lib/grafana", "backup": BACKUP["daily"]}]
    assert service["healthcheck"]["cmd"] == "wget -q -O /dev/null http://127.0.0.1:3000/api/health"
    assert service["metrics"] == {"port": 3000, "path": "/metrics", "mesh_port": None}
    assert service["command"] is None  # the image's entrypoint reads the GF_* environment


def test_without_oidc_the_login_form_and_no_anonymous_access():
    env = entry(validate_catalog([PROMETHEUS, GRAFANA], HOSTS))["env"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert env["GF_AUTH_DISABLE_LOGIN_FORM"] == "false"
    assert env["GF_AUTH_GENERIC_OAUTH_ENABLED"] == "false"
    assert env["GF_PATHS_CONFIG"] == "/etc/grafana/provisioning/grafana.ini"
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false"
    assert not any(key.startswith("GF_AUTH_GENERIC_OAUTH_CLIENT") for key in env)


def test_with_oidc_authentik_signs_people_in():
    catalog = validate_catalog([PROMETHEUS, dict(GRAFANA, oidc=OIDC), AUTHENTIK], HOSTS)
    service = entry(catalog)
    env = service["env"]
    assert env["GF_AUTH_DISABLE_LOGIN_FORM"] == "true"
    assert env["GF_AUTH_GENERIC_OAUTH_ENABLED"] == "true"
    assert env["GF_AUTH_GENERIC_OAUTH_CLIENT_ID"] == "grafana" == env["OIDC_CLIENT_ID"]
    assert env["GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET"] == "$__env{OIDC_CLIENT_SECRET}"
    assert env["GF_AUTH_GENERIC_OAUTH_SCOPES"] == "openid profile email"
    assert env["GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_PATH"] == "contains(groups[*], 'admins') && 'Admin' || 'Viewer'"
    # The client secret is a Podman secret (identity.py), never an environment value.
    assert "OIDC_CLIENT_SECRET" in service["secrets"]
    assert not any(service["secrets"]["OIDC_CLIENT_SECRET"] in value for value in env.values())


def test_the_users_env_wins_except_anonymous_access():
    env = {"GF_AUTH_DISABLE_LOGIN_FORM": "true", "GF_LOG_LEVEL": "warn"}
    service = entry(validate_catalog([PROMETHEUS, dict(GRAFANA, env=env)], HOSTS))
    assert service["env"]["GF_AUTH_DISABLE_LOGIN_FORM"] == "true" and service["env"]["GF_LOG_LEVEL"] == "warn"
    assert service["env"]["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    with pytest.raises(AnsibleFilterError, match=r"^service grafana: env\.GF_AUTH_ANONYMOUS_ENABLED: must be false"):
        validate_catalog([PROMETHEUS, dict(GRAFANA, env={"GF_AUTH_ANONYMOUS_ENABLED": "true"})], HOSTS)


def test_normalising_twice_changes_nothing():
    once = validate_catalog([PROMETHEUS, dict(GRAFANA, oidc=OIDC), AUTHENTIK], HOSTS)
    assert validate_catalog(copy.deepcopy(once), HOSTS) == once


@pytest.mark.parametrize("catalog, message", [
    ([PROMETHEUS, dict(GRAFANA, secrets={})],
     "service grafana: secrets: platform grafana needs GF_SECURITY_ADMIN_PASSWORD (from a vault)"),
    ([PROMETHEUS, dict(GRAFANA, host="kronos")], "service grafana: host: platform grafana runs beside prometheus on jove"),
    ([GRAFANA], "service grafana: host: platform grafana runs beside prometheus (add a present platform prometheus"),
    ([PROMETHEUS, dict(GRAFANA, oidc=OIDC)], "service grafana: oidc: needs its client secret"),
    ([PROMETHEUS, dict(GRAFANA, route=None, oidc=OIDC)], "service grafana: oidc: needs a route"),
], ids=["no-admin-secret", "other-host", "no-prometheus", "oidc-without-authentik", "oidc-without-route"])
def test_bad_grafana_entries_fail_naming_the_field(catalog, message):
    with pytest.raises(AnsibleFilterError) as error:
        validate_catalog(catalog, HOSTS)
    assert str(error.value).startswith(message)
    assert "admin-pw" not in str(error.value)


def test_platform_service_and_the_scrape_job():
    catalog = validate_catalog([PROMETHEUS, GRAFANA], HOSTS)
    assert platform_service(catalog, "grafana") == {
        "name": "grafana", "host": "jove", "image": monitoring.GRAFANA_IMAGE, "host_dir": "/etc/homelab/grafana",
        "secrets": ["GF_SECURITY_ADMIN_PASSWORD"], "config_dir": "/etc/grafana/provisioning",
        "config_file": "/etc/grafana/provisioning/grafana.ini", "dashboards_dir": "/etc/grafana/provisioning/dashboards",
        "port": 3000}
    jobs = monitoring_targets(catalog, {"jove": "100.64.0.10", "kronos": "100.64.0.11"}, DOMAIN)["jobs"]
    assert {"job": "grafana", "metrics_path": "/metrics", "targets": [
        {"address": "grafana:3000", "labels": {"service": "grafana", "host": "jove"}}]} in jobs


# --- grafana_provisioning ---------------------------------------------------------------


def test_the_files_with_prometheus_and_alertmanager():
    files = grafana_provisioning(validate_catalog([PROMETHEUS, ALERTMANAGER, GRAFANA], HOSTS), DOMAIN)
    assert sorted(files) == ["dashboards/homelab.yml", "datasources/homelab.yml", "grafana.ini"]
    datasources = yaml.safe_load(files["datasources/homelab.yml"])
    assert datasources["apiVersion"] == 1
    assert datasources["datasources"] == [
        {"name": "Prometheus", "type": "prometheus", "uid": "prometheus", "access": "proxy",
         "url": "http://prometheus:9090", "isDefault": True, "editable": False},
        {"name": "Alertmanager", "type": "alertmanager", "uid": "alertmanager", "access": "proxy",
         "url": "http://alertmanager:9093", "editable": False,
         "jsonData": {"implementation": "prometheus", "handleGrafanaManagedAlerts": False}}]
    provider = yaml.safe_load(files["dashboards/homelab.yml"])["providers"][0]
    assert provider["type"] == "file" and provider["options"]["path"] == "/etc/grafana/provisioning/dashboards"
    assert files["grafana.ini"].splitlines()[1:] == ["[server]", "root_url = https://grafana.lab.example.com/"]


def test_loki_is_a_datasource_when_the_catalog_has_a_loki_entry():
    catalog = validate_catalog([PROMETHEUS, GRAFANA], HOSTS)
    # The loki kind comes from another change: a normalised entry of that kind, as it will be.
    catalog.append(dict(entry(catalog, "prometheus"), name="logs", platform="loki"))
    datasources = yaml.safe_load(grafana_provisioning(catalog, DOMAIN)["datasources/homelab.yml"])["datasources"]
    assert [(item["type"], item["url"]) for item in datasources] == [
        ("prometheus", "http://prometheus:9090"), ("loki", "http://logs:3100")]


def test_with_oidc_the_settings_name_authentiks_endpoints():
    catalog = validate_catalog([PROMETHEUS, dict(GRAFANA, oidc=OIDC), AUTHENTIK], HOSTS)
    settings = grafana_provisioning(catalog, DOMAIN)["grafana.ini"]
    assert "auth_url = https://auth.lab.example.com/application/o/authorize/" in settings
    assert "token_url = https://auth.lab.example.com/application/o/token/" in settings
    assert "api_url = https://auth.lab.example.com/application/o/userinfo/" in settings
    assert "signout_redirect_url = https://auth.lab.example.com/application/o/grafana/end-session/" in settings
    # Behind forward auth too, the application's slug is the blueprint's <name>-oidc.
    catalog = validate_catalog([PROMETHEUS, dict(GRAFANA, oidc=OIDC, route={"auth": "sso"}), AUTHENTIK], HOSTS)
    assert "/application/o/grafana-oidc/end-session/" in grafana_provisioning(catalog, DOMAIN)["grafana.ini"]


def test_oidc_with_its_own_secret_but_no_authentik_fails_naming_the_field():
    catalog = validate_catalog([PROMETHEUS, dict(GRAFANA, oidc=OIDC, secrets={
        "GF_SECURITY_ADMIN_PASSWORD": "x", "OIDC_CLIENT_SECRET": "y"})], HOSTS)
    with pytest.raises(AnsibleFilterError, match=r"^service grafana: oidc: needs a present platform authentik entry"):
        grafana_provisioning(catalog, DOMAIN)


def test_no_grafana_entry_no_files():
    assert grafana_provisioning(validate_catalog([PROMETHEUS], HOSTS), DOMAIN) == {}


@pytest.mark.parametrize("document, message", [
    ({"apiVersion": 2, "datasources": []}, "apiVersion: must be 1"),
    ({"apiVersion": 1, "datasources": []}, "datasources: must be a non-empty list"),
    ({"apiVersion": 1, "datasources": [{"name": "P", "type": "prometheus", "access": "proxy", "url": "http://p:9090"}]},
     "datasources[0].uid: is required"),
    ({"apiVersion": 1, "datasources": [{"name": "P", "type": "graphite", "access": "proxy", "url": "http://p",
                                        "uid": "p"}]}, "datasources[0].type: 'graphite' is not one of"),
    ({"apiVersion": 1, "datasources": [{"name": "P", "type": "prometheus", "access": "proxy", "url": "p:9090",
                                        "uid": "p"}]}, "datasources[0].url: 'p:9090' is not an http(s) URL"),
    ({"apiVersion": 1, "datasources": [{"name": "P", "type": "prometheus", "access": "proxy", "url": "http://p",
                                        "uid": "a b"}]}, "datasources[0].uid: 'a b' is not a Grafana uid"),
    ({"apiVersion": 1, "datasources": [
        {"name": "P", "type": "prometheus", "access": "proxy", "url": "http://p", "uid": "p"},
        {"name": "P", "type": "loki", "access": "proxy", "url": "http://l", "uid": "l"}]},
     "datasources[1].name: 'P' is also datasources[0]'s"),
    ({"apiVersion": 1, "datasources": [
        {"name": "P", "type": "prometheus", "access": "proxy", "url": "http://p", "uid": "p"},
        {"name": "L", "type": "loki", "access": "proxy", "url": "http://l", "uid": "p"}]},
     "datasources[1].uid: 'p' is also datasources[0]'s"),
    ({"apiVersion": 1, "datasources": [
        {"name": "P", "type": "prometheus", "access": "proxy", "url": "http://p", "uid": "p", "isDefault": True},
        {"name": "L", "type": "loki", "access": "proxy", "url": "http://l", "uid": "l", "isDefault": True}]},
     "datasources: only one may be the default"),
], ids=["api-version", "empty", "no-uid", "type", "url", "uid", "names", "uids", "defaults"])
def test_check_datasources_refuses_what_grafana_would(document, message):
    with pytest.raises(grafana.GrafanaError) as error:
        grafana.check_datasources(document)
    assert str(error.value).startswith(message)


def test_an_ini_value_with_a_line_break_is_refused():
    with pytest.raises(grafana.GrafanaError, match=r"^root_url: "):
        grafana.settings("https://g.example/\n[security]")

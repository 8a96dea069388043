# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The applications blueprint from the catalog, checked against Authentik's blueprint schema
(tests/fixtures/authentik/PROVENANCE.md) with its tags read as the objects they stand for."""

from __future__ import annotations

import json
import pathlib

import jsonschema
import pytest
import yaml

from ansible.errors import AnsibleFilterError
from blueprint_tags import TAGS, TagLoader
from ansible_collections.homelab.stack.plugins.filter.authentik_blueprint import FilterModule as BlueprintFilter
from ansible_collections.homelab.stack.plugins.filter.sso_applications import FilterModule as ApplicationsFilter
from ansible_collections.homelab.stack.plugins.filter.validate_catalog import FilterModule as CatalogFilter

SCHEMA = json.loads((pathlib.Path(__file__).resolve().parents[3] / "fixtures" / "authentik"
                     / "authentik-blueprint-schema.json").read_text())
validate_catalog = CatalogFilter().filters()["validate_catalog"]
sso_applications = ApplicationsFilter().filters()["sso_applications"]
authentik_blueprint = BlueprintFilter().filters()["authentik_blueprint"]
DOMAIN = "lab.example.com"


def svc(name, **fields):
    return dict({"name": name, "host": "jove", "image": "x/y:1", "port": 8000}, **fields)


CATALOG = [
    svc("nas", route={"auth": "sso", "groups": ["family", "admins"]}),
    svc("paperless", route={"auth": "none"}, oidc={"redirect_paths": ["/accounts/oidc/authentik/login/callback/"]}),
    svc("grafana", route={"auth": "sso", "groups": ["admins"]}, oidc={"redirect_paths": ["/login/generic_oauth"],
                                                                      "scopes": ["openid", "email"]}),
    svc("open", route={"auth": "none"}),
    svc("hidden"),
]


def blueprint(catalog=None):
    TAGS.clear()
    text = authentik_blueprint(sso_applications(validate_catalog(catalog or CATALOG, ["jove"]), DOMAIN))
    return text, yaml.load(text, Loader=TagLoader)  # noqa: S506 - a SafeLoader with three constructors


def test_the_applications_view_lists_who_signs_in():
    apps = sso_applications(validate_catalog(CATALOG, ["jove"]), DOMAIN)
    assert [(a["name"], a["forward_auth"], a["oidc"] is not None) for a in apps] == [
        ("grafana", True, True), ("nas", True, False), ("paperless", False, True)]
    assert apps[2]["oidc"] == {"redirect_uris": ["https://paperless.lab.example.com/accounts/oidc/authentik/login/callback/"],
                               "scopes": ["openid", "profile", "email"], "secret_env": "HOMELAB_OIDC_PAPERLESS_SECRET"}


def test_the_blueprint_validates_against_authentiks_schema():
    _text, data = blueprint()
    jsonschema.Draft7Validator(SCHEMA).validate(data)


def test_the_schema_check_is_not_vacuous():
    _text, data = blueprint()
    data["entries"][0]["attrs"] = {"is_superuser": "yes"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(SCHEMA).validate(data)


def test_forward_auth_apps_get_a_proxy_provider_on_the_embedded_outpost():
    _text, data = blueprint()
    by_id = {entry.get("id"): entry for entry in data["entries"]}
    provider = by_id["provider-nas"]
    assert provider["model"] == "authentik_providers_proxy.proxyprovider"
    assert provider["attrs"]["mode"] == "forward_single"
    assert provider["attrs"]["external_host"] == "https://nas.lab.example.com"
    assert by_id["app-nas"]["identifiers"] == {"slug": "nas"}
    outpost = data["entries"][-1]
    assert outpost["model"] == "authentik_outposts.outpost"
    assert outpost["identifiers"] == {"managed": "goauthentik.io/outposts/embedded"}
    assert ("!KeyOf", "provider-nas") in TAGS and ("!KeyOf", "provider-grafana") in TAGS
    assert len(outpost["attrs"]["providers"]) == 2


def test_oidc_clients_read_their_secret_from_the_environment_never_the_file():
    text, data = blueprint()
    by_id = {entry.get("id"): entry for entry in data["entries"]}
    client = by_id["provider-paperless-oidc"]["attrs"]
    assert client["client_type"] == "confidential" and client["client_id"] == "paperless"
    assert client["redirect_uris"] == [{"matching_mode": "strict",
                                        "url": "https://paperless.lab.example.com/accounts/oidc/authentik/login/callback/"}]
    assert ("!Env", "HOMELAB_OIDC_PAPERLESS_SECRET") in TAGS and "!Env 'HOMELAB_OIDC_PAPERLESS_SECRET'" in text
    assert client["client_secret"] == "from-the-environment"
    assert ("!Find", ["authentik_providers_oauth2.scopemapping", ["scope_name", "openid"]]) in TAGS
    # A service with forward auth and its own OIDC login gets two applications.
    assert by_id["app-grafana"]["identifiers"] == {"slug": "grafana"}
    assert by_id["app-grafana-oidc"]["identifiers"] == {"slug": "grafana-oidc"}
    assert by_id["app-paperless-oidc"]["identifiers"] == {"slug": "paperless"}


def test_groups_are_made_and_bound_in_their_order():
    _text, data = blueprint()
    groups = [entry["identifiers"]["name"] for entry in data["entries"] if entry["model"] == "authentik_core.group"]
    assert groups == ["admins", "family"]
    bindings = [entry for entry in data["entries"] if entry["model"] == "authentik_policies.policybinding"]
    # nas: family then admins; grafana: admins on both of its applications.
    assert [binding["attrs"]["order"] for binding in bindings] == [0, 0, 0, 1]


def test_no_application_leaves_an_empty_outpost():
    _text, data = blueprint([svc("open", route={"auth": "none"})])
    assert data["entries"] == [{"model": "authentik_outposts.outpost",
                                "identifiers": {"managed": "goauthentik.io/outposts/embedded"}, "attrs": {"providers": []}}]


def test_the_applications_view_needs_no_mesh_address():
    # A routed service on another host than the edge: the identity provider needs its name,
    # not the address the edge reaches it on.
    catalog = validate_catalog([svc("nas", host="kronos", route={"auth": "sso"})], ["jove", "kronos"], edge="jove")
    assert [app["fqdn"] for app in sso_applications(catalog, DOMAIN)] == ["nas.lab.example.com"]


def test_values_of_ansibles_own_types_are_written_plainly():
    # Ansible hands filters subclasses of str, dict and list (its tagged values).
    class Tagged(str):
        pass

    class TaggedList(list):
        pass

    apps = sso_applications(validate_catalog(CATALOG, ["jove"]), DOMAIN)
    tagged = [dict(app, name=Tagged(app["name"]), groups=TaggedList(Tagged(group) for group in app["groups"]))
              for app in apps]
    assert authentik_blueprint(tagged) == authentik_blueprint(apps)


def test_the_embedded_outpost_sends_browsers_to_authentiks_own_url():
    apps = sso_applications(validate_catalog(CATALOG, ["jove"]), DOMAIN)
    data = yaml.load(authentik_blueprint(apps, "https://authentik.lab.example.com"), Loader=TagLoader)  # noqa: S506
    jsonschema.Draft7Validator(SCHEMA).validate(data)
    assert data["entries"][-1]["attrs"]["config"] == {"authentik_host": "https://authentik.lab.example.com"}
    with pytest.raises(AnsibleFilterError, match="authentik_blueprint: authentik_url: must be an https:// URL"):
        authentik_blueprint(apps, "authentik:9000")

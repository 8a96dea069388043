"""The pure plans of the authentik_* modules: before, after and the requests to send,
from API objects as Authentik returns them. No server here; the modules against the fake
Authentik are in tests/integration/test_authentik_*.py."""

import pytest

from ansible_collections.homelab.stack.plugins.module_utils.authentik import NEW_PROVIDER, SettingError
from ansible_collections.homelab.stack.plugins.modules import authentik_application, authentik_group, authentik_oidc_client
from module_options import argument_spec_of, options_of

GROUP_SPEC = argument_spec_of(authentik_group)
APP_SPEC = argument_spec_of(authentik_application)
OIDC_SPEC = argument_spec_of(authentik_oidc_client)
AUTHZ = "a0000000-0000-4000-8000-000000000001"
INVAL = "a0000000-0000-4000-8000-000000000002"
FLOWS = {"default-provider-authorization-implicit-consent": AUTHZ, "default-provider-invalidation-flow": INVAL}
OUTPOST = {"pk": "0e000000-0000-4000-8000-000000000000", "name": "authentik Embedded Outpost", "providers": [3]}


# authentik_group

def group(**fields):
    return dict({"pk": "g1", "name": "admins", "is_superuser": False, "attributes": {}, "users": [1]}, **fields)


def test_group_missing_is_created_with_only_the_given_settings():
    before, after, request = authentik_group.plan(options_of(GROUP_SPEC, name="admins", is_superuser=True), None)
    assert before is None and request == ("POST", {"name": "admins", "is_superuser": True})
    assert after == {"pk": None, "name": "admins", "is_superuser": True, "attributes": {}}


def test_group_patch_carries_only_the_differing_setting():
    params = options_of(GROUP_SPEC, name="admins", is_superuser=False, attributes={"a": 1})
    assert authentik_group.plan(params, group())[2] == ("PATCH", {"attributes": {"a": 1}})
    assert authentik_group.plan(options_of(GROUP_SPEC, name="admins", attributes={}), group())[2] is None


def test_group_unset_options_are_left_alone():
    _before, after, request = authentik_group.plan(options_of(GROUP_SPEC, name="admins"), group(is_superuser=True))
    assert request is None and after["is_superuser"] is True


def test_group_absent():
    assert authentik_group.plan(options_of(GROUP_SPEC, name="admins", state="absent"), group())[2] == ("DELETE", None)
    assert authentik_group.plan(options_of(GROUP_SPEC, name="admins", state="absent"), None)[2] is None


# authentik_application

def proxy(**fields):
    return dict({"pk": 3, "name": "whoami-forward-auth", "mode": "forward_single", "external_host": "https://whoami.example.com",
                 "authorization_flow": AUTHZ, "invalidation_flow": INVAL, "skip_path_regex": ""}, **fields)


def app(**fields):
    return dict({"pk": "p1", "slug": "whoami", "name": "whoami", "provider": 3, "meta_launch_url": "https://whoami.example.com"},
                **fields)


def app_plan(current=None, **given):
    params = options_of(APP_SPEC, **dict({"slug": "whoami", "name": "whoami", "external_host": "whoami.example.com"}, **given))
    current = current or {"application": None, "provider": None, "outpost": dict(OUTPOST, providers=[])}
    return authentik_application.plan(params, current, FLOWS)


def test_application_new_creates_provider_application_and_binding_in_order():
    _before, after, requests = app_plan()
    assert [(m, p) for m, p, _b in requests] == [("POST", "/providers/proxy/"), ("POST", "/core/applications/"),
                                                 ("PATCH", "/outposts/instances/%s/" % OUTPOST["pk"])]
    assert requests[0][2] == {"name": "whoami-forward-auth", "mode": "forward_single", "external_host": "https://whoami.example.com",
                              "authorization_flow": AUTHZ, "invalidation_flow": INVAL}
    assert requests[1][2]["provider"] == NEW_PROVIDER and requests[2][2] == {"providers": [NEW_PROVIDER]}
    assert after["provider"]["authorization_flow"] == "default-provider-authorization-implicit-consent"


def test_application_in_place_needs_nothing():
    current = {"application": app(), "provider": proxy(), "outpost": OUTPOST}
    assert app_plan(current)[2] == []


def test_application_binding_keeps_the_outposts_other_providers():
    current = {"application": app(), "provider": proxy(), "outpost": dict(OUTPOST, providers=[1, 2])}
    assert app_plan(current)[2] == [("PATCH", "/outposts/instances/%s/" % OUTPOST["pk"], {"providers": [1, 2, 3]})]


def test_application_absent_deletes_application_then_provider():
    current = {"application": app(), "provider": proxy(), "outpost": OUTPOST}
    _before, after, requests = app_plan(current, state="absent")
    assert requests == [("DELETE", "/core/applications/whoami/", None), ("DELETE", "/providers/proxy/3/", None)]
    assert after["outpost"]["bound"] is False


@pytest.mark.parametrize("value, expected", [
    ("whoami.example.com", "https://whoami.example.com"), ("http://lan.example.com/", "http://lan.example.com")])
def test_external_host(value, expected):
    assert authentik_application.external_url(value) == expected


@pytest.mark.parametrize("value", ["ftp://x.example.com", "https://x.example.com/path", "https://"])
def test_external_host_refused(value):
    with pytest.raises(SettingError, match="^external_host: "):
        authentik_application.external_url(value)


def test_application_present_needs_a_host():
    with pytest.raises(SettingError, match="^external_host: required"):
        app_plan(external_host=None)


# authentik_oidc_client

SCOPES = {"openid": "s-openid", "email": "s-email", "profile": "s-profile"}
REFS = {"flows": FLOWS, "scopes": SCOPES, "signing_key": "k1", "mapping_names": {v: k for k, v in SCOPES.items()}}
REDIRECT = "https://grafana.example.com/login/generic_oauth"


def oauth(**fields):
    return dict({"pk": 5, "name": "grafana-oidc", "client_type": "confidential", "client_id": "cid", "client_secret": "sec",
                 "redirect_uris": [{"matching_mode": "strict", "url": REDIRECT}], "authorization_flow": AUTHZ,
                 "invalidation_flow": INVAL, "signing_key": "k1", "property_mappings": ["s-profile", "s-openid", "s-email"]},
                **fields)


def oidc_plan(current=None, refs=None, **given):
    params = options_of(OIDC_SPEC, **dict({"slug": "grafana", "name": "Grafana", "redirect_uris": [REDIRECT]}, **given))
    return authentik_oidc_client.plan(params, current or {"application": None, "provider": None}, refs or REFS)


def test_oidc_new_provider_makes_no_credentials_itself():
    _before, _after, requests = oidc_plan()
    body = requests[0][2]
    assert requests[0][:2] == ("POST", "/providers/oauth2/") and "client_id" not in body and "client_secret" not in body
    assert body["property_mappings"] == sorted(SCOPES.values()) and body["signing_key"] == "k1"
    assert requests[1][2] == {"name": "Grafana", "slug": "grafana", "provider": NEW_PROVIDER}


def test_oidc_in_place_needs_nothing_whatever_the_mapping_order():
    assert oidc_plan({"application": app(slug="grafana", name="Grafana", provider=5), "provider": oauth()})[2] == []


def test_oidc_a_given_secret_is_set_and_never_in_the_diff():
    current = {"application": app(slug="grafana", name="Grafana", provider=5), "provider": oauth()}
    before, after, requests = oidc_plan(current, client_secret="from-vault")
    assert requests == [("PATCH", "/providers/oauth2/5/", {"client_secret": "from-vault"})]
    assert "client_secret" not in before["provider"] and "client_secret" not in after["provider"]


def test_oidc_diff_names_scopes_and_flows():
    _before, after, _requests = oidc_plan({"application": None, "provider": oauth()}, scopes=["openid"],
                                          refs=dict(REFS, scopes={"openid": "s-openid"}))
    assert after["provider"]["property_mappings"] == ["openid"]
    assert after["provider"]["authorization_flow"] == "default-provider-authorization-implicit-consent"


def test_oidc_redirects_required_and_not_blank():
    with pytest.raises(SettingError, match="^redirect_uris: required"):
        oidc_plan(redirect_uris=[])
    with pytest.raises(SettingError, match="^redirect_uris: an entry is empty"):
        oidc_plan(redirect_uris=[" "])


def test_token_options_are_no_log_in_every_module():
    for spec in (GROUP_SPEC, APP_SPEC, OIDC_SPEC):
        assert spec["api_token"]["no_log"] is True
    assert OIDC_SPEC["client_secret"]["no_log"] is True

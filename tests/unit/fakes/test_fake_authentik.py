"""The fake Authentik (tests/fakes/authentik.py) against its contract, Authentik's OpenAPI
schema subset: what it refuses, what it answers, and that its checks can fail."""

import pytest
import requests

from fakes.authentik import TOKEN, FakeAuthentik, contract
from fakes.openapi import to_json_schema

AUTH = {"Authorization": "Bearer " + TOKEN}


@pytest.fixture(name="fake", scope="module")
def fake_fixture():
    with FakeAuthentik(max_page_size=2) as fake:
        yield fake


@pytest.fixture(autouse=True)
def no_contract_violations(fake):
    yield
    assert fake.contract_violations == []


def api(fake, method, path, body=None, headers=None, **params):
    headers = AUTH if headers is None else headers
    return requests.request(method, fake.url + "/api/v3" + path, json=body, params=params or None, headers=headers, timeout=10)


def flow(fake, slug):
    return fake.one("flows", slug=slug)["pk"]


def test_nullable_becomes_a_null_alternative():
    assert to_json_schema({"type": "string", "nullable": True}) == {"anyOf": [{"type": "string"}, {"type": "null"}]}


def test_the_seed_has_what_a_fresh_authentik_has_and_answers_conform(fake):
    for slug, designation in (("default-provider-authorization-implicit-consent", "authorization"),
                              ("default-provider-invalidation-flow", "invalidation")):
        flows = api(fake, "GET", "/flows/instances/", slug=slug).json()["results"]
        assert [item["designation"] for item in flows] == [designation]
    outposts = api(fake, "GET", "/outposts/instances/", name__iexact="authentik embedded outpost").json()["results"]
    assert [o["managed"] for o in outposts] == ["goauthentik.io/outposts/embedded"]
    scope = api(fake, "GET", "/propertymappings/provider/scope/", scope_name="openid").json()["results"]
    assert [s["name"] for s in scope] == ["authentik default OAuth Mapping: OpenID 'openid'"]
    keypairs = api(fake, "GET", "/crypto/certificatekeypairs/", name="authentik Self-signed Certificate").json()["results"]
    assert len(keypairs) == 1 and keypairs[0]["private_key_available"] is True


def test_lists_are_paginated_with_next_as_a_page_number(fake):
    first = api(fake, "GET", "/flows/instances/").json()
    assert len(first["results"]) == 2 and first["pagination"]["next"] == 2 and first["pagination"]["previous"] == 0
    last = api(fake, "GET", "/flows/instances/", page=first["pagination"]["total_pages"]).json()
    assert last["pagination"]["next"] == 0
    assert api(fake, "GET", "/flows/instances/", page=99).status_code == 404


@pytest.mark.parametrize("body, field", [
    ({}, "name"),                                     # required
    ({"name": ""}, "name"),                           # minLength 1
    ({"name": "x", "is_superuser": "yes"}, "is_superuser"),
    ({"name": "x", "pk": "d3c0ffee-0000-4000-8000-000000000000"}, "pk"),  # read-only: refused
    ({"name": "x", "colour": "red"}, "colour"),       # not in GroupRequest
    ({"name": "x", "parents": ["not-a-uuid"]}, "parents"),
])
def test_an_invalid_body_is_refused_with_authentik_shaped_field_errors(fake, body, field):
    answer = api(fake, "POST", "/core/groups/", body)
    assert answer.status_code == 400
    errors = answer.json()
    assert field in errors and all(isinstance(message, str) for message in errors[field])
    assert fake.find("groups", name="x") == []


def test_undeclared_query_parameters_and_paths_are_refused(fake):
    assert api(fake, "GET", "/providers/oauth2/", name__iexact="x").status_code == 400  # OAuth2 lists filter by 'name'
    assert api(fake, "GET", "/outposts/instances/", name="x").status_code == 400       # outposts by 'name__iexact'
    assert api(fake, "GET", "/core/groups/", page="two").status_code == 400
    assert api(fake, "GET", "/core/nothing/").status_code == 404
    assert api(fake, "POST", "/flows/instances/", {"name": "x"}).status_code == 405


def test_tokens(fake):
    assert api(fake, "GET", "/core/groups/", headers={}).status_code == 401
    wrong = api(fake, "GET", "/core/groups/", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json() == {"detail": "Token invalid/expired"}


def test_a_read_only_token_may_read_but_not_write():
    with FakeAuthentik(read_only_tokens=["reader"]) as fake:
        headers = {"Authorization": "Bearer reader"}
        assert api(fake, "GET", "/core/groups/", headers=headers).status_code == 200
        assert api(fake, "POST", "/core/groups/", {"name": "x"}, headers=headers).status_code == 403


def test_group_lifecycle_and_unique_names(fake):
    created = api(fake, "POST", "/core/groups/", {"name": "lifecycle", "attributes": {"a": 1}})
    assert created.status_code == 201
    pk = created.json()["pk"]
    assert api(fake, "POST", "/core/groups/", {"name": "lifecycle"}).json() == {"name": ["group with this name already exists."]}
    assert api(fake, "PATCH", "/core/groups/%s/" % pk, {"is_superuser": True}).json()["attributes"] == {"a": 1}
    replaced = api(fake, "PUT", "/core/groups/%s/" % pk, {"name": "lifecycle"}).json()
    assert replaced["attributes"] == {} and replaced["is_superuser"] is False
    assert api(fake, "DELETE", "/core/groups/%s/" % pk).status_code == 204
    assert api(fake, "GET", "/core/groups/%s/" % pk).status_code == 404


def test_providers_applications_and_outposts_keep_authentik_rules(fake):
    flows = {"authorization_flow": flow(fake, "default-provider-authorization-implicit-consent"),
             "invalidation_flow": flow(fake, "default-provider-invalidation-flow")}
    proxy = {"name": "rules-proxy", "external_host": "https://rules.example.com", **flows}
    assert "internal_host" in api(fake, "POST", "/providers/proxy/", proxy).json()  # mode proxy needs it
    provider = api(fake, "POST", "/providers/proxy/", dict(proxy, mode="forward_single")).json()
    assert provider["redirect_uris"][0]["url"].startswith("https://rules.example.com/outpost.goauthentik.io/callback")
    bad_flow = dict(proxy, name="other", mode="forward_single", authorization_flow="00000000-0000-4000-8000-000000000000")
    assert "object does not exist" in api(fake, "POST", "/providers/proxy/", bad_flow).json()["authorization_flow"][0]
    oauth = {"name": "rules-proxy", "redirect_uris": [], **flows}
    assert api(fake, "POST", "/providers/oauth2/", oauth).json() == {"name": ["provider with this name already exists."]}

    app = api(fake, "POST", "/core/applications/", {"name": "Rules", "slug": "rules", "provider": provider["pk"]})
    assert app.status_code == 201 and app.json()["provider_obj"]["name"] == "rules-proxy"
    twice = api(fake, "POST", "/core/applications/", {"name": "Again", "slug": "again", "provider": provider["pk"]})
    assert twice.json() == {"provider": ["application with this provider already exists."]}
    assert api(fake, "POST", "/core/applications/", {"name": "x", "slug": "no spaces"}).status_code == 400

    outpost = fake.one("outposts", name="authentik Embedded Outpost")
    bound = api(fake, "PATCH", "/outposts/instances/%s/" % outpost["pk"], {"providers": [provider["pk"]]}).json()
    assert [p["name"] for p in bound["providers_obj"]] == ["rules-proxy"]
    assert api(fake, "DELETE", "/providers/proxy/%d/" % provider["pk"]).status_code == 204
    assert provider["pk"] not in fake.one("outposts", name="authentik Embedded Outpost")["providers"]
    assert api(fake, "GET", "/core/applications/rules/").json()["provider"] is None


def test_oauth2_providers_get_a_client_id_and_secret(fake):
    flows = {"authorization_flow": flow(fake, "default-provider-authorization-implicit-consent"),
             "invalidation_flow": flow(fake, "default-provider-invalidation-flow")}
    answer = api(fake, "POST", "/providers/oauth2/", {"name": "secretive", "redirect_uris": [
        {"matching_mode": "strict", "url": "https://app.example.com/cb"}], **flows}).json()
    assert len(answer["client_id"]) == 40 and len(answer["client_secret"]) == 128


def test_an_answer_that_breaks_the_contract_is_caught():
    with FakeAuthentik() as fake:
        group = api(fake, "POST", "/core/groups/", {"name": "broken"}).json()
        fake.one("groups", name="broken")["is_superuser"] = "not a boolean"  # corrupt the state behind the API
        answer = api(fake, "GET", "/core/groups/%s/" % group["pk"])
        assert answer.status_code == 500 and "broke its contract" in answer.json()["detail"]
        assert fake.contract_violations[0]["problems"] == ["is_superuser: 'not a boolean' is not of type 'boolean'"]


def test_faults_are_injected_per_method_and_path():
    with FakeAuthentik() as fake:
        fake.fail(503, times=1, method="GET", path="/api/v3/core/groups/")
        assert api(fake, "GET", "/core/groups/").status_code == 503
        assert api(fake, "GET", "/core/groups/").status_code == 200
        fake.hang(path="/api/v3/core/groups/", seconds=5)
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(fake.url + "/api/v3/core/groups/", headers=AUTH, timeout=0.3)


def test_every_operation_of_the_contract_is_routed():
    routed = {operation.template for _pattern, _names, operation in contract().operations}
    assert routed == set(contract().document["paths"])

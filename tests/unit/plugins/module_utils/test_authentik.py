"""module_utils/authentik.py: the API client against the fake Authentik (pagination, lookups,
errors, the retry rule) and the shared application/provider planning steps."""

import pytest

from ansible_collections.homelab.stack.plugins.module_utils.authentik import (
    NEW_PROVIDER,
    AuthentikAuthError,
    AuthentikClient,
    AuthentikError,
    SettingError,
    application_requests,
    base_url,
    check_slug,
    fill_new_provider,
    provider_requests,
)
from fakes.authentik import TOKEN, FakeAuthentik


@pytest.fixture(name="fake", scope="module")
def fake_fixture():
    with FakeAuthentik(max_page_size=2) as fake:
        yield fake
        assert fake.contract_violations == []


@pytest.fixture(name="client")
def client_fixture(fake):
    fake.reset()
    return AuthentikClient(fake.url + "/api/v3/", TOKEN, timeout=2, backoff=0.01)


def test_base_url_accepts_the_api_path_and_refuses_a_bare_name():
    assert base_url("https://auth.example.com/api/v3/") == "https://auth.example.com"
    with pytest.raises(AuthentikError, match="api_url"):
        base_url("auth.example.com")


def test_list_follows_pagination_next_until_zero(fake, client):
    slugs = [flow["slug"] for flow in client.list("/flows/instances/")]
    assert len(slugs) == len(fake.store["flows"]) == 5
    pages = [entry["query"] for entry in fake.requests]
    assert len(pages) == 3 and "page=3" in pages[-1]


def test_lookups_by_name_and_slug(fake, client):
    assert client.flow_pk("default-provider-invalidation-flow", "invalidation_flow") == \
        fake.one("flows", slug="default-provider-invalidation-flow")["pk"]
    assert client.outpost("authentik Embedded Outpost")["type"] == "proxy"
    assert client.certificate_pk("authentik Self-signed Certificate", "signing_key")
    assert len(client.scope_mapping_pks(["openid", "email"], "scopes")) == 2
    assert client.group("nobody") is None and client.application("nothing") is None
    assert "include_users=false" in fake.requests[-2]["query"]  # groups are read without their members
    with pytest.raises(AuthentikError, match=r"^invalidation_flow: Authentik has no flow with the slug 'x'$"):
        client.flow_pk("x", "invalidation_flow")
    with pytest.raises(AuthentikError, match="outpost: Authentik has no outpost named 'x'"):
        client.outpost("x")


def test_a_400_names_method_path_status_and_the_field_errors(client):
    with pytest.raises(AuthentikError) as caught:
        client.create("/core/groups/", {"name": ""})
    error = caught.value
    assert error.status == 400 and "name" in error.errors
    assert str(error).startswith("Authentik API POST /api/v3/core/groups/ failed with HTTP 400: name: ")


def test_a_refused_token_is_an_auth_error_without_the_token(fake):
    client = AuthentikClient(fake.url, "secret-but-wrong-token")
    with pytest.raises(AuthentikAuthError) as caught:
        client.group("x")
    assert caught.value.status == 401 and "secret-but-wrong-token" not in str(caught.value)
    assert "refused the API token (HTTP 401): Token invalid/expired" in str(caught.value)


def test_reads_are_retried_after_a_503_and_writes_never(fake, client):
    fake.fail(503, times=1, method="GET")
    assert client.group("nobody") is None
    assert [entry["method"] for entry in fake.requests] == ["GET", "GET"]
    fake.reset()
    fake.fail(503, times=1, method="POST")
    with pytest.raises(AuthentikError, match="HTTP 503"):
        client.create("/core/groups/", {"name": "once"})
    assert [entry["method"] for entry in fake.requests] == ["POST"]


def test_a_read_that_gets_no_answer_is_not_waited_for_twice(fake, client):
    fake.hang(method="GET", seconds=5)
    with pytest.raises(AuthentikError, match="no answer within 2 seconds"):
        client.group("slow")
    assert len(fake.requests) == 1


def test_nothing_listening_is_a_clear_error():
    client = AuthentikClient("http://127.0.0.1:9", TOKEN, retries=0)
    with pytest.raises(AuthentikError, match="cannot reach http://127.0.0.1:9"):
        client.group("x")


def test_check_slug():
    check_slug("whoami_2-b")
    with pytest.raises(SettingError, match="^slug: "):
        check_slug("who am i")


def test_provider_and_application_steps():
    requests, pk, after = provider_requests("/providers/proxy/", None, {"name": "p"})
    assert requests == [("POST", "/providers/proxy/", {"name": "p"})] and pk == NEW_PROVIDER and after["pk"] is None
    requests, pk, _after = provider_requests("/providers/proxy/", {"pk": 4, "name": "p", "mode": "proxy"}, {"name": "p", "mode": "forward_single"})
    assert requests == [("PATCH", "/providers/proxy/4/", {"mode": "forward_single"})] and pk == 4
    assert provider_requests("/providers/proxy/", {"pk": 4, "name": "p"}, {"name": "p"})[0] == []
    requests, _after = application_requests({"slug": "a", "name": "A", "provider": 4}, {"slug": "a", "name": "A", "provider": 4})
    assert requests == []
    assert fill_new_provider({"provider": NEW_PROVIDER, "providers": [1, NEW_PROVIDER], "name": "x"}, 9) == \
        {"provider": 9, "providers": [1, 9], "name": "x"}

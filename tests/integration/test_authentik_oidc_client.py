"""homelab.stack.authentik_oidc_client run by ansible-playbook against the fake Authentik
(tests/fakes/authentik.py, which checks every request and answer against the contract)."""

from authentik_playbook import ok, writes
from fakes.authentik import TOKEN

GRAFANA = {"slug": "grafana", "name": "Grafana", "redirect_uris": ["https://grafana.example.com/login/generic_oauth"]}


AUTHENTIK_MODULE = "authentik_oidc_client"


def test_create_returns_the_credentials_and_a_second_run_keeps_them(fake, run):
    result = ok(run.play(GRAFANA))
    assert result["changed"] is True
    assert writes(fake) == [("POST", "/api/v3/providers/oauth2/"), ("POST", "/api/v3/core/applications/")]
    provider = fake.one("oauth2", name="grafana-oidc")
    assert provider["client_type"] == "confidential"
    assert provider["redirect_uris"] == [{"matching_mode": "strict", "url": GRAFANA["redirect_uris"][0]}]
    scopes = sorted(fake.store["scopes"][pk]["scope_name"] for pk in provider["property_mappings"])
    assert scopes == ["email", "openid", "profile"]
    assert fake.store["keypairs"][provider["signing_key"]]["name"] == "authentik Self-signed Certificate"
    assert fake.one("applications", slug="grafana")["provider"] == provider["pk"]
    assert result["client_id"] == provider["client_id"] and result["client_secret"] == provider["client_secret"]
    assert result["issuer"] == "/application/o/grafana/"
    assert "client_secret" not in str(result["diff"])

    fake.reset()
    again = ok(run.play(GRAFANA))
    assert again["changed"] is False and writes(fake) == []
    assert again["client_secret"] == provider["client_secret"] and again["client_id"] == provider["client_id"]


def test_check_mode_sends_no_write(fake, run):
    result = ok(run.play(dict(GRAFANA, slug="wiki", name="Wiki"), check=True))
    assert result["changed"] is True and result["client_id"] is None and result["client_secret"] is None
    assert writes(fake) == [] and fake.find("oauth2", name="wiki-oidc") == []


def test_changed_redirects_and_scopes_patch_the_provider_only(fake, run):
    ok(run.play(dict(GRAFANA, slug="paperless", name="Paperless")))
    secret = fake.one("oauth2", name="paperless-oidc")["client_secret"]
    fake.reset()
    result = ok(run.play(dict(GRAFANA, slug="paperless", name="Paperless", scopes=["openid", "email"],
                              redirect_uris=["https://paperless.example.com/accounts/oidc/authentik/login/callback/"])))
    (patch,) = fake.writes()
    assert patch["method"] == "PATCH" and set(patch["body"]) == {"redirect_uris", "property_mappings"}
    assert result["diff"]["before"]["provider"]["property_mappings"] == ["email", "openid", "profile"]
    assert result["diff"]["after"]["provider"]["property_mappings"] == ["email", "openid"]
    assert fake.one("oauth2", name="paperless-oidc")["client_secret"] == secret == result["client_secret"]


def test_an_unknown_scope_fails_before_any_write(fake, run):
    result = run.play(dict(GRAFANA, slug="x", name="x", scopes=["openid", "groups"]))
    assert result["failed"] and result["msg"] == "scopes: Authentik has no scope mapping for the scope 'groups'"
    assert writes(fake) == []


def test_absent_deletes_application_and_provider(fake, run):
    ok(run.play(dict(GRAFANA, slug="old", name="Old")))
    pk = fake.one("oauth2", name="old-oidc")["pk"]
    fake.reset()
    result = ok(run.play({"slug": "old", "state": "absent"}))
    assert writes(fake) == [("DELETE", "/api/v3/core/applications/old/"), ("DELETE", "/api/v3/providers/oauth2/%d/" % pk)]
    assert result["client_secret"] is None
    assert ok(run.play({"slug": "old", "state": "absent"}))["changed"] is False


def test_the_token_never_shows_in_verbose_output(run):
    run.play(GRAFANA, verbose=True, task_extra={"no_log": True})
    assert run.last.returncode == 0, run.output()
    assert TOKEN not in run.output()


def test_a_provider_name_of_another_application_fails_before_any_write(fake, run):
    result = run.play(dict(GRAFANA, slug="third", name="Third", provider_name="grafana-oidc"))
    assert result["failed"] and writes(fake) == []
    assert result["msg"] == "provider_name: the provider 'grafana-oidc' belongs to the application 'grafana'; give another name"


def test_a_bad_slug_fails_before_any_write(fake, run):
    result = run.play(dict(GRAFANA, slug="not a slug!", name="Bad"))
    assert result["failed"] and result["msg"] == "slug: 'not a slug!' may hold only letters, digits, '-' and '_'"
    assert writes(fake) == []


def test_a_body_authentik_refuses_is_reported_with_its_field_errors(fake, run):
    result = run.play(dict(GRAFANA, slug="long", name="Long", client_id="x" * 300))
    assert result["failed"] and result["status"] == 400 and "client_id" in result["errors"]
    assert "POST /api/v3/providers/oauth2/ failed with HTTP 400: client_id:" in result["msg"]

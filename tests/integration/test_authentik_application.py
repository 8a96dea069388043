"""homelab.stack.authentik_application run by ansible-playbook against the fake Authentik
(tests/fakes/authentik.py, which checks every request and answer against the contract)."""

import requests

from authentik_playbook import ok, writes
from fakes.authentik import TOKEN

WHOAMI = {"slug": "whoami", "name": "whoami", "external_host": "whoami.example.com"}


AUTHENTIK_MODULE = "authentik_application"


def embedded(fake):
    return fake.one("outposts", name="authentik Embedded Outpost")


def test_create_binds_to_the_embedded_outpost_keeping_its_providers_then_changes_nothing(fake, run):
    # Another provider already on the outpost must stay there.
    other = ok(run.play({"slug": "other", "name": "other", "external_host": "other.example.com"}))
    fake.reset()
    result = ok(run.play(WHOAMI))
    assert result["changed"] is True
    assert writes(fake) == [("POST", "/api/v3/providers/proxy/"), ("POST", "/api/v3/core/applications/"),
                            ("PATCH", "/api/v3/outposts/instances/%s/" % embedded(fake)["pk"])]
    provider = fake.one("proxy", name="whoami-forward-auth")
    assert provider["mode"] == "forward_single" and provider["external_host"] == "https://whoami.example.com"
    assert fake.store["flows"][provider["authorization_flow"]]["slug"] == "default-provider-authorization-implicit-consent"
    assert fake.store["flows"][provider["invalidation_flow"]]["slug"] == "default-provider-invalidation-flow"
    app = fake.one("applications", slug="whoami")
    assert app["provider"] == provider["pk"] and app["meta_launch_url"] == "https://whoami.example.com"
    assert embedded(fake)["providers"] == [other["provider"]["pk"], provider["pk"]]
    assert result["provider"]["pk"] == provider["pk"] and result["outpost"]["bound"] is True

    fake.reset()
    again = ok(run.play(WHOAMI))
    assert again["changed"] is False and writes(fake) == [] and again["requests"] == []


def test_check_mode_sends_no_write(fake, run):
    result = ok(run.play(dict(WHOAMI, slug="grafana", name="Grafana", external_host="grafana.example.com"), check=True))
    assert result["changed"] is True and len(result["requests"]) == 3
    assert result["diff"]["before"]["application"] is None and result["diff"]["after"]["outpost"]["bound"] is True
    assert writes(fake) == [] and fake.find("applications", slug="grafana") == []


def test_a_changed_host_patches_the_provider_and_the_launch_url_with_a_diff(fake, run):
    ok(run.play(dict(WHOAMI, slug="media", name="media", external_host="media.example.com")))
    fake.reset()
    result = ok(run.play(dict(WHOAMI, slug="media", name="media", external_host="https://tv.example.com")))
    bodies = [(entry["method"], entry["body"]) for entry in fake.writes()]
    assert bodies == [("PATCH", {"external_host": "https://tv.example.com"}),
                      ("PATCH", {"meta_launch_url": "https://tv.example.com"})]
    assert result["diff"]["before"]["provider"]["external_host"] == "https://media.example.com"
    assert result["diff"]["after"]["provider"]["external_host"] == "https://tv.example.com"


def test_groups_must_exist_and_a_missing_one_fails_before_any_write(fake, run):
    private = dict(WHOAMI, slug="private", name="private", external_host="private.example.com")
    result = run.play(dict(private, groups=["nobody"]))
    assert result["failed"] and result["msg"] == "groups: Authentik has no group named 'nobody'"
    assert writes(fake) == []
    answer = requests.post(fake.url + "/api/v3/core/groups/", json={"name": "admins"},
                           headers={"Authorization": "Bearer " + TOKEN}, timeout=10)
    result = ok(run.play(dict(private, groups=["admins"])))
    # Found, returned, and the user told that access is not restricted yet.
    assert result["groups"] == [{"name": "admins", "pk": answer.json()["pk"]}]
    assert any("not restricted" in warning for warning in result["warnings"])


def test_absent_deletes_application_and_provider_and_unbinds(fake, run):
    ok(run.play(dict(WHOAMI, slug="gone", name="gone", external_host="gone.example.com")))
    pk = fake.one("proxy", name="gone-forward-auth")["pk"]
    fake.reset()
    result = ok(run.play({"slug": "gone", "state": "absent"}))
    assert result["changed"] and writes(fake) == [("DELETE", "/api/v3/core/applications/gone/"),
                                                  ("DELETE", "/api/v3/providers/proxy/%d/" % pk)]
    assert pk not in embedded(fake)["providers"]
    assert ok(run.play({"slug": "gone", "state": "absent"}))["changed"] is False


def test_the_token_never_shows_in_verbose_output(run):
    run.play(WHOAMI, verbose=True)
    assert run.last.returncode == 0, run.output()
    assert TOKEN not in run.output()


def test_a_missing_flow_fails_naming_the_option(fake, run):
    result = run.play(dict(WHOAMI, authorization_flow="no-such-flow"))
    assert result["failed"] and result["msg"] == "authorization_flow: Authentik has no flow with the slug 'no-such-flow'"
    assert writes(fake) == []


def test_a_failing_outpost_update_is_reported_with_method_path_and_status(fake, run):
    fake.fail(503, method="PATCH")
    result = run.play(dict(WHOAMI, slug="late", name="late", external_host="late.example.com"))
    assert result["failed"] and "PATCH /api/v3/outposts/instances/" in result["msg"] and "HTTP 503" in result["msg"]

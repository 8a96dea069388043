"""homelab.stack.authentik_group run by ansible-playbook against the fake Authentik.

The fake (tests/fakes/authentik.py) checks every request and answer against Authentik's
OpenAPI contract; each test counts the write requests, so "idempotent" and "check mode
writes nothing" are measured.
"""

from authentik_playbook import ok, writes
from fakes.authentik import TOKEN

AUTHENTIK_MODULE = "authentik_group"
GROUPS = "/api/v3/core/groups/"


def test_create_then_a_second_run_changes_nothing(fake, run):
    result = ok(run.play({"name": "admins", "is_superuser": True, "attributes": {"notes": "ops"}}))
    assert result["changed"] is True
    assert writes(fake) == [("POST", GROUPS)]
    group = fake.one("groups", name="admins")
    assert group["is_superuser"] is True and group["attributes"] == {"notes": "ops"}
    assert result["group"]["pk"] == group["pk"]
    assert result["diff"]["before"] == {} and result["diff"]["after"]["is_superuser"] is True

    fake.reset()
    again = ok(run.play({"name": "admins", "is_superuser": True, "attributes": {"notes": "ops"}}))
    assert again["changed"] is False and writes(fake) == []


def test_check_mode_sends_no_write_and_reports_the_change(fake, run):
    result = ok(run.play({"name": "family", "attributes": {"quota": 5}}, check=True))
    assert result["changed"] is True and result["group"]["name"] == "family"
    assert writes(fake) == [] and fake.find("groups", name="family") == []


def test_a_change_patches_only_the_differing_field_and_shows_a_diff(fake, run):
    ok(run.play({"name": "media", "attributes": {"a": 1}}))
    fake.reset()
    result = ok(run.play({"name": "media", "is_superuser": False, "attributes": {"a": 2}}))
    (patch,) = fake.writes()
    assert patch["method"] == "PATCH" and patch["body"] == {"attributes": {"a": 2}}
    assert result["diff"]["before"]["attributes"] == {"a": 1} and result["diff"]["after"]["attributes"] == {"a": 2}


def test_absent_deletes_and_then_does_nothing(fake, run):
    ok(run.play({"name": "guests"}))
    pk = fake.one("groups", name="guests")["pk"]
    fake.reset()
    assert ok(run.play({"name": "guests", "state": "absent"}, check=True))["changed"] is True
    assert writes(fake) == []
    result = ok(run.play({"name": "guests", "state": "absent"}))
    assert result["changed"] is True and writes(fake) == [("DELETE", GROUPS + pk + "/")]
    assert ok(run.play({"name": "guests", "state": "absent"}))["changed"] is False


def test_the_token_never_shows_in_verbose_output_or_results(fake, run):
    result = ok(run.play({"name": "tokencheck"}))
    assert TOKEN not in str(result)
    run.play({"name": "tokencheck", "is_superuser": True}, verbose=True)
    assert run.last.returncode == 0, run.output()
    assert TOKEN not in run.output()
    assert all(entry["authorization"] == "Bearer " + TOKEN for entry in fake.requests)


def test_a_wrong_token_fails_clearly_without_showing_it(run):
    result = run.play({"name": "x"}, token="not-the-token-1234567890")
    assert result["failed"] and "HTTP 401" in result["msg"] and "Token invalid/expired" in result["msg"]
    assert "GET /api/v3/core/groups/" in result["msg"] and "not-the-token" not in run.output()


def test_a_server_error_on_the_write_fails_with_method_path_and_status(fake, run):
    fake.fail(500, method="POST", path=GROUPS)
    result = run.play({"name": "broken"})
    assert result["failed"] and result["status"] == 500
    assert "POST /api/v3/core/groups/ failed with HTTP 500: injected failure" in result["msg"]
    assert [m for m, _p in writes(fake)] == ["POST"]  # a write is never repeated


def test_a_hanging_server_fails_within_the_timeout(fake, run):
    fake.hang(method="GET", path=GROUPS, seconds=20)
    result = run.play({"name": "slow"})
    assert result["failed"] and "no answer within 5 seconds" in result["msg"]

"""The fake Semaphore (tests/fakes/semaphore.py) against its contract, Semaphore 2.16's
api-docs.yml read through tests/fakes/swagger.py: what it refuses, what it keeps, and that
its checks can fail."""

import pytest
import requests

from fakes import swagger
from fakes.semaphore import ADMIN_PASSWORD, CONTRACT_PATH, TOKEN, FakeSemaphore, contract

AUTH = {"Authorization": "Bearer " + TOKEN}
LIST = {"sort": "name", "order": "asc"}


@pytest.fixture(name="fake")
def fake_fixture():
    with FakeSemaphore() as fake:
        yield fake
        assert fake.contract_violations == []


def api(fake, method, path, body=None, headers=None, params=None):
    return requests.request(method, fake.url + "/api" + path, json=body, params=params,
                            headers=AUTH if headers is None else headers, timeout=10)


def project(fake, name="p"):
    answer = api(fake, "POST", "/projects", {"name": name})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def test_the_swagger_document_becomes_openapi_3_with_bodies_and_string_status_codes():
    operation, params = contract().match("POST", "/api/project/4/keys")
    assert params == {"project_id": "4"} and operation.request_required
    assert operation.request_schema == {"$ref": "#/components/schemas/AccessKeyRequest"}
    assert set(operation.spec["responses"]) == {"201", "400"}
    listing, _params = contract().match("GET", "/api/project/4/keys")
    assert listing.parameters[("query", "sort")]["schema"] == {"type": "string", "enum": ["name", "type"]}
    # The allOf body of PUT /project/{id}/ is merged, so every part's fields are known.
    put, _params = contract().match("PUT", "/api/project/4/")
    assert {"id", "name", "max_parallel_tasks"} <= set(put.request_schema["properties"])
    # Without the undocumented addition the schedule list is not there.
    assert swagger.load(CONTRACT_PATH).match("GET", "/api/project/4/schedules") == (None, "method")
    assert contract().match("GET", "/api/project/4/schedules")[0] is not None


def test_a_new_project_has_semaphores_none_key_and_empty_environment(fake):
    project_id = project(fake)
    keys = api(fake, "GET", "/project/%d/keys" % project_id, params=LIST).json()
    assert [(k["name"], k["type"]) for k in keys] == [("None", "none")]
    environments = api(fake, "GET", "/project/%d/environment" % project_id, params=LIST).json()
    assert [(e["name"], e["json"]) for e in environments] == [("Empty", "{}")]


def test_a_wrong_or_missing_token_is_a_401_without_body(fake):
    for headers in ({"Authorization": "Bearer nope"}, {}):
        answer = api(fake, "GET", "/projects", headers=headers)
        assert answer.status_code == 401 and answer.content == b""


def test_ping_answers_pong_as_plain_text_to_anyone(fake):
    answer = requests.get(fake.url + "/api/ping", timeout=10)
    assert (answer.status_code, answer.text) == (200, "pong")
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert requests.post(fake.url + "/api/ping", timeout=10).status_code == 405


def test_login_sets_a_session_cookie_that_makes_a_bearer_token_which_expires(fake):
    session = requests.Session()
    login = fake.url + "/api/auth/login"
    wrong = session.post(login, json={"auth": "admin", "password": "wrong"}, timeout=10)
    assert (wrong.status_code, wrong.content, session.cookies.get("semaphore")) == (401, b"", None)
    assert session.post(login, json={"auth": "nobody", "password": ADMIN_PASSWORD}, timeout=10).status_code == 401
    assert session.post(login, data="{not json", timeout=10).status_code == 400
    answer = session.post(login, json={"auth": "Admin", "password": ADMIN_PASSWORD}, timeout=10)
    assert answer.status_code == 204 and "HttpOnly" in answer.headers["Set-Cookie"]
    # The session alone signs in; a cookie not made by the fake does not.
    assert session.get(fake.url + "/api/projects", timeout=10).status_code == 200
    assert api(fake, "GET", "/projects", headers={"Cookie": "semaphore=forged|0"}).status_code == 401
    assert api(fake, "POST", "/user/tokens", headers={}).status_code == 401
    made = session.post(fake.url + "/api/user/tokens", timeout=10)
    token = made.json()
    assert made.status_code == 201 and token["expired"] is False and token["user_id"] == 1
    bearer = {"Authorization": "Bearer " + token["id"]}
    assert api(fake, "GET", "/projects", headers=bearer).status_code == 200
    assert api(fake, "DELETE", "/user/tokens/" + token["id"], headers=bearer).status_code == 204
    assert api(fake, "GET", "/projects", headers=bearer).status_code == 401
    assert [t["expired"] for t in fake.tokens_of("admin") if t["id"] == token["id"]] == [True]
    # Upstream does not check that the update found the token: an unknown id is a 204 too.
    assert api(fake, "DELETE", "/user/tokens/nosuchtoken").status_code == 204
    assert api(fake, "GET", "/projects").status_code == 200


def test_unknown_fields_missing_query_parameters_and_bad_enums_are_refused(fake):
    project_id = project(fake)
    answer = api(fake, "POST", "/project/%d/keys" % project_id,
                 {"name": "k", "type": "none", "project_id": project_id, "secret": "x"})
    assert answer.status_code == 400 and "secret: Unknown field" in answer.json()["error"]
    answer = api(fake, "POST", "/project/%d/keys" % project_id, {"name": "k", "type": "gpg", "project_id": project_id})
    assert answer.status_code == 400 and "type:" in answer.json()["error"]
    answer = api(fake, "GET", "/project/%d/keys" % project_id)
    assert answer.status_code == 400 and "sort: This query parameter is required" in answer.json()["error"]
    answer = api(fake, "GET", "/project/%d/keys" % project_id, params={"sort": "id", "order": "asc"})
    assert answer.status_code == 400 and "'id' is not one of name, type" in answer.json()["error"]
    assert api(fake, "PATCH", "/project/%d/keys/1" % project_id, {}).status_code == 405
    assert api(fake, "GET", "/project/%d/nothing" % project_id).status_code == 404


def test_key_secrets_are_write_only_and_change_only_with_override_secret(fake):
    project_id = project(fake)
    answer = api(fake, "POST", "/project/%d/keys" % project_id,
                 {"name": "vault", "type": "login_password", "project_id": project_id,
                  "login_password": {"login": "", "password": "first"}})
    key = answer.json()
    assert answer.status_code == 201 and set(key) == {"id", "name", "type", "project_id"}
    path = "/project/%d/keys/%d" % (project_id, key["id"])
    renamed = {"id": key["id"], "name": "vault2", "type": "login_password", "project_id": project_id,
               "login_password": {"login": "", "password": "second"}}
    assert api(fake, "PUT", path, renamed).status_code == 204
    stored = fake.named("p", "keys", "vault2")
    assert '"first"' in stored["secret"]
    assert api(fake, "PUT", path, dict(renamed, override_secret=True)).status_code == 204
    assert '"second"' in fake.named("p", "keys", "vault2")["secret"]
    answer = api(fake, "PUT", path, dict(renamed, id=key["id"] + 100))
    assert answer.status_code == 400 and "must be the same" in answer.json()["error"]


def test_objects_in_use_cannot_be_deleted_and_a_template_takes_its_schedules(fake):
    project_id = project(fake)
    none_key = api(fake, "GET", "/project/%d/keys" % project_id, params=LIST).json()[0]["id"]
    env = api(fake, "GET", "/project/%d/environment" % project_id, params=LIST).json()[0]["id"]
    repo = api(fake, "POST", "/project/%d/repositories" % project_id,
               {"name": "r", "project_id": project_id, "git_url": "https://x/r.git", "git_branch": "main",
                "ssh_key_id": none_key}).json()["id"]
    inventory = api(fake, "POST", "/project/%d/inventory" % project_id,
                    {"name": "i", "project_id": project_id, "type": "file", "inventory": "hosts.yml"}).json()["id"]
    missing = api(fake, "POST", "/project/%d/templates" % project_id,
                  {"name": "t", "project_id": project_id, "playbook": "site.yml", "app": "ansible",
                   "inventory_id": inventory + 50, "repository_id": repo, "environment_id": env})
    assert missing.status_code == 400 and missing.content == b"" and fake.project("p")["templates"] == {}
    template = api(fake, "POST", "/project/%d/templates" % project_id,
                   {"name": "t", "project_id": project_id, "playbook": "site.yml", "app": "ansible",
                    "inventory_id": inventory, "repository_id": repo, "environment_id": env}).json()["id"]
    answer = api(fake, "POST", "/project/%d/schedules" % project_id,
                 {"name": "s", "project_id": project_id, "template_id": template, "cron_format": "0 25 * * *"})
    assert answer.status_code == 400 and answer.json()["error"].startswith("Cron: ")
    assert api(fake, "POST", "/project/%d/schedules" % project_id,
               {"name": "s", "project_id": project_id, "template_id": template, "cron_format": "@daily"}).status_code == 201
    answer = api(fake, "DELETE", "/project/%d/repositories/%d" % (project_id, repo))
    assert answer.status_code == 400 and answer.json() == {"error": "Repository is in use by one or more templates",
                                                           "inUse": True}
    assert api(fake, "DELETE", "/project/%d/templates/%d" % (project_id, template)).status_code == 204
    assert api(fake, "GET", "/project/%d/schedules" % project_id).json() == []
    assert api(fake, "DELETE", "/project/%d/repositories/%d" % (project_id, repo)).status_code == 204


def test_environment_secrets_are_listed_by_name_only_with_the_single_environment(fake):
    project_id = project(fake)
    answer = api(fake, "POST", "/project/%d/environment" % project_id,
                 {"name": "site", "project_id": project_id, "json": "{}", "env": "{}",
                  "secrets": [{"name": "SOPS_AGE_KEY", "type": "env", "secret": "AGE-1", "operation": "create"}]})
    env = answer.json()
    assert answer.status_code == 201 and "secrets" not in env
    single = api(fake, "GET", "/project/%d/environment/%d" % (project_id, env["id"])).json()
    assert [(s["name"], s["type"]) for s in single["secrets"]] == [("SOPS_AGE_KEY", "env")]
    assert "AGE-1" not in str(single) and fake.environment_secrets("p", "site") == {"env.SOPS_AGE_KEY": "AGE-1"}
    answer = api(fake, "POST", "/project/%d/environment" % project_id,
                 {"name": "bad", "project_id": project_id, "json": "{not json"})
    assert answer.status_code == 400 and answer.json() == {"error": "Extra variables must be valid JSON"}


def test_an_answer_off_the_contract_is_recorded_and_sent_as_500(fake):
    project_id = project(fake)
    fake.projects[project_id]["max_parallel_tasks"] = -1  # the contract says minimum 0
    answer = api(fake, "GET", "/project/%d/" % project_id)
    assert answer.status_code == 500 and "broke its contract" in answer.json()["error"]
    assert fake.contract_violations and fake.contract_violations[0]["path"] == "/api/project/%d/" % project_id
    fake.contract_violations.clear()

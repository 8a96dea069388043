"""The pure logic of homelab.stack.restic_repository: what to do with a repository as found,
and which options are refused before restic runs.

No restic runs here; tests/integration/test_restic_repository.py runs the real one.
"""

import pytest

from ansible_collections.homelab.stack.plugins.modules import restic_repository
from ansible_collections.homelab.stack.plugins.modules.restic_repository import option_problems, plan
from module_options import argument_spec_of, options_of

SPEC = argument_spec_of(restic_repository)


def options(**given):
    given.setdefault("repository", "/srv/backup/restic")
    given.setdefault("password", "pw")
    return options_of(SPEC, **given)


def test_a_missing_repository_is_initialized():
    assert plan({"initialized": False}, options()) == ({"initialized": False}, {"initialized": True}, ["init"])


def test_an_existing_repository_is_never_initialized_again():
    assert plan({"initialized": True}, options()) == ({"initialized": True}, {"initialized": True}, [])


@pytest.mark.parametrize("initialized, actions", [(False, ["init", "check"]), (True, ["check"])])
def test_check_comes_after_init(initialized, actions):
    assert plan({"initialized": initialized}, options(check=True, read_data_subset="5%"))[2] == actions


def test_valid_options_have_no_problems():
    assert option_problems(options()) == []
    assert option_problems(options(repository="rest:https://backup:8000/", cacert="/etc/ca.pem", check=True,
                                   read_data_subset="1/10")) == []
    assert option_problems(options(repository="s3:minio/bucket",
                                   env={"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"})) == []


@pytest.mark.parametrize("given, problem", [
    ({"repository": "ftp://nas/backup"}, "repository: unknown scheme 'ftp'"),
    ({"repository": "/srv/r", "cacert": "/etc/ca.pem"}, "cacert: only used for rest:https:// and s3: repositories"),
    ({"repository": "rest:http://127.0.0.1:8000/", "cacert": "/etc/ca.pem"}, "cacert: only used"),
    ({"read_data_subset": "5%"}, "read_data_subset: only used with check: true"),
    ({"check": True, "read_data_subset": "200%"}, "read_data_subset: '200%' is not"),
    ({"repository": "s3:minio/bucket", "env": {"AWS_SECRET_ACCESS_KEY": "b"}}, "env: an s3: repository needs both"),
    ({"env": {"RESTIC_REPOSITORY": "/elsewhere"}}, "env: RESTIC_REPOSITORY is set by the module"),
    ({"password": ""}, "password: must not be empty"),
])
def test_bad_options_name_their_field(given, problem):
    problems = option_problems(options(**given))
    assert any(text.startswith(problem) for text in problems), problems


def test_the_secret_options_are_not_logged():
    assert SPEC["password"]["no_log"] is True and SPEC["env"]["no_log"] is True
    assert SPEC["state"]["choices"] == ["present"]

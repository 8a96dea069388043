"""restic_repository_problems: a role refuses bad extra repositories before any change."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.filter.restic_repository_problems import restic_repository_problems


def test_good_repositories_have_no_problem():
    assert restic_repository_problems([
        {"name": "b2", "url": "s3:https://s3.example.test/bucket/jove",
         "env": {"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "key"}},
        {"name": "disk", "url": "/srv/restic"},
        {"name": "nas", "url": "sftp:backup@nas:/restic"},
    ], "backup_extra_repositories") == []


@pytest.mark.parametrize("repository, problem", [
    ({"name": "x", "url": "ftp:host/path"}, "backup_extra_repositories[0].url: unknown scheme 'ftp'"),
    ({"name": "x", "url": "rest:https://jove:secret@nas:8000/jove/"},
     "backup_extra_repositories[0].url: carries a password; give it in env (RESTIC_REST_PASSWORD) instead"),
    ({"name": "x"}, "backup_extra_repositories[0].url: is required"),
    ({"url": "/srv"}, "backup_extra_repositories[0].name: is required"),
    ({"name": "x", "url": "s3:https://h/b", "env": {"AWS_ACCESS_KEY_ID": "id"}},
     "backup_extra_repositories[0].env: an s3: repository needs both"),
    ({"name": "x", "url": "/srv", "env": {"RESTIC_PASSWORD": "p"}}, "backup_extra_repositories[0].env: RESTIC_PASSWORD"),
    ({"name": "x", "url": "/srv", "env": ["A=1"]}, "backup_extra_repositories[0].env: must be a mapping"),
    ("/srv", "backup_extra_repositories[0]: must be a mapping"),
])
def test_each_problem_names_its_entry(repository, problem):
    problems = restic_repository_problems([repository], "backup_extra_repositories")
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_a_name_used_twice():
    problems = restic_repository_problems([{"name": "a", "url": "/x"}, {"name": "a", "url": "/y"}])
    assert problems == ["repositories[1].name: a is already the name of repositories[0]"]


def test_a_secret_never_appears_in_a_problem():
    problems = restic_repository_problems([{"name": "x", "url": "rest:https://u:hunter2@h:8000/"}])
    assert problems and "hunter2" not in " ".join(problems)


def test_not_a_list():
    with pytest.raises(AnsibleFilterError, match="must be a list"):
        restic_repository_problems({"name": "x"})

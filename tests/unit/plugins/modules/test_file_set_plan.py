"""homelab.stack.file_set's rules without a host: what a path needs, and which options are bad."""

from ansible_collections.homelab.stack.plugins.modules.file_set import plan, problems

FILE = {"kind": "file", "mode": 0o644, "uid": 0, "gid": 0, "content": b"a\n"}
USERS = {"root": 0, "nobody": 65534, "ghost": None}
GROUPS = {"root": 0, "nogroup": 65534, "ghosts": None}


def entry(path, mode="0644", owner="root", group="root", **more):
    return {"path": path, "mode": mode, "owner": owner, "group": group, **more}


def test_a_missing_path_is_made_and_nothing_else():
    assert plan(FILE, None) == ["make"]


def test_a_path_as_wanted_needs_nothing():
    assert plan(FILE, dict(FILE)) == []


def test_each_difference_is_its_own_action():
    assert plan(FILE, {**FILE, "content": b"b\n"}) == ["write"]
    assert plan(FILE, {**FILE, "mode": 0o600}) == ["mode"]
    assert plan(FILE, {**FILE, "gid": 4}) == ["owner"]
    assert plan(FILE, {**FILE, "content": b"", "mode": 0o755, "uid": 1}) == ["write", "mode", "owner"]


def test_a_directory_has_no_content_to_compare():
    directory = {"kind": "directory", "mode": 0o755, "uid": 0, "gid": 0}
    assert plan(directory, dict(directory)) == []
    assert plan(directory, {**directory, "mode": 0o700}) == ["mode"]


def test_good_options_have_no_problems():
    assert problems([entry("/etc/x", "0755")], [entry("/etc/x/a", content="a"), entry("/etc/x/b", "644", "nobody", "nogroup", content="")],
                    USERS, GROUPS) == []


def test_every_problem_is_named_by_option_index_and_field():
    found = problems(
        [entry("relative/dir", "0755"), entry("/etc/x", "rwx")],
        [entry("/etc/x/a", owner="ghost", content="a"), entry("/etc/x/b", group="ghosts", content="b"),
         entry("/etc/x/c"), entry("/etc/x/", content="dup"), entry("/etc/x/d", "0999", content="d")],
        USERS, GROUPS)
    assert found == [
        "directories[0].path: must be absolute, got 'relative/dir'",
        "directories[1].mode: must be an octal string such as '0644', got 'rwx'",
        "files[0].owner: no user 'ghost' on this host",
        "files[1].group: no group 'ghosts' on this host",
        "files[2].content: required (or src, read by the action plugin)",
        "files[3].path: /etc/x/ is already directories[1]",
        "files[4].mode: must be an octal string such as '0644', got '0999'",
    ]

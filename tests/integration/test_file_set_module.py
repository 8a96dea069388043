"""homelab.stack.file_set run by Ansible on this machine, in a scratch directory."""

import os
import stat

from ansible_run import run_module


def file_set(check=False, **args):
    result, _completed = run_module("homelab.stack.file_set", args, check=check)
    return result


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def layout(tmp_path):
    source = tmp_path / "source"
    (source / "sub").mkdir(parents=True)
    (source / "run.py").write_text("print('run')\n")
    (source / "sub" / "util.py").write_text("X = 1\n")
    target = tmp_path / "target"
    return {
        "directories": [{"path": str(target), "mode": "0750"}, {"path": str(target / "etc"), "mode": "0700"}],
        "files": [
            {"path": str(target / "lib"), "src": str(source), "mode": "0644"},
            {"path": str(target / "etc" / "app.conf"), "content": "key = value\n", "mode": "0600"},
            {"path": str(target / "deep" / "er" / "x"), "content": "x", "mode": "0644"},
        ],
    }


def test_makes_everything_then_changes_nothing(tmp_path):
    wanted = layout(tmp_path)
    first = file_set(**wanted)
    assert not first.get("failed"), first.get("msg")
    assert first["changed"] is True
    target = tmp_path / "target"
    assert (target / "lib" / "run.py").read_text() == "print('run')\n"
    assert (target / "lib" / "sub" / "util.py").read_text() == "X = 1\n"
    assert (target / "etc" / "app.conf").read_text() == "key = value\n"
    assert mode(target) == 0o750 and mode(target / "etc") == 0o700 and mode(target / "etc" / "app.conf") == 0o600
    assert mode(target / "lib") == 0o755 and mode(target / "lib" / "run.py") == 0o644
    # Parents nobody listed are made 0755, as ansible.builtin.file makes them.
    assert mode(target / "deep") == 0o755 and mode(target / "deep" / "er") == 0o755
    assert str(target / "deep") in first["changed_paths"]

    second = file_set(**wanted)
    assert second["changed"] is False and second["changed_paths"] == []


def test_check_mode_reports_and_writes_nothing(tmp_path):
    result = file_set(check=True, **layout(tmp_path))
    assert result["changed"] is True
    assert str(tmp_path / "target" / "etc" / "app.conf") in result["changed_paths"]
    assert not (tmp_path / "target").exists()


def test_only_what_differs_changes_and_the_diff_shows_it(tmp_path):
    wanted = layout(tmp_path)
    file_set(**wanted)
    conf = tmp_path / "target" / "etc" / "app.conf"
    conf.write_text("key = tampered\n")
    os.chmod(tmp_path / "target" / "lib" / "run.py", 0o666)
    result = file_set(**wanted)
    assert result["changed_paths"] == [str(tmp_path / "target" / "lib" / "run.py"), str(conf)]
    assert conf.read_text() == "key = value\n"
    assert mode(tmp_path / "target" / "lib" / "run.py") == 0o644
    diff = [d for d in result["diff"] if d["after_header"] == str(conf)]
    assert diff and diff[0]["before"] == "key = tampered\n" and diff[0]["after"] == "key = value\n"


def test_a_failed_validation_keeps_the_old_file_and_names_it(tmp_path):
    conf = tmp_path / "app.conf"
    conf.write_text("good\n")
    checker = "grep -q good %s"
    assert file_set(files=[{"path": str(conf), "content": "good too\n", "mode": "0644", "validate": checker}])["changed"]
    result = file_set(files=[{"path": str(conf), "content": "bad\n", "mode": "0644", "validate": checker}])
    assert result.get("failed")
    assert result["msg"].startswith(f"files[0].validate: {conf} failed to validate, so it was not written (rc 1)")
    assert conf.read_text() == "good too\n"
    assert [p.name for p in tmp_path.iterdir()] == ["app.conf"]  # no temporary file left behind


def test_bad_options_change_nothing_and_name_each_field(tmp_path):
    result = file_set(directories=[{"path": str(tmp_path / "d"), "mode": "0755"}],
                      files=[{"path": str(tmp_path / "d" / "a"), "content": "a", "mode": "0644", "owner": "no-such-user"},
                             {"path": "relative", "content": "b", "mode": "644"}])
    assert result.get("failed")
    assert result["msg"] == ("files[0].owner: no user 'no-such-user' on this host; "
                             "files[1].path: must be absolute, got 'relative'")
    assert list(tmp_path.iterdir()) == []


def test_a_path_of_another_kind_is_refused(tmp_path):
    (tmp_path / "conf").mkdir()
    result = file_set(files=[{"path": str(tmp_path / "conf"), "content": "a", "mode": "0644"}])
    assert result.get("failed") and result["msg"] == f"files[0].path: {tmp_path / 'conf'} exists and is not a file"


def test_a_missing_or_binary_source_is_named(tmp_path):
    result = file_set(files=[{"path": str(tmp_path / "a"), "src": str(tmp_path / "missing"), "mode": "0644"}])
    assert result.get("failed") and result["msg"].startswith("files[0].src: ")
    (tmp_path / "blob").write_bytes(b"\xff\xfe\x00")
    result = file_set(files=[{"path": str(tmp_path / "a"), "src": str(tmp_path / "blob"), "mode": "0644"}])
    assert result.get("failed") and "is not UTF-8 text" in result["msg"]
    assert not (tmp_path / "a").exists()

"""homelab.stack.quadlet run by Ansible against this machine, validating with the real
Quadlet generator (taken from the lab image) in a scratch unit directory."""

import json
import os
import pathlib

import pytest

from ansible_run import run_module, run_module_tasks
from quadlet_generator import GENERATOR


WEB = {
    "name": "web",
    "unit": {"Description": "web", "X-HomelabManaged": "true"},
    "spec": {
        "Image": "localhost/app:latest",
        "Environment": {"GREETING": "hello world", "TRICKY": "it's \"quoted\" $HOME 100% \\n `x`"},
        "Label": {"traefik.http.routers.web.rule": "Host(`web.lab.example`)"},
        "PublishPort": ["127.0.0.1:8080:8080"],
    },
    "install": {"WantedBy": "multi-user.target"},
}


# Every test here needs the real generator (tests/integration/conftest.py).
pytestmark = pytest.mark.usefixtures("generator")


def module_args(unit_dir, **args):
    """The module's options: ``args`` in ``unit_dir``, with the real generator."""
    args.setdefault("path", str(unit_dir))
    args.setdefault("quadlet_executable", str(GENERATOR))
    args.setdefault("daemon_reload", False)  # this machine's systemd is not ours to reload
    return args


def quadlet(unit_dir, check=False, env_update=None, **args):
    """Run the module once; returns (result dict, failed)."""
    result, _completed = run_module("homelab.stack.quadlet", module_args(unit_dir, **args), check=check, env=env_update)
    return result, bool(result.get("failed"))


def snapshot(unit_dir):
    return {p.name: p.read_bytes() for p in sorted(unit_dir.iterdir())}


def test_creates_a_validated_unit_and_reports_the_generated_service(tmp_path):
    result, failed = quadlet(tmp_path, **WEB)
    assert not failed, result.get("msg")
    assert result["changed"] is True
    assert result["path"] == str(tmp_path / "web.container")
    assert result["service_name"] == "web.service"
    assert "ExecStart=" in result["generated"] and "SourcePath=%s" % (tmp_path / "web.container") in result["generated"]
    assert oct((tmp_path / "web.container").stat().st_mode & 0o777) == "0o644"
    assert result["diff"]["before"] == "" and result["diff"]["after"] == (tmp_path / "web.container").read_text()


def test_same_input_is_a_no_op_with_identical_bytes(tmp_path):
    quadlet(tmp_path, **WEB)
    before = snapshot(tmp_path)
    result, failed = quadlet(tmp_path, **WEB)
    assert not failed and result["changed"] is False
    assert snapshot(tmp_path) == before


def test_tricky_values_survive_the_generator_as_literal_arguments(tmp_path):
    result, _failed = quadlet(tmp_path, **WEB)
    exec_start = [line for line in result["generated"].splitlines() if line.startswith("ExecStart=")][0]
    # systemd turns $$ into $ and %% into % when it runs ExecStart: the container sees
    # exactly the value written in the playbook.
    assert '--env "TRICKY=it\'s \\"quoted\\" $$HOME 100%% \\\\n `x`"' in exec_start
    assert "--label traefik.http.routers.web.rule=Host(`web.lab.example`)" in exec_start


def test_a_change_rewrites_and_shows_the_difference(tmp_path):
    quadlet(tmp_path, **WEB)
    changed = dict(WEB)
    changed["spec"] = dict(WEB["spec"], Image="localhost/app:2")
    result, failed = quadlet(tmp_path, **changed)
    assert not failed and result["changed"] is True
    assert "Image=localhost/app:latest" in result["diff"]["before"]
    assert "Image=localhost/app:2" in result["diff"]["after"]


def test_check_mode_validates_but_writes_nothing(tmp_path):
    result, failed = quadlet(tmp_path, check=True, **WEB)
    assert not failed and result["changed"] is True
    assert "generated" in result
    assert list(tmp_path.iterdir()) == []
    bad, failed = quadlet(tmp_path, check=True, name="web", spec={"Imagee": "x"})
    assert failed and "unsupported key 'Imagee'" in bad["msg"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "web", "spec": {"Image": "x", "Imagee": "y"}},
         "web.container: rejected by the Quadlet generator: converting \"web.container\": unsupported key 'Imagee' in group 'Container'"),
        ({"name": "web", "spec": {"ContainerName": "web"}},
         "web.container: rejected by the Quadlet generator: converting \"web.container\": no Image or Rootfs key specified"),
        ({"name": "web", "spec": {"Image": "x", "Network": "missing.network"}}, "requested Quadlet unit missing.network was not found"),
        ({"name": "web", "spec": {"Image": "x", "Exec": {"a": "b"}}}, "[Container] Exec: a dict is only accepted for"),
        ({"name": "../web", "spec": {"Image": "x"}}, "name: '../web' is not a unit base name"),
        ({"units": [{"name": "a", "spec": {"Image": "x"}, "bogus": 1}]}, "units[0]: unknown option bogus"),
        ({"units": [{"name": "a", "spec": {"Image": "x"}}, {"name": "a", "spec": {"Image": "y"}}]}, "units: a.container listed more than once"),
    ],
)
def test_bad_units_are_refused_and_nothing_is_written(tmp_path, args, message):
    (tmp_path / "keep.container").write_text("[Container]\nImage=localhost/keep\n")
    before = snapshot(tmp_path)
    result, failed = quadlet(tmp_path, **args)
    assert failed
    assert message in result["msg"]
    assert snapshot(tmp_path) == before


def test_broken_neighbours_do_not_block_or_get_blamed(tmp_path):
    (tmp_path / "broken.container").write_text("[Container]\nNoSuchKey=1\n")
    result, failed = quadlet(tmp_path, **WEB)
    assert not failed, result.get("msg")
    assert (tmp_path / "broken.container").read_text() == "[Container]\nNoSuchKey=1\n"


def test_dependencies_in_the_directory_resolve(tmp_path):
    network, failed = quadlet(tmp_path, name="homelab", type="network", spec={"NetworkName": "homelab"})
    assert not failed and network["service_name"] == "homelab-network.service"
    result, failed = quadlet(tmp_path, name="app", spec={"Image": "x", "Network": "homelab.network"})
    assert not failed, result.get("msg")
    assert "Requires=homelab-network.service" in result["generated"]


def test_batch_writes_in_order_with_one_validation(tmp_path):
    units = [
        {"name": "homelab", "type": "network", "spec": {"NetworkName": "homelab"}},
        {"name": "app-data", "type": "volume", "spec": {"VolumeName": "app-data"}},
        {"name": "app", "spec": {"Image": "x", "Network": "homelab.network", "Volume": "app-data.volume:/data"}},
    ]
    result, failed = quadlet(tmp_path, units=units)
    assert not failed, result.get("msg")
    assert [(r["name"], r["service_name"], r["changed"]) for r in result["results"]] == [
        ("homelab", "homelab-network.service", True),
        ("app-data", "app-data-volume.service", True),
        ("app", "app.service", True),
    ]
    again, failed = quadlet(tmp_path, units=units)
    assert not failed and again["changed"] is False
    assert [r["changed"] for r in again["results"]] == [False, False, False]


def test_absent_removes_the_file(tmp_path):
    quadlet(tmp_path, **WEB)
    result, failed = quadlet(tmp_path, check=True, name="web", state="absent")
    assert not failed and result["changed"] is True and (tmp_path / "web.container").exists()
    result, failed = quadlet(tmp_path, name="web", state="absent")
    assert not failed and result["changed"] is True
    assert not (tmp_path / "web.container").exists()
    result, failed = quadlet(tmp_path, name="web", state="absent")
    assert not failed and result["changed"] is False


def test_raw_content_is_validated_too(tmp_path):
    result, failed = quadlet(tmp_path, name="raw", content="[Container]\nImage=x\nExec=sleep infinity")
    assert not failed and (tmp_path / "raw.container").read_text().endswith("Exec=sleep infinity\n")
    result, failed = quadlet(tmp_path, name="raw2", content="[Container]\nExec=sleep infinity\n")
    assert failed and "no Image or Rootfs key specified" in result["msg"]


def test_an_old_generator_is_refused_with_both_versions(tmp_path):
    old = tmp_path / "old-quadlet"
    old.write_text("#!/bin/sh\necho 4.3.1\n")
    old.chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    result, failed = quadlet(units, quadlet_executable=str(old), **WEB)
    assert failed
    assert "4.3.1 found, but Podman 4.4 or newer is needed for Quadlet" in result["msg"]
    assert list(units.iterdir()) == []


def test_a_missing_generator_is_named(tmp_path):
    result, failed = quadlet(tmp_path, quadlet_executable=str(tmp_path / "nowhere"), **WEB)
    assert failed
    assert "no Quadlet generator found (looked at %s)" % (tmp_path / "nowhere") in result["msg"]


# --- hardening: values, files, options and size ---

INJECTION = "x\0[Service]\0ExecStartPre=/bin/touch /tmp/pwned\0[X-Container]\0Y="


def refused(result, failed, *words):
    """The run failed cleanly: a message with ``words``, no traceback, no errno text."""
    assert failed, result
    assert "Traceback" not in result.get("msg", "") and "[Errno" not in result.get("msg", "")
    assert "module_stderr" not in result, result  # a crash, not a fail_json
    for word in words:
        assert word in result["msg"]


@pytest.mark.parametrize("where", ["Environment", "Label", "Annotation"])
def test_a_nul_in_a_pair_value_is_refused_before_anything_is_written(tmp_path, where):
    result, failed = quadlet(tmp_path, name="web", spec={"Image": "x", where: {"X": INJECTION}})
    refused(result, failed, "[Container] %s.X: contains U+0000" % where)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("char", ["\0", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029",
                                  "\x01", "\x1b", "\x7f", "\x9b"])
def test_characters_that_end_a_line_or_string_never_reach_a_unit(tmp_path, char):
    # The four forms as four tasks of one playbook: each a run of its own, refused on its own.
    forms = [module_args(tmp_path, name="web", spec=spec) for spec in (
        {"Image": "x", "Environment": {"A": "x%sServiceName=victim" % char}},
        {"Image": "x", "Label": {"k": "v%s[Service]" % char}},
        {"Image": "x%sExec=/bin/sh" % char})]
    forms.append(module_args(tmp_path, name="web", content="[Container]\nImage=x%sExec=/bin/sh\n" % char))
    results = run_module_tasks("homelab.stack.quadlet", forms)
    for result in results[:3]:
        refused(result, bool(result.get("failed")), "U+%04X" % ord(char))
    # Ansible itself refuses a NUL in a top-level string option, before the module runs.
    refused(results[3], bool(results[3].get("failed")),
            "embedded null character" if char == "\0" else "content: contains U+%04X" % ord(char))
    assert list(tmp_path.iterdir()) == []


def test_the_batch_form_refuses_the_same_values_naming_the_item(tmp_path):
    result, failed = quadlet(tmp_path, units=[{"name": "a", "spec": {"Image": "x"}},
                                              {"name": "b", "spec": {"Image": "x", "Environment": {"E": INJECTION}}}])
    refused(result, failed, "units[1]: [Container] Environment.E: contains U+0000")
    assert list(tmp_path.iterdir()) == []


def test_existing_units_are_read_with_systemd_line_ends(tmp_path):
    # A line separator is no line end for systemd: this file names no ServiceName.
    (tmp_path / "web.container").write_text('[Container]\nImage=x\nEnvironment="A=x\u2028ServiceName=victim"\n')
    result, failed = quadlet(tmp_path, check=True, name="web", state="absent")
    assert not failed and result["service_name"] == "web.service"
    # A NUL, CR or LF does end a line for systemd, so there ServiceName= counts.
    (tmp_path / "web.container").write_text("[Container]\nImage=x\0ServiceName=other\n")
    result, failed = quadlet(tmp_path, check=True, name="web", state="absent")
    assert not failed and result["service_name"] == "other.service"


@pytest.mark.parametrize(("source", "stopped"), [("own", True), ("elsewhere", False), ("none", False)])
def test_removal_stops_only_the_service_made_from_this_file(tmp_path, source, stopped):
    units = tmp_path / "units"
    units.mkdir()
    (units / "sshd.container").write_text("[Container]\nImage=x\n")
    log = tmp_path / "systemctl.log"
    sources = {"own": str(units / "sshd.container"), "elsewhere": "/etc/containers/systemd/sshd.container",
               "none": ""}
    fake = pathlib.Path(__file__).resolve().parents[1] / "fakes" / "systemctl_cli"
    result, failed = quadlet(units, name="sshd", state="absent",
                             env_update={"PATH": "%s:%s" % (fake, os.environ["PATH"]),
                                         "FAKE_SYSTEMCTL_LOG": str(log), "FAKE_SYSTEMCTL_SOURCE": sources[source]})
    assert not failed, result.get("msg")
    assert result["changed"] is True and not (units / "sshd.container").exists()
    calls = log.read_text().splitlines()
    assert calls[0] == "show --property=SourcePath sshd.service"
    assert ("stop sshd.service" in calls) is stopped
    assert ("reset-failed sshd.service" in calls) is stopped


@pytest.mark.parametrize("check", [False, True])
def test_a_symlink_at_the_unit_path_is_refused_and_never_read(tmp_path, check):
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$very-secret-hash:19000:0:99999:7:::\n")
    units = tmp_path / "units"
    units.mkdir()
    (units / "web.container").symlink_to(secret)
    result, failed = quadlet(units, check=check, **WEB)
    refused(result, failed, "is a symbolic link, not a regular file")
    assert "very-secret-hash" not in json.dumps(result)
    assert (units / "web.container").is_symlink() and secret.read_text().startswith("root:")


def test_a_fifo_or_a_directory_at_the_unit_path_is_refused(tmp_path):
    os.mkfifo(tmp_path / "web.container")
    result, failed = quadlet(tmp_path, **WEB)  # the helper's timeout fails a hang
    refused(result, failed, "is a FIFO, not a regular file")
    os.unlink(tmp_path / "web.container")
    (tmp_path / "web.container").mkdir()
    result, failed = quadlet(tmp_path, **WEB)
    refused(result, failed, "is a directory, not a regular file")
    result, failed = quadlet(tmp_path, name="web", state="absent")
    refused(result, failed, "is a directory, not a regular file")


# Options refused before the first write: (the options, words of the message).
BAD_OPTIONS = [
    (dict(WEB, mode="banana"), ["mode: 'banana' is not an octal"]),
    (dict(WEB, mode="0999"), ["mode: '0999' is not an octal"]),
    (dict(WEB, owner="no-such-user-here"), ["owner: 'no-such-user-here' is not a user"]),
    (dict(WEB, group="no-such-group-here"), ["group: 'no-such-group-here' is not a group"]),
    ({"units": [{"name": "a", "state": "abset", "spec": {"Image": "x"}}]},
     ["units[0]: ", "state must be one of: present, absent, got: abset"]),
    ({"units": [{"name": "a", "type": "containr", "spec": {"Image": "x"}}]}, ["units[0]: ", "type must be one of"]),
    ({"units": [{"name": "a", "spec": ["Image=x"]}]}, ["units[0]: ", "spec", "unable to convert to dict"]),
    ({"units": ["a"]}, ["option 'units'", "unable to convert to dict"]),
    ({"name": "w" * 300, "spec": {"Image": "x"}}, ["name: 300 characters is too long", "systemd allows 255"]),
    ({"name": "web", "spec": {"Image": "x", "Label": {"k": ["a"]}}}, ["[Container] Label.k: expected a string"]),
    ({"name": "web", "spec": {"Image": "x"}, "unit": "banana"}, ["unit"]),
]


@pytest.fixture(name="bad_option_results", scope="module")
def bad_option_results_fixture(tmp_path_factory):
    """Each of BAD_OPTIONS run once, in a unit directory of its own, as the tasks of one
    playbook: [(its result, its directory)]."""
    root = tmp_path_factory.mktemp("bad-options")
    directories = [root / str(index) for index in range(len(BAD_OPTIONS))]
    for directory in directories:
        directory.mkdir()
    results = run_module_tasks("homelab.stack.quadlet", [module_args(directory, **args)
                                                         for directory, (args, _words) in zip(directories, BAD_OPTIONS)])
    return list(zip(results, directories))


@pytest.mark.parametrize("case", range(len(BAD_OPTIONS)))
def test_every_option_is_checked_before_the_first_write(bad_option_results, case):
    result, directory = bad_option_results[case]
    refused(result, bool(result.get("failed")), *BAD_OPTIONS[case][1])
    assert list(directory.iterdir()) == []


def test_a_numeric_name_in_a_batch_is_a_name(tmp_path):
    result, failed = quadlet(tmp_path, units=[{"name": 123, "spec": {"Image": "x"}}])
    assert not failed, result.get("msg")
    assert (tmp_path / "123.container").exists()


def test_a_path_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    result, failed = quadlet(tmp_path / "file", **WEB)
    refused(result, failed, "path: %s is not a directory" % (tmp_path / "file"))


def test_a_megabyte_value_is_validated_and_written(tmp_path):
    # The reference scan was quadratic (13 minutes for 1 MB); the helper's timeout is 120 s.
    value = "a" * (1 << 20)
    result, failed = quadlet(tmp_path, name="big", spec={"Image": "x", "Environment": {"BIG": value}})
    assert not failed, result.get("msg")
    assert value in (tmp_path / "big.container").read_text()

"""homelab.stack.quadlet run by Ansible against this machine, validating with the real
Quadlet generator (taken from the lab image) in a scratch unit directory."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
GENERATOR = ROOT / ".cache" / "bin" / "quadlet"

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


@pytest.fixture(scope="module", autouse=True)
def generator():
    if not GENERATOR.exists():
        subprocess.run([str(ROOT / "tests" / "lab" / "extract-quadlet.sh")], check=True)


def quadlet(unit_dir, check=False, **args):
    """Run the module once; returns (result dict, failed)."""
    args.setdefault("path", str(unit_dir))
    args.setdefault("quadlet_executable", str(GENERATOR))
    args.setdefault("daemon_reload", False)  # this machine's systemd is not ours to reload
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    command = ["ansible", "localhost", "-i", "localhost,", "-c", "local", "--diff",
               "-e", f"ansible_python_interpreter={sys.executable}",
               "-m", "homelab.stack.quadlet", "-a", json.dumps(args)]
    if check:
        command.append("--check")
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    output = json.loads(run.stdout)
    result = output["plays"][0]["tasks"][0]["hosts"]["localhost"]
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

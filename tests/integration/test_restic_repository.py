"""homelab.stack.restic_repository run by Ansible against this machine with the real restic
(Debian 12 ships 0.14, whose errors all exit 1: the module reads its messages there).

Repositories are local directories under the test's tmp_path, except the unreachable
backend (a loopback port that refuses connections). restic's cache goes to tmp_path too.
"""

import hashlib
import json
import os
import pathlib
import shutil
import socket
import subprocess
import time

import pytest

from ansible_run import run_module

MODULE = "homelab.stack.restic_repository"
PASSWORD = "correct-horse-1f3a7"
WRONG = "battery-staple-9c2e4"
INSTALL_HINT = "restic is not installed: run tests/lab/setup-controller.sh (as root on Debian: apt-get install restic)"


@pytest.fixture(scope="module", name="restic")
def restic_fixture():
    """restic's path; its absence fails the tests (never a skip)."""
    path = shutil.which("restic")
    if path is None:
        pytest.fail(INSTALL_HINT)
    return path


class Lab:
    """A scratch directory with a restic cache, data to back up and a runner of the module."""

    def __init__(self, tmp_path, restic):
        self.tmp = tmp_path
        self.restic_path = restic
        self.repo = tmp_path / "repo"
        self.data = tmp_path / "data"
        self.env = {"RESTIC_CACHE_DIR": str(tmp_path / "cache"), "ANSIBLE_LOG_PATH": str(tmp_path / "ansible.log")}
        self.last = None

    def run(self, check_mode=False, **args):
        """Run the module once (diff mode); (result, failed). No secret may reach Ansible's output or log."""
        args.setdefault("repository", str(self.repo))
        if "password_file" not in args:
            args.setdefault("password", PASSWORD)
        result, self.last = run_module(MODULE, args, check=check_mode, env=self.env)
        output = self.last.stdout + self.last.stderr
        log = pathlib.Path(self.env["ANSIBLE_LOG_PATH"])
        if log.exists():
            output += log.read_text()
        for secret in (PASSWORD, WRONG):
            assert secret not in output
        assert "Traceback" not in output
        return result, bool(result.get("failed"))

    def restic(self, *args, password=PASSWORD, stdin=None):
        """restic itself on the repository; the completed process (must succeed)."""
        env = dict(os.environ, RESTIC_REPOSITORY=str(self.repo), RESTIC_PASSWORD=password,
                   RESTIC_CACHE_DIR=self.env["RESTIC_CACHE_DIR"])
        completed = subprocess.run([self.restic_path, *args], env=env, capture_output=True, text=True, input=stdin,
                                   timeout=120, check=False)
        assert completed.returncode == 0, completed.stderr
        return completed

    def backup(self, content):
        self.data.mkdir(exist_ok=True)
        (self.data / "file.txt").write_text(content)
        self.restic("backup", "--quiet", str(self.data))

    def fingerprint(self):
        """Every file of the repository with its content digest: what must stay untouched."""
        return {str(path.relative_to(self.repo)): hashlib.sha256(path.read_bytes()).hexdigest()
                for path in sorted(self.repo.rglob("*")) if path.is_file()}

    def packs(self):
        return sorted(path for path in (self.repo / "data").rglob("*") if path.is_file())


@pytest.fixture(name="lab")
def lab_fixture(tmp_path, restic):
    return Lab(tmp_path, restic)


def test_a_missing_repository_is_initialized(lab):
    result, failed = lab.run()
    assert not failed, result.get("msg")
    assert result["changed"] is True and result["initialized"] is True
    config = json.loads(lab.restic("cat", "config").stdout)
    assert result["repository_id"] == config["id"]
    assert result["snapshot_count"] == 0 and result["last_snapshot"] is None and result["size_bytes"] == 0
    assert result["diff"] == {"before": {"initialized": False}, "after": {"initialized": True}}
    assert ["restic", "init"] in result["commands"]


def test_a_second_run_changes_nothing(lab):
    first, _ = lab.run()
    before = lab.fingerprint()
    result, failed = lab.run()
    assert not failed, result.get("msg")
    assert result["changed"] is False and result["initialized"] is False
    assert result["repository_id"] == first["repository_id"]
    assert result["diff"] == {"before": {"initialized": True}, "after": {"initialized": True}}
    assert ["restic", "init"] not in result["commands"]
    assert lab.fingerprint() == before


def test_check_mode_reports_the_init_and_makes_nothing(lab):
    result, failed = lab.run(check_mode=True)
    assert not failed, result.get("msg")
    assert result["changed"] is True and result["initialized"] is True and result["repository_id"] is None
    assert result["commands"][-1] == ["restic", "init"]
    assert not lab.repo.exists()


def test_check_mode_on_an_existing_repository_reports_no_change(lab):
    lab.run()
    lab.backup("one")
    result, failed = lab.run(check_mode=True)
    assert not failed, result.get("msg")
    assert result["changed"] is False and result["snapshot_count"] == 1


def test_a_password_file_opens_the_repository(lab):
    lab.run()
    password_file = lab.tmp / "password"
    password_file.write_text(PASSWORD + "\n")
    result, failed = lab.run(password_file=str(password_file))
    assert not failed, result.get("msg")
    assert result["changed"] is False


def test_a_wrong_password_fails_naming_it_and_leaves_the_repository_alone(lab):
    lab.run()
    lab.backup("precious")
    before = lab.fingerprint()
    result, failed = lab.run(password=WRONG, check=True)
    assert failed
    assert result["msg"].startswith("password: %s does not open with this password" % lab.repo)
    assert result["kind"] == "wrong_password"
    assert lab.fingerprint() == before
    # the repository still opens with its own password and kept its snapshot
    assert len(json.loads(lab.restic("snapshots", "--json").stdout)) == 1


def test_a_wrong_password_file_fails_naming_password_file(lab):
    lab.run()
    password_file = lab.tmp / "password"
    password_file.write_text(WRONG + "\n")
    result, failed = lab.run(password_file=str(password_file))
    assert failed and result["msg"].startswith("password_file: ")


def test_snapshot_count_time_and_size_follow_real_backups(lab):
    lab.run()
    lab.backup("first version")
    lab.backup("second version, longer")
    result, failed = lab.run()
    assert not failed, result.get("msg")
    snapshots = json.loads(lab.restic("snapshots", "--json").stdout)
    assert result["snapshot_count"] == 2
    assert result["last_snapshot"] == max(snapshots, key=lambda s: s["time"])["time"]
    stats = json.loads(lab.restic("stats", "--json", "--mode", "raw-data").stdout)
    assert result["size_bytes"] == stats["total_size"] > 0


def test_check_passes_on_a_sound_repository(lab):
    lab.run()
    lab.backup("sound")
    result, failed = lab.run(check=True, read_data_subset="100%")
    assert not failed, result.get("msg")
    assert result["checked"] is True and result["changed"] is False
    assert ["restic", "check", "--read-data-subset=100%"] in result["commands"]


def test_an_altered_pack_is_caught_only_when_data_is_read(lab):
    lab.run()
    lab.backup("data that will rot")
    pack = lab.packs()[0]
    pack.chmod(0o600)
    with pack.open("r+b") as handle:
        handle.seek(16)
        byte = handle.read(1)
        handle.seek(16)
        handle.write(bytes([byte[0] ^ 0xFF]))
    structure_only, failed = lab.run(check=True)
    assert not failed, structure_only.get("msg")  # the index still names the pack: the structure is fine
    result, failed = lab.run(check=True, read_data_subset="100%")
    assert failed
    assert result["msg"].startswith("repository: restic check found errors in %s: " % lab.repo)
    assert "repository contains errors" in result["msg"]


def test_a_missing_pack_is_caught_by_check(lab):
    lab.run()
    lab.backup("data that will vanish")
    for pack in lab.packs():
        pack.unlink()
    result, failed = lab.run(check=True)
    assert failed
    assert result["msg"].startswith("repository: restic check found errors in ")
    assert "does not exist" in result["msg"]


def test_a_locked_repository_fails_the_check_with_a_clear_message(lab):
    lab.run()
    lab.backup("x")
    # `restic backup --stdin` holds its lock until its input ends: a lock held by a live process
    env = dict(os.environ, RESTIC_REPOSITORY=str(lab.repo), RESTIC_PASSWORD=PASSWORD,
               RESTIC_CACHE_DIR=lab.env["RESTIC_CACHE_DIR"])
    holder = subprocess.Popen([lab.restic_path, "backup", "--stdin", "--quiet"], env=env, stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list((lab.repo / "locks").iterdir()):
            assert time.monotonic() < deadline, "restic backup --stdin took no lock"
            assert holder.poll() is None, "restic backup --stdin ended early"
            time.sleep(0.1)
        result, failed = lab.run(check=True)
    finally:
        holder.stdin.write(b"end")
        holder.stdin.close()
        holder.wait(timeout=60)
    assert failed
    assert result["msg"].startswith("repository: %s is locked by another restic process" % lab.repo)
    assert result["kind"] == "locked"


def test_an_unknown_scheme_is_refused_naming_repository(lab):
    result, failed = lab.run(repository="ftp://nas.lab.example/backup")
    assert failed
    assert result["msg"].startswith("repository: unknown scheme 'ftp'")
    assert "commands" not in result


def test_an_unreachable_rest_server_fails_naming_repository(lab):
    # A bound socket that does not listen: the kernel refuses connections to its port.
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        result, failed = lab.run(repository="rest:http://kronos:%s@127.0.0.1:%d/kronos/" % (PASSWORD, port))
    assert failed
    assert result["msg"].startswith("repository: cannot reach rest:http://kronos:********@127.0.0.1:%d/kronos/" % port)
    assert result["kind"] == "unreachable"


def test_a_missing_restic_binary_fails_naming_restic_binary(lab):
    result, failed = lab.run(restic_binary="restic-not-installed")
    assert failed
    assert result["msg"].startswith("restic_binary: restic-not-installed was not found on PATH")

"""homelab.stack.restic_repository run by Ansible against this machine with the real restic
(Debian 12 ships 0.14, whose errors all exit 1: the module reads its messages there).

Repositories are local directories under the test's tmp_path, except the unreachable
backend (a loopback port that refuses connections). restic's cache goes to tmp_path too.
"""

import base64
import contextlib
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
from loopback import wait_listening

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODULE = "homelab.stack.restic_repository"
PASSWORD = "correct-horse-1f3a7"
WRONG = "battery-staple-9c2e4"
URL_SECRET = "url-secret-5d0b8"
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
        self.location = str(self.repo)  # the repository as restic names it
        self.data = tmp_path / "data"
        self.env = {"RESTIC_CACHE_DIR": str(tmp_path / "cache"), "ANSIBLE_LOG_PATH": str(tmp_path / "ansible.log")}
        self.last = None

    def run(self, check_mode=False, **args):
        """Run the module once (diff mode); (result, failed). No secret may reach Ansible's output or log."""
        args.setdefault("repository", self.location)
        if "password_file" not in args:
            args.setdefault("password", PASSWORD)
        result, self.last = run_module(MODULE, args, check=check_mode, env=self.env)
        output = self.last.stdout + self.last.stderr
        log = pathlib.Path(self.env["ANSIBLE_LOG_PATH"])
        if log.exists():
            output += log.read_text()
        for secret in (PASSWORD, WRONG, URL_SECRET):
            assert secret not in output
        assert "Traceback" not in output
        return result, bool(result.get("failed"))

    def restic_env(self, password=PASSWORD):
        return dict(os.environ, RESTIC_REPOSITORY=self.location, RESTIC_PASSWORD=password,
                    RESTIC_CACHE_DIR=self.env["RESTIC_CACHE_DIR"])

    def restic(self, *args, password=PASSWORD, stdin=None, ok=True):
        """restic itself on the repository; the completed process (which must succeed when ``ok``)."""
        completed = subprocess.run([self.restic_path, *args], env=self.restic_env(password), capture_output=True,
                                   text=True, input=stdin, timeout=120, check=False)
        assert completed.returncode == 0 or not ok, completed.stderr
        return completed

    @contextlib.contextmanager
    def locked(self):
        """The repository locked by a live restic process while the block runs: `restic backup
        --stdin` holds its lock until its input ends (the lock file appearing is waited for)."""
        holder = subprocess.Popen([self.restic_path, "backup", "--stdin", "--quiet"], env=self.restic_env(),
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while not list((self.repo / "locks").iterdir()):
                assert holder.poll() is None, "restic backup --stdin ended before it took a lock"
                assert time.monotonic() < deadline, "restic backup --stdin took no lock within 60 s"
                time.sleep(0.1)
            yield
        finally:
            holder.stdin.write(b"end")
            holder.stdin.close()
            holder.wait(timeout=60)

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
    first = lab.run()[0]
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


def test_without_the_summary_only_the_config_is_read(lab):
    lab.run()
    lab.backup("one")
    result, failed = lab.run(summary=False)
    assert not failed, result.get("msg")
    assert result["changed"] is False and result["repository_id"]
    assert result["commands"] == [["restic", "cat", "config", "--no-lock"]]
    assert result["snapshot_count"] == 0 and result["last_snapshot"] is None and result["size_bytes"] == 0
    # the default still reads them
    assert lab.run()[0]["snapshot_count"] == 1


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
    lab.backup(os.urandom(256 * 1024).hex())
    # the data pack, much larger than the tree pack (whose trees the structure check does read)
    pack = max(lab.packs(), key=lambda path: path.stat().st_size)
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
    lab.backup(os.urandom(256 * 1024).hex())
    # The data pack, the largest: with the tree pack gone too, restic 0.14 retries loading the
    # trees with backoff for a minute or more before it reports the same missing pack.
    max(lab.packs(), key=lambda path: path.stat().st_size).unlink()
    result, failed = lab.run(check=True)
    assert failed
    assert result["msg"].startswith("repository: restic check found errors in ")
    assert "does not exist" in result["msg"]


def test_a_locked_repository_fails_the_check_with_a_clear_message(lab):
    lab.run()
    lab.backup("x")
    with lab.locked():
        result, failed = lab.run(check=True)
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
        result, failed = lab.run(repository="rest:http://kronos:%s@127.0.0.1:%d/kronos/" % (URL_SECRET, port))
    assert failed
    assert result["msg"].startswith("repository: cannot reach rest:http://kronos:********@127.0.0.1:%d/kronos/" % port)
    assert result["kind"] == "unreachable"


def test_a_missing_restic_binary_fails_naming_restic_binary(lab):
    result, failed = lab.run(restic_binary="restic-not-installed")
    assert failed
    assert result["msg"].startswith("restic_binary: restic-not-installed was not found on PATH")


@pytest.fixture(name="new_lab")
def new_lab_fixture(tmp_path, trixie):
    """A Lab whose restic is 0.18: its errors have their own exit codes (10, 11, 12)."""
    return Lab(tmp_path, str(trixie / "restic"))


@pytest.fixture(name="rest_lab")
def rest_lab_fixture(tmp_path, trixie):
    """A Lab whose repository is on a real rest-server on loopback, append-only as the homelab runs it."""
    lab = Lab(tmp_path, str(trixie / "restic"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "served").mkdir()
    # the user kronos with URL_SECRET, as an htpasswd SHA-1 entry (rest-server takes bcrypt, SHA-1 and MD5 crypt)
    digest = base64.b64encode(hashlib.sha1(URL_SECRET.encode()).digest()).decode()  # noqa: S324 - htpasswd's format
    (tmp_path / "served" / ".htpasswd").write_text("kronos:{SHA}%s\n" % digest)
    server = subprocess.Popen([str(trixie / "restic-rest-server"), "--listen", "127.0.0.1:%d" % port, "--path",
                               str(tmp_path / "served"), "--append-only", "--private-repos"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(server, port, "restic-rest-server")
        lab.repo = tmp_path / "served" / "kronos"
        lab.location = "rest:http://kronos:%s@127.0.0.1:%d/kronos/" % (URL_SECRET, port)
        yield lab
    finally:
        server.terminate()
        server.wait(timeout=30)


def run_with(lab, **args):
    return lab.run(restic_binary=lab.restic_path, **args)


def test_restic_018_exit_codes_tell_a_missing_repository_from_a_wrong_password(new_lab):
    result, failed = run_with(new_lab)
    assert not failed, result.get("msg")
    assert result["initialized"] is True  # `cat config` exited 10: no repository
    result, failed = run_with(new_lab, password=WRONG)
    assert failed and result["msg"].startswith("password: ") and (result["kind"], result["rc"]) == ("wrong_password", 12)
    again, failed = run_with(new_lab)
    assert not failed and again["changed"] is False


def test_restic_018_reports_a_lock_by_its_exit_code(new_lab):
    run_with(new_lab)
    with new_lab.locked():
        result, failed = run_with(new_lab, check=True)
    assert failed and result["kind"] == "locked"
    assert result["msg"].startswith("repository: ") and "is locked by another restic process" in result["msg"]


def test_a_repository_on_an_append_only_rest_server(rest_lab):
    result, failed = run_with(rest_lab)
    assert not failed, result.get("msg")
    assert result["changed"] is True and (rest_lab.repo / "config").is_file()
    rest_lab.backup("over the mesh")
    result, failed = run_with(rest_lab, check=True, read_data_subset="1/1")
    assert not failed, result.get("msg")
    assert result["changed"] is False and result["checked"] is True
    assert result["snapshot_count"] == 1 and result["size_bytes"] > 0
    # append-only: the server refuses to delete a snapshot (restic 0.18 says so, yet exits 0)
    snapshot = json.loads(rest_lab.restic("snapshots", "--json").stdout)[0]["id"]
    assert "unable to remove snapshot/%s" % snapshot in rest_lab.restic("forget", snapshot, ok=False).stderr
    again, failed = run_with(rest_lab)
    assert not failed and again["snapshot_count"] == 1 and again["repository_id"] == result["repository_id"]


def test_a_wrong_password_on_the_rest_server_names_password_and_hides_the_url_secret(rest_lab):
    run_with(rest_lab)
    result, failed = run_with(rest_lab, password=WRONG)
    assert failed and result["msg"].startswith("password: rest:http://kronos:********@127.0.0.1:")


def test_a_rest_server_that_refuses_the_urls_password_is_not_taken_for_a_missing_repository(rest_lab):
    rest_lab.location = rest_lab.location.replace(URL_SECRET, WRONG)
    result, failed = run_with(rest_lab)
    assert failed and result["kind"] == "denied"
    assert result["msg"].startswith("repository: rest:http://kronos:********@127.0.0.1:")
    assert "refused access" in result["msg"] and "401" in result["msg"]
    assert ["restic", "init"] not in result["commands"]  # a refusal is not a missing repository
    assert not rest_lab.repo.exists()

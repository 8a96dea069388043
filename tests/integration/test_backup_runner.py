"""The host-side backup runner (roles/backup/files: homelab-backup, homelab-restic) run as the
role installs it, with everything real on this machine:

- restic 0.18 and restic-rest-server 0.13 from Debian 13 (the lab hosts' versions), the server
  on loopback as the homelab runs it: --append-only --private-repos, TLS with a self-signed
  certificate made by the openssl CLI, users in an htpasswd file of bcrypt entries made by
  `htpasswd -B` (rest-server 0.13 takes only bcrypt and {SHA} entries);
- Podman volumes made by a real `podman volume create` (the controller's Podman 4.3 with
  tests/lab/controller-containers.conf), their mountpoints asked of `podman volume inspect`
  by the runner itself;
- PostgreSQL 15 from Debian (initdb and postgres on a Unix socket in a scratch directory, as
  the postgres user: initdb refuses to run as root), dumped with pg_dumpall;
- promtool for the metrics file. Only `systemctl` is a recorder script: the controller has no
  systemd, and what matters is that the runner calls stop, then start.

A missing tool fails the test naming the package that brings it.
"""

import fcntl
import json
import os
import pathlib
import subprocess
import time

import pytest

import backup_lab
import backup_runner
from backup_lab import tool
from loopback import free_port
from prometheus_tools import prometheus_tool

PASSWORD = "repo-password-5e1f9a"
WRONG = "not-the-password-0b7c"
REST_PASSWORD = "rest-password-c4d2e8"
SECRETS = (PASSWORD, WRONG, REST_PASSWORD)


@pytest.fixture(name="rest_server")
def rest_server_fixture(tmp_path, trixie):
    """A rest-server as the homelab runs it; yields (its URL, the CA file restic must trust)."""
    with backup_lab.rest_server(tmp_path, trixie, "kronos", REST_PASSWORD) as served:
        yield served


@pytest.fixture(name="volumes")
def volumes_fixture():
    """make(suffix) -> (name, mountpoint) of a new real Podman volume; all removed afterwards."""
    volumes = backup_lab.Volumes()
    yield volumes.make
    volumes.remove()


class Host:
    """A host with the runner installed under tmp_path, its config.json and root-only files."""

    def __init__(self, tmp_path, trixie, url, cacert, volume):
        self.tmp = tmp_path
        self.restic_path = str(trixie / "restic")
        self.sbin = backup_runner.install(tmp_path / "usr")
        etc = tmp_path / "etc"
        etc.mkdir()
        self.password_file = etc / "jove-backup.password"
        self.password_file.write_text(PASSWORD + "\n")
        env_file = etc / "jove-backup.env"
        env_file.write_text("RESTIC_REST_USERNAME=kronos\nRESTIC_REST_PASSWORD=%s\n" % REST_PASSWORD)
        for secret in (self.password_file, env_file):
            secret.chmod(0o600)
        self.textfile = tmp_path / "textfile" / "homelab_backup_files.prom"
        self.config_path = etc / "config.json"
        self.config = {
            "host": "kronos", "textfile_dir": str(self.textfile.parent), "state_dir": str(tmp_path / "state"),
            "restic": self.restic_path, "podman": tool("podman", "podman"), "systemctl": "systemctl",
            "repositories": [{"name": "jove-backup", "url": url, "password_file": str(self.password_file),
                              "env_file": str(env_file), "cacert": cacert}],
            "services": {"files": {"unit": "files.service", "volumes": [
                {"volume": volume, "schedule": "daily", "interval_seconds": 86400, "keep": {"daily": 30},
                 "pause": False, "dump": None, "dump_command": None, "load_command": None}]}},
            "server": None,
        }
        self.env = dict(os.environ, HOMELAB_BACKUP_CONFIG=str(self.config_path),
                        RESTIC_CACHE_DIR=str(tmp_path / "cache"))
        self.write_config()
        # The repository rest-server serves to user kronos (backup_lab.rest_server serves tmp_path/served).
        backup_lab.new_repository(trixie, PASSWORD, tmp_path / "served" / "kronos")

    def write_config(self):
        self.config_path.write_text(json.dumps(self.config, indent=2))
        self.config_path.chmod(0o600)

    def command(self, script, *args, prefix=()):
        """homelab-backup or homelab-restic as root runs it; no secret may be in what it prints."""
        result = subprocess.run([*prefix, str(self.sbin / script), *args], env=self.env, capture_output=True, text=True,
                                timeout=600, check=False)
        for secret in SECRETS:
            assert secret not in result.stdout + result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def backup(self, *args, prefix=()):
        return self.command("homelab-backup", *args, prefix=prefix)

    def restic(self, *args):
        """restic itself on the repository, as an administrator would run it; must succeed."""
        repository = self.config["repositories"][0]
        env = dict(self.env, RESTIC_REPOSITORY=repository["url"], RESTIC_PASSWORD=PASSWORD,
                   RESTIC_REST_USERNAME="kronos", RESTIC_REST_PASSWORD=REST_PASSWORD)
        result = subprocess.run([self.restic_path, "--cacert", repository["cacert"], *args], env=env,
                                capture_output=True, text=True, timeout=600, check=False)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def snapshots(self):
        return json.loads(self.restic("snapshots", "--json")) or []

    def metrics(self):
        """{(metric, volume): value} of the service's textfile."""
        samples = {}
        for line in self.textfile.read_text().splitlines():
            if not line.startswith("#"):
                name_labels, value = line.rsplit(" ", 1)
                name, labels = name_labels.split("{", 1)
                samples[(name, labels.split('volume="', 1)[1].rstrip('"}'))] = float(value)
        return samples


@pytest.fixture(name="host")
def host_fixture(tmp_path, trixie, rest_server, volumes):
    volume, mountpoint = volumes("files-data")
    (mountpoint / "notes.txt").write_text("the files service's data\n")
    (mountpoint / "blob.bin").write_bytes(os.urandom(256 * 1024))
    host = Host(tmp_path, trixie, rest_server[0], rest_server[1], volume)
    host.volume, host.mountpoint = volume, mountpoint
    return host


def test_a_volume_is_backed_up_with_the_contracts_host_and_tags_and_a_second_run_adds_almost_nothing(host):
    first = host.backup("run", "files")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("%s -> jove-backup: snapshot " % host.volume)
    snapshot = host.snapshots()[0]
    assert first.stdout.split("snapshot ", 1)[1][:8] == snapshot["short_id"]
    assert (snapshot["hostname"], snapshot["tags"], snapshot["paths"]) == (
        "kronos", ["service:files", "volume:%s" % host.volume], [str(host.mountpoint)])
    listed = host.restic("ls", "--json", snapshot["id"])
    assert '"name":"blob.bin"' in listed and '"name":"notes.txt"' in listed
    first_added = host.metrics()[("homelab_backup_bytes_added", host.volume)]
    assert first_added > 200 * 1024  # the random blob does not compress

    second = host.backup("run", "files", "--tag", "pre-restore")
    assert second.returncode == 0, second.stderr
    assert host.metrics()[("homelab_backup_bytes_added", host.volume)] < 4096  # a tree or two, no data
    assert [item["tags"] for item in host.snapshots()] == [
        ["service:files", "volume:%s" % host.volume], ["service:files", "volume:%s" % host.volume, "pre-restore"]]


def test_the_metrics_file_says_when_the_last_success_was_and_promtool_accepts_it(host):
    before = time.time()
    assert host.backup("run", "files").returncode == 0
    samples = host.metrics()
    assert before - 1 <= samples[("homelab_backup_last_success_timestamp_seconds", host.volume)] <= time.time()
    assert samples[("homelab_backup_interval_seconds", host.volume)] == 86400
    assert samples[("homelab_backup_duration_seconds", host.volume)] > 0
    assert samples[("homelab_backup_failures_total", host.volume)] == 0
    assert samples[("homelab_backup_partial_total", host.volume)] == 0
    assert oct(host.textfile.stat().st_mode & 0o777) == "0o644"
    result = subprocess.run([prometheus_tool("promtool"), "check", "metrics"], input=host.textfile.read_text(),
                            capture_output=True, text=True, timeout=60, check=False)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_a_wrong_password_is_a_clear_failure_that_keeps_the_last_success(host):
    assert host.backup("run", "files").returncode == 0
    last_success = host.metrics()[("homelab_backup_last_success_timestamp_seconds", host.volume)]
    host.password_file.write_text(WRONG + "\n")
    result = host.backup("run", "files")
    assert result.returncode == 1
    assert result.stderr == ("%s -> jove-backup: FAILED: restic backup: wrong password or no key found (exit 12): "
                             "the password file does not open this repository\n" % host.volume)
    samples = host.metrics()
    assert samples[("homelab_backup_failures_total", host.volume)] == 1
    assert samples[("homelab_backup_last_success_timestamp_seconds", host.volume)] == last_success
    assert len(host.snapshots()) == 1


def test_an_unreadable_file_makes_a_partial_snapshot_exit_3_and_the_partial_counter(host):
    """root reads any file, so the runner runs without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
    (setpriv drops them from the bounding set): then a mode 000 file is unreadable, as it would
    be to restic on a volume whose files are owned by a container's user with odd modes."""
    setpriv = tool("setpriv", "util-linux")
    locked = host.mountpoint / "locked.txt"
    locked.write_text("no one may read this\n")
    locked.chmod(0)
    drop = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search", "--"]
    result = host.backup("run", "files", prefix=drop)
    assert result.returncode == 3, result.stderr
    assert ("(INCOMPLETE: open %s: permission denied; Warning: at least one source file could not be read)\n" % locked
            in result.stderr)
    samples = host.metrics()
    assert samples[("homelab_backup_partial_total", host.volume)] == 1
    assert samples[("homelab_backup_failures_total", host.volume)] == 0
    assert samples[("homelab_backup_last_success_timestamp_seconds", host.volume)] == 0  # not a success
    snapshot = host.snapshots()[0]  # the snapshot exists, without the file
    listed = host.restic("ls", "--json", snapshot["id"])
    assert '"name":"notes.txt"' in listed and "locked.txt" not in listed


def test_pause_stops_the_unit_and_starts_it_again_even_when_restic_fails(host):
    record = host.tmp / "systemctl.log"
    recorder = host.tmp / "systemctl"
    recorder.write_text('#!/bin/sh\necho "$*" >> %s\n' % record)
    recorder.chmod(0o755)
    host.config["systemctl"] = str(recorder)
    host.config["services"]["files"]["volumes"][0]["pause"] = True
    host.write_config()
    assert host.backup("run", "files").returncode == 0
    assert record.read_text().splitlines() == ["stop files.service", "start files.service"]
    host.password_file.write_text(WRONG + "\n")
    assert host.backup("run", "files").returncode == 1
    assert record.read_text().splitlines()[2:] == ["stop files.service", "start files.service"]


def test_a_unit_that_does_not_stop_is_not_backed_up_but_started_again(host):
    record = host.tmp / "systemctl.log"
    recorder = host.tmp / "systemctl"
    recorder.write_text('#!/bin/sh\necho "$*" >> %s\n[ "$1" = stop ] && { echo "Job failed" >&2; exit 1; }\nexit 0\n'
                        % record)
    recorder.chmod(0o755)
    host.config["systemctl"] = str(recorder)
    host.config["services"]["files"]["volumes"][0]["pause"] = True
    host.write_config()
    result = host.backup("run", "files")
    assert result.returncode == 1
    assert "files: FAILED: %s stop files.service: Job failed (exit 1)" % recorder in result.stderr
    assert record.read_text().splitlines() == ["stop files.service", "start files.service"]
    assert host.snapshots() == []
    assert host.metrics()[("homelab_backup_failures_total", host.volume)] == 1


def test_a_second_run_of_a_service_waits_for_the_first(host):
    """The runner blocks on <state_dir>/files.lock while another process holds it: the kernel
    lists it as a waiter of that lock in /proc/locks ("->" lines); no snapshot is made until
    the lock is released."""
    lock_path = pathlib.Path(host.config["state_dir"]) / "files.lock"
    lock_path.parent.mkdir()
    with open(lock_path, "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        inode = ":%d " % os.fstat(lock.fileno()).st_ino
        runner = subprocess.Popen([str(host.sbin / "homelab-backup"), "run", "files"], env=host.env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not any("->" in line and inode in line for line in pathlib.Path("/proc/locks").read_text().splitlines()):
            assert runner.poll() is None, "the runner ended while the lock was held: %s" % runner.stderr.read()
            assert time.monotonic() < deadline, "the runner never waited for the lock"
            time.sleep(0.1)
        assert host.snapshots() == []
    stdout, stderr = runner.communicate(timeout=600)
    assert runner.returncode == 0, stderr
    assert len(host.snapshots()) == 1 and "snapshot" in stdout


def test_an_unknown_service_is_named_and_nothing_runs(host):
    result = host.backup("run", "nope")
    assert result.returncode == 1
    assert result.stderr == "homelab-backup run: service nope: not in the backup configuration (known: files)\n"
    assert not host.textfile.exists()


def test_the_homelab_restic_wrapper_runs_restic_on_the_repository(host):
    assert host.backup("run", "files").returncode == 0
    listed = host.command("homelab-restic", "snapshots", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [item["id"] for item in json.loads(listed.stdout)] == [host.snapshots()[0]["id"]]
    named = host.command("homelab-restic", "--repo", "jove-backup", "ls", "latest")
    assert named.returncode == 0 and "%s/notes.txt" % host.mountpoint in named.stdout
    unknown = host.command("homelab-restic", "--repo", "nope", "snapshots")
    assert unknown.returncode == 1
    assert unknown.stderr == "homelab-restic: repository nope: not in the backup configuration (known: jove-backup)\n"


def test_snapshots_lists_the_services_snapshots_per_repository(host):
    assert host.backup("run", "files").returncode == 0
    result = host.backup("snapshots", "files", "--volume", host.volume)
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    snapshot = host.snapshots()[0]
    assert listing == [{"repository": "jove-backup", "snapshots": [
        {"id": snapshot["id"], "short_id": snapshot["short_id"], "time": snapshot["time"], "volume": host.volume,
         "tags": ["service:files", "volume:%s" % host.volume]}]}]
    other = host.backup("snapshots", "files", "--volume", "other")
    assert other.returncode == 1 and "volume other: not one of its backed-up volumes" in other.stderr


@pytest.fixture(name="postgres", scope="module")
def postgres_fixture():
    """A PostgreSQL 15 cluster with a database wiki to dump; yields (socket directory, port)."""
    cluster = backup_lab.Cluster()
    try:
        cluster.psql("CREATE DATABASE wiki")
        cluster.psql("CREATE TABLE pages (title text); INSERT INTO pages VALUES ('backed up by pg_dumpall')",
                     database="wiki")
        yield str(cluster.dir), cluster.port
    finally:
        cluster.close()


def with_dump(host, socket_dir, port):
    """The files service given a database volume whose dump is pg_dumpall over the socket."""
    pg = ["-h", socket_dir, "-p", str(port), "-U", "postgres"]
    host.config["services"]["wiki"] = {"unit": "wiki.service", "volumes": [
        {"volume": "wiki-db", "schedule": "hourly", "interval_seconds": 3600, "keep": {"hourly": 72}, "pause": False,
         "dump": "postgres", "dump_command": [tool("pg_dumpall", "postgresql-client"), *pg, "--clean", "--if-exists"],
         "load_command": [tool("psql", "postgresql-client"), *pg, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres"]}]}
    host.write_config()


def test_a_postgres_dump_is_streamed_into_a_snapshot_of_its_own(host, postgres):
    with_dump(host, *postgres)
    result = host.backup("run", "wiki")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wiki-db -> jove-backup: snapshot ")
    snapshot = host.snapshots()[0]
    assert (snapshot["hostname"], snapshot["tags"], snapshot["paths"]) == (
        "kronos", ["service:wiki", "volume:wiki-db"], ["/wiki-db.sql"])
    dump = host.restic("dump", snapshot["id"], "/wiki-db.sql")
    assert "backed up by pg_dumpall" in dump
    assert dump.rstrip().endswith("-- PostgreSQL database cluster dump complete\n--")
    text = (host.textfile.parent / "homelab_backup_wiki.prom").read_text()
    assert 'homelab_backup_failures_total{service="wiki",volume="wiki-db"} 0\n' in text


def test_a_failing_dump_makes_no_snapshot(host, postgres):
    socket_dir, port = postgres
    with_dump(host, socket_dir, free_port())  # nothing listens there: pg_dumpall fails
    result = host.backup("run", "wiki")
    assert result.returncode == 1
    # restic passes on the dump command's own complaint
    assert result.stderr.startswith("wiki-db -> jove-backup: FAILED: restic backup: subprocess %s: pg_dumpall: error: "
                                    "connection to server on socket" % host.config["services"]["wiki"]["volumes"][0][
                                        "dump_command"][0])
    assert result.stderr.endswith("unable to save snapshot: failed to save /wiki-db.sql: Fatal: command failed: "
                                  "exit status 1 (exit 1)\n")
    assert host.snapshots() == []
    text = (host.textfile.parent / "homelab_backup_wiki.prom").read_text()
    assert 'homelab_backup_failures_total{service="wiki",volume="wiki-db"} 1\n' in text
    assert port  # the cluster itself was up


def test_prune_forgets_each_clients_set_by_its_policy_on_the_server(tmp_path, trixie, volumes):
    """The server's view: the clients' repositories are directories of rest-server's volume;
    snapshots dated on past days (restic backup --time) give keep-daily something to forget."""
    served, root = volumes("rest-server-data")
    restic_path = str(trixie / "restic")
    password_file = tmp_path / "jove.password"
    password_file.write_text(PASSWORD)
    env = dict(os.environ, RESTIC_REPOSITORY=str(root / "jove"), RESTIC_PASSWORD=PASSWORD,
               RESTIC_CACHE_DIR=str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()

    def restic(*args):
        result = subprocess.run([restic_path, *args], env=env, capture_output=True, text=True, timeout=600,
                                check=False)
        assert result.returncode == 0, result.stderr
        return result.stdout

    backup_lab.new_repository(trixie, PASSWORD, root / "jove")
    for day in range(1, 6):  # traefik-acme: one snapshot a day for 5 days, and two on the last
        (data / "acme.json").write_text("day %d" % day)
        for hour in ("08", "20") if day == 5 else ("08",):
            restic("backup", "--host", "jove", "--tag", "service:traefik", "--tag", "volume:traefik-acme", "--time",
                   "2026-11-%02d %s:00:00" % (day, hour), str(data))
    for day in (1, 2):  # media keeps everything; another host's snapshot is not the set's
        restic("backup", "--host", "jove", "--tag", "service:media", "--tag", "volume:media-data", "--time",
               "2026-11-%02d 08:00:00" % day, str(data))
    restic("backup", "--host", "kronos", "--tag", "service:traefik", "--tag", "volume:traefik-acme", str(data))

    sbin = backup_runner.install(tmp_path / "usr")
    config = {"host": "jove", "textfile_dir": str(tmp_path / "textfile"), "state_dir": str(tmp_path / "state"),
              "restic": restic_path, "podman": tool("podman", "podman"), "repositories": [], "services": {},
              "server": {"volume": served, "clients": [{"client": "jove", "password_file": str(password_file), "sets": [
                  {"service": "traefik", "volume": "traefik-acme", "keep": {"daily": 3}},
                  {"service": "media", "volume": "media-data", "keep": "all"}]}]}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    result = subprocess.run([str(sbin / "homelab-backup"), "prune"], capture_output=True, text=True, timeout=600,
                            check=False, env=dict(env, HOMELAB_BACKUP_CONFIG=str(tmp_path / "config.json")))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("jove: traefik/traefik-acme: forgot 3, kept 3 snapshots\n"
                             "jove: media/media-data: keeps every snapshot\n")
    left = json.loads(restic("snapshots", "--json"))
    acme = sorted(item["time"][:13] for item in left if item["hostname"] == "jove" and "service:traefik" in item["tags"])
    assert acme == ["2026-11-03T08", "2026-11-04T08", "2026-11-05T20"]  # the last of each of the 3 newest days
    assert len([item for item in left if "service:media" in item["tags"]]) == 2
    assert len([item for item in left if item["hostname"] == "kronos"]) == 1
    assert "Traceback" not in result.stderr and PASSWORD not in result.stdout + result.stderr

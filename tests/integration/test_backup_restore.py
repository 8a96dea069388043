"""The host runner's restore drill (homelab_backup.verify) and restore (homelab_backup.restore)
against real components: Debian 13's restic 0.18 and rest-server 0.13 (TLS, append-only,
private repositories, as the homelab serves them) on loopback, real Podman volumes, real
PostgreSQL 15 clusters (Debian's server binaries, run as ``postgres``: initdb refuses root).
Only systemctl is a stand-in: a script that records its arguments (the controller has no
systemd), and can run a hook on ``stop`` to make the restore fail while the unit is stopped.
"""

import contextlib
import json
import os
import pathlib
import subprocess
import time

import pytest

import backup_lab
import backup_runner
from homelab_backup import restore as restore_module
from homelab_backup import verify as verify_module

HOST = "kronos"
PASSWORD = "repo-password-3c9e1"
REST_SECRET = "rest-secret-71ab4"


class Lab:
    """A rest-server repository for host kronos, its runner config.json, Podman volumes and a
    recording systemctl; ``restic()`` runs restic on the repository as the host would."""

    def __init__(self, tmp_path, trixie, url, cacert):
        self.tmp = tmp_path
        self.restic_path = str(trixie / "restic")
        self.served = tmp_path / "served"
        self.repo_dir = self.served / HOST
        self.volumes = backup_lab.Volumes()
        etc = tmp_path / "etc"
        etc.mkdir()
        (etc / "repo.password").write_text(PASSWORD + "\n")
        (etc / "repo.env").write_text("RESTIC_REST_USERNAME=%s\nRESTIC_REST_PASSWORD=%s\n" % (HOST, REST_SECRET))
        self.calls = tmp_path / "systemctl.calls"
        self.systemctl = tmp_path / "systemctl"
        self.systemctl.write_text('#!/bin/sh\necho "$*" >> %s\nif [ "$1" = stop ] && [ -x %s ]; then %s; fi\n'
                                  % (self.calls, tmp_path / "on-stop", tmp_path / "on-stop"))
        self.systemctl.chmod(0o755)
        self.repository = {"name": "jove-backup", "url": url,
                           "password_file": str(etc / "repo.password"), "env_file": str(etc / "repo.env"),
                           "cacert": cacert}
        self.config = {"host": HOST, "textfile_dir": str(tmp_path / "textfile"), "state_dir": str(tmp_path / "state"),
                       "restic": self.restic_path, "podman": "podman", "systemctl": str(self.systemctl),
                       "repositories": [self.repository], "services": {}, "server": None}
        (tmp_path / "textfile").mkdir()
        (tmp_path / "state").mkdir()

    def env(self):
        env = dict(os.environ, RESTIC_REPOSITORY=self.repository["url"], RESTIC_PASSWORD_FILE=self.repository[
            "password_file"], RESTIC_REST_USERNAME=HOST, RESTIC_REST_PASSWORD=REST_SECRET)
        return env

    def restic(self, *args, stdin=None, ok=True):
        completed = subprocess.run([self.restic_path, "--cacert", self.repository["cacert"], *args], env=self.env(),
                                   capture_output=True, text=True, input=stdin, timeout=300, check=False)
        assert completed.returncode == 0 or not ok, completed.stderr
        return completed

    def volume(self, name):
        """A real Podman volume (removed after the test); its mountpoint."""
        return self.volumes.make(name)

    def mountpoint(self, volume):
        return self.volumes.mountpoint(volume)

    def service(self, name, volumes, unit=None):
        """Declare a service in config.json; ``volumes`` are config.json volume entries (defaults filled)."""
        entries = [dict({"schedule": "daily", "interval_seconds": 86400, "keep": {"daily": 30}, "pause": False,
                         "dump": None, "dump_command": None, "load_command": None}, **volume) for volume in volumes]
        self.config["services"][name] = {"unit": unit or "%s.service" % name, "volumes": entries}

    def backup_files(self, service, volume, when=None, host=HOST):
        """A snapshot as the runner makes it (host, service and volume tags, the mountpoint); its id."""
        args = ["backup", "--json", "--host", host, "--tag", "service:%s" % service, "--tag", "volume:%s" % volume]
        if when:
            args += ["--time", when]
        return self._summary(self.restic(*args, self.mountpoint(volume)))

    def backup_dump(self, service, volume, command=None, text=None):
        args = ["backup", "--json", "--host", HOST, "--tag", "service:%s" % service, "--tag", "volume:%s" % volume,
                "--stdin-filename", "%s.sql" % volume]
        if command:
            return self._summary(self.restic(*args, "--stdin-from-command", "--", *command))
        return self._summary(self.restic(*args, "--stdin", stdin=text))

    @staticmethod
    def _summary(completed):
        lines = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
        return [line for line in lines if line.get("message_type") == "summary"][0]["snapshot_id"]

    def snapshots(self):
        return json.loads(self.restic("snapshots", "--json", "--no-lock").stdout) or []

    def systemctl_calls(self):
        return self.calls.read_text().splitlines() if self.calls.exists() else []


@contextlib.contextmanager
def running_lab(tmp_path, trixie):
    """A Lab in ``tmp_path`` with its rest-server running and its repository made; its volumes
    are removed afterwards. Restic's cache is the lab's own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RESTIC_CACHE_DIR", str(tmp_path / "cache"))
        with backup_lab.rest_server(tmp_path, trixie, HOST, REST_SECRET) as (url, cacert):
            lab = Lab(tmp_path, trixie, url, cacert)
            backup_lab.new_repository(trixie, PASSWORD, lab.repo_dir)
            try:
                yield lab
            finally:
                lab.volumes.remove()


@pytest.fixture(name="lab")
def lab_fixture(tmp_path, trixie):
    with running_lab(tmp_path, trixie) as lab:
        yield lab


@pytest.fixture(name="cluster")
def cluster_factory():
    """``cluster()`` makes a fresh PostgreSQL cluster; all are stopped and removed after the test."""
    made = []

    def make():
        made.append(backup_lab.Cluster())
        return made[-1]
    yield make
    for cluster in made:
        cluster.close()


def tree(root):
    """{relative path: (kind, content)} of a directory: what "byte-identical" compares."""
    found = {}
    for path in sorted(pathlib.Path(root).rglob("*")):
        relative = str(path.relative_to(root))
        if path.is_symlink():
            found[relative] = ("symlink", os.readlink(path))
        elif path.is_dir():
            found[relative] = ("dir", None)
        elif path.is_fifo():
            found[relative] = ("fifo", None)
        else:
            found[relative] = ("file", path.read_bytes())
    return found


def files_lab(lab):
    """Service ``files`` with one volume holding a few files, nested and binary; (volume, mountpoint)."""
    volume, mount = lab.volume("files-data")
    (mount / "docs").mkdir()
    (mount / "docs" / "letter.txt").write_text("dear reader\n")
    (mount / "keep.bin").write_bytes(os.urandom(200_000))
    (mount / "link").symlink_to("keep.bin")
    os.mkfifo(mount / "pipe")
    lab.service("files", [{"volume": volume}])
    return volume, mount


# --- restore -----------------------------------------------------------------------------


def test_restore_brings_deleted_and_changed_files_back_and_removes_added_ones(lab):
    volume, mount = files_lab(lab)
    backed_up = tree(mount)
    snapshot = lab.backup_files("files", volume)
    (mount / "docs" / "letter.txt").unlink()
    (mount / "keep.bin").write_bytes(b"changed")
    (mount / "added.txt").write_text("made after the backup")
    before_restore = tree(mount)

    result = restore_module.restore(lab.config, "files")

    assert tree(mount) == backed_up
    assert lab.systemctl_calls() == ["stop files.service", "start files.service"]
    assert result["changed"] is True and result["service"] == "files"
    assert result["restored"] == [{"volume": volume, "snapshot": snapshot[:8], "kind": "files",
                                   "repository": "jove-backup"}]
    # the safety snapshot holds the data as it was before the restore: restoring it undoes the restore
    [safety] = result["safety_snapshots"]
    tagged = [entry for entry in lab.snapshots() if entry["short_id"] == safety["snapshot"]]
    assert tagged and "pre-restore" in tagged[0]["tags"] and "volume:%s" % volume in tagged[0]["tags"]
    undo = restore_module.restore(lab.config, "files", snapshot=safety["snapshot"])
    assert tree(mount) == before_restore
    assert undo["restored"][0]["snapshot"] == safety["snapshot"]


def test_latest_is_the_newest_regular_snapshot_not_a_safety_snapshot(lab):
    volume, mount = files_lab(lab)
    lab.backup_files("files", volume)
    backed_up = tree(mount)
    (mount / "added.txt").write_text("after")
    restore_module.restore(lab.config, "files")  # leaves a pre-restore snapshot holding added.txt
    (mount / "again.txt").write_text("after the restore")
    again = restore_module.restore(lab.config, "files")
    assert tree(mount) == backed_up
    assert again["restored"][0]["snapshot"] not in [entry["snapshot"] for entry in again["safety_snapshots"]]


def test_an_older_snapshot_is_restored_by_its_id(lab):
    volume, mount = files_lab(lab)
    first_tree = tree(mount)
    first = lab.backup_files("files", volume)
    (mount / "docs" / "letter.txt").write_text("second version\n")
    (mount / "second.txt").write_text("only in the second snapshot")
    lab.backup_files("files", volume)

    result = restore_module.restore(lab.config, "files", snapshot=first[:12], volume=volume)

    assert tree(mount) == first_tree
    assert result["restored"][0]["snapshot"] == first[:8]


def test_a_dry_run_validates_and_changes_nothing(lab):
    volume, mount = files_lab(lab)
    snapshot = lab.backup_files("files", volume)
    (mount / "added.txt").write_text("stays")
    before, snapshots = tree(mount), lab.snapshots()

    result = restore_module.restore(lab.config, "files", dry_run=True)

    assert result["changed"] is False and result["dry_run"] is True and result["safety_snapshots"] == []
    assert result["restored"] == [{"volume": volume, "snapshot": snapshot[:8], "kind": "files",
                                   "repository": "jove-backup"}]
    assert result["steps"][1:] == ["stop files.service", "restore %s from snapshot %s (files)" % (volume, snapshot[:8]),
                                   "start files.service"]
    assert tree(mount) == before and lab.snapshots() == snapshots and lab.systemctl_calls() == []


BAD_INPUT = {
    "unknown service": (dict(service="nextcloud"), "service nextcloud: not backed up on this host "
                        "(backed-up services: empty, files, other)"),
    "service without volumes": (dict(service="empty"), "service empty: has no backed-up volume"),
    "unknown volume": (dict(volume="photos"), "volume photos: not a backed-up volume of service files (its volumes: "),
    "malformed id": (dict(snapshot="--delete"), "snapshot '--delete': not a snapshot id (8 to 64 hex digits) or 'latest'"),
    "id that does not exist": (dict(snapshot="0123abcd"), "snapshot 0123abcd: no such snapshot in jove-backup"),
    "id of another volume": (dict(snapshot="{second}", volume="{first}"), "snapshot {second_short}: belongs to service "
                             "files volume {second_volume} on host kronos, not to volume {first}"),
    "id of another service": (dict(snapshot="{other}"), "snapshot {other_short}: belongs to service other volume "
                              "{other_volume} on host kronos, not to service files"),
    "id of another host": (dict(snapshot="{foreign}"), "snapshot {foreign_short}: belongs to service files volume "
                           "{first} on host jove, not to this host kronos"),
}


@pytest.fixture(name="refusing_lab", scope="module")
def refusing_lab_fixture(tmp_path_factory, trixie):
    """One lab for every bad-input case, made once: each case must change nothing and checks
    that itself. Service files has two volumes (one changed since its snapshot), other one,
    empty none; there are snapshots of each volume and one of another host. Yields (the lab,
    the names and ids the messages name, the changed volume's mountpoint)."""
    with running_lab(tmp_path_factory.mktemp("refusing"), trixie) as lab:
        first, mount = lab.volume("files-data")
        second, _second_mount = lab.volume("files-media")
        other_volume, _other_mount = lab.volume("other-data")
        (mount / "file.txt").write_text("as backed up")
        lab.service("files", [{"volume": first}, {"volume": second}])
        lab.service("other", [{"volume": other_volume}])
        lab.service("empty", [])
        ids = {"first": first, "second_volume": second, "other_volume": other_volume,
               "second": lab.backup_files("files", second), "other": lab.backup_files("other", other_volume),
               "foreign": lab.backup_files("files", first, host="jove")}
        lab.backup_files("files", first)
        ids.update({name + "_short": ids[name][:8] for name in ("second", "other", "foreign")})
        (mount / "file.txt").write_text("changed since")
        yield lab, ids, mount


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_refused_before_anything_changes(refusing_lab, case):
    lab, ids, mount = refusing_lab
    arguments, message = BAD_INPUT[case]
    arguments = {name: value.format(**ids) for name, value in arguments.items()}
    before, snapshots = tree(mount), lab.snapshots()
    lab.calls.unlink(missing_ok=True)  # this case's calls only

    with pytest.raises(restore_module.RestoreError) as raised:
        restore_module.restore(lab.config, arguments.pop("service", "files"), **arguments)

    assert str(raised.value).startswith(message.format(**ids)), str(raised.value)
    assert lab.systemctl_calls() == []  # no service stopped
    assert lab.snapshots() == snapshots  # no safety snapshot either: nothing changed
    assert tree(mount) == before


def test_a_failed_restore_starts_the_unit_again_and_says_so(lab):
    volume, mount = files_lab(lab)
    lab.backup_files("files", volume)
    (mount / "added.txt").write_text("after")
    # while the unit is stopped the mountpoint becomes a file: restic cannot restore into it
    hook = lab.tmp / "on-stop"
    hook.write_text("#!/bin/sh\nrm -rf '%s' && touch '%s'\n" % (mount, mount))
    hook.chmod(0o755)

    with pytest.raises(restore_module.RestoreError) as raised:
        restore_module.restore(lab.config, "files")

    message = str(raised.value)
    assert message.startswith("volume %s: restoring snapshot " % volume), message
    assert "files.service was started again" in message and "pre-restore snapshot(s)" in message
    assert lab.systemctl_calls() == ["stop files.service", "start files.service"]


def test_a_postgres_dump_is_restored_into_a_fresh_database(lab, cluster):
    old = cluster()
    old.psql("create database app")
    old.psql("create table notes (body text); insert into notes values ('kept by restic')", database="app")
    lab.service("db", [{"volume": "db-dump", "dump": "postgres"}], unit="db.service")
    snapshot = lab.backup_dump("db", "db-dump", command=old.dump_command())
    old.close()
    fresh = cluster()  # the host lost its database: a new, empty cluster runs
    lab.config["services"]["db"]["volumes"][0].update(dump_command=fresh.dump_command(),
                                                      load_command=fresh.load_command())

    result = restore_module.restore(lab.config, "db")

    assert fresh.psql("select body from notes", database="app").stdout.strip() == "kept by restic"
    assert result["restored"] == [{"volume": "db-dump", "snapshot": snapshot[:8], "kind": "dump",
                                   "repository": "jove-backup"}]
    assert lab.systemctl_calls() == []  # a dump goes into the running database
    [safety] = result["safety_snapshots"]  # the fresh database as it was, dumped before the load
    dumped = lab.restic("dump", safety["snapshot"], "/db-dump.sql").stdout
    assert "PostgreSQL database cluster dump complete" in dumped and "notes" not in dumped


def test_a_load_that_fails_is_a_clear_error(lab, cluster):
    """pg_dumpall --clean drops every role, the loading user's too: psql with ON_ERROR_STOP=1
    run as that user stops at "current user cannot be dropped" (PostgreSQL 15). pg_dumpall's
    scripts expect such errors (its source: "it won't hurt for the CREATE to fail" of the
    connected role), so a load command with ON_ERROR_STOP=1 fails on every real dump."""
    database = cluster()
    lab.service("db", [{"volume": "db-dump", "dump": "postgres", "dump_command": database.dump_command(),
                        "load_command": database.load_command(stop_on_error=True)}], unit="db.service")
    lab.backup_dump("db", "db-dump", command=database.dump_command())

    with pytest.raises(restore_module.RestoreError) as raised:
        restore_module.restore(lab.config, "db")

    assert str(raised.value).startswith("volume db-dump: loading the dump of snapshot ")
    assert "current user cannot be dropped" in str(raised.value) and "pre-restore snapshot(s)" in str(raised.value)


def test_a_cut_short_dump_is_never_loaded(lab):
    loaded = lab.tmp / "loaded.sql"
    lab.service("db", [{"volume": "db-dump", "dump": "postgres", "dump_command": ["true"],
                        "load_command": ["sh", "-c", "cat > '%s'" % loaded]}], unit="db.service")
    snapshot = lab.backup_dump("db", "db-dump", text="--\n-- PostgreSQL database cluster dump\n--\n\nCREATE ROLE x;\n")
    snapshots = lab.snapshots()

    with pytest.raises(restore_module.RestoreError) as raised:
        restore_module.restore(lab.config, "db")

    assert str(raised.value) == ("volume db-dump: snapshot %s has no '-- PostgreSQL database cluster dump complete' "
                                 "footer: the dump was cut short; not loading it into the database" % snapshot[:8])
    assert not loaded.exists() and lab.snapshots() == snapshots


def test_a_failed_safety_backup_stops_the_restore_before_anything_changes(lab):
    loaded = lab.tmp / "loaded.sql"
    dump = "--\n-- PostgreSQL database cluster dump\n--\nSELECT 1;\n--\n-- PostgreSQL database cluster dump complete\n--\n"
    lab.service("db", [{"volume": "db-dump", "dump": "postgres", "dump_command": ["false"],
                        "load_command": ["sh", "-c", "cat > '%s'" % loaded]}], unit="db.service")
    lab.backup_dump("db", "db-dump", text=dump)
    snapshots = lab.snapshots()

    with pytest.raises(restore_module.RestoreError) as raised:
        restore_module.restore(lab.config, "db")

    assert str(raised.value).startswith("volume db-dump: no complete pre-restore safety snapshot in jove-backup ("), \
        str(raised.value)
    assert str(raised.value).endswith("); nothing was stopped or restored")
    assert not loaded.exists() and lab.snapshots() == snapshots  # a failing dump makes no snapshot (restic 0.17+)


def homelab_backup(lab, *args):
    """The installed entry script, as the role lays it out, on the lab's config.json."""
    sbin = lab.tmp / "prefix" / "sbin"
    if not sbin.exists():
        backup_runner.install(lab.tmp / "prefix")
    config = lab.tmp / "config.json"
    config.write_text(json.dumps(lab.config))
    return subprocess.run([str(sbin / "homelab-backup"), *args], env=dict(os.environ, HOMELAB_BACKUP_CONFIG=str(config)),
                          capture_output=True, text=True, timeout=600, check=False)


def test_the_restore_command_prints_its_result_or_one_line_why_not(lab):
    volume, mount = files_lab(lab)
    snapshot = lab.backup_files("files", volume)
    (mount / "added.txt").write_text("after")

    dry = homelab_backup(lab, "restore", "files", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["restored"][0]["snapshot"] == snapshot[:8] and (mount / "added.txt").exists()
    refused = homelab_backup(lab, "restore", "files", "--snapshot", "0123abcd")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == "homelab-backup restore: snapshot 0123abcd: no such snapshot in jove-backup\n"
    done = homelab_backup(lab, "restore", "files", "--volume", volume)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["changed"] is True and not (mount / "added.txt").exists()
    assert "Traceback" not in dry.stderr + refused.stderr + done.stderr
    assert PASSWORD not in dry.stdout + done.stdout + refused.stderr and REST_SECRET not in done.stdout


def test_the_verify_command_prints_the_rows_and_fails_unless_all_are_ok(lab):
    volume, _mount = files_lab(lab)
    never, _never_mount = lab.volume("never-backed-up")
    lab.service("other", [{"volume": never}])
    lab.backup_files("files", volume)

    good = homelab_backup(lab, "verify", "files", "--read-data-subset", "1/1")
    assert good.returncode == 0, good.stderr
    assert [row["result"] for row in json.loads(good.stdout)] == ["ok"]
    missing = homelab_backup(lab, "verify")
    assert missing.returncode == 1
    results = [(row["volume"], row["result"]) for row in json.loads(missing.stdout)]
    assert results == [(volume, "ok"), (never, "missing")]
    bad = homelab_backup(lab, "verify", "--read-data-subset", "all of it")
    assert bad.returncode == 1 and bad.stderr.startswith("homelab-backup verify: read_data_subset: 'all of it' is not")


# --- verify ------------------------------------------------------------------------------


def rows_by_volume(rows):
    return {row["volume"]: row for row in rows}


def test_verify_passes_a_sound_repository_and_leaves_no_scratch(lab, cluster):
    volume, _mount = files_lab(lab)
    database = cluster()
    database.psql("create database app")
    lab.service("db", [{"volume": "db-dump", "dump": "postgres", "dump_command": database.dump_command()}])
    files_snapshot = lab.backup_files("files", volume)
    lab.backup_dump("db", "db-dump", command=database.dump_command())

    rows = verify_module.verify(lab.config, read_data_subset="100%")

    by_volume = rows_by_volume(rows)
    assert [row["result"] for row in rows] == ["ok", "ok"], rows
    assert by_volume[volume]["snapshot"] == files_snapshot[:8] and by_volume[volume]["repository"] == "jove-backup"
    assert by_volume[volume]["detail"].startswith("restored 2 files (200012 bytes), sizes and sha256 match")
    assert by_volume["db-dump"]["detail"].endswith("is a complete pg_dumpall script")
    assert 0 <= by_volume[volume]["age_seconds"] < 600 and by_volume[volume]["interval_seconds"] == 86400
    assert os.listdir(os.path.join(lab.config["state_dir"], "verify")) == []


def test_verify_loads_a_dump_into_a_scratch_database(lab, cluster):
    source, scratch = cluster(), cluster()
    source.psql("create database app")
    source.psql("create table t (x int); insert into t values (42)", database="app")
    lab.service("db", [{"volume": "db-dump", "dump": "postgres", "dump_command": source.dump_command(),
                        "verify_load_command": scratch.load_command()}])
    lab.backup_dump("db", "db-dump", command=source.dump_command())

    [row] = verify_module.verify(lab.config)

    assert row["result"] == "ok", row
    assert row["detail"].endswith("loaded by %s" % scratch.psql_path)
    assert scratch.psql("select x from t", database="app").stdout.strip() == "42"


def test_verify_fails_a_repository_with_a_corrupted_pack(lab):
    volume, _mount = files_lab(lab)
    lab.backup_files("files", volume)
    # the largest pack holds keep.bin's data; tree packs are small
    pack = max((path for path in (lab.repo_dir / "data").rglob("*") if path.is_file()), key=lambda p: p.stat().st_size)
    content = bytearray(pack.read_bytes())
    content[len(content) // 2] ^= 0xFF
    pack.write_bytes(bytes(content))

    [row] = verify_module.verify(lab.config, read_data_subset="100%")

    assert row["result"] == "failed" and row["detail"].startswith("restic check: "), row
    assert os.listdir(os.path.join(lab.config["state_dir"], "verify")) == []  # removed after the failure too


def test_verify_reports_a_stale_set_and_a_missing_one(lab):
    volume, _mount = files_lab(lab)
    never, _never_mount = lab.volume("never-backed-up")
    lab.config["services"]["files"]["volumes"][0]["interval_seconds"] = 3600
    lab.service("other", [{"volume": never}])
    lab.backup_files("files", volume, when=time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() - 3 * 3600)))

    rows = rows_by_volume(verify_module.verify(lab.config, services=["files", "other", "nextcloud"]))

    assert rows[volume]["result"] == "stale" and 3 * 3600 <= rows[volume]["age_seconds"] < 3 * 3600 + 600
    assert "more than twice the 3600 s interval" in rows[volume]["detail"]
    assert rows[never]["result"] == "missing" and rows[never]["snapshot"] is None
    assert rows[None] == {"repository": None, "service": "nextcloud", "volume": None, "snapshot": None,
                          "age_seconds": None, "interval_seconds": None, "result": "failed",
                          "detail": "service nextcloud: not backed up on this host (known: files, other)"}


def test_verify_fails_a_cut_short_dump(lab):
    lab.service("db", [{"volume": "db-dump", "dump": "postgres", "dump_command": ["true"]}])
    lab.backup_dump("db", "db-dump", text="--\n-- PostgreSQL database cluster dump\n--\n\nCREATE ROLE x;\n")

    [row] = verify_module.verify(lab.config)

    assert row["result"] == "failed" and "the dump was cut short" in row["detail"], row


def test_verify_compares_the_restore_with_the_snapshot_listing(lab):
    """A restored tree that differs from `restic ls` is a failure (restic itself is only asked
    twice; the comparison is the drill's own)."""
    volume, _mount = files_lab(lab)
    lab.backup_files("files", volume)
    snapshot = lab.snapshots()[0]
    listed = verify_module._listing(lab.config, lab.repository, snapshot["id"])  # pylint: disable=protected-access
    target = lab.tmp / "restored"
    lab.restic("restore", snapshot["id"], "--target", str(target))
    assert verify_module._restored(str(target)) == listed  # pylint: disable=protected-access
    (target / os.path.relpath(lab.mountpoint(volume), "/") / "docs" / "letter.txt").write_text("longer than before\n")
    assert verify_module._restored(str(target)) != listed  # pylint: disable=protected-access

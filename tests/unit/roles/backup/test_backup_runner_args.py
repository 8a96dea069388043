"""restic command lines the backup runner builds (run, prune, the homelab-restic wrapper) and
what it reads back from restic's JSON. Each flag was checked against restic 0.18's help; the
integration tests (tests/integration/test_backup_runner.py) run them for real."""

import backup_runner  # noqa: F401 pylint: disable=unused-import
from homelab_backup import cli, prune, run, snapshots

CONFIG = {"host": "kronos"}
FILES = {"volume": "files-data", "dump": None, "dump_command": None}
DB = {"volume": "wiki-db", "dump": "postgres", "dump_command": ["podman", "exec", "wiki-db", "pg_dumpall", "--clean"]}


def test_a_file_volume_is_backed_up_from_its_mountpoint_with_the_contracts_host_and_tags():
    assert run.backup_args(CONFIG, "files", FILES, source="/var/lib/containers/storage/volumes/files-data/_data") == [
        "backup", "--host", "kronos", "--tag", "service:files", "--tag", "volume:files-data", "--json",
        "--retry-lock", "5m", "/var/lib/containers/storage/volumes/files-data/_data"]


def test_a_dump_volume_is_restics_stdin_from_its_dump_command_after_a_double_dash():
    assert run.backup_args(CONFIG, "wiki", DB, extra_tags=["pre-restore"]) == [
        "backup", "--host", "kronos", "--tag", "service:wiki", "--tag", "volume:wiki-db", "--tag", "pre-restore",
        "--json", "--retry-lock", "5m", "--stdin-from-command", "--stdin-filename", "wiki-db.sql", "--",
        "podman", "exec", "wiki-db", "pg_dumpall", "--clean"]


def test_prune_forgets_one_set_of_one_client_by_its_policy():
    assert prune.prune_args("jove", {"service": "traefik", "volume": "traefik-acme", "keep": {"daily": 7, "weekly": 4}}) == [
        "forget", "--host", "jove", "--tag", "service:traefik,volume:traefik-acme", "--group-by", "host,tags",
        "--keep-daily", "7", "--keep-weekly", "4", "--prune", "--json", "--retry-lock", "5m"]


def test_a_set_that_keeps_everything_is_not_forgotten_at_all():
    assert prune.prune_args("jove", {"service": "media", "volume": "media-data", "keep": "all"}) is None


def test_forget_counts_come_from_its_first_line():
    # restic 0.18's `forget --json --prune`: the groups as one JSON line, then prune's text.
    stdout = ('[{"tags":["service:s","volume:v"],"host":"h","paths":null,"keep":[{"id":"a"},{"id":"b"}],'
              '"remove":[{"id":"c"}],"reasons":[]}]\nloading indexes...\nloading all snapshots...\n')
    assert prune.forgotten(stdout) == (1, 2)
    assert prune.forgotten('[{"keep":[{"id":"a"}],"remove":null}]\n') == (0, 1)


def test_the_backup_summary_is_found_after_the_progress_lines():
    stdout = ('{"message_type":"status","percent_done":0.5}\nnot json\n'
              '{"message_type":"summary","data_added":957,"data_added_packed":694,"snapshot_id":"e3cee78b11e2"}\n')
    assert run.parse_summary(stdout)["snapshot_id"] == "e3cee78b11e2"
    assert run.parse_summary('{"message_type":"status"}\n') is None


def test_sizes_are_printed_as_restic_prints_them():
    assert [run.human_size(size) for size in (0, 1023, 12595, 5 * 1024 ** 3, 3 * 1024 ** 4)] == [
        "0 B", "1023 B", "12.3 KiB", "5.0 GiB", "3.0 TiB"]


def test_the_wrapper_reads_only_its_leading_repo_option():
    assert cli.wrapper_args(["--repo", "b2", "snapshots", "--repo", "x"]) == ("b2", ["snapshots", "--repo", "x"])
    assert cli.wrapper_args(["--repo=b2", "ls", "latest"]) == ("b2", ["ls", "latest"])
    assert cli.wrapper_args(["--json", "snapshots"]) == (None, ["--json", "snapshots"])
    assert cli.wrapper_args([]) == (None, [])


def test_a_snapshots_volume_is_its_volume_tag():
    assert snapshots.volume_of(["service:files", "volume:files-data", "pre-restore"]) == "files-data"
    assert snapshots.volume_of(["other"]) is None and snapshots.volume_of(None) is None


def test_a_config_that_cannot_be_read_is_one_line_and_exit_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOMELAB_BACKUP_CONFIG", str(tmp_path / "config.json"))
    assert cli.main(["run", "files"]) == 1
    assert capsys.readouterr().err == "homelab-backup run: %s: cannot be read: No such file or directory\n" % (
        tmp_path / "config.json")
    assert cli.main(["restic", "--repo", "x", "snapshots"]) == 1
    assert capsys.readouterr().err.startswith("homelab-restic: %s: cannot be read" % (tmp_path / "config.json"))

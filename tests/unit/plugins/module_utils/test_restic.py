"""restic's command-line interface as module_utils/restic.py models it: repository locations,
the environment that carries secrets, exit codes and messages, and the JSON restic prints.

No restic runs here; tests/integration/test_restic_repository.py runs the real one. The
messages below are restic's own (0.14 as Debian 12 ships it, and 0.17+ where they differ).
"""

import json

import pytest

from ansible_collections.homelab.stack.plugins.module_utils.restic import (
    KINDS,
    ResticError,
    check_args,
    check_env,
    check_read_data_subset,
    classify,
    config_args,
    error_detail,
    error_for,
    location_secrets,
    mask_location,
    parse_config,
    parse_repository,
    parse_snapshots,
    parse_stats,
    parse_time,
    restic_command,
    restic_environment,
    snapshots_args,
    stats_args,
    uses_tls,
)

# restic 0.14's stderr for each case, as it printed them on this project's machine kind.
NO_REPO_014 = ("Fatal: unable to open config file: stat /srv/none/config: no such file or directory\n"
               "Is there a repository at the following location?\n/srv/none\n")
NO_REPO_017 = ("Fatal: repository does not exist: unable to open config file: stat /srv/none/config: no such file or "
               "directory\nIs there a repository at the following location?\n/srv/none\n")
WRONG_PASSWORD = "Fatal: wrong password or no key found\n"
LOCKED = ("unable to create lock in backend: repository is already locked by PID 28420 on vm by root (UID 0, GID 0)\n"
          "lock was created at 2026-12-03 06:13:00 (1.905982487s ago)\nstorage ID 1cf4c616\n"
          "the `unlock` command can be used to remove stale locks\n")
REST_REFUSED = ('Fatal: unable to open config file: client.Head: Head "http://127.0.0.1:1/config": dial tcp 127.0.0.1:1: '
                "connect: connection refused\nIs there a repository at the following location?\nrest:http://127.0.0.1:1/\n")
SFTP_REFUSED = ("subprocess ssh: ssh: connect to host 127.0.0.1 port 22: Connection refused\n"
                "Fatal: unable to open repository at sftp:nobody@127.0.0.1:/srv/x: unable to start the sftp session, "
                "error: EOF\n")
REST_UNAUTHORIZED = ("Fatal: unable to open config file: unexpected HTTP response (401): 401 Unauthorized\n"
                     "Is there a repository at the following location?\nrest:http://kronos:***@127.0.0.1:18123/kronos/\n")
CORRUPT = ("Pack ID does not match, want 1dc51ab1fe972d3c63c72a6937332831ad1ee20221fadae19bfa929102c46eab, got "
           "8f3cce2d20c8903e4acacecbb8740d7869da4072bec3fd296249c245113396b3\nFatal: repository contains errors\n")


@pytest.mark.parametrize("location, backend", [
    ("/srv/backup/restic", "local"),
    ("backups/restic", "local"),
    ("./name:with-colon", "local"),
    ("local:/srv/backup", "local"),
    ("sftp:backup@nas:/volume1/restic", "sftp"),
    ("sftp://backup@nas:2222//volume1/restic", "sftp"),
    ("rest:http://127.0.0.1:8000/", "rest"),
    ("rest:https://user:secret@backup.lab.example:8000/kronos/", "rest"),
    ("s3:s3.amazonaws.com/bucket/kronos", "s3"),
    ("s3:https://minio.lab.example/restic", "s3"),
])
def test_known_locations_name_their_backend(location, backend):
    assert parse_repository(location) == (backend, location)


@pytest.mark.parametrize("location, problem", [
    ("ftp://nas/backup", "unknown scheme 'ftp'"),
    ("b2:bucket:path", "unknown scheme 'b2'"),
    ("backup:2024", "./NAME"),
    ("", "must not be empty"),
    ("rest:", "names no location"),
    ("rest:ftp://host/", "rest:http://HOST"),
    ("rest:backup.lab.example:8000", "rest:http://HOST"),
    ("s3:minio.lab.example", "s3:HOST/BUCKET"),
    ("sftp::/srv/x", "sftp:[USER@]HOST:PATH"),
])
def test_bad_locations_are_refused_naming_repository(location, problem):
    with pytest.raises(ResticError) as raised:
        parse_repository(location)
    assert str(raised.value).startswith("repository: ")
    assert problem in str(raised.value)


def test_an_unknown_scheme_error_hides_a_url_password():
    with pytest.raises(ResticError) as raised:
        parse_repository("webdav:https://user:hunter2@nas/backup")
    assert "hunter2" not in str(raised.value) and "********" in str(raised.value)


@pytest.mark.parametrize("location, tls", [
    ("rest:https://backup.lab.example/", True),
    ("rest:http://127.0.0.1:8000/", False),
    ("s3:s3.amazonaws.com/bucket", True),
    ("s3:https://minio/bucket", True),
    ("s3:http://minio:9000/bucket", False),
    ("/srv/backup", False),
    ("sftp:nas:/backup", False),
])
def test_uses_tls(location, tls):
    assert uses_tls(location) is tls


def test_mask_location_hides_only_url_passwords():
    text = "Fatal: unable to open config file at rest:https://kronos:s3cr3t@backup:8000/kronos/ and http://plain/x"
    masked = mask_location(text)
    assert "s3cr3t" not in masked
    assert "rest:https://kronos:********@backup:8000/kronos/" in masked and "http://plain/x" in masked


def test_location_secrets_are_the_url_passwords():
    assert location_secrets("rest:https://kronos:s3cr3t@backup:8000/kronos/") == ["s3cr3t"]
    assert location_secrets("rest:https://kronos@backup:8000/") == []
    assert location_secrets("/srv/backup") == [] and location_secrets(None) == []


def test_environment_carries_password_and_repository_and_blanks_inherited_ones():
    env = restic_environment("rest:https://u:p@host/", password="pw", env={"AWS_ACCESS_KEY_ID": "id", "N": 3})
    assert env["RESTIC_PASSWORD"] == "pw" and env["RESTIC_REPOSITORY"] == "rest:https://u:p@host/"
    # set to empty, so that a caller's RESTIC_PASSWORD_FILE or RESTIC_PASSWORD_COMMAND cannot take over
    assert env["RESTIC_PASSWORD_FILE"] == "" and env["RESTIC_PASSWORD_COMMAND"] == "" and env["RESTIC_REPOSITORY_FILE"] == ""
    assert env["AWS_ACCESS_KEY_ID"] == "id" and env["N"] == "3"


def test_environment_with_a_password_file_sets_no_password():
    env = restic_environment("/srv/r", password_file="/etc/restic.pw")
    assert env["RESTIC_PASSWORD_FILE"] == "/etc/restic.pw" and env["RESTIC_PASSWORD"] == ""


def test_command_lines_carry_no_secret():
    env = restic_environment("rest:https://u:secret-url@host/", password="secret-pw")
    for args in (config_args(), snapshots_args(), stats_args(), check_args("5%"), ["init"]):
        command = restic_command("/usr/bin/restic", args, cacert="/etc/ca.pem")
        assert command[:3] == ["/usr/bin/restic", "--cacert", "/etc/ca.pem"]
        assert not any("secret" in word for word in command)
        assert "-r" not in command and "--repo" not in command and env["RESTIC_REPOSITORY"] not in command


def test_read_only_commands_take_no_lock_and_check_does():
    for args in (config_args(), snapshots_args(), stats_args()):
        assert "--no-lock" in args
    assert "--no-lock" not in check_args()
    assert check_args() == ["check"] and check_args("1/10") == ["check", "--read-data-subset=1/10"]
    assert stats_args()[stats_args().index("--mode") + 1] == "raw-data"


def test_env_problems():
    assert check_env({"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}, "s3") == []
    assert check_env({}, "s3") == []
    assert check_env({"AWS_ACCESS_KEY_ID": "a"}, "s3") == [
        "env: an s3: repository needs both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; only AWS_ACCESS_KEY_ID is given"]
    assert check_env({"RESTIC_PASSWORD": "x"}, "local")[0].startswith("env: RESTIC_PASSWORD is set by the module")
    assert check_env({"BAD NAME": "x"}, "local") == ["env: 'BAD NAME' is not an environment variable name"]


@pytest.mark.parametrize("value", ["1/10", "10/10", "5%", "2.5%", "100%", "500M", "1G", "10k"])
def test_read_data_subset_accepts_restics_forms(value):
    assert check_read_data_subset(value) == value


@pytest.mark.parametrize("value", ["11/10", "0/10", "0%", "101%", "5", "half", "1/0", "0M", "-5%"])
def test_read_data_subset_refuses_other_values_naming_the_option(value):
    with pytest.raises(ResticError) as raised:
        check_read_data_subset(value)
    assert str(raised.value).startswith("read_data_subset: ")


@pytest.mark.parametrize("rc, stderr, kind", [
    (0, "", None),
    (1, NO_REPO_014, "no_repository"),
    (10, NO_REPO_017, "no_repository"),
    (1, WRONG_PASSWORD, "wrong_password"),
    (12, WRONG_PASSWORD, "wrong_password"),
    (1, LOCKED, "locked"),
    (11, LOCKED, "locked"),
    (1, REST_REFUSED, "unreachable"),  # says "Is there a repository" too: reachability is decided first
    (1, SFTP_REFUSED, "unreachable"),
    (1, 'Fatal: unable to open config file: Head "https://b/config": x509: certificate signed by unknown authority\n',
     "unreachable"),
    (1, REST_UNAUTHORIZED, "denied"),  # not a missing repository: init must not be tried
    (1, "Fatal: unable to open config file: Stat: The AWS Access Key Id you provided does not exist in our "
        "records. (InvalidAccessKeyId)\nIs there a repository at the following location?\ns3:minio/b\n", "denied"),
    (1, "Fatal: unable to open config file: open /srv/r/config: permission denied\n", "denied"),
    (3, "error: open /srv/data/x: permission denied\nWarning: at least one source file could not be read\n", "partial"),
    (1, CORRUPT, "failed"),
    (130, "signal interrupt received, cleaning up\n", "failed"),
    (42, WRONG_PASSWORD, "failed"),  # an exit code restic may add later is a failure, whatever it says
])
def test_classify(rc, stderr, kind):
    assert classify(rc, stderr) == kind
    assert kind is None or kind in KINDS


def test_error_for_keeps_the_fatal_lines_and_masks_url_passwords():
    stderr = REST_REFUSED.replace("http://127.0.0.1:1/", "http://u:pw123@127.0.0.1:1/")
    error = error_for(1, stderr, "cat config")
    assert error.kind == "unreachable" and error.rc == 1
    assert str(error).startswith("restic cat config: unable to open config file: ")
    assert "pw123" not in str(error) and str(error).endswith("(exit 1)")
    assert error_for(0, "", "cat config") is None


def test_error_detail_reads_the_json_messages_of_restic_0_18():
    # restic 0.18's stderr for `backup --json` whose file could not be read (exit 3), and for
    # a missing repository behind a rest-server (exit 1): JSON objects, not text.
    partial = ('{"message_type":"error","error":{"message":"/srv/d/locked: open d/locked: permission denied"},'
               '"during":"archival","item":"/srv/d/locked"}\n'
               '{"message_type":"exit_error","code":3,"message":"Warning: at least one source file could not be read"}\n')
    assert error_detail(partial) == ("/srv/d/locked: open d/locked: permission denied; "
                                     "Warning: at least one source file could not be read")
    missing = ('{"message_type":"exit_error","code":1,"message":"Fatal: unable to open config file: unexpected HTTP '
               'response (401): 401 Unauthorized\\nIs there a repository at the following location?\\n'
               'rest:https://127.0.0.1:8000/kronos/"}\n')
    assert error_detail(missing) == ("unable to open config file: unexpected HTTP response (401): 401 Unauthorized; "
                                     "Is there a repository at the following location?; "
                                     "rest:https://127.0.0.1:8000/kronos/")
    assert error_for(1, missing, "backup").kind == "denied"


def test_error_detail_is_bounded():
    assert len(error_detail("x" * 5000)) == 600
    assert error_detail("", "only on stdout") == "only on stdout"


def test_parse_config():
    text = json.dumps({"version": 2, "id": "188f2896", "chunker_polynomial": "3d63f6ff9f841d"}, indent=2)
    assert parse_config(text) == {"id": "188f2896", "version": 2}
    with pytest.raises(ResticError, match="no repository id"):
        parse_config("{}")
    with pytest.raises(ResticError, match="did not print JSON"):
        parse_config("using temporary cache")


def test_parse_snapshots_counts_and_finds_the_newest_by_time():
    snapshots = [
        {"time": "2026-12-03T06:12:40.966560387Z", "id": "a"},
        # earlier in UTC although its local clock reads later
        {"time": "2026-12-03T07:00:00.5+02:00", "id": "b"},
        {"time": "2026-12-03T06:12:41Z", "id": "c"},
    ]
    assert parse_snapshots(json.dumps(snapshots)) == {"snapshot_count": 3, "last_snapshot": "2026-12-03T06:12:41Z"}
    assert parse_snapshots("[]") == {"snapshot_count": 0, "last_snapshot": None}
    assert parse_snapshots("null") == {"snapshot_count": 0, "last_snapshot": None}
    with pytest.raises(ResticError, match="expected a list"):
        parse_snapshots("{}")


def test_parse_time_keeps_microseconds_of_go_nanoseconds():
    parsed = parse_time("2026-12-03T06:12:40.966560387+01:00")
    assert parsed.isoformat() == "2026-12-03T05:12:40.966560+00:00"
    with pytest.raises(ResticError):
        parse_time("yesterday")


def test_parse_stats():
    assert parse_stats('{"total_size":543,"total_file_count":0,"total_blob_count":3,"snapshots_count":1}') == {"size_bytes": 543}
    with pytest.raises(ResticError, match="total_size"):
        parse_stats('{"snapshots_count": 1}')

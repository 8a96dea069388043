"""The backup runner's verify and restore, the parts that need no restic: the shape of a whole
pg_dumpall script and restore's input checks, which must refuse bad
input before any command runs (restic, podman and systemctl are binaries that do not exist
here, so any call would fail differently)."""

import pytest

import backup_runner  # noqa: F401 pylint: disable=unused-import  # homelab_backup importable
from homelab_backup import restore as restore_module
from homelab_backup import verify as verify_module

HEAD = b"--\n-- PostgreSQL database cluster dump\n--\n\n\\restrict abc\n\nSET default_transaction_read_only = off;\n"
FOOT = b"\n--\n-- PostgreSQL database cluster dump complete\n--\n\n"


def shape_of(*chunks):
    shape = verify_module.DumpShape()
    for chunk in chunks:
        shape(chunk)
    return shape


def test_a_whole_dump_in_any_chunking_passes():
    body = b"CREATE ROLE app;\n" * 5000
    assert shape_of(HEAD + body + FOOT).problem() is None
    whole = HEAD + body + FOOT
    assert shape_of(*[whole[i:i + 7] for i in range(0, len(whole), 7)]).problem() is None
    assert shape_of(HEAD + body + FOOT).size == len(whole)


def test_a_dump_cut_short_or_not_a_dump_is_named():
    assert shape_of(HEAD + b"CREATE ROLE app;\n").problem().endswith("the dump was cut short")
    assert shape_of(b"SELECT 1;\n" + FOOT).problem() == "does not start as a pg_dumpall script"
    assert shape_of().problem() == "does not start as a pg_dumpall script"
    # the footer begins with the header's words: alone it is no dump
    assert shape_of(FOOT.lstrip()).problem() == "does not start as a pg_dumpall script"


CONFIG = {"host": "kronos", "state_dir": "/nonexistent/state", "restic": "/nonexistent/restic",
          "podman": "/nonexistent/podman", "systemctl": "/nonexistent/systemctl",
          "repositories": [{"name": "jove-backup", "url": "rest:https://10.0.0.1:8000/kronos/",
                            "password_file": "/nonexistent/password", "env_file": None, "cacert": None}],
          "services": {"files": {"unit": "files.service", "volumes": [{"volume": "files-data", "dump": None}]},
                       "empty": {"unit": "empty.service", "volumes": []}}}


@pytest.mark.parametrize("arguments, message", [
    ({"service": "nextcloud"}, "service nextcloud: not backed up on this host (backed-up services: empty, files)"),
    ({"service": "empty"}, "service empty: has no backed-up volume, so there is nothing to restore"),
    ({"service": "files", "volume": "photos"},
     "volume photos: not a backed-up volume of service files (its volumes: files-data)"),
    ({"service": "files", "snapshot": "1a2b"}, "snapshot '1a2b': not a snapshot id (8 to 64 hex digits) or 'latest'"),
    ({"service": "files", "snapshot": "--target=/"},
     "snapshot '--target=/': not a snapshot id (8 to 64 hex digits) or 'latest'"),
])
def test_restore_refuses_bad_input_before_running_anything(arguments, message):
    with pytest.raises(restore_module.RestoreError) as raised:
        restore_module.restore(CONFIG, **arguments)
    assert str(raised.value) == message


def test_a_missing_restic_is_an_error_naming_it_not_a_traceback():
    with pytest.raises(restore_module.RestoreError, match="^repository jove-backup: restic: cannot run "
                       "/nonexistent/restic: No such file or directory$"):
        restore_module.restore(CONFIG, "files")

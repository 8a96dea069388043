"""backup_verify_report: the drill's table and the problems it fails with."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.filter.backup_verify_report import age, backup_verify_report


def row(host, volume, result="ok", age_seconds=90, detail=""):
    return {"host": host, "repository": "backup-b" if host == "jove" else "backup-a", "service": volume.split("-")[0],
            "volume": volume, "snapshot": "1a2b3c4d", "age_seconds": age_seconds, "interval_seconds": 86400,
            "result": result, "detail": detail}


def test_all_good_is_a_table_without_problems():
    report = backup_verify_report([row("kronos", "files-data"), row("jove", "traefik-acme", age_seconds=7200)])
    assert report["problems"] == []
    assert report["table"][0].split() == ["host", "set", "repository", "age", "result"]
    assert [line.split() for line in report["table"][1:]] == [
        ["jove", "traefik-acme", "backup-b", "2h", "ok"], ["kronos", "files-data", "backup-a", "1m", "ok"]]


def test_every_row_not_ok_is_a_problem_naming_host_set_and_repository():
    report = backup_verify_report([
        row("kronos", "files-data", "failed", detail="pack 3f2a is damaged"),
        row("kronos", "db-data", "missing", age_seconds=None),
        row("jove", "traefik-acme"),
    ])
    assert report["problems"] == ["kronos db-data at backup-a: missing",
                                  "kronos files-data at backup-a: failed: pack 3f2a is damaged"]
    assert report["table"][2].split() == ["kronos", "db-data", "backup-a", "-", "missing"]


@pytest.mark.parametrize("seconds, text", [(None, "-"), (5, "5s"), (61, "1m"), (3600, "1h"), (90000, "1d")])
def test_ages_for_people(seconds, text):
    assert age(seconds) == text


def test_a_row_without_a_field_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="a row has no 'result'"):
        backup_verify_report([{"host": "jove", "volume": "v", "repository": "r"}])

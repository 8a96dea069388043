"""Keep policies as the real restic applies them: forget_args' flags given to Debian 13's
restic 0.18 (the lab hosts' release; ``unlimited`` needs 0.16+) on snapshots made at chosen
times, one a day from 26 January to 6 February, and the catalog's defaults as flags."""

import json
import os
import subprocess

import pytest

from ansible_collections.homelab.stack.plugins.module_utils.restic import forget_args
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.backup import DEFAULT_KEEP

PASSWORD = "forget-test-7b1c"
DAYS = ["2026-01-%02d" % day for day in range(26, 32)] + ["2026-02-%02d" % day for day in range(1, 7)]


@pytest.fixture(scope="module", name="repository")
def repository_fixture(tmp_path_factory, trixie):
    """A repository with one snapshot at noon of each of DAYS; a runner of restic on it."""
    tmp = tmp_path_factory.mktemp("forget")
    (tmp / "data").mkdir()
    env = dict(os.environ, RESTIC_REPOSITORY=str(tmp / "repo"), RESTIC_PASSWORD=PASSWORD,
               RESTIC_CACHE_DIR=str(tmp / "cache"))

    def restic(*args):
        completed = subprocess.run([str(trixie / "restic"), *args], env=env, capture_output=True, text=True,
                                   timeout=120, check=False)
        assert completed.returncode == 0, completed.stderr
        return completed.stdout

    restic("init")
    for day in DAYS:
        (tmp / "data" / "file").write_text(day)
        restic("backup", "--host", "jove", "--tag", "service:wiki,volume:wiki-data", "--time", day + " 12:00:00",
               str(tmp / "data"))
    return restic


def kept(restic, keep):
    """The days whose snapshots restic would keep under ``keep`` (forget --dry-run)."""
    groups = json.loads(restic(*forget_args(keep), "--dry-run", "--json", "--tag", "service:wiki,volume:wiki-data"))
    assert len(groups) == 1
    return sorted(snapshot["time"][:10] for snapshot in groups[0]["keep"])


def test_daily_keeps_the_newest_days(repository):
    assert kept(repository, {"daily": 3}) == ["2026-02-04", "2026-02-05", "2026-02-06"]


# restic 0.17+ also keeps the oldest snapshot while a period has fewer snapshots than its
# count (here: unlimited monthlies, thirteen weeklies), so that history reaches back as far as it can.
def test_all_for_a_period_keeps_each_of_its_last_snapshots(repository):
    # every month's last snapshot, besides three dailies, and the oldest
    assert kept(repository, {"daily": 3, "monthly": "all"}) == ["2026-01-26", "2026-01-31", "2026-02-04",
                                                                "2026-02-05", "2026-02-06"]


def test_weekly_keeps_the_last_of_each_week(repository):
    # ISO weeks: 26 Jan - 1 Feb, 2 Feb - 8 Feb; and the oldest
    assert kept(repository, {"weekly": 13}) == ["2026-01-26", "2026-02-01", "2026-02-06"]


def test_the_catalogs_defaults_are_policies_restic_takes(repository):
    assert kept(repository, DEFAULT_KEEP["daily"]) == DAYS
    assert kept(repository, DEFAULT_KEEP["hourly"]) == DAYS
    assert forget_args(DEFAULT_KEEP["monthly"]) is None

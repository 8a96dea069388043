# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A volume's ``backup`` in the catalog (schedule, keep, dump, pause) and the backup_sets
view the backup role consumes."""

from __future__ import annotations

import copy

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.filter import backup_sets as backup_sets_plugin
from ansible_collections.homelab.stack.plugins.filter import validate_catalog as validate_catalog_plugin
from catalog_entry import BACKUP, backup_set, svc

validate_catalog = validate_catalog_plugin.FilterModule().filters()["validate_catalog"]
backup_sets = backup_sets_plugin.FilterModule().filters()["backup_sets"]

HOSTS = ["jove", "kronos"]


def backup_of(value):
    """The normalised ``backup`` of a single volume declaring ``value``."""
    volumes = [{"name": "data", "mount": "/data", "backup": value}]
    return validate_catalog([svc(volumes=volumes)], HOSTS)[0]["volumes"][0]["backup"]


@pytest.mark.parametrize("schedule", ["hourly", "daily", "weekly", "monthly", "never"])
def test_a_schedule_gets_the_seeds_retention(schedule):
    assert backup_of(schedule) == BACKUP[schedule]
    assert backup_of({"schedule": schedule}) == BACKUP[schedule]


def test_none_is_never():
    assert backup_of("none") == backup_of({"schedule": "none"}) == backup_of(None) == BACKUP["never"]


def test_keep_replaces_the_schedules_policy_in_restics_order():
    assert backup_of({"schedule": "hourly", "keep": {"weekly": 4, "daily": 7}}) == {
        "schedule": "hourly", "keep": {"daily": 7, "weekly": 4}, "dump": None, "pause": False}
    assert list(backup_of({"schedule": "daily", "keep": {"yearly": 1, "last": 2}})["keep"]) == ["last", "yearly"]


def test_keep_all_for_a_period_or_for_everything():
    keep = backup_of({"schedule": "daily", "keep": {"daily": 7, "monthly": "all"}})["keep"]
    assert keep == {"daily": 7, "monthly": "all"}
    assert backup_of({"schedule": "daily", "keep": "all"})["keep"] == "all"
    # the last n snapshots, n unlimited: every snapshot
    assert backup_of({"schedule": "hourly", "keep": {"last": "all", "daily": 7}})["keep"] == "all"


def test_dump_and_pause():
    assert backup_of({"schedule": "hourly", "dump": "postgres"}) == dict(BACKUP["hourly"], dump="postgres")
    assert backup_of({"schedule": "weekly", "pause": True}) == dict(BACKUP["weekly"], pause=True)
    assert backup_of({"schedule": "weekly", "pause": False, "dump": None}) == BACKUP["weekly"]


def test_a_normalised_backup_normalises_to_itself():
    for value in ("hourly", "monthly", "never", {"schedule": "daily", "keep": {"daily": 7, "yearly": "all"},
                                                 "dump": "postgres"}):
        once = backup_of(value)
        assert backup_of(copy.deepcopy(once)) == once


def test_the_default_policy_is_not_shared_between_volumes():
    first = backup_of("daily")
    first["keep"]["daily"] = 1
    assert backup_of("daily")["keep"] == {"daily": 30}


@pytest.mark.parametrize(("value", "message"), [
    ("yearly", "backup: 'yearly' is not one of hourly, daily, weekly, monthly, never"),
    (7, "backup: must be a schedule or a mapping of schedule, keep, dump, pause, got integer"),
    ({"schedule": "fortnightly"}, "backup.schedule: 'fortnightly' is not one of hourly, daily, weekly, monthly, never"),
    ({"keep": {"daily": 7}}, "backup.schedule: is required (one of hourly, daily, weekly, monthly, never)"),
    ({"schedule": "daily", "retention": 3}, "backup.retention: is not a known field"),
    ({"schedule": "daily", "keep": {"daily": 0}}, "backup.keep.daily: 0 is not a positive integer"),
    ({"schedule": "daily", "keep": {"daily": -3}}, "backup.keep.daily: -3 is not a positive integer"),
    ({"schedule": "daily", "keep": {"daily": "7"}}, "backup.keep.daily: '7' is not a positive integer or all"),
    ({"schedule": "daily", "keep": {"daily": 2.5}}, "backup.keep.daily: must be a positive integer or all, got float"),
    ({"schedule": "daily", "keep": {"daily": True}}, "backup.keep.daily: must be a positive integer or all, got boolean"),
    ({"schedule": "daily", "keep": {"days": 7}},
     "backup.keep.days: is not one of last, hourly, daily, weekly, monthly, yearly"),
    ({"schedule": "daily", "keep": {}},
     "backup.keep: names no period; set one of last, hourly, daily, weekly, monthly, yearly, or all"),
    ({"schedule": "daily", "keep": "forever"},
     "backup.keep: must be a mapping of last, hourly, daily, weekly, monthly, yearly or all, got string"),
    ({"schedule": "daily", "dump": "mysql"}, "backup.dump: 'mysql' is not one of postgres"),
    ({"schedule": "daily", "pause": "yes"}, "backup.pause: must be a boolean, got string"),
    ({"schedule": "daily", "dump": "postgres", "pause": True},
     "backup.pause: cannot be combined with dump (a dump needs the database running)"),
    ({"schedule": "never", "keep": {"daily": 7}}, "backup.keep: needs a schedule other than never"),
    ({"schedule": "none", "dump": "postgres"}, "backup.dump: needs a schedule other than never"),
    ({"schedule": "never", "pause": True}, "backup.pause: needs a schedule other than never"),
])
def test_bad_backup_is_refused_naming_the_field(value, message):
    with pytest.raises(AnsibleFilterError) as info:
        backup_of(value)
    assert str(info.value) == f"service web: volumes[0].{message}"


def test_one_database_dump_per_service():
    volumes = [{"name": "db", "mount": "/db", "backup": {"schedule": "hourly", "dump": "postgres"}},
               {"name": "wal", "mount": "/wal", "backup": {"schedule": "daily", "dump": "postgres"}}]
    with pytest.raises(AnsibleFilterError) as info:
        validate_catalog([svc(volumes=volumes)], HOSTS)
    assert str(info.value) == \
        "service web: volumes[1].backup.dump: volumes[0] already dumps the service's database"


def test_backup_sets_carry_policy_interval_dump_and_pause_and_skip_never():
    catalog = validate_catalog([
        svc("db", volumes=[{"name": "data", "mount": "/var/lib/postgresql/data",
                            "backup": {"schedule": "hourly", "dump": "postgres"}}]),
        svc("media", host="kronos", volumes=[{"name": "library", "mount": "/media", "backup": "monthly"},
                                             {"name": "cache", "mount": "/cache", "backup": "never"},
                                             {"name": "tmp", "mount": "/tmp", "backup": "none"}]),
        svc("wiki", volumes=[{"name": "data", "mount": "/data",
                              "backup": {"schedule": "daily", "keep": {"daily": 7, "weekly": 4}, "pause": True}},
                             {"name": "conf", "mount": "/conf", "backup": "weekly"}]),
        svc("gone", state="absent", volumes=[{"name": "data", "mount": "/data", "backup": "daily"}]),
    ], HOSTS)
    assert backup_sets(catalog) == [
        dict(backup_set("db", "jove", "db-data", "/var/lib/postgresql/data", "hourly"), dump="postgres"),
        backup_set("wiki", "jove", "wiki-conf", "/conf", "weekly"),
        dict(backup_set("wiki", "jove", "wiki-data", "/data", "daily"), keep={"daily": 7, "weekly": 4}, pause=True),
        backup_set("media", "kronos", "media-library", "/media", "monthly"),
    ]
    assert [item["interval_seconds"] for item in backup_sets(catalog)] == [3600, 604800, 86400, 2678400]


def test_backup_sets_share_no_policy_with_the_catalog():
    catalog = validate_catalog([svc(volumes=[{"name": "data", "mount": "/data", "backup": "daily"}])], HOSTS)
    backup_sets(catalog)[0]["keep"]["daily"] = 1
    assert catalog[0]["volumes"][0]["backup"]["keep"] == {"daily": 30}

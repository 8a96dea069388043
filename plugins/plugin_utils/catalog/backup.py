# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A volume's ``backup`` in the catalog: its schedule, retention and consistency.

A volume writes ``backup: daily`` (a schedule) or a mapping ``{schedule, keep, dump,
pause}``; either normalises to the mapping with every field present, ``keep`` being the
effective retention (the schedule's default unless the volume sets its own), so the
backup layer never re-derives it. ``none`` is still accepted and normalises to ``never``.

- ``keep``: restic's keep policy (module_utils/restic.py ``KEEP_KEYS``), each value a
  positive number or ``all`` (restic's ``unlimited``); or ``all`` as a whole: nothing is
  ever forgotten. A policy with ``last: all`` keeps every snapshot, so it normalises to
  ``all``. A volume's ``keep`` replaces the schedule's default as a whole rather than
  being merged into it: merged, a default key could never be dropped.
- ``dump: postgres``: the service's database is dumped (``pg_dumpall`` in the container)
  instead of copying the live files, which a running database may be writing to.
- ``pause: true``: the service is stopped around the copy. Not with ``dump``: a dump
  needs the database running.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.homelab.stack.plugins.module_utils.restic import KEEP_ALL, KEEP_KEYS
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.errors import _error, _kind, _quote

NEVER = "never"
SCHEDULES = ("hourly", "daily", "weekly", "monthly", NEVER)
# Older catalogs wrote "none"; it means never and normalises to it.
ALIASES = {"none": NEVER}
FIELDS = ("schedule", "keep", "dump", "pause")
DUMPS = ("postgres",)

# The schedule's period, as the monitoring contract's homelab_backup_interval_seconds
# (BackupStale fires after two missed periods); a month is taken as 31 days so that no
# calendar month counts as late.
INTERVAL_SECONDS = {"hourly": 3600, "daily": 86400, "weekly": 604800, "monthly": 2678400}

# Retention by schedule, from the seeds' backup table (databases hourly for 3 days, cluster
# state daily for 30 days, configs weekly for 90 days, media forever): 3 x 24 hourlies,
# 30 dailies, 13 weeklies (90 days rounded up to whole weeks, so day 90 is still there),
# and a monthly volume (the media case) is never forgotten.
DEFAULT_KEEP = {"hourly": {"hourly": 72}, "daily": {"daily": 30}, "weekly": {"weekly": 13}, "monthly": KEEP_ALL}

NO_BACKUP = {"schedule": NEVER, "keep": None, "dump": None, "pause": False}


def _schedule(service: str, field: str, value: object) -> str:
    if not isinstance(value, str):
        raise _error(service, field, f"must be a string, got {_kind(value)}")
    schedule = ALIASES.get(value, value)
    if schedule not in SCHEDULES:
        raise _error(service, field, f"{_quote(value)} is not one of {', '.join(SCHEDULES)}")
    return schedule


def _keep_value(service: str, field: str, value: object) -> int | str:
    if value == KEEP_ALL:
        return KEEP_ALL
    if isinstance(value, str):
        raise _error(service, field, f"{_quote(value)} is not a positive integer or {KEEP_ALL}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _error(service, field, f"must be a positive integer or {KEEP_ALL}, got {_kind(value)}")
    if value < 1:
        raise _error(service, field, f"{value} is not a positive integer")
    return value


def keep_policy(service: str, field: str, value: object) -> dict | str:
    """A keep policy checked and normalised: a dict in KEEP_KEYS order, or ``all``."""
    if value == KEEP_ALL:
        return KEEP_ALL
    if not isinstance(value, Mapping):
        raise _error(service, field, f"must be a mapping of {', '.join(KEEP_KEYS)} or {KEEP_ALL}, got {_kind(value)}")
    for key in value:
        if key not in KEEP_KEYS:
            raise _error(service, f"{field}.{key}", f"is not one of {', '.join(KEEP_KEYS)}")
    if not value:
        raise _error(service, field, f"names no period; set one of {', '.join(KEEP_KEYS)}, or {KEEP_ALL}")
    policy = {key: _keep_value(service, f"{field}.{key}", value[key]) for key in KEEP_KEYS if key in value}
    return KEEP_ALL if policy.get("last") == KEEP_ALL else policy


def normalise(service: str, field: str, value: object) -> dict:
    """A volume's ``backup`` (``field`` is ``volumes[<i>].backup``) as ``{schedule, keep, dump, pause}``.

    ``keep`` is None for ``never``; ``dump`` None or a kind of DUMPS. Raises AnsibleFilterError.
    """
    if value is None:
        return dict(NO_BACKUP)
    if not isinstance(value, (str, Mapping)):
        raise _error(service, field, f"must be a schedule or a mapping of {', '.join(FIELDS)}, got {_kind(value)}")
    if isinstance(value, str):
        value = {"schedule": _schedule(service, field, value)}
    for key in value:
        if key not in FIELDS:
            raise _error(service, f"{field}.{key}", "is not a known field")
    if value.get("schedule") is None:
        raise _error(service, f"{field}.schedule", f"is required (one of {', '.join(SCHEDULES)})")
    schedule = _schedule(service, f"{field}.schedule", value["schedule"])
    dump, pause = value.get("dump"), value.get("pause")
    if dump is not None and dump not in DUMPS:
        raise _error(service, f"{field}.dump", f"{_quote(dump)} is not one of {', '.join(DUMPS)}")
    if pause is not None and not isinstance(pause, bool):
        raise _error(service, f"{field}.pause", f"must be a boolean, got {_kind(pause)}")
    keep = value.get("keep")
    keep = DEFAULT_KEEP.get(schedule) if keep is None else keep_policy(service, f"{field}.keep", keep)
    keep = dict(keep) if isinstance(keep, Mapping) else keep
    if dump is not None and pause:
        raise _error(service, f"{field}.pause", "cannot be combined with dump (a dump needs the database running)")
    if schedule == NEVER:
        for key in ("keep", "dump", "pause"):
            if value.get(key) not in (None, False):
                raise _error(service, f"{field}.{key}", f"needs a schedule other than {NEVER}")
        return dict(NO_BACKUP)
    return {"schedule": schedule, "keep": keep, "dump": dump, "pause": bool(pause)}


def check_dumps(service: str, volumes: list) -> None:
    """One database dump per service: each dumps the whole database (pg_dumpall), so a
    second one would store it twice and make a restore ambiguous."""
    first = None
    for index, volume in enumerate(volumes):
        if volume["backup"]["dump"] is None:
            continue
        if first is not None:
            raise _error(service, f"volumes[{index}].backup.dump",
                         f"volumes[{first}] already dumps the service's database")
        first = index


def interval_seconds(schedule: str) -> int:
    """The period of a schedule other than never, in seconds."""
    return INTERVAL_SECONDS[schedule]

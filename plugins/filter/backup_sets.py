# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import backup_sets

DOCUMENTATION = r"""
name: backup_sets
short_description: The volumes to back up
version_added: 0.1.0
description:
  - Returns one item per volume of a present service whose C(backup) schedule is not C(never),
    sorted by host, service and volume, with everything the backup layer needs to back it up
    and forget old snapshots.
  - A volume's C(backup) is a schedule (C(hourly), C(daily), C(weekly), C(monthly), C(never);
    C(none) is accepted as C(never)) or a mapping C({schedule, keep, dump, pause}).
  - C(keep) is the effective restic keep policy, the volume's own or else its schedule's default
    (C(hourly) keeps 72 hourlies, three days; C(daily) 30 dailies; C(weekly) 13 weeklies, 90 days;
    C(monthly) everything, as for media). A value C(all) keeps every snapshot of
    that period (restic's C(unlimited)); a policy C(all) forgets nothing.
seealso:
  - plugin: homelab.stack.validate_catalog
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Backup sets of this host
  ansible.builtin.set_fact:
    backup_volumes: "{{ homelab_catalog | homelab.stack.backup_sets | selectattr('host', '==', inventory_hostname) }}"

# A service app on jove with volumes [{name: data, mount: /data, backup: daily}] gives
#   - {service: app, host: jove, volume: app-data, mount: /data, schedule: daily,
#      interval_seconds: 86400, keep: {daily: 30}, dump: null, pause: false}
# and a database with
#   volumes: [{name: data, mount: /var/lib/postgresql/data,
#              backup: {schedule: hourly, keep: {hourly: 24, daily: 7}, dump: postgres}}]
#   - {service: db, ..., schedule: hourly, interval_seconds: 3600, keep: {hourly: 24, daily: 7},
#      dump: postgres, pause: false}
"""

RETURN = r"""
_value:
  description: The volumes to back up, sorted by host, service and volume.
  type: list
  elements: dict
  contains:
    service:
      description: The service the volume belongs to.
      type: str
    host:
      description: The host the volume lives on.
      type: str
    volume:
      description: The Podman volume name, C(<service>-<volume>).
      type: str
    mount:
      description: Where the container mounts the volume.
      type: str
    schedule:
      description: How often to back the volume up.
      type: str
      choices: [hourly, daily, weekly, monthly]
    interval_seconds:
      description:
        - The schedule's period in seconds (hourly 3600, daily 86400, weekly 604800, monthly
          2678400, i.e. 31 days), as the metric C(homelab_backup_interval_seconds) the
          C(BackupStale) alert compares the last success with.
      type: int
    keep:
      description:
        - The keep policy, a mapping of restic's C(last), C(hourly), C(daily), C(weekly), C(monthly),
          C(yearly) (in that order) to a positive count or C(all); or the string C(all) when no
          snapshot is ever forgotten.
        - A volume's own C(keep) replaces its schedule's default as a whole.
      type: raw
    dump:
      description:
        - C(postgres) when the service's database is to be backed up as a logical dump
          (C(pg_dumpall) in its container) instead of the volume's files; else null.
      type: str
      choices: [postgres]
    pause:
      description: Whether the service is stopped around the copy (never with C(dump)).
      type: bool
"""


class FilterModule:
    """The backup_sets filter."""

    def filters(self):
        return {"backup_sets": backup_sets}

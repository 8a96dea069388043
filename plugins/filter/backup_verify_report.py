# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: backup_verify_report
short_description: The backup drill's table and problems, from the rows every host's runner printed
version_added: 0.1.0
description:
  - Turns the rows of C(homelab-backup verify) (one per repository and backup set, each host's
    with its C(host) added) into one table to print and one message per row that is not C(ok).
  - Part of the C(homelab.stack.backup_verify) playbook's internals.
options:
  _input:
    description: Rows with C(host), C(repository), C(service), C(volume), C(age_seconds), C(result) and C(detail).
    type: list
    elements: dict
    required: true
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Print the drill's table
  ansible.builtin.debug:
    msg: "{{ (rows | homelab.stack.backup_verify_report).table }}"
"""

RETURN = r"""
_value:
  description:
    - C(table), lines of text (a header, then one line per row sorted by host, set and repository).
    - "C(problems), one message per row whose result is not C(ok): C(<host> <volume> at <repository>: <result>: <detail>)."
  type: dict
"""

COLUMNS = "%-10s %-30s %-16s %-10s %s"


def age(seconds):
    """An age for people: 42s, 17m, 5h, 3d; "-" when there is no snapshot."""
    if seconds is None:
        return "-"
    seconds = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return "%d%s" % (seconds // size, unit)
    return "%ds" % seconds


def backup_verify_report(rows):
    if not isinstance(rows, list) or not all(isinstance(row, Mapping) for row in rows):
        raise AnsibleFilterError("backup_verify_report: expects the list of rows homelab-backup verify prints")
    try:
        rows = sorted(rows, key=lambda row: (row["host"], row["volume"], row["repository"]))
        table = [COLUMNS % ("host", "set", "repository", "age", "result")]
        table += [COLUMNS % (row["host"], row["volume"], row["repository"], age(row.get("age_seconds")), row["result"])
                  for row in rows]
        problems = ["%s %s at %s: %s" % (row["host"], row["volume"], row["repository"], row["result"])
                    + (": " + row["detail"] if row.get("detail") else "")
                    for row in rows if row["result"] != "ok"]
    except KeyError as missing:
        raise AnsibleFilterError("backup_verify_report: a row has no %s" % missing) from None
    return {"table": table, "problems": problems}


class FilterModule:
    """The backup_verify_report filter."""

    def filters(self):
        return {"backup_verify_report": backup_verify_report}

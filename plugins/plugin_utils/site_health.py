# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site's health report (playbooks/verify.yml, ``homelab.stack.verify``).

Two pure functions around what the playbook gathers, read-only, on each host:
:func:`verify_plan` says what to look at on one host (the catalog units and backup timers
whose states ``systemctl show`` reads, the routes the edge host probes on its own
loopback, the Prometheus API that lists the monitoring targets, whether the backup
runner's metrics are to be read), and :func:`verify_report` judges what was seen:
one row per unit, route, target and backup set (what, where, state, detail) and one
problem per row that is wrong. The playbook prints the rows as one table and fails
naming the problems.

What each check expects:
- a unit of the ``host_units`` view (network, volumes, containers) is active;
- an ``auth: none`` route answers 2xx over TLS the CA verifies (redirects followed, as a
  browser does); an ``auth: sso`` route answers one of the fail-closed statuses of the
  monitoring contract (``blackbox.SSO_STATUSES``), never 2xx, redirects not followed;
- every active Prometheus target is up; one not scraped yet is waiting, not down;
- every backup set's last good snapshot (the runner's textfile metric, the one the
  BackupStale alert reads) is within :func:`snapshot_allowance` of its schedule; a set
  that never ran while its timer is active is waiting for its first run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.module_utils.blackbox import SSO_STATUSES
from ansible_collections.homelab.stack.plugins.module_utils.quadlet import service_name
from ansible_collections.homelab.stack.plugins.module_utils.service_state import unit_blocks
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import monitoring
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.backup import interval_seconds
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.errors import _kind
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.monitoring_view import _addresses as mesh_addresses_checked
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import (
    _catalog,
    _host,
    _present,
    backup_sets,
    host_units,
    routes,
)

PLAN = "verify_plan"
REPORT = "verify_report"
# The runner's metric of a set's last good snapshot (module_utils/restic.py's BACKUP_METRICS).
LAST_SUCCESS = "homelab_backup_last_success_timestamp_seconds"
_SAMPLE = re.compile(r'(\w+)\{service="((?:[^"\\]|\\.)*)",volume="((?:[^"\\]|\\.)*)"\} (\S+)')
# How the edge host's probe (playbooks/verify.yml) prints each route: tab-separated.
PROBE_FIELDS = ("url", "status", "exit", "error")
# curl's exit codes that say what went wrong before any HTTP answer.
CURL_ERRORS = {6: "name not resolved", 7: "connection refused", 28: "timed out", 35: "TLS handshake failed",
               47: "too many redirects", 52: "empty answer", 56: "connection reset",
               60: "certificate not trusted", 77: "CA file unreadable"}
WAITING_FIRST_RUN = "waiting for its first run"
WAITING_FIRST_SCRAPE = "waiting for its first scrape"


def snapshot_allowance(schedule: str) -> int:
    """How old, in seconds, a set's last good snapshot may be on a ``schedule``: two periods.

    Why: the timer starts a run once per period at a random point of a half-hour window
    (RandomizedDelaySec) and the run takes a while, so a healthy set's snapshot is up to a
    period and a bit old; one missed run (the host off at that moment, the other site's
    rest-server briefly away) is caught up by Persistent= or the next run. Two missed
    periods are what the BackupStale alert fires on; verify agrees with the alert rather
    than contradicting it (a month is 31 days, as in the schedule's period).
    """
    return 2 * interval_seconds(schedule)


def _published_url(service: dict) -> str | None:
    """``http://<address>:<host port>`` where the host publishes the service's port, the
    wildcard addresses read as loopback; None when it publishes no such port. A binding is
    ``[ip:]hostPort:containerPort[/protocol]``, as the catalog checked it."""
    for binding in service["publish"]:
        parts = binding.split("/", 1)[0].rsplit(":", 2)
        if parts[-1] != str(service["port"]):
            continue
        address = parts[0] if len(parts) == 3 else ""
        if address in ("", "0.0.0.0", "::", "[::]"):
            address = "127.0.0.1"
        return f"http://{address}:{parts[-2]}"
    return None


def _edge(services: list) -> dict | None:
    return next((service for service in services if service["platform"] == "traefik"), None)


def _prometheus(services: list) -> dict | None:
    return next((service for service in services if service["platform"] == monitoring.PROMETHEUS), None)


def _timer(service: str) -> str:
    """The backup timer of a service (roles/backup: one per service with sets)."""
    return f"homelab-backup-{service}.timer"


def _routes(services: list, domain: object, addresses: Mapping) -> list:
    """The routes to probe: ``{name, auth, url, hosts}``, the URL at the first path prefix."""
    if not any(service["route"] is not None for service in services):
        return []
    return [{"name": route["name"], "auth": route["auth"], "hosts": route["hosts"],
             "url": f"https://{route['fqdn']}{route['paths'][0] if route['paths'] else '/'}"}
            for route in routes(services, domain, addresses)]


def _addresses(addresses: object, filter_name: str) -> dict:
    """The mesh addresses, checked as the monitoring view checks them; None when none are given."""
    return {} if addresses is None else mesh_addresses_checked(addresses, filter_name)


def verify_plan(catalog: object, host: object, domain: object = None, addresses: object = None) -> dict:
    """What to look at on ``host``: ``{units, routes, targets_url, backups}``.

    ``units`` are the systemd units to read: those of the ``host_units`` view, then the
    backup timers of the host's services with sets. ``routes`` (``{name, auth, url,
    hosts}``) are probed when ``host`` runs the edge (the ``platform: traefik`` entry),
    else empty. ``targets_url`` is Prometheus' targets API where ``host`` runs it
    (``http://<published address>:<port>/api/v1/targets``), else None. ``backups`` says
    whether the host has backup sets, whose metrics are read. ``domain`` is needed when the
    catalog has routes, ``addresses`` (host to mesh address) when units or routes cross hosts.
    """
    host = _host(host, PLAN)
    addresses = _addresses(addresses, PLAN)
    services = _present(_catalog(catalog, PLAN))
    sets = [item for item in backup_sets(services) if item["host"] == host]
    units = [service_name(unit["name"], unit["type"]) for unit in host_units(services, host, addresses.get(host), addresses)]
    units += sorted({_timer(item["service"]) for item in sets})
    edge, prometheus = _edge(services), _prometheus(services)
    url = _published_url(prometheus) if prometheus is not None and prometheus["host"] == host else None
    return {
        "units": units,
        "routes": _routes(services, domain, addresses) if edge is not None and edge["host"] == host else [],
        "targets_url": f"{url}/api/v1/targets" if url else None,
        "backups": bool(sets),
    }


def _row(what: str, where: str, state: str, detail: str = "", problem: bool = False) -> dict:
    return {"what": what, "where": where, "state": state, "detail": detail, "problem": problem}


def _unit_rows(host: str, units: list, seen: dict | None) -> list:
    rows = []
    for unit in units:
        if seen is None:
            rows.append(_row(f"unit {unit}", host, "unknown", "its state could not be read", True))
            continue
        values = seen.get(unit, {})
        active, sub, load = (values.get("ActiveState", "inactive"), values.get("SubState", "dead"),
                             values.get("LoadState", "not-found"))
        if load == "not-found":
            rows.append(_row(f"unit {unit}", host, "not-found", "no such unit on the host", True))
        else:
            rows.append(_row(f"unit {unit}", host, active, "" if active == "active" else f"{active} ({sub})",
                             active != "active"))
    return rows


def _probe_lines(text: str) -> dict:
    """{url: {status, exit, error}} from the probe's lines (:data:`PROBE_FIELDS`, tab-separated)."""
    result = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) < 3:
            continue
        url, status, code = fields[:3]
        result[url] = {"status": int(status) if status.isdigit() else 0, "exit": int(code) if code.isdigit() else -1,
                       "error": fields[3].strip() if len(fields) > 3 else ""}
    return result


def _route_row(host: str, route: dict, answer: dict | None) -> dict:
    what = f"route {route['url']} ({route['auth']})"
    if answer is None:
        return _row(what, host, "no answer", "the probe printed nothing for it", True)
    if answer["exit"] != 0 or answer["status"] == 0:
        why = CURL_ERRORS.get(answer["exit"], f"curl exit {answer['exit']}")
        return _row(what, host, why, answer["error"] or why, True)
    status = answer["status"]
    if route["auth"] == "sso":
        if 200 <= status < 300:
            return _row(what, host, str(status), f"answers {status} without sign-in: single sign-on does not hold", True)
        if status not in SSO_STATUSES:
            return _row(what, host, str(status), f"answers {status}, not a fail-closed status"
                        f" ({', '.join(str(code) for code in SSO_STATUSES)})", True)
        return _row(what, host, str(status))
    if not 200 <= status < 300:
        return _row(what, host, str(status), f"answers {status}, not 2xx", True)
    return _row(what, host, str(status))


def _target_rows(host: str, answer: object) -> list:
    """Rows of Prometheus' ``/api/v1/targets`` answer (its JSON, as a mapping or text)."""
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except ValueError:
            answer = None
    try:
        targets = answer["data"]["activeTargets"]
    except (TypeError, KeyError):
        detail = answer.get("error") if isinstance(answer, Mapping) and answer.get("error") else "no readable answer"
        return [_row("targets of prometheus", host, "no answer", f"Prometheus' targets API: {detail}", True)]
    if not targets:
        return [_row("targets of prometheus", host, "none", "Prometheus has no active target", True)]
    rows = []
    for target in sorted(targets, key=lambda item: (item["labels"].get("job", ""), item["labels"].get("instance", ""))):
        labels, health = target["labels"], target.get("health", "unknown")
        what = f"target {labels.get('job', '?')} {labels.get('instance', '?')}"
        if health == "unknown":
            rows.append(_row(what, host, WAITING_FIRST_SCRAPE))
        else:
            rows.append(_row(what, host, health, "" if health == "up" else target.get("lastError") or health,
                             health != "up"))
    return rows


def _last_successes(text: str) -> dict:
    """{volume: unix time of its last good snapshot (0: none yet)} from the runner's textfiles."""
    result = {}
    for line in text.splitlines():
        sample = _SAMPLE.fullmatch(line.strip())
        if sample and sample.group(1) == LAST_SUCCESS:
            try:
                result[sample.group(3)] = float(sample.group(4))
            except ValueError:
                continue
    return result


def age(seconds: float) -> str:
    """An age for people: 42s, 17m, 5h, 3d."""
    seconds = int(max(seconds, 0))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return "%d%s" % (seconds // size, unit)
    return "%ds" % seconds


def _backup_row(item: dict, timer: dict, last: float | None, now: float) -> dict:
    what, host = f"backup {item['volume']} ({item['schedule']})", item["host"]
    timer_name = _timer(item["service"])
    timer_active = timer.get("ActiveState") == "active"
    timer_problem = "" if timer_active else f"; its timer {timer_name} is {timer.get('ActiveState', 'not found')}"
    if last is None:
        if timer_active:
            return _row(what, host, WAITING_FIRST_RUN, f"{timer_name} is active")
        return _row(what, host, "no snapshot", "no run yet" + timer_problem, True)
    if last <= 0:
        return _row(what, host, "no snapshot", "its runs have not made a good snapshot yet" + timer_problem, True)
    allowed, seen = snapshot_allowance(item["schedule"]), now - last
    if seen > allowed:
        return _row(what, host, f"stale {age(seen)}", f"last good snapshot {age(seen)} ago,"
                    f" {item['schedule']} allows {age(allowed)}" + timer_problem, True)
    return _row(what, host, f"{age(seen)} ago", timer_problem.lstrip("; "), not timer_active)


def _observed(observations: object) -> dict:
    if not isinstance(observations, Mapping) or not all(isinstance(value, Mapping) for value in observations.values()):
        raise AnsibleFilterError(f"{REPORT}: observations: must map each host to what was gathered there,"
                                 f" got {_kind(observations)}")
    return dict(observations)


def _text(seen: Mapping, key: str) -> str | None:
    value = seen.get(key)
    return value if isinstance(value, str) else None


def verify_report(catalog: object, observations: object, now: float, domain: object = None,
                  addresses: object = None, hosts: object = None) -> dict:
    """Judge what the playbook gathered: ``{rows, table, problems}``.

    ``observations`` maps each host to what was read there: ``units`` (``systemctl show
    --property=Id,LoadState,ActiveState,SubState`` of its plan's units), ``metrics`` (the
    backup runner's textfiles), ``routes`` (the probe's lines, :data:`PROBE_FIELDS`),
    ``targets`` (Prometheus' targets answer, or ``{error}``); a host with catalog services
    and no entry was not reached. ``now`` is the time of the check (unix seconds).
    ``hosts`` are the hosts the run covered (``ansible_play_hosts_all``: a ``--limit``
    leaves the others out of the report); None for every host of the catalog.
    Rows are ``{what, where, state, detail, problem}``: units, routes, targets and backup
    sets, each host's in that order, hosts by name; ``table`` the rows as text
    (:func:`table`); ``problems`` one message per row whose
    ``problem`` is true: ``<where>: <what>: <state>[: <detail>]``.
    """
    observations = _observed(observations)
    addresses = _addresses(addresses, REPORT)
    services = _present(_catalog(catalog, REPORT))
    if not isinstance(now, (int, float)) or isinstance(now, bool):
        raise AnsibleFilterError(f"{REPORT}: now: must be unix seconds, got {_kind(now)}")
    if hosts is not None and (not isinstance(hosts, (list, tuple)) or not all(isinstance(host, str) for host in hosts)):
        raise AnsibleFilterError(f"{REPORT}: hosts: must be a list of host names, got {_kind(hosts)}")
    hosts = sorted({service["host"] for service in services if hosts is None or service["host"] in hosts})
    rows = []
    for host in hosts:
        plan = verify_plan(services, host, domain, addresses)
        if host not in observations:
            rows.append(_row("host", host, "not reached", "nothing could be read there", True))
            continue
        seen = observations[host]
        text = _text(seen, "units")
        states = unit_blocks(text) if text is not None else None
        catalog_units = [unit for unit in plan["units"] if not unit.endswith(".timer")]
        rows += _unit_rows(host, catalog_units, states)
        if plan["routes"]:
            answers = _probe_lines(_text(seen, "routes") or "")
            rows += [_route_row(host, route, answers.get(route["url"])) for route in plan["routes"]]
        if plan["targets_url"]:
            rows += _target_rows(host, seen.get("targets"))
        if plan["backups"]:
            successes = _last_successes(_text(seen, "metrics") or "")
            rows += [_backup_row(item, (states or {}).get(_timer(item["service"]), {}), successes.get(item["volume"]), now)
                     for item in backup_sets(services) if item["host"] == host]
    problems = [f"{row['where']}: {row['what']}: {row['state']}" + (f": {row['detail']}" if row["detail"] else "")
                for row in rows if row["problem"]]
    return {"rows": rows, "table": table(rows), "problems": problems}


def table(rows: list) -> list:
    """The rows as lines of text: what, where, state, in columns as wide as their values."""
    header = {"what": "what", "where": "where", "state": "state"}
    widths = {key: max(len(row[key]) for row in [header] + rows) for key in ("what", "where")}
    return [f"{row['what']:<{widths['what']}}  {row['where']:<{widths['where']}}  {row['state']}" for row in [header] + rows]

"""site_health: what verify reads on each host, and how it judges what it read."""

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.filter.validate_catalog import FilterModule as CatalogFilter
from ansible_collections.homelab.stack.plugins.filter.verify_report import verify_report as report_filter
from ansible_collections.homelab.stack.plugins.plugin_utils.site_health import (
    age,
    snapshot_allowance,
    table,
    verify_plan,
    verify_report,
)

validate_catalog = CatalogFilter().filters()["validate_catalog"]

DOMAIN = "lab.home.arpa"
HOSTS = ["jove", "kronos"]
ADDRESSES = {"jove": "10.231.0.10", "kronos": "10.231.0.11"}
NOW = 1_800_000_000
APP = "localhost/homelab-lab-app:latest"
# The lab's shape: the edge and two apps on jove, monitoring and a backed-up app on kronos.
SITE = [
    {"name": "traefik", "host": "jove", "platform": "traefik"},
    {"name": "prometheus", "host": "kronos", "platform": "prometheus"},
    {"name": "api", "host": "jove", "image": APP, "port": 8080, "route": {"auth": "sso"}},
    {"name": "web", "host": "jove", "image": APP, "port": 8080, "route": {"auth": "none"}, "depends_on": ["api"]},
    {"name": "files", "host": "kronos", "image": APP, "port": 8080, "route": {"auth": "none", "paths": ["/share"]},
     "volumes": [{"name": "data", "mount": "/data", "backup": "daily"},
                 {"name": "db", "mount": "/db", "backup": "hourly"},
                 {"name": "cache", "mount": "/cache", "backup": "never"}]},
]
JOVE_UNITS = ["homelab-network.service", "traefik-acme-volume.service", "traefik.service", "api.service",
              "web.service", "homelab-backup-traefik.timer"]
KRONOS_UNITS = ["homelab-network.service", "prometheus-data-volume.service", "files-data-volume.service",
                "files-db-volume.service", "files-cache-volume.service", "prometheus.service", "files.service",
                "homelab-backup-files.timer"]


def catalog(services=None):
    return validate_catalog(SITE if services is None else services, HOSTS, edge="jove")


def systemctl(units, states=None):
    """``systemctl show --property=Id,LoadState,ActiveState,SubState`` of ``units``; ``states``
    maps a unit to (ActiveState, SubState) or to None (not-found), others are active."""
    blocks = []
    for unit in units:
        state = (states or {}).get(unit, ("active", "running"))
        if state is None:
            blocks.append(f"Id={unit}\nLoadState=not-found\nActiveState=inactive\nSubState=dead")
        else:
            blocks.append(f"Id={unit}\nLoadState=loaded\nActiveState={state[0]}\nSubState={state[1]}")
    return "\n\n".join(blocks) + "\n"


def metrics(**last_success):
    """The runner's textfile lines for files' volumes, volume (files-data as files_data) -> time."""
    lines = ["# HELP homelab_backup_last_success_timestamp_seconds Unix time of the volume's last good snapshot.",
             "# TYPE homelab_backup_last_success_timestamp_seconds gauge"]
    lines += [f'homelab_backup_last_success_timestamp_seconds{{service="files",volume="{key.replace("_", "-")}"}} {value}'
              for key, value in last_success.items()]
    lines += ['homelab_backup_interval_seconds{service="files",volume="files-data"} 86400']
    return "\n".join(lines) + "\n"


def probe(**answers):
    """The edge probe's lines: route name -> (status, curl exit, error); unnamed routes answer as declared."""
    default = {"api": (500, 0, ""), "web": (200, 0, ""), "files": (200, 0, "")}
    default.update(answers)
    urls = {"api": f"https://api.{DOMAIN}/", "web": f"https://web.{DOMAIN}/", "files": f"https://files.{DOMAIN}/share"}
    return "".join(f"{urls[name]}\t{status:03d}\t{code}\t{error}\n" for name, (status, code, error) in default.items())


def targets(*health):
    """Prometheus' /api/v1/targets answer with (job, instance, health[, lastError]) targets."""
    active = [{"labels": {"job": item[0], "instance": item[1]}, "health": item[2],
               "lastError": item[3] if len(item) > 3 else ""} for item in health]
    return {"status": "success", "data": {"activeTargets": active, "droppedTargets": []}}


UP = (("node", "jove:9100", "up"), ("node", "kronos:9100", "up"), ("prometheus", "127.0.0.1:9090", "up"))


def observed(jove_states=None, kronos_states=None, routes=None, answer=None, backed_up=None):
    return {
        "jove": {"units": systemctl(JOVE_UNITS, jove_states), "metrics": "", "routes": probe() if routes is None else routes,
                 "targets": None},
        "kronos": {"units": systemctl(KRONOS_UNITS, kronos_states), "routes": None,
                   "metrics": metrics(files_data=NOW - 3600, files_db=NOW - 600) if backed_up is None else backed_up,
                   "targets": targets(*UP) if answer is None else answer},
    }


def judge(seen=None, services=None, now=NOW):
    return verify_report(catalog(services), observed() if seen is None else seen, now, DOMAIN, ADDRESSES)


def states(report):
    return {(row["what"], row["where"]): row["state"] for row in report["rows"]}


# The plan


def test_the_edge_host_probes_every_route_at_its_first_path():
    plan = verify_plan(catalog(), "jove", DOMAIN, ADDRESSES)
    assert plan["units"] == JOVE_UNITS
    assert plan["routes"] == [
        {"name": "api", "auth": "sso", "hosts": [f"api.{DOMAIN}"], "url": f"https://api.{DOMAIN}/"},
        {"name": "files", "auth": "none", "hosts": [f"files.{DOMAIN}"], "url": f"https://files.{DOMAIN}/share"},
        {"name": "web", "auth": "none", "hosts": [f"web.{DOMAIN}"], "url": f"https://web.{DOMAIN}/"}]
    assert plan["targets_url"] is None and plan["backups"] is True


def test_the_prometheus_host_asks_its_published_loopback_port():
    plan = verify_plan(catalog(), "kronos", DOMAIN, ADDRESSES)
    assert plan["units"] == KRONOS_UNITS
    assert plan["routes"] == [] and plan["backups"] is True
    assert plan["targets_url"] == "http://127.0.0.1:9090/api/v1/targets"


@pytest.mark.parametrize("publish, url", [
    (["127.0.0.1:19090:9090"], "http://127.0.0.1:19090/api/v1/targets"),
    (["9091:9090/tcp"], "http://127.0.0.1:9091/api/v1/targets"),
    (["0.0.0.0:9092:9090"], "http://127.0.0.1:9092/api/v1/targets"),
    (["10.231.0.11:9093:9090"], "http://10.231.0.11:9093/api/v1/targets"),
    (["127.0.0.1:9093:9093"], None),
    (["[::1]:9094:9090"], "http://[::1]:9094/api/v1/targets"),
    (["[::]:9095:9090"], "http://127.0.0.1:9095/api/v1/targets"),
])
def test_prometheus_is_asked_where_its_port_is_published(publish, url):
    services = [{"name": "prometheus", "host": "kronos", "platform": "prometheus", "publish": publish}]
    assert verify_plan(catalog(services), "kronos")["targets_url"] == url


def test_a_host_without_services_reads_nothing():
    plan = verify_plan(catalog([{"name": "web", "host": "jove", "image": APP}]), "kronos")
    assert plan == {"units": [], "routes": [], "targets_url": None, "backups": False}


def test_a_catalog_without_routes_needs_no_domain():
    plan = verify_plan(catalog([{"name": "traefik", "host": "jove", "platform": "traefik"}]), "jove")
    assert plan["routes"] == [] and plan["units"][-1] == "homelab-backup-traefik.timer"


def test_an_absent_service_is_not_checked():
    services = SITE[:3] + [{"name": "web", "host": "jove", "image": APP, "state": "absent"}]
    assert "web.service" not in verify_plan(catalog(services), "jove", DOMAIN, ADDRESSES)["units"]


# The report: everything fine


def test_a_healthy_site_has_rows_for_everything_and_no_problem():
    report = judge()
    assert report["problems"] == []
    seen = states(report)
    assert all(seen[(f"unit {unit}", "jove")] == "active" for unit in JOVE_UNITS if unit.endswith(".service"))
    assert all(seen[(f"unit {unit}", "kronos")] == "active" for unit in KRONOS_UNITS if unit.endswith(".service"))
    assert not any(what.endswith(".timer") for what, _host in seen)
    assert seen[(f"route https://api.{DOMAIN}/ (sso)", "jove")] == "500"
    assert seen[(f"route https://web.{DOMAIN}/ (none)", "jove")] == "200"
    assert seen[(f"route https://files.{DOMAIN}/share (none)", "jove")] == "200"
    assert seen[("target node kronos:9100", "kronos")] == "up"
    assert seen[("backup files-data (daily)", "kronos")] == "1h ago"
    assert seen[("backup files-db (hourly)", "kronos")] == "10m ago"
    assert ("backup files-cache (never)", "kronos") not in seen
    # jove's traefik-acme volume has never been backed up yet, its timer is active.
    assert seen[("backup traefik-acme (daily)", "jove")] == "waiting for its first run"


def test_the_table_is_what_where_state_in_columns():
    lines = judge()["table"]
    assert lines[0].split() == ["what", "where", "state"]
    assert lines[1].split() == ["unit", "homelab-network.service", "jove", "active"]
    assert len({line.index("jove") for line in lines if " jove " in line}) == 1
    assert any(line.split() == ["target", "prometheus", "127.0.0.1:9090", "kronos", "up"] for line in lines)
    assert table([]) == ["what  where  state"]


def test_the_filter_takes_the_controllers_clock_when_no_time_is_given():
    report = report_filter(catalog(), observed(backed_up=metrics(files_data=NOW, files_db=NOW)), DOMAIN, ADDRESSES)
    # NOW lies in the future of any test run: "ago" of a negative age reads 0s.
    assert states(report)[("backup files-data (daily)", "kronos")] == "0s ago"


# Units


def test_a_stopped_unit_is_a_problem_naming_it_and_its_host():
    report = judge(observed(jove_states={"web.service": ("inactive", "dead")}))
    assert report["problems"] == ["jove: unit web.service: inactive: inactive (dead)"]


@pytest.mark.parametrize("state, problem", [
    (("failed", "failed"), "kronos: unit files.service: failed: failed (failed)"),
    (("activating", "start"), "kronos: unit files.service: activating: activating (start)"),
    (None, "kronos: unit files.service: not-found: no such unit on the host"),
])
def test_every_unit_state_but_active_is_a_problem(state, problem):
    assert judge(observed(kronos_states={"files.service": state}))["problems"] == [problem]


def test_a_unit_systemctl_did_not_list_is_not_found():
    seen = observed()
    seen["jove"]["units"] = systemctl([unit for unit in JOVE_UNITS if unit != "api.service"])
    assert judge(seen)["problems"] == ["jove: unit api.service: not-found: no such unit on the host"]


def test_a_host_not_reached_is_a_problem():
    seen = observed()
    del seen["kronos"]
    assert judge(seen)["problems"] == ["kronos: host: not reached: nothing could be read there"]


def test_hosts_the_run_did_not_cover_are_left_out():
    seen = observed()
    del seen["kronos"]
    report = verify_report(catalog(), seen, NOW, DOMAIN, ADDRESSES, ["jove"])
    assert report["problems"] == []
    assert {row["where"] for row in report["rows"]} == {"jove"}
    with pytest.raises(AnsibleFilterError, match="hosts: must be a list of host names"):
        verify_report(catalog(), seen, NOW, DOMAIN, ADDRESSES, "jove")


def test_units_that_could_not_be_read_are_problems():
    seen = observed()
    seen["jove"]["units"] = None
    problems = judge(seen)["problems"]
    assert "jove: unit web.service: unknown: its state could not be read" in problems
    # ...and the backup timer's state is unknown too.
    assert "jove: backup traefik-acme (daily): no snapshot: no run yet; its timer homelab-backup-traefik.timer" \
           " is not found" in problems


# Routes


def test_an_open_route_that_does_not_answer_2xx_is_a_problem():
    report = judge(observed(routes=probe(web=(502, 0, ""), files=(302, 0, ""))))
    assert report["problems"] == [f"jove: route https://files.{DOMAIN}/share (none): 302: answers 302, not 2xx",
                                  f"jove: route https://web.{DOMAIN}/ (none): 502: answers 502, not 2xx"]


def test_an_sso_route_that_answers_2xx_leaks_and_is_a_problem():
    report = judge(observed(routes=probe(api=(200, 0, ""))))
    assert report["problems"] == [f"jove: route https://api.{DOMAIN}/ (sso): 200: answers 200 without sign-in:"
                                  " single sign-on does not hold"]


@pytest.mark.parametrize("status", [302, 303, 307, 401, 403, 500, 502, 503, 504])
def test_an_sso_route_fails_closed_with_any_status_of_the_monitoring_contract(status):
    assert judge(observed(routes=probe(api=(status, 0, ""))))["problems"] == []


def test_an_sso_route_with_another_status_is_a_problem():
    assert judge(observed(routes=probe(api=(404, 0, ""))))["problems"] == [
        f"jove: route https://api.{DOMAIN}/ (sso): 404: answers 404, not a fail-closed status"
        " (302, 303, 307, 401, 403, 500, 502, 503, 504)"]


@pytest.mark.parametrize("code, state", [(60, "certificate not trusted"), (7, "connection refused"),
                                         (28, "timed out"), (35, "TLS handshake failed"), (92, "curl exit 92")])
def test_a_route_without_an_http_answer_is_a_problem_saying_why(code, state):
    error = "SSL certificate problem: unable to get local issuer certificate" if code == 60 else ""
    problems = judge(observed(routes=probe(web=(0, code, error))))["problems"]
    assert problems == [f"jove: route https://web.{DOMAIN}/ (none): {state}: {error or state}"]


def test_an_sso_route_without_an_http_answer_is_not_failing_closed_but_failing():
    problems = judge(observed(routes=probe(api=(0, 60, "SSL certificate problem"))))["problems"]
    assert problems == [f"jove: route https://api.{DOMAIN}/ (sso): certificate not trusted: SSL certificate problem"]


def test_a_route_the_probe_printed_nothing_for_is_a_problem():
    lines = "".join(line + "\n" for line in probe().splitlines() if "web." not in line)
    assert judge(observed(routes=lines))["problems"] == [
        f"jove: route https://web.{DOMAIN}/ (none): no answer: the probe printed nothing for it"]


# Targets


def test_a_target_down_is_a_problem_with_its_error():
    answer = targets(*UP, ("files", "kronos:8080", "down", "connection refused"))
    assert judge(observed(answer=answer))["problems"] == ["kronos: target files kronos:8080: down: connection refused"]


def test_a_target_not_scraped_yet_is_waiting_not_down():
    report = judge(observed(answer=targets(*UP, ("files", "kronos:8080", "unknown"))))
    assert report["problems"] == []
    assert states(report)[("target files kronos:8080", "kronos")] == "waiting for its first scrape"


def test_prometheus_not_answering_is_a_problem():
    problems = judge(observed(answer={"error": "Status code was -1: connection refused"}))["problems"]
    assert problems == ["kronos: targets of prometheus: no answer: Prometheus' targets API:"
                        " Status code was -1: connection refused"]


def test_prometheus_answering_as_text_is_read_and_garbage_is_a_problem():
    assert judge(observed(answer=json.dumps(targets(*UP))))["problems"] == []
    assert judge(observed(answer="<html>"))["problems"] == [
        "kronos: targets of prometheus: no answer: Prometheus' targets API: no readable answer"]


def test_prometheus_without_targets_is_a_problem():
    assert judge(observed(answer=targets()))["problems"] == [
        "kronos: targets of prometheus: none: Prometheus has no active target"]


def test_a_catalog_without_prometheus_checks_no_target():
    services = [service for service in SITE if service["name"] != "prometheus"]
    seen = observed()
    seen["kronos"]["units"] = systemctl([unit for unit in KRONOS_UNITS if "prometheus" not in unit])
    report = judge(seen, services)
    assert report["problems"] == []
    assert not any(row["what"].startswith("target") for row in report["rows"])


# Backups


@pytest.mark.parametrize("schedule, seconds", [("hourly", 7200), ("daily", 172800), ("weekly", 1209600),
                                               ("monthly", 5356800)])
def test_a_snapshot_may_be_two_periods_old(schedule, seconds):
    assert snapshot_allowance(schedule) == seconds


def test_a_stale_snapshot_is_a_problem_naming_its_age_and_allowance():
    report = judge(observed(backed_up=metrics(files_data=NOW - 3 * 86400, files_db=NOW - 7201)))
    assert report["problems"] == [
        "kronos: backup files-data (daily): stale 3d: last good snapshot 3d ago, daily allows 2d",
        "kronos: backup files-db (hourly): stale 2h: last good snapshot 2h ago, hourly allows 2h"]


def test_a_snapshot_just_within_its_allowance_is_fine():
    report = judge(observed(backed_up=metrics(files_data=NOW - 172800, files_db=NOW - 7200)))
    assert report["problems"] == []


def test_a_set_whose_runs_never_succeeded_is_a_problem():
    # The runner writes 0 when a set's first run failed.
    report = judge(observed(backed_up=metrics(files_data=0, files_db=NOW)))
    assert report["problems"] == ["kronos: backup files-data (daily): no snapshot: its runs have not made a good"
                                  " snapshot yet"]


def test_a_set_that_never_ran_with_its_timer_active_is_waiting():
    report = judge(observed(backed_up=""))
    assert report["problems"] == []
    assert states(report)[("backup files-data (daily)", "kronos")] == "waiting for its first run"
    assert states(report)[("backup files-db (hourly)", "kronos")] == "waiting for its first run"


def test_a_set_that_never_ran_with_its_timer_stopped_is_a_problem():
    report = judge(observed(kronos_states={"homelab-backup-files.timer": ("inactive", "dead")}, backed_up=""))
    assert report["problems"] == [
        f"kronos: backup files-{volume} ({schedule}): no snapshot: no run yet; its timer"
        " homelab-backup-files.timer is inactive" for volume, schedule in (("data", "daily"), ("db", "hourly"))]


def test_a_recent_snapshot_with_its_timer_stopped_is_a_problem():
    report = judge(observed(kronos_states={"homelab-backup-files.timer": None}))
    assert report["problems"] == [
        "kronos: backup files-data (daily): 1h ago: its timer homelab-backup-files.timer is inactive",
        "kronos: backup files-db (hourly): 10m ago: its timer homelab-backup-files.timer is inactive"]


def test_metrics_of_other_services_and_garbage_lines_are_ignored():
    text = metrics(files_data=NOW - 60, files_db=NOW - 60) + (
        'homelab_backup_last_success_timestamp_seconds{service="old",volume="old-data"} 1\n'
        'homelab_backup_last_success_timestamp_seconds{service="files",volume="files-data"} soon\n'
        "not a sample\n")
    assert judge(observed(backed_up=text))["problems"] == []


# Empty parts and bad input


def test_an_empty_catalog_reports_nothing():
    assert verify_report([], {}, NOW) == {"rows": [], "table": ["what  where  state"], "problems": []}


def test_a_catalog_without_routes_or_backups_checks_units_only():
    report = verify_report(catalog([{"name": "web", "host": "jove", "image": APP}]),
                           {"jove": {"units": systemctl(["homelab-network.service", "web.service"])}}, NOW)
    assert [row["what"] for row in report["rows"]] == ["unit homelab-network.service", "unit web.service"]
    assert report["problems"] == []


@pytest.mark.parametrize("observations, message", [
    ([], "observations: must map each host to what was gathered there"),
    ({"jove": "text"}, "observations: must map each host to what was gathered there"),
])
def test_bad_observations_are_a_clear_error(observations, message):
    with pytest.raises(AnsibleFilterError, match=message):
        verify_report(catalog(), observations, NOW, DOMAIN, ADDRESSES)


def test_a_bad_time_or_catalog_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="now: must be unix seconds"):
        verify_report(catalog(), observed(), "now", DOMAIN, ADDRESSES)
    with pytest.raises(AnsibleFilterError, match="pass the catalog through homelab.stack.validate_catalog"):
        verify_plan([{"name": "web"}], "jove")
    with pytest.raises(AnsibleFilterError, match="verify_plan: addresses: must be a mapping"):
        verify_plan(catalog(), "jove", DOMAIN, ["10.231.0.10"])
    # Checked as the monitoring view checks them: a host without an address is named.
    with pytest.raises(AnsibleFilterError, match="verify_plan: addresses: host kronos: must not be empty"):
        verify_plan(catalog(), "jove", DOMAIN, {"jove": "10.231.0.10", "kronos": ""})
    with pytest.raises(AnsibleFilterError, match="verify_report: addresses: host kronos: must be a string"):
        verify_report(catalog(), observed(), NOW, DOMAIN, {"jove": "10.231.0.10", "kronos": None})


@pytest.mark.parametrize("seconds, text", [(-5, "0s"), (5, "5s"), (61, "1m"), (3600, "1h"), (90000, "1d")])
def test_ages_for_people(seconds, text):
    assert age(seconds) == text


def test_an_app_whose_database_is_on_another_host_is_read_with_the_addresses():
    # host_units needs every host's mesh address for an app whose database is elsewhere.
    site = SITE + [{"name": "postgres", "host": "kronos", "platform": "postgres",
                    "secrets": {"POSTGRES_PASSWORD": "x"}},
                   {"name": "notes", "host": "jove", "image": APP, "database": {"server": "postgres"}}]
    plan = verify_plan(catalog(site), "jove", DOMAIN, ADDRESSES)
    assert "notes.service" in plan["units"]
    assert "postgres.service" in verify_plan(catalog(site), "kronos", DOMAIN, ADDRESSES)["units"]

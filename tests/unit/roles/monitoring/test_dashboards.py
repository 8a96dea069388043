"""The monitoring role's Grafana dashboards: each file a dashboard Grafana can provision,
every panel querying the provisioned Prometheus, and every PromQL expression accepted by
the real promtool (written as recording rules into a temporary rules file).

Grafana itself cannot run here (no package, no image): these checks are what can be
checked without it.
"""

import json
import pathlib
import re
import subprocess

import pytest
import yaml

from prometheus_tools import prometheus_tool

from ansible_collections.homelab.stack.plugins.module_utils import grafana

ROOT = pathlib.Path(__file__).resolve().parents[4]
DASHBOARDS = ROOT / "roles" / "monitoring" / "files" / "dashboards"
# The four dashboards of issue #11 and a metric each must show.
EXPECTED = {
    "hosts.json": ("homelab-hosts", ("node_cpu_seconds_total", "node_memory_MemAvailable_bytes",
                                     "node_filesystem_avail_bytes", 'up{job="node"')),
    "services.json": ("homelab-services", ("node_systemd_unit_state", "node_systemd_service_restart_total",
                                           'probe_success{probe="route"}')),
    "edge.json": ("homelab-edge", ("traefik_service_requests_total", "traefik_entrypoint_requests_total")),
    "backups.json": ("homelab-backups", ("homelab_backup_last_success_timestamp_seconds",)),
}


def load(name):
    return json.loads((DASHBOARDS / name).read_text())


def expressions():
    """(dashboard file, panel title, refId, expression) of every query of every dashboard."""
    return [(path.name, panel["title"], target["refId"], target["expr"])
            for path in sorted(DASHBOARDS.glob("*.json")) for panel in json.loads(path.read_text())["panels"]
            for target in panel["targets"]]


def test_the_dashboards_are_the_four_expected():
    assert sorted(path.name for path in DASHBOARDS.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_dashboard_has_its_uid_title_and_panels(name):
    dashboard = load(name)
    uid, metrics = EXPECTED[name]
    assert dashboard["uid"] == uid and grafana.UID.fullmatch(dashboard["uid"])
    assert dashboard["title"].startswith("Homelab ")
    assert dashboard["panels"], "a dashboard without panels"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique within a dashboard"
    for panel in dashboard["panels"]:
        assert panel["title"] and panel["type"] in ("timeseries", "stat", "bargauge", "gauge", "table")
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"} and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        assert panel["datasource"] == {"type": "prometheus", "uid": grafana.PROMETHEUS_UID}
        assert panel["targets"], "panel %s queries nothing" % panel["title"]
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids))
    text = json.dumps([target["expr"] for panel in dashboard["panels"] for target in panel["targets"]])
    for metric in metrics:
        assert metric.replace('"', '\\"') in text, "%s shows no %s" % (name, metric)


def test_the_titles_and_uids_are_unique_across_dashboards():
    dashboards = [load(name) for name in EXPECTED]
    assert len({d["uid"] for d in dashboards}) == len({d["title"] for d in dashboards}) == len(EXPECTED)


def test_every_expression_passes_promtool(tmp_path):
    exprs = expressions()
    assert len(exprs) >= 15
    rules = {"groups": [{"name": "dashboards", "rules": [
        {"record": "dashboard:expr_%d" % index, "expr": expr} for index, (_f, _t, _r, expr) in enumerate(exprs)]}]}
    path = tmp_path / "dashboards.rules.yml"
    path.write_text(yaml.safe_dump(rules))
    result = subprocess.run([prometheus_tool("promtool"), "check", "rules", str(path)], capture_output=True,
                            text=True, timeout=120, check=False)
    if result.returncode != 0:
        # Name the dashboard and panel of the expression promtool refused.
        output = result.stdout + result.stderr
        bad = sorted({int(n) for n in re.findall(r"dashboard:expr_(\d+)", output)})
        where = ["%s / %s / %s: %s" % exprs[n] for n in bad if n < len(exprs)]
        pytest.fail("promtool check rules refused:\n%s\n%s" % ("\n".join(where), output))
    assert "SUCCESS: %d rules found" % len(exprs) in result.stdout


def test_promtool_refuses_a_broken_expression(tmp_path):
    """The check above can fail: promtool reads the expressions, not just the YAML."""
    path = tmp_path / "broken.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [
        {"record": "dashboard:broken", "expr": "sum by (host (rate(node_cpu_seconds_total[5m]))"}]}]}))
    result = subprocess.run([prometheus_tool("promtool"), "check", "rules", str(path)], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode != 0

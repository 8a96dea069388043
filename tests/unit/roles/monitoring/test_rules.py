"""The monitoring role's alert rules: promtool accepts them and their unit tests pass.

The promtool test files beside this module (*.test.yml) check each alert on both sides of
its threshold and of its `for`; the checks here make sure no alert goes untested or
without the fields Alertmanager's receivers show.
"""

import pathlib
import subprocess

import pytest
import yaml

from prometheus_tools import prometheus_tool

ROOT = pathlib.Path(__file__).resolve().parents[4]
RULES = ROOT / "roles" / "monitoring" / "files" / "rules" / "homelab.rules.yml"
TESTS = sorted(pathlib.Path(__file__).parent.glob("*.test.yml"))

# The monitoring contract's alerts and their severities.
ALERTS = {
    "NodeDown": "critical",
    "DiskFull": "critical",
    "HighCPU": "warning",
    "HighMemory": "warning",
    "CertExpiring": "warning",
    "ServiceDown": "critical",
    "ServiceRestarting": "warning",
    "RouteLeaking": "critical",
    "BackupStale": "warning",
}


def alert_rules():
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def promtool(*args):
    result = subprocess.run([prometheus_tool("promtool"), *args], capture_output=True, text=True, timeout=120,
                            check=False)
    if result.returncode != 0:
        output = result.stdout + result.stderr
        pytest.fail("promtool %s failed (%s):\n%s" % (" ".join(args), result.returncode, output))
    return result.stdout


def test_promtool_accepts_the_rules():
    assert "SUCCESS: %d rules found" % len(ALERTS) in promtool("check", "rules", str(RULES))


@pytest.mark.parametrize("test_file", TESTS, ids=lambda p: p.name)
def test_promtool_rule_tests_pass(test_file):
    assert "SUCCESS" in promtool("test", "rules", str(test_file))


def test_the_contract_alerts_with_their_severities():
    assert {rule["alert"]: rule["labels"]["severity"] for rule in alert_rules()} == ALERTS
    assert len(alert_rules()) == len(ALERTS), "an alert name is used twice"


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r["alert"])
def test_every_alert_has_summary_and_description(rule):
    annotations = rule.get("annotations", {})
    assert annotations.get("summary", "").strip(), "no summary"
    assert "{{ $labels." in annotations.get("description", ""), "no description naming what it is about"


@pytest.mark.parametrize("alert", sorted(ALERTS))
def test_every_alert_is_tested_firing_and_not_firing(alert):
    cases = [case for test_file in TESTS for group in yaml.safe_load(test_file.read_text())["tests"]
             for case in group.get("alert_rule_test", []) if case["alertname"] == alert]
    assert any(case.get("exp_alerts") for case in cases), "no promtool test where %s fires" % alert
    assert any(not case.get("exp_alerts") for case in cases), "no promtool test where %s does not fire" % alert

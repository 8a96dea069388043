# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The prometheus_config, alertmanager_config and blackbox_config filters: YAML text of the
models (tested in tests/unit/plugins/module_utils/), Ansible's own value types, errors."""

from __future__ import annotations

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible.template import trust_as_template
from ansible_collections.homelab.stack.plugins.filter.alertmanager_config import FilterModule as AlertmanagerFilter
from ansible_collections.homelab.stack.plugins.filter.blackbox_config import FilterModule as BlackboxFilter
from ansible_collections.homelab.stack.plugins.filter.prometheus_config import FilterModule as PrometheusFilter
from ansible_collections.homelab.stack.plugins.module_utils import alertmanager, blackbox, prometheus

prometheus_config = PrometheusFilter().filters()["prometheus_config"]
alertmanager_config = AlertmanagerFilter().filters()["alertmanager_config"]
blackbox_config = BlackboxFilter().filters()["blackbox_config"]

# Values as Ansible hands them to a filter: tagged subclasses of str, which PyYAML's
# SafeDumper refuses.
tagged = trust_as_template
VIEW = {"prometheus_host": tagged("jove"), "jobs": [
    {"job": tagged("node"), "metrics_path": "/metrics",
     "targets": [{"address": tagged("10.0.0.2:9100"), "labels": {"instance": tagged("kronos:9100"), "host": tagged("kronos")}}]}],
    "probes": [{"module": "http_sso", "target": tagged("https://app.example.com/"), "labels": {"service": tagged("app")}}]}
RECEIVERS = [{"name": tagged("phone"), "type": "ntfy", "url": tagged("https://ntfy.sh/homelab")}]


def test_prometheus_config_is_the_models_file_as_yaml_text():
    text = prometheus_config(VIEW, alertmanager="alertmanager:9093", blackbox="blackbox-exporter:9115",
                             scrape_interval="15s", evaluation_interval="15s")
    assert isinstance(text, str)
    assert yaml.safe_load(text) == prometheus.prometheus_config(VIEW, "alertmanager:9093", "blackbox-exporter:9115",
                                                                scrape_interval="15s", evaluation_interval="15s")
    # Keys in Prometheus's documented order, not sorted.
    assert list(yaml.safe_load(text)) == ["global", "rule_files", "alerting", "scrape_configs"]


def test_prometheus_config_defaults_are_the_contracts():
    config = yaml.safe_load(prometheus_config(VIEW))
    assert config["global"] == {"scrape_interval": "30s", "evaluation_interval": "30s"}
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    assert config["scrape_configs"][-1]["relabel_configs"][-1]["replacement"] == "blackbox-exporter:9115"
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    assert yaml.safe_load(prometheus_config(VIEW, rule_files=["/rules/a.yml"]))["rule_files"] == ["/rules/a.yml"]


@pytest.mark.parametrize("view, options, message", [
    ({"jobs": [{"job": "node", "targets": [{"address": "kronos"}]}]}, {},
     "prometheus_config: jobs[0].targets[0].address: must be host:port, got 'kronos'"),
    ([], {}, "prometheus_config: targets: must be the monitoring targets view"),
    (VIEW, {"scrape_interval": 30}, "prometheus_config: scrape_interval: must be a Prometheus duration"),
    (VIEW, {"rule_files": "/rules/*.yml"}, "prometheus_config: rule_files: must be a list of paths"),
])
def test_prometheus_config_errors(view, options, message):
    with pytest.raises(AnsibleFilterError) as info:
        prometheus_config(view, **options)
    assert message in str(info.value)


def test_alertmanager_config_is_the_models_file_as_yaml_text():
    text = alertmanager_config(RECEIVERS, critical=tagged("phone"), warning="phone", group_wait="1s")
    assert yaml.safe_load(text) == alertmanager.alertmanager_config(RECEIVERS, "phone", "phone", group_wait="1s")
    assert list(yaml.safe_load(text)) == ["route", "inhibit_rules", "receivers"]


def test_alertmanager_config_never_writes_a_secret_inline():
    with pytest.raises(AnsibleFilterError) as info:
        alertmanager_config([{"name": "mail", "type": "email", "to": "a@example.com", "from": "b@example.com",
                              "smarthost": "smtp.example.com:587", "auth_username": "b",
                              "auth_password": "hunter2"}], "mail", "mail")
    assert "alertmanager_config: receivers[0].auth_password: not a field of type email" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_alertmanager_config_errors_name_the_field():
    with pytest.raises(AnsibleFilterError, match=r"alertmanager_config: receivers\[0\]\.url: required for type webhook"):
        alertmanager_config([{"name": "hook", "type": "webhook"}], "hook", "hook")


def test_blackbox_config_ignores_its_input():
    assert yaml.safe_load(blackbox_config({})) == blackbox.blackbox_config()
    assert yaml.safe_load(blackbox_config(None, ca_file=tagged("/etc/blackbox/ca.pem"))) == blackbox.blackbox_config(
        ca_file="/etc/blackbox/ca.pem")


def test_blackbox_config_wants_an_absolute_ca_file():
    with pytest.raises(AnsibleFilterError, match="blackbox_config: ca_file: must be an absolute path, got 'ca.pem'"):
        blackbox_config({}, ca_file="ca.pem")

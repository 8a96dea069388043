# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""prometheus.yml from the monitoring targets view: jobs, labels, the blackbox job, bad input."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.stack.plugins.module_utils import prometheus

NODE = {"job": "node", "metrics_path": "/metrics", "targets": [
    {"address": "10.0.0.1:9100", "labels": {"instance": "jove:9100", "host": "jove"}},
    {"address": "10.0.0.2:9100", "labels": {"instance": "kronos:9100", "host": "kronos"}},
]}
SSO_PROBE = {"module": "http_sso", "target": "https://paperless.example.com/",
             "labels": {"service": "paperless", "auth": "sso", "probe": "route", "instance": "https://paperless.example.com/"}}


def build(jobs=(), probes=(), **options):
    return prometheus.prometheus_config({"prometheus_host": "jove", "jobs": list(jobs), "probes": list(probes)},
                                        options.pop("alertmanager", "alertmanager:9093"),
                                        options.pop("exporter", "blackbox-exporter:9115"), **options)


def test_global_rules_and_alerting():
    config = build([NODE], scrape_interval="15s", evaluation_interval="1m")
    assert config["global"] == {"scrape_interval": "15s", "evaluation_interval": "1m"}
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    assert config["alerting"] == {"alertmanagers": [{"static_configs": [{"targets": ["alertmanager:9093"]}]}]}


def test_intervals_default_to_30s_and_no_alertmanager_means_no_alerting():
    config = build([NODE], alertmanager=None)
    assert config["global"] == {"scrape_interval": "30s", "evaluation_interval": "30s"}
    assert "alerting" not in config


def test_each_target_keeps_its_own_labels_and_the_job_name_is_kept_exactly():
    config = build([NODE, {"job": "Paper-less_2", "metrics_path": "/api/metrics", "targets": [
        {"address": "paperless:8000", "labels": {"service": "paperless", "host": "jove"}},
        {"address": "paperless-worker:8000", "labels": {"service": "paperless", "host": "jove"}},
        {"address": "bare:1"}]}])
    assert config["scrape_configs"] == [
        {"job_name": "node", "metrics_path": "/metrics", "static_configs": [
            {"targets": ["10.0.0.1:9100"], "labels": {"instance": "jove:9100", "host": "jove"}},
            {"targets": ["10.0.0.2:9100"], "labels": {"instance": "kronos:9100", "host": "kronos"}}]},
        {"job_name": "Paper-less_2", "metrics_path": "/api/metrics", "static_configs": [
            {"targets": ["paperless:8000", "paperless-worker:8000"], "labels": {"service": "paperless", "host": "jove"}},
            {"targets": ["bare:1"]}]},
    ]


def test_every_probe_goes_through_the_blackbox_job_with_its_module_and_target_as_parameters():
    icmp = {"module": "icmp", "target": "10.0.0.2", "labels": {"probe": "icmp", "host": "kronos", "instance": "kronos"}}
    open_route = {"module": "http_2xx", "target": "https://whoami.example.com/", "labels": {"service": "whoami"}}
    config = build([NODE], [SSO_PROBE, icmp, open_route], exporter="127.0.0.1:9115")
    job = config["scrape_configs"][-1]
    assert job["job_name"] == "blackbox"
    assert job["metrics_path"] == "/probe"
    assert job["static_configs"] == [
        {"targets": ["https://paperless.example.com/"], "labels": dict(SSO_PROBE["labels"], module="http_sso")},
        {"targets": ["10.0.0.2"], "labels": {"probe": "icmp", "host": "kronos", "instance": "kronos", "module": "icmp"}},
        # No instance in the view: the target is the instance, never the exporter's address.
        {"targets": ["https://whoami.example.com/"],
         "labels": {"service": "whoami", "module": "http_2xx", "instance": "https://whoami.example.com/"}},
    ]
    assert job["relabel_configs"] == [
        {"source_labels": ["__address__"], "target_label": "__param_target"},
        {"source_labels": ["module"], "target_label": "__param_module"},
        {"target_label": "__address__", "replacement": "127.0.0.1:9115"},
    ]


def test_no_probes_no_blackbox_job_and_the_view_is_not_changed():
    view = {"prometheus_host": None, "jobs": [NODE], "probes": []}
    config = prometheus.prometheus_config(view, "alertmanager:9093", None)
    assert [job["job_name"] for job in config["scrape_configs"]] == ["node"]
    probes = [dict(SSO_PROBE, labels=dict(SSO_PROBE["labels"]))]
    build([], probes)
    assert probes[0]["labels"] == SSO_PROBE["labels"]


@pytest.mark.parametrize("jobs, probes, message", [
    ([{"metrics_path": "/metrics", "targets": NODE["targets"]}], [], r"jobs\[0\]\.job: required"),
    ([NODE, dict(NODE, metrics_path="metrics")], [], r"jobs\[1\]\.metrics_path: must be a path starting with /"),
    ([dict(NODE, targets=[])], [], r"jobs\[0\]\.targets: required"),
    ([dict(NODE, targets=[{"address": "kronos"}])], [], r"jobs\[0\]\.targets\[0\]\.address: must be host:port, got 'kronos'"),
    ([dict(NODE, targets=[{"address": "kronos:99999"}])], [], r"jobs\[0\]\.targets\[0\]\.address: must be host:port"),
    ([dict(NODE, targets=[{"address": "k:1", "labels": {"__name__": "x"}}])], [], r"jobs\[0\]\.targets\[0\]\.labels: '__name__'"),
    ([dict(NODE, targets=[{"address": "k:1", "labels": {"a-b": "x"}}])], [], r"'a-b' is not a label name"),
    ([dict(NODE, targets=[{"address": "k:1", "labels": {"port": 1}}])], [], r"jobs\[0\]\.targets\[0\]\.labels\.port: must be a string"),
    ([NODE, NODE], [], r"jobs\[1\]\.job: 'node' is already the name of jobs\[0\]"),
    ([dict(NODE, job="blackbox")], [SSO_PROBE], r"jobs\[0\]\.job: 'blackbox' is the probes' own job"),
    ([], [dict(SSO_PROBE, module="http_200")], r"probes\[0\]\.module: must be one of http_2xx, http_sso, icmp, tcp_connect"),
    ([], [dict(SSO_PROBE, target="")], r"probes\[0\]\.target: required"),
    ([], [dict(SSO_PROBE, labels={"module": "icmp"})], r"probes\[0\]\.labels\.module: 'icmp' differs"),
    (None, [], r"jobs: must be a list"),
])
def test_bad_input_names_the_field(jobs, probes, message):
    view = {"jobs": jobs, "probes": probes}
    with pytest.raises(prometheus.ConfigError, match=message):
        prometheus.prometheus_config(view, "alertmanager:9093", "blackbox-exporter:9115")


@pytest.mark.parametrize("field, options", [
    ("scrape_interval", {"scrape_interval": "30"}),
    ("scrape_interval", {"scrape_interval": "0s"}),
    ("evaluation_interval", {"evaluation_interval": "1s30m"}),
    ("alertmanager", {"alertmanager": "http://alertmanager:9093"}),
    ("blackbox", {"exporter": "blackbox-exporter"}),
])
def test_bad_options_name_the_option(field, options):
    with pytest.raises(prometheus.ConfigError, match="^%s: " % field):
        build([NODE], [SSO_PROBE], **options)


@pytest.mark.parametrize("duration", ["1s", "30s", "1m30s", "2h", "1d", "500ms", "1w2d"])
def test_durations_prometheus_accepts(duration):
    assert prometheus.check_duration("x", duration) == duration


def test_addresses_of_names_ipv4_and_ipv6():
    for address in ("alertmanager:9093", "10.0.0.1:9100", "[fd7a:115c::1]:9100", "host_name.lan:1"):
        assert prometheus.check_address("x", address) == address

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus's configuration file, ``prometheus.yml``, from the monitoring targets view.

Pure functions that build the file as data (Prometheus's own keys); the filter writes it
as YAML. The input is the ``monitoring_targets`` view: scrape jobs with their targets and
labels, and blackbox probes. Every probe goes through one job, ``blackbox``, whose
relabelling turns a target into the exporter's ``/probe?target=...&module=...`` request.
Only options that Prometheus 2.42 (Debian 12) through 3.x all accept are written; tests
check the file with the real ``promtool check config`` and run it.
"""

from __future__ import annotations

import re

from ansible_collections.homelab.stack.plugins.module_utils import blackbox

# Prometheus's own job for the probes, and the label that names a probe's module.
BLACKBOX_JOB = "blackbox"
MODULE_LABEL = "module"
# Where Prometheus looks for alert and recording rules inside its container.
RULE_FILES = ("/etc/prometheus/rules/*.yml",)

# model.ParseDuration: units from years to milliseconds, largest first, each at most once.
DURATION = re.compile(r"(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?")
# Label names as every Prometheus version accepts them (3.x also takes UTF-8 names).
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# host:port, the host a name, an IPv4 address or a bracketed IPv6 address.
ADDRESS = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):([0-9]{1,5})")


class ConfigError(ValueError):
    """Input the file cannot be built from; the message starts with the field at fault."""


def check_duration(field, value):
    """A Prometheus duration such as ``30s`` or ``1m30s``; zero is refused (no interval is zero)."""
    if not isinstance(value, str) or not value or not DURATION.fullmatch(value) or not re.search(r"[1-9]", value):
        raise ConfigError("%s: must be a Prometheus duration such as 30s or 1m30s, got %r" % (field, value))
    return value


def check_address(field, value):
    """``host:port`` with a port from 1 to 65535: what a static target and an alerting target are."""
    match = ADDRESS.fullmatch(value) if isinstance(value, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 65535:
        raise ConfigError("%s: must be host:port, got %r" % (field, value))
    return value


def check_labels(field, labels):
    """A target's labels: names Prometheus accepts, not reserved (``__``), values strings."""
    if not isinstance(labels, dict):
        raise ConfigError("%s: must be a mapping of label names to strings" % field)
    for name, value in labels.items():
        if not isinstance(name, str) or not LABEL_NAME.fullmatch(name) or name.startswith("__"):
            raise ConfigError("%s: %r is not a label name (letters, digits, _; not starting with __)" % (field, name))
        if not isinstance(value, str):
            raise ConfigError("%s.%s: must be a string, got %r" % (field, name, value))
    return dict(labels)


def static_configs(targets):
    """Targets grouped by their labels, each group one static config, in the order first seen.

    A static config gives all its targets the same labels, so targets with different labels
    (every node target has its own ``instance``) each get their own.
    """
    groups = []
    for address, labels in targets:
        for group in groups:
            if group["labels"] == labels:
                group["targets"].append(address)
                break
        else:
            groups.append({"targets": [address], "labels": labels})
    return [group if group["labels"] else {"targets": group["targets"]} for group in groups]


def scrape_job(job, index):
    """One job of the view as a scrape config; ``index`` names it in errors."""
    field = "jobs[%d]" % index
    if not isinstance(job, dict):
        raise ConfigError("%s: must be a mapping with job, metrics_path and targets" % field)
    name = job.get("job")
    if not isinstance(name, str) or not name:
        raise ConfigError("%s.job: required, the job's name" % field)
    path = job.get("metrics_path", "/metrics")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ConfigError("%s.metrics_path: must be a path starting with /, got %r" % (field, path))
    targets = job.get("targets")
    if not isinstance(targets, list) or not targets:
        raise ConfigError("%s.targets: required, a non-empty list of {address, labels}" % field)
    pairs = []
    for number, target in enumerate(targets):
        where = "%s.targets[%d]" % (field, number)
        if not isinstance(target, dict):
            raise ConfigError("%s: must be a mapping with address and labels" % where)
        pairs.append((check_address(where + ".address", target.get("address")),
                      check_labels(where + ".labels", target.get("labels", {}))))
    return {"job_name": name, "metrics_path": path, "static_configs": static_configs(pairs)}


def probe_target(probe, index):
    """One probe of the view as (target, labels): its module as the ``module`` label, and
    its target as ``instance`` unless the view names the instance itself."""
    field = "probes[%d]" % index
    if not isinstance(probe, dict):
        raise ConfigError("%s: must be a mapping with module, target and labels" % field)
    module = probe.get("module")
    if module not in blackbox.MODULES:
        raise ConfigError("%s.module: must be one of %s, got %r" % (field, ", ".join(blackbox.MODULES), module))
    target = probe.get("target")
    if not isinstance(target, str) or not target:
        raise ConfigError("%s.target: required, what the module probes (a URL, a host, host:port)" % field)
    labels = check_labels(field + ".labels", probe.get("labels", {}))
    if labels.get(MODULE_LABEL, module) != module:
        raise ConfigError("%s.labels.%s: %r differs from the probe's module %r"
                          % (field, MODULE_LABEL, labels[MODULE_LABEL], module))
    labels[MODULE_LABEL] = module
    labels.setdefault("instance", target)
    return target, labels


def blackbox_job(probes, exporter):
    """The ``blackbox`` job: each probe's target becomes the exporter's ``target`` parameter,
    its ``module`` label the ``module`` parameter, and the exporter the address scraped."""
    return {
        "job_name": BLACKBOX_JOB,
        "metrics_path": "/probe",
        "static_configs": static_configs([probe_target(probe, index) for index, probe in enumerate(probes)]),
        "relabel_configs": [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": [MODULE_LABEL], "target_label": "__param_module"},
            {"target_label": "__address__", "replacement": exporter},
        ],
    }


def prometheus_config(targets, alertmanager, exporter, scrape_interval="30s", evaluation_interval="30s",
                      rule_files=RULE_FILES):
    """``prometheus.yml`` for the view ``targets`` ({prometheus_host, jobs, probes}).

    ``alertmanager`` is the Alertmanager's ``host:port`` as Prometheus reaches it (None: no
    alerting section); ``exporter`` the blackbox exporter's ``host:port`` (needed only when
    there are probes). Job names are kept exactly as the view gives them; a name used twice,
    or a job named ``blackbox`` beside probes, is refused (Prometheus would refuse the file).
    """
    if not isinstance(targets, dict):
        raise ConfigError("targets: must be the monitoring targets view, a mapping with jobs and probes")
    jobs = targets.get("jobs", [])
    probes = targets.get("probes", [])
    if not isinstance(jobs, list):
        raise ConfigError("jobs: must be a list")
    if not isinstance(probes, list):
        raise ConfigError("probes: must be a list")
    scrape_configs = [scrape_job(job, index) for index, job in enumerate(jobs)]
    if probes:
        scrape_configs.append(blackbox_job(probes, check_address("blackbox", exporter)))
    seen = {}
    for index, config in enumerate(scrape_configs[:len(jobs)]):
        name = config["job_name"]
        if name in seen:
            raise ConfigError("jobs[%d].job: %r is already the name of jobs[%d]" % (index, name, seen[name]))
        if name == BLACKBOX_JOB and probes:
            raise ConfigError("jobs[%d].job: %r is the probes' own job; a scrape job needs another name"
                              % (index, name))
        seen[name] = index
    config = {
        "global": {"scrape_interval": check_duration("scrape_interval", scrape_interval),
                   "evaluation_interval": check_duration("evaluation_interval", evaluation_interval)},
        "rule_files": list(rule_files),
    }
    if alertmanager is not None:
        config["alerting"] = {"alertmanagers": [
            {"static_configs": [{"targets": [check_address("alertmanager", alertmanager)]}]}]}
    config["scrape_configs"] = scrape_configs
    return config

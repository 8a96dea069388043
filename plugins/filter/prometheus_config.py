# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.module_utils import prometheus
from ansible_collections.homelab.stack.plugins.plugin_utils import yaml_text

DOCUMENTATION = r"""
name: prometheus_config
short_description: Prometheus's configuration file for the catalog's monitoring targets
version_added: 0.1.0
description:
  - Turns the monitoring targets view (C({prometheus_host, jobs, probes})) into the text of C(prometheus.yml).
  - Every job of the view becomes one scrape config with the job's name kept exactly; its targets are grouped
    by their labels, so each target keeps its own (C(instance), C(host), C(service)).
  - Every probe goes through one job, C(blackbox), against the blackbox exporter at O(blackbox); the probe's
    module is its C(module) label and its target its C(instance) label unless the view names one.
  - Alerts go to the Alertmanager at O(alertmanager); rules are read from O(rule_files).
  - "Bad input fails naming the field, e.g. C(jobs[1].targets[0].address: must be host:port, got 'kronos').
    A job name used twice, or a scrape job named C(blackbox) beside probes, is refused."
  - Only options that Prometheus 2.42 through 3.x accept are written.
options:
  _input:
    description:
      - The view, a mapping with C(jobs) (a list of C({job, metrics_path, targets}), each target
        C({address, labels}), the address C(host:port)) and C(probes) (a list of C({module, target, labels}), the
        module one of C(http_2xx), C(http_sso), C(icmp), C(tcp_connect)). C(prometheus_host) is not used here.
    type: dict
    required: true
  alertmanager:
    description: The Alertmanager's C(host:port) as Prometheus reaches it; null writes no C(alerting) section.
    type: str
    default: alertmanager:9093
  blackbox:
    description: The blackbox exporter's C(host:port) as Prometheus reaches it (used when there are probes).
    type: str
    default: blackbox-exporter:9115
  scrape_interval:
    description: How often every target is scraped, a Prometheus duration.
    type: str
    default: 30s
  evaluation_interval:
    description: How often the rules are evaluated, a Prometheus duration.
    type: str
    default: 30s
  rule_files:
    description: Rule file paths or globs as Prometheus sees them.
    type: list
    elements: str
    default: [/etc/prometheus/rules/*.yml]
seealso:
  - plugin: homelab.stack.alertmanager_config
    plugin_type: filter
  - plugin: homelab.stack.blackbox_config
    plugin_type: filter
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Write prometheus.yml
  ansible.builtin.copy:
    content: >-
      {{ checked_catalog | homelab.stack.monitoring_targets(addresses, homelab_domain)
         | homelab.stack.prometheus_config(alertmanager='alertmanager:9093', blackbox='blackbox-exporter:9115') }}
    dest: /etc/homelab/prometheus/prometheus.yml
    mode: "0644"
    validate: promtool check config --syntax-only %s

# {jobs: [{job: node, metrics_path: /metrics,
#          targets: [{address: "10.0.0.2:9100", labels: {instance: "kronos:9100", host: kronos}}]}],
#  probes: [{module: http_sso, target: "https://paperless.example.com/",
#            labels: {service: paperless, auth: sso, probe: route}}]}
# gives (after global, rule_files and alerting)
#   scrape_configs:
#   - job_name: node
#     metrics_path: /metrics
#     static_configs:
#     - {targets: ["10.0.0.2:9100"], labels: {instance: "kronos:9100", host: kronos}}
#   - job_name: blackbox
#     metrics_path: /probe
#     static_configs:
#     - targets: ["https://paperless.example.com/"]
#       labels: {service: paperless, auth: sso, probe: route, module: http_sso,
#                instance: "https://paperless.example.com/"}
#     relabel_configs:
#     - {source_labels: [__address__], target_label: __param_target}
#     - {source_labels: [module], target_label: __param_module}
#     - {target_label: __address__, replacement: "blackbox-exporter:9115"}
"""

RETURN = r"""
_value:
  description: The text of C(prometheus.yml)
    (C(global) with both intervals, C(rule_files), C(alerting), C(scrape_configs)).
  type: str
"""


def prometheus_config(targets, alertmanager="alertmanager:9093", blackbox="blackbox-exporter:9115",
                      scrape_interval="30s", evaluation_interval="30s", rule_files=prometheus.RULE_FILES):
    """The filter: the file as YAML text; bad input fails naming the field."""
    if isinstance(rule_files, str) or not isinstance(rule_files, (list, tuple)):
        raise AnsibleFilterError("prometheus_config: rule_files: must be a list of paths, got %r" % (rule_files,))
    try:
        config = prometheus.prometheus_config(targets, alertmanager, blackbox, scrape_interval=scrape_interval,
                                              evaluation_interval=evaluation_interval, rule_files=rule_files)
    except prometheus.ConfigError as exc:
        raise AnsibleFilterError("prometheus_config: %s" % exc) from None
    return yaml_text.dump(config)


class FilterModule:
    """The prometheus_config filter."""

    def filters(self):
        return {"prometheus_config": prometheus_config}

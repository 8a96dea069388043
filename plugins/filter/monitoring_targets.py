# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.monitoring_view import monitoring_targets

DOCUMENTATION = r"""
name: monitoring_targets
short_description: What Prometheus scrapes and the blackbox exporter probes, from the catalog
version_added: 0.1.0
description:
  - Returns the scrape jobs and the blackbox probes of the catalog, and the host that runs Prometheus (the
    present C(platform=prometheus) entry).
  - >-
    Jobs, sorted by job name: C(node), every host of O(addresses) at C(<mesh address>:9100) with the labels
    C(instance=<host>:9100) and C(host=<host>); and one job per present service with C(metrics) (the
    P(homelab.stack.scrape_targets#filter) view) with the labels C(service) and C(host). A service's job is
    its name, except the platform entries whose job keeps its kind's name: C(traefik), C(prometheus),
    C(alertmanager), C(blackbox_exporter). A target on Prometheus' host is its container by name,
    C(<name>:<metrics port>); one on another host is C(<mesh address>:<metrics.mesh_port>) (see
    P(homelab.stack.validate_catalog#filter)).
  - >-
    Probes: every route of the P(homelab.stack.routes#filter) view at C(https://<fqdn>/) (at its first path
    prefix when it has C(paths)), module C(http_2xx) for C(auth=none) and C(http_sso) for C(auth=sso) (the
    fail-closed answer, never 200), labels C(instance) (the URL), C(service), C(auth) and C(probe=route); then
    every host of O(addresses) except Prometheus' own (every host when the catalog has no Prometheus), module
    C(icmp) to its mesh address and C(tcp_connect) to its node exporter, labels C(instance=<host>),
    C(host=<host>) and C(probe=icmp) or C(probe=tcp).
  - Without a Prometheus entry the jobs and probes are still computed; C(prometheus_host) is C(null).
  - >-
    Fails with C(monitoring_targets: addresses: no mesh address for host <host> (service <name> runs there))
    when a scraped or routed service (or Prometheus) runs on a host O(addresses) lacks, with
    C(monitoring_targets: domain: ...) for a bad domain, and with C(service <name>: metrics: ...) when a
    service's job name is already taken (C(node), C(blackbox), or another service's job).
positional: addresses,domain
options:
  addresses:
    description:
      - Inventory host name to mesh address, the output of P(homelab.stack.mesh_addresses#filter) for every
        host that runs a node exporter.
    type: dict
    required: true
  domain:
    description: The domain of the routes, usually C(homelab_domain).
    type: str
    required: true
seealso:
  - plugin: homelab.stack.scrape_targets
    plugin_type: filter
  - plugin: homelab.stack.routes
    plugin_type: filter
  - plugin: homelab.stack.mesh_addresses
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: What the monitoring watches
  ansible.builtin.set_fact:
    monitoring_view: >-
      {{ homelab_catalog | homelab.stack.monitoring_targets(hostvars | homelab.stack.mesh_addresses(groups['all']),
                                                            homelab_domain) }}

# With prometheus on jove, an app on kronos (metrics port 8000, route auth sso), jove at 100.64.0.10 and
# kronos at 100.64.0.11, homelab_domain lab.example.com:
#   prometheus_host: jove
#   jobs:
#     - {job: app, metrics_path: /metrics,
#        targets: [{address: "100.64.0.11:8000", labels: {service: app, host: kronos}}]}
#     - {job: node, metrics_path: /metrics,
#        targets: [{address: "100.64.0.10:9100", labels: {instance: "jove:9100", host: jove}},
#                  {address: "100.64.0.11:9100", labels: {instance: "kronos:9100", host: kronos}}]}
#     - {job: prometheus, metrics_path: /metrics,
#        targets: [{address: "prometheus:9090", labels: {service: prometheus, host: jove}}]}
#   probes:
#     - {module: http_sso, target: "https://app.lab.example.com/",
#        labels: {instance: "https://app.lab.example.com/", service: app, auth: sso, probe: route}}
#     - {module: icmp, target: 100.64.0.11, labels: {instance: kronos, host: kronos, probe: icmp}}
#     - {module: tcp_connect, target: "100.64.0.11:9100", labels: {instance: kronos, host: kronos, probe: tcp}}
"""

RETURN = r"""
_value:
  description: The monitoring view.
  type: dict
  contains:
    prometheus_host:
      description: The host of the present C(platform=prometheus) entry, or C(null).
      type: str
    jobs:
      description: The scrape jobs, sorted by job name.
      type: list
      elements: dict
      contains:
        job:
          description: The job name.
          type: str
        metrics_path:
          description: The path of the metrics endpoint.
          type: str
        targets:
          description: The job's targets, each C({address, labels}); C(address) is C(host:port).
          type: list
          elements: dict
    probes:
      description: The blackbox probes, the routes' (by service) then the hosts' (by host).
      type: list
      elements: dict
      contains:
        module:
          description: The blackbox module, C(http_2xx), C(http_sso), C(icmp) or C(tcp_connect).
          type: str
        target:
          description: The URL, address, or C(address:port) to probe.
          type: str
        labels:
          description: The probe's labels, C(instance) and C(probe) always, C(service) and C(auth) for a route,
            C(host) for a host.
          type: dict
"""


class FilterModule:
    """The monitoring_targets filter."""

    def filters(self):
        return {"monitoring_targets": monitoring_targets}

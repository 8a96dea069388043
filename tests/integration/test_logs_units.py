# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Loki and Alloy units of a two-host catalog through the real Quadlet generator: what
podman would run (Loki and Alloy cannot run here, so the units are validated, not run)."""

from __future__ import annotations

from quadlet_generator import generate_host_units

from ansible_collections.homelab.stack.plugins.filter.validate_catalog import FilterModule as CatalogFilter
from ansible_collections.homelab.stack.plugins.module_utils.quadlet import read_key

validate_catalog = CatalogFilter().filters()["validate_catalog"]

HOSTS = ["jove", "kronos"]
ADDRESSES = {"jove": "100.64.0.10", "kronos": "100.64.0.11"}
CATALOG = [
    {"name": "prometheus", "host": "jove", "platform": "prometheus"},
    {"name": "loki", "host": "jove", "platform": "loki"},
    {"name": "whoami", "host": "kronos", "image": "docker.io/traefik/whoami:v1.10", "port": 80},
    {"name": "alloy", "platform": "alloy"},
]


def generated_units(generator, tmp_path, host):
    directory = tmp_path / host
    directory.mkdir()
    units, generated = generate_host_units(generator, directory, validate_catalog(CATALOG, HOSTS), host, ADDRESSES[host])
    assert sorted(generated) == sorted(units)
    return generated


def test_loki_runs_published_on_the_mesh_address_only(generator, tmp_path):
    generated = generated_units(generator, tmp_path, "jove")
    loki = read_key(generated["loki.container"], "Service", "ExecStart")
    assert "--publish 100.64.0.10:3100:3100" in loki
    assert loki.count("--publish") == 1
    assert "-v loki-data:/loki" in loki
    assert "-v /etc/homelab/loki:/etc/loki:ro" in loki
    assert "--health-cmd" not in loki
    assert loki.endswith("docker.io/grafana/loki:3.6.0 -config.file=/etc/loki/loki.yaml")


def test_each_hosts_agent_reads_the_journal_read_only(generator, tmp_path):
    for host in HOSTS:
        generated = generated_units(generator, tmp_path, host)
        agent = read_key(generated[f"alloy-{host}.container"], "Service", "ExecStart")
        for path in ("/var/log/journal", "/run/log/journal", "/etc/machine-id"):
            assert f"-v {path}:{path}:ro" in agent, (host, agent)
        assert "-v /etc/homelab/alloy:/etc/alloy:ro" in agent
        assert f"-v alloy-{host}-data:/var/lib/alloy/data" in agent
        assert "--publish" not in agent
        assert agent.endswith("docker.io/grafana/alloy:v1.12.2 run --server.http.listen-addr=127.0.0.1:12345"
                              " --storage.path=/var/lib/alloy/data --disable-reporting /etc/alloy/config.alloy")

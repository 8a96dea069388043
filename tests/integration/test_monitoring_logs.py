# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/monitoring's logs part (tag monitoring_logs) on this machine over the local
connection, with test_monitoring_role.py's two-host site plus Loki on jove and a log agent
on each host, writing into temporary directories: check mode changes nothing, a converge
writes Loki's and each agent's configuration, a second changes nothing, a change restarts
a running Loki (a stand-in systemctl) and reloads a running agent (a stand-in podman), and
bad input fails before any change. Loki and Alloy cannot run here: their files are checked
for what they say, not loaded.
"""

from __future__ import annotations

import shutil

import pytest
import yaml

# The two-host site of the role test, as this module's fixture too.
from test_monitoring_role import converge, make_site, site_fixture  # noqa: F401  # pylint: disable=unused-import

from ansible_collections.homelab.stack.plugins.filter.alloy_config import alloy_config
from ansible_collections.homelab.stack.plugins.filter.loki_config import loki_config

PUSH_URL = "http://100.64.0.10:3100/loki/api/v1/push"


@pytest.fixture(name="logs")
def logs_fixture(site):
    """The site with Loki beside Prometheus on jove and one agent per host, each mounting its own directory."""
    return make_logs(site)


def make_logs(site):
    """The logs_fixture site made of the role test's ``site``."""
    tmp = site["tmp"]
    agents = [{"name": f"alloy-{host}", "host": host, "platform": "alloy",
               "mounts": [{"source": str(tmp / f"alloy-{host}"), "target": "/etc/alloy", "readonly": True}]}
              for host in ("jove", "kronos")]
    site["vars"]["homelab_services"] += [
        {"name": "loki", "host": "jove", "platform": "loki",
         "mounts": [{"source": str(tmp / "loki"), "target": "/etc/loki", "readonly": True}]},
        {"name": "alloy", "platform": "alloy"},
        *agents,
    ]
    return dict(site, files={"loki": tmp / "loki" / "loki.yaml", "jove": tmp / "alloy-jove" / "config.alloy",
                             "kronos": tmp / "alloy-kronos" / "config.alloy"})


@pytest.fixture(name="converged", scope="module")
def converged_fixture(tmp_path_factory):
    """The logs site converged once: (the site, the converge's return code, output, changed
    count, and the stand-ins' calls). Tests that start from a converged host copy its files."""
    logs = make_logs(make_site(tmp_path_factory.mktemp("converged")))
    returncode, output, changed = converge_logs(logs)
    return logs, returncode, output, changed, calls(logs, "systemctl"), calls(logs, "podman")


def converge_logs(site, **options):
    return converge(site, "--tags", "monitoring_logs", **options)


def calls(site, tool):
    log = site["tmp"] / f"{tool}.log"
    return log.read_text().splitlines() if log.exists() else []


def test_check_mode_on_a_fresh_host_changes_nothing(logs):
    returncode, output, _changed = converge_logs(logs, check=True)
    assert returncode == 0, output
    assert not any(path.parent.exists() for path in logs["files"].values())


def test_a_converge_writes_lokis_and_every_agents_file_and_a_second_changes_nothing(converged):
    logs, returncode, output, changed, systemctl_calls, podman_calls = converged
    assert returncode == 0 and changed > 0, output
    assert logs["files"]["loki"].read_text() == loki_config({}, retention="31d")
    assert yaml.safe_load(logs["files"]["loki"].read_text())["limits_config"] == {"retention_period": "744h"}
    for host in ("jove", "kronos"):
        text = logs["files"][host].read_text()
        assert text == alloy_config(host, loki_url=PUSH_URL, max_age="12h")
        assert f'host = "{host}",' in text and f'url = "{PUSH_URL}"' in text
    # A new file asks systemd to restart Loki if it runs (try-restart leaves a stopped unit
    # alone); no agent runs, so none is reloaded.
    assert systemctl_calls == ["try-restart loki.service"]
    assert not any(call.startswith("kill") for call in podman_calls)
    returncode, output, changed = converge_logs(logs)
    assert returncode == 0 and changed == 0, output
    assert calls(logs, "systemctl") == ["try-restart loki.service"]


def test_a_change_restarts_a_running_loki_and_reloads_a_running_agent(logs, converged):
    for name, path in converged[0]["files"].items():  # the converged directories, copied where this site mounts them
        shutil.copytree(path.parent, logs["files"][name].parent)
    returncode, output, _changed = converge_logs(logs, running="loki,alloy-kronos", monitoring_loki_retention="14d",
                                                 monitoring_alloy_max_age="1h")
    assert returncode == 0, output
    assert yaml.safe_load(logs["files"]["loki"].read_text())["limits_config"] == {"retention_period": "336h"}
    assert calls(logs, "systemctl") == ["try-restart loki.service"]
    assert [call for call in calls(logs, "podman") if call.startswith("kill")] == ["kill --signal HUP alloy-kronos"]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"monitoring_loki_retention": "36h"}, "loki_config: retention: '36h' is not a whole number of days"),
    ({"monitoring_alloy_max_age": "half a day"}, "alloy_config: max_age: must be a duration such as 12h"),
])
def test_bad_input_fails_before_any_change(logs, overrides, message):
    returncode, output, _changed = converge_logs(logs, **overrides)
    assert returncode != 0 and message in output, output
    assert not any(path.exists() for path in logs["files"].values())


def test_agents_without_loki_are_refused(logs):
    services = [service for service in logs["vars"]["homelab_services"] if service["name"] != "loki"]
    returncode, output, _changed = converge_logs(logs, homelab_services=services)
    assert returncode != 0, output
    assert "has a log agent on kronos (alloy-kronos, platform alloy) but no Loki to push to" in output
    assert not any(path.exists() for path in logs["files"].values())

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/monitoring on this machine over the local connection, for two inventory hosts
(jove runs Prometheus, Alertmanager and the blackbox exporter, kronos an app), writing into
temporary directories (the catalog's entries mount them), with ``monitoring_check_with:
host``: Debian's promtool, amtool and blackbox exporter check every file before it is
written, and check it again here; once with ``monitoring_check_with: image``, the tools run
by the real podman inside an image made of them. Check mode on a fresh host changes nothing, a converge
writes the files, a second converge changes nothing, a change reloads the running
containers only (a stand-in podman lists them and records the signals), and bad input
fails before any change; a broken rules file leaves the old one in place.

The node exporter part installs a package and starts a service, which a test must not do on
this machine: it runs here in check mode with diff against the real paths (the arguments
file as it would be written, the package found installed), and for real into temporary
paths without the package and the start, a stand-in systemctl recording the restarts; the
lab runs all of it for real.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pathlib
import re
import shutil
import subprocess
import tarfile

import pytest
import yaml

from ansible_run import JSON_CALLBACK, ansible_playbook
from prometheus_tools import prometheus_tool

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "monitoring"
FAKE_PODMAN = ROOT / "tests" / "fakes" / "podman_cli"
FAKE_SYSTEMCTL = ROOT / "tests" / "fakes" / "systemctl_cli"
RECAP = re.compile(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
ADDRESSES = {"jove": "100.64.0.10", "kronos": "100.64.0.11"}
# The tools the role runs for its checks (tests/prometheus_tools.py finds them).
TOOLS = ("promtool", "amtool", "blackbox_exporter")
NODE_EXPORTER_DEFAULTS = pathlib.Path("/etc/default/prometheus-node-exporter")
# The directories the configuration part writes, one per entry, named so in every site.
CONFIG_DIRS = ("prometheus", "alertmanager", "blackbox")


def run_tool(*argv):
    result = subprocess.run([prometheus_tool(argv[0]), *argv[1:]], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(name="site")
def site_fixture(tmp_path):
    """Paths and variables of a two-host site; every configuration directory starts absent."""
    return make_site(tmp_path)


def make_site(tmp_path):
    """The site of site_fixture in ``tmp_path``."""
    dirs = {kind: tmp_path / kind for kind in CONFIG_DIRS}

    def mount(kind, target):
        return [{"source": str(dirs[kind]), "target": target, "readonly": True}]

    variables = {
        "homelab_domain": "lab.test",
        "homelab_edge_host": "jove",
        "monitoring_check_with": "host",
        "monitoring_promtool_command": prometheus_tool("promtool"),
        "monitoring_amtool_command": prometheus_tool("amtool"),
        "monitoring_blackbox_exporter_command": prometheus_tool("blackbox_exporter"),
        "monitoring_receivers": [
            {"name": "phone", "type": "ntfy", "url": "https://ntfy.example.org/homelab-alerts"},
            {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/alerts"},
        ],
        "monitoring_critical_receiver": "phone",
        "monitoring_warning_receiver": "hook",
        "homelab_services": [
            {"name": "traefik", "host": "jove", "platform": "traefik",
             "mounts": [{"source": str(tmp_path / "traefik"), "target": "/etc/traefik", "readonly": True}]},
            {"name": "prometheus", "host": "jove", "platform": "prometheus", "mounts": mount("prometheus", "/etc/prometheus")},
            {"name": "alertmanager", "host": "jove", "platform": "alertmanager",
             "mounts": mount("alertmanager", "/etc/alertmanager")},
            {"name": "blackbox-exporter", "host": "jove", "platform": "blackbox_exporter",
             "mounts": mount("blackbox", "/etc/blackbox_exporter")},
            {"name": "whoami", "host": "kronos", "image": "docker.io/traefik/whoami:v1.10", "port": 80,
             "route": {"auth": "none"}, "metrics": {"port": 80, "path": "/metrics"}},
            {"name": "paperless", "host": "jove", "image": "ghcr.io/paperless-ngx/paperless-ngx:2.14", "port": 8000,
             "route": {"auth": "sso"}},
        ],
    }
    hosts = {name: {"ansible_connection": "local", "homelab_mesh_address": address} for name, address in ADDRESSES.items()}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"podman_hosts": {"hosts": hosts}}}}))
    (tmp_path / "play.yml").write_text(yaml.safe_dump(
        [{"hosts": "podman_hosts", "gather_facts": False, "roles": ["homelab.stack.monitoring"]}]))
    return {"tmp": tmp_path, "vars": variables, **dirs,
            "rules": dirs["prometheus"] / "rules" / "homelab.rules.yml",
            "prometheus.yml": dirs["prometheus"] / "prometheus.yml",
            "alertmanager.yml": dirs["alertmanager"] / "alertmanager.yml",
            "blackbox.yml": dirs["blackbox"] / "blackbox.yml"}


def run(site, *extra, check=False, running="", json_output=False, **overrides):
    """Run the role on both hosts; the completed process.

    Only the configuration part unless ``extra`` names tags. ``running`` names the
    containers the stand-in podman reports running.
    """
    (site["tmp"] / "vars.json").write_text(json.dumps(dict(site["vars"], **overrides)))
    env = dict(os.environ, PATH=os.pathsep.join([str(FAKE_PODMAN), str(FAKE_SYSTEMCTL), os.environ["PATH"]]),
               FAKE_PODMAN_LOG=str(site["tmp"] / "podman.log"), FAKE_PODMAN_RUNNING=running,
               FAKE_SYSTEMCTL_LOG=str(site["tmp"] / "systemctl.log"), **(JSON_CALLBACK if json_output else {}))
    tags = [] if "--tags" in extra else ["--tags", "monitoring_configure"]
    return ansible_playbook(site["tmp"] / "play.yml", "-i", str(site["tmp"] / "hosts.yml"),
                            "-e", f"@{site['tmp'] / 'vars.json'}", *tags, *extra, check=check, env=env)


def converge(site, *extra, check=False, running="", **overrides):
    """Run the role on both hosts; (returncode, output, changed count over the hosts)."""
    completed = run(site, *extra, check=check, running=running, **overrides)
    recaps = RECAP.findall(completed.stdout)
    changed = sum(int(count) for _host, count, *_rest in recaps) if recaps else None
    return completed.returncode, completed.stdout + completed.stderr, changed


def podman_calls(site):
    log = site["tmp"] / "podman.log"
    return log.read_text().splitlines() if log.exists() else []


def written(site):
    """The configuration files as they are now (absent ones as None)."""
    return {name: site[name].read_bytes() if site[name].exists() else None
            for name in ("rules", "prometheus.yml", "alertmanager.yml", "blackbox.yml")}


@pytest.fixture(name="converged", scope="module")
def converged_fixture(tmp_path_factory):
    """The site converged once, for the tests that start from a converged host: each copies
    its configuration directories (converged_copy) rather than converging again."""
    site = make_site(tmp_path_factory.mktemp("converged"))
    returncode, output, changed = converge(site)
    assert returncode == 0 and changed > 0, output
    return site


def converged_copy(site, converged):
    """Put ``site`` in the state the shared converge left: its files, modes and directories."""
    for kind in CONFIG_DIRS:
        shutil.copytree(converged[kind], site[kind])


def test_check_mode_on_a_fresh_host_changes_nothing(site):
    returncode, output, _changed = converge(site, check=True)
    assert returncode == 0, output
    assert not any(site[kind].exists() for kind in ("prometheus", "alertmanager", "blackbox"))
    assert not any(call.startswith("kill") for call in podman_calls(site))


def test_a_converge_writes_checked_files_and_a_second_changes_nothing(site):
    ca_file = site["tmp"] / "exported-ca.pem"
    ca_file.write_text("-----BEGIN CERTIFICATE-----\nnot checked by the role\n-----END CERTIFICATE-----\n")
    returncode, output, changed = converge(site, monitoring_probe_ca_file=str(ca_file))
    assert returncode == 0 and changed > 0, output
    # Checked again here, as the containers will read them.
    run_tool("promtool", "check", "rules", str(site["rules"]))
    run_tool("promtool", "check", "config", "--syntax-only", str(site["prometheus.yml"]))
    run_tool("amtool", "check-config", str(site["alertmanager.yml"]))
    run_tool("blackbox_exporter", "--config.check", f"--config.file={site['blackbox.yml']}")
    assert site["rules"].read_bytes() == (ROLE / "files" / "rules" / "homelab.rules.yml").read_bytes()

    prometheus = yaml.safe_load(site["prometheus.yml"].read_text())
    jobs = {job["job_name"] for job in prometheus["scrape_configs"]}
    assert {"node", "blackbox", "traefik", "prometheus", "alertmanager", "whoami"} <= jobs
    assert "/etc/prometheus/rules/*.yml" in prometheus["rule_files"]
    text = site["prometheus.yml"].read_text()
    assert "alertmanager:9093" in text and "blackbox-exporter:9115" in text
    assert "100.64.0.10:9100" in text and "100.64.0.11:9100" in text
    alertmanager = yaml.safe_load(site["alertmanager.yml"].read_text())
    assert {receiver["name"] for receiver in alertmanager["receivers"]} >= {"phone", "hook"}
    assert (site["blackbox"] / "ca.pem").read_bytes() == ca_file.read_bytes()
    assert "/etc/blackbox_exporter/ca.pem" in site["blackbox.yml"].read_text()
    # Nothing was running, so nothing was signalled.
    assert not any(call.startswith("kill") for call in podman_calls(site))

    returncode, output, changed = converge(site, monitoring_probe_ca_file=str(ca_file), running="prometheus")
    assert returncode == 0 and changed == 0, output
    assert not any(call.startswith("kill") for call in podman_calls(site))


def test_a_change_reloads_the_running_containers_only(site, converged):
    converged_copy(site, converged)
    returncode, output, changed = converge(site, running="prometheus,paperless", monitoring_scrape_interval="15s",
                                           monitoring_warning_receiver="phone")
    assert returncode == 0 and changed > 0, output
    kills = [call for call in podman_calls(site) if call.startswith("kill")]
    # Alertmanager's file changed too, but it is not running: it reads the file when it starts.
    assert kills == ["kill --signal HUP prometheus"]
    assert "scrape_interval: 15s" in site["prometheus.yml"].read_text()


def test_check_mode_with_diff_shows_a_change_and_makes_none(site, converged):
    converged_copy(site, converged)
    before = written(site)
    returncode, output, changed = converge(site, "--diff", check=True, running="prometheus",
                                           monitoring_scrape_interval="15s")
    assert returncode == 0 and changed == 1, output
    assert re.search(r"^-\s+scrape_interval: 30s$", output, re.M) and re.search(r"^\+\s+scrape_interval: 15s$", output, re.M)
    assert written(site) == before
    assert not any(call.startswith("kill") for call in podman_calls(site))


def test_a_rules_file_promtool_refuses_changes_nothing(site, converged):
    converged_copy(site, converged)
    before = written(site)
    broken = site["tmp"] / "broken.rules.yml"
    rules = (ROLE / "files" / "rules" / "homelab.rules.yml").read_text()
    broken.write_text(re.sub(r"expr: .*", "expr: up{job=", rules, count=1))
    assert yaml.safe_load(broken.read_text())["groups"]  # still YAML: promtool refuses the expression
    returncode, output, _changed = converge(site, running="prometheus", monitoring_rules_file=str(broken))
    assert returncode != 0 and "failed to validate" in output, output
    assert written(site) == before
    assert not any(call.startswith("kill") for call in podman_calls(site))


def test_a_fresh_host_with_a_bad_rules_file_gets_no_rules(site):
    broken = site["tmp"] / "broken.rules.yml"
    broken.write_text("groups:\n  - name: homelab\n    rules:\n      - alert: Broken\n        expr: rate(\n")
    returncode, output, _changed = converge(site, monitoring_rules_file=str(broken))
    assert returncode != 0 and "failed to validate" in output, output
    assert written(site) == dict.fromkeys(("rules", "prometheus.yml", "alertmanager.yml", "blackbox.yml"))


@pytest.mark.parametrize(("overrides", "message"), [
    ({"monitoring_receivers": [{"name": "phone", "type": "ntfy"}]},
     "type is ntfy but all of the following are missing: url found in monitoring_receivers"),
    ({"monitoring_receivers": [{"name": "phone", "type": "pager", "url": "https://x.test/"}]},
     "value of type must be one of: ntfy, email, webhook, got: pager found in monitoring_receivers"),
    ({"monitoring_receivers": [{"name": "mail", "type": "email", "to": "me@example.org"}]},
     "type is email but all of the following are missing: from, smarthost found in monitoring_receivers"),
    ({"monitoring_receivers": [{"name": "mail", "type": "email", "to": "me@example.org", "from": "am@example.org",
                                "smarthost": "smtp.example.org:587", "auth_password": "hunter2"}]},
     "monitoring_receivers.auth_password. Supported parameters include"),
    ({"monitoring_receivers": []}, "monitoring_receivers: at least one receiver is needed where the catalog has Prometheus"),
    ({"monitoring_critical_receiver": "pager"}, "alertmanager_config: critical: no receiver is named 'pager'"),
    ({"monitoring_receivers": [{"name": "a", "type": "webhook", "url": "http://127.0.0.1:9/"},
                               {"name": "a", "type": "webhook", "url": "http://127.0.0.1:8/"}]},
     "alertmanager_config: receivers[1].name: 'a' is already the name of receivers[0]"),
    ({"monitoring_scrape_interval": "30 seconds"}, "prometheus_config: scrape_interval: must be a Prometheus duration"),
    ({"monitoring_check_with": "docker"}, "monitoring_check_with must be one of: image, host"),
    ({"monitoring_probe_ca_file": "/nonexistent/ca.pem"},
     "monitoring_probe_ca_file: '/nonexistent/ca.pem' is not a file on the controller"),
    ({"monitoring_rules_file": "/nonexistent/rules.yml"},
     "monitoring_rules_file: '/nonexistent/rules.yml' is not a file on the controller"),
])
def test_bad_input_fails_before_any_change(site, overrides, message):
    returncode, output, _changed = converge(site, **overrides)
    assert returncode != 0 and message in output, output
    assert not any(site[kind].exists() for kind in ("prometheus", "alertmanager", "blackbox"))
    assert "hunter2" not in output


def test_a_catalog_with_prometheus_but_no_alertmanager_is_refused(site):
    services = [service for service in site["vars"]["homelab_services"] if service["name"] != "alertmanager"]
    returncode, output, _changed = converge(site, homelab_services=services)
    assert returncode != 0, output
    assert "homelab_services has Prometheus (prometheus) but no Alertmanager: add {name: alertmanager, host: jove" in output
    assert not site["prometheus"].exists()


def test_a_catalog_without_prometheus_configures_nothing(site):
    services = [service for service in site["vars"]["homelab_services"] if "platform" not in service
                or service["platform"] == "traefik"]
    returncode, output, changed = converge(site, homelab_services=services)
    assert returncode == 0 and changed == 0, output


def node_exporter_tasks(site, **overrides):
    """The node exporter part in check mode with diff, on both hosts: (returncode, output, the tasks' results).

    Debian's python3 runs the modules, for the apt module's bindings; starting the service
    (systemd is not PID 1 here) is left out.
    """
    completed = run(site, "--tags", "monitoring_node_exporter", "--skip-tags", "monitoring_node_exporter_run", "--diff",
                    "-e", "ansible_python_interpreter=/usr/bin/python3", check=True, json_output=True, **overrides)
    output = completed.stdout + completed.stderr
    if completed.returncode != 0:
        return completed.returncode, output, None
    tasks = {task["task"]["name"].split(" : ", 1)[-1]: task["hosts"] for play in json.loads(completed.stdout)["plays"]
             for task in play["tasks"]}
    return completed.returncode, output, tasks


def test_the_node_exporter_listens_on_the_mesh_and_watches_the_catalogs_units(site):
    before = NODE_EXPORTER_DEFAULTS.read_bytes()
    returncode, output, tasks = node_exporter_tasks(site)
    assert returncode == 0, output
    args = {}
    for host, result in tasks["Write the node exporter's arguments"].items():
        assert not result.get("failed"), result
        after = result["diff"][0]["after"]
        args[host] = re.search(r'^ARGS="(.*)"$', after, re.M)[1].split(" ")
    assert args["jove"] == [
        "--web.listen-address=100.64.0.10:9100", "--collector.systemd", "--collector.systemd.enable-restarts-metrics",
        "--collector.systemd.unit-include=(traefik|prometheus|alertmanager|blackbox-exporter|paperless)[.]service",
        "--collector.textfile.directory=/var/lib/prometheus/node-exporter"]
    assert args["kronos"][0] == "--web.listen-address=100.64.0.11:9100"
    assert args["kronos"][3] == "--collector.systemd.unit-include=(whoami)[.]service"
    # The package is found installed on this machine (as apt knows it), so apt is not even
    # called; nothing was installed or written.
    for host, result in tasks["Find the installed packages"].items():
        assert "prometheus-node-exporter" in result["ansible_facts"]["packages"], host
    for result in tasks["Install the node exporter"].values():
        assert result.get("skipped") and not result["changed"], result
    assert NODE_EXPORTER_DEFAULTS.read_bytes() == before
    # A changed file asks for a restart, which check mode does not run.
    assert not (site["tmp"] / "systemctl.log").exists()


def test_the_node_exporter_of_an_ipv6_mesh_address(site):
    (site["tmp"] / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"podman_hosts": {"hosts": {
        "jove": {"ansible_connection": "local", "homelab_mesh_address": "fd7a:115c:a1e0::1"},
        "kronos": {"ansible_connection": "local", "homelab_mesh_address": "100.64.0.11"}}}}}}))
    returncode, output, tasks = node_exporter_tasks(site)
    assert returncode == 0, output
    after = tasks["Write the node exporter's arguments"]["jove"]["diff"][0]["after"]
    assert "--web.listen-address=[fd7a:115c:a1e0::1]:9100 " in after


@pytest.fixture(name="tools_image", scope="module")
def tools_image_fixture():
    """A local image holding Debian's three tools and the C library they link to (no registry is
    reachable here), named after their contents; removed at the end. The tools are also there
    under names of the image's own (``in-image-<tool>``), which the host lacks."""
    podman = shutil.which("podman")
    assert podman, "podman is missing: apt-get install podman"
    tools = {name: pathlib.Path(prometheus_tool(name)) for name in TOOLS}
    # The libraries each links to, as ldd lists them ("libc.so.6 => /lib/.../libc.so.6 (0x...)").
    libraries = {pathlib.Path(word) for path in tools.values()
                 for word in subprocess.run(["ldd", str(path)], capture_output=True, text=True, timeout=60,
                                            check=True).stdout.split() if word.startswith("/")}
    files = sorted(tools.values()) + sorted(libraries)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in files:
            archive.add(str(path.resolve()), arcname=str(path).lstrip("/"))
        for name, path in tools.items():
            link = tarfile.TarInfo(f"usr/local/bin/in-image-{name}")
            link.type, link.linkname = tarfile.SYMTYPE, str(path)
            archive.addfile(link)
    name = "localhost/homelab-test-monitoring-tools:" + hashlib.sha256(buffer.getvalue()).hexdigest()[:12]
    env = dict(os.environ, CONTAINERS_CONF=os.environ.get(
        "CONTAINERS_CONF", str(ROOT / "tests" / "lab" / "controller-containers.conf")))
    imported = subprocess.run([podman, "import", "-", name], input=buffer.getvalue(), capture_output=True, env=env,
                              timeout=300, check=False)
    assert imported.returncode == 0, imported.stderr.decode()
    yield name, env
    subprocess.run([podman, "rmi", "--force", name], capture_output=True, env=env, timeout=120, check=False)


def test_the_checks_run_inside_the_entries_images(site, tools_image):
    image, env = tools_image
    services = [dict(service, image=image) if service.get("platform") in ("prometheus", "alertmanager", "blackbox_exporter")
                else service for service in site["vars"]["homelab_services"]]
    # Names only the image has: the checks can only have run inside it.
    site["vars"].update(homelab_services=services, monitoring_check_with="image",
                        **{f"monitoring_{option}_command": f"in-image-{name}" for option, name in (
                            ("promtool", "promtool"), ("amtool", "amtool"),
                            ("blackbox_exporter", "blackbox_exporter"))})
    assert not any(shutil.which(f"in-image-{name}") for name in TOOLS)
    (site["tmp"] / "vars.json").write_text(json.dumps(site["vars"]))
    # The real podman this time: it runs the checks.
    command = [str(site["tmp"] / "play.yml"), "-i", str(site["tmp"] / "hosts.yml"), "-e", f"@{site['tmp'] / 'vars.json'}",
               "--tags", "monitoring_configure"]
    completed = ansible_playbook(*command, env=env)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    run_tool("promtool", "check", "rules", str(site["rules"]))
    assert yaml.safe_load(site["prometheus.yml"].read_text())["scrape_configs"]
    before = written(site)
    broken = site["tmp"] / "broken.rules.yml"
    broken.write_text("groups:\n  - name: homelab\n    rules:\n      - alert: Broken\n        expr: rate(\n")
    completed = ansible_playbook(*command, "-e", f"monitoring_rules_file={broken}", env=env)
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0 and "failed to validate" in output, output
    assert written(site) == before


def test_the_node_exporter_restarts_only_when_its_arguments_change(site):
    """The arguments file and the textfile directory written for real, into temporary paths of
    each host (extra vars over the role's constants), the package and the service start left
    out; the stand-in systemctl records the restarts."""
    paths = ["-e", f"monitoring_node_exporter_defaults={site['tmp']}/{{{{ inventory_hostname }}}}-defaults",
             "-e", f"monitoring_textfile_dir={site['tmp']}/{{{{ inventory_hostname }}}}-textfile"]
    tags = ["--tags", "monitoring_node_exporter", "--skip-tags", "monitoring_node_exporter_install,monitoring_node_exporter_run"]
    log = site["tmp"] / "systemctl.log"

    def restarts():
        return log.read_text().splitlines().count("try-restart prometheus-node-exporter.service") if log.exists() else 0

    returncode, output, changed = converge(site, *tags, *paths)
    assert returncode == 0 and changed == 6, output  # per host: the file, the directory, the restart
    assert restarts() == 2
    for host in ADDRESSES:
        textfile = site["tmp"] / f"{host}-textfile"
        assert f"--collector.textfile.directory={textfile}" in (site["tmp"] / f"{host}-defaults").read_text()
        assert textfile.is_dir() and textfile.stat().st_mode & 0o777 == 0o755
    returncode, output, changed = converge(site, *tags, *paths)
    assert returncode == 0 and changed == 0, output
    assert restarts() == 2
    # A service moves to kronos: both hosts' units change, both exporters restart.
    services = [dict(service, host="kronos") if service["name"] == "paperless" else service
                for service in site["vars"]["homelab_services"]]
    returncode, output, changed = converge(site, *tags, *paths, homelab_services=services)
    assert returncode == 0 and changed == 4, output
    assert restarts() == 4
    assert "unit-include=(whoami|paperless)[.]service" in (site["tmp"] / "kronos-defaults").read_text()


# --- Grafana: its provisioning, settings and dashboards on its host ------------------------


def with_grafana(site, **fields):
    """The site's catalog with a Grafana entry on jove mounting a temporary directory."""
    entry = {"name": "grafana", "host": "jove", "platform": "grafana", "route": {"auth": "none"},
             "secrets": {"GF_SECURITY_ADMIN_PASSWORD": "not-a-real-password"},
             "mounts": [{"source": str(site["tmp"] / "grafana"), "target": "/etc/grafana/provisioning",
                         "readonly": True}]}
    entry.update(fields)
    return site["vars"]["homelab_services"] + [entry]


def systemctl_calls(site):
    log = site["tmp"] / "systemctl.log"
    return log.read_text().splitlines() if log.exists() else []


def test_grafana_check_mode_on_a_fresh_host_writes_nothing(site):
    returncode, output, _changed = converge(site, check=True, homelab_services=with_grafana(site))
    assert returncode == 0, output
    assert not (site["tmp"] / "grafana").exists()
    assert systemctl_calls(site) == []


def test_grafana_files_are_written_and_a_second_converge_changes_nothing(site):
    services = with_grafana(site)
    returncode, output, changed = converge(site, homelab_services=services)
    assert returncode == 0 and changed > 0, output
    grafana = site["tmp"] / "grafana"
    datasources = yaml.safe_load((grafana / "datasources" / "homelab.yml").read_text())
    assert datasources["apiVersion"] == 1
    assert [(item["type"], item["url"]) for item in datasources["datasources"]] == [
        ("prometheus", "http://prometheus:9090"), ("alertmanager", "http://alertmanager:9093")]
    provider = yaml.safe_load((grafana / "dashboards" / "homelab.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/etc/grafana/provisioning/dashboards"
    assert "root_url = https://grafana.lab.test/" in (grafana / "grafana.ini").read_text()
    for source in (ROLE / "files" / "dashboards").glob("*.json"):
        assert (grafana / "dashboards" / source.name).read_bytes() == source.read_bytes()
    # The admin password is a Podman secret: in no file the role writes.
    assert not any("not-a-real-password" in path.read_text() for path in grafana.rglob("*") if path.is_file())
    assert "not-a-real-password" not in output
    # The settings changed: Grafana is restarted if it runs.
    assert systemctl_calls(site) == ["try-restart grafana.service"]

    returncode, output, changed = converge(site, homelab_services=services)
    assert returncode == 0 and changed == 0, output
    assert systemctl_calls(site) == ["try-restart grafana.service"]


def test_grafana_without_its_admin_secret_fails_before_any_change(site):
    returncode, output, _changed = converge(site, homelab_services=with_grafana(site, secrets={}))
    assert returncode != 0
    assert "service grafana: secrets: platform grafana needs GF_SECURITY_ADMIN_PASSWORD" in output
    assert not (site["tmp"] / "grafana").exists() and not site["prometheus"].exists()


def test_grafana_with_oidc_but_no_identity_provider_fails_naming_the_field(site):
    services = with_grafana(site, oidc={"redirect_paths": ["/login/generic_oauth"]},
                            secrets={"GF_SECURITY_ADMIN_PASSWORD": "x", "OIDC_CLIENT_SECRET": "y"})
    returncode, output, _changed = converge(site, homelab_services=services)
    assert returncode != 0
    assert "service grafana: oidc: needs a present platform authentik entry with a route" in output
    assert not (site["tmp"] / "grafana").exists()

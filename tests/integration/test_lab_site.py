"""The main job: `make lab` brings up the two-site lab and converges the site playbook.

Runs it twice (the second run must change nothing), checks the hosts are what the
roles need, then `make lab-down` must leave nothing running.
"""

import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import time

import pytest
import yaml

import https_client

ROOT = pathlib.Path(__file__).resolve().parents[2]
HOSTS = {"jove": "lab-jove", "kronos": "lab-kronos"}
LABEL = "io.homelab-stack.lab=1"
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)

pytestmark = pytest.mark.lab

# The lab's secrets are SOPS-encrypted for its age key (tests/lab/lab.sh); runs on the lab
# decrypt them as `make lab` does (see LAB_ANSIBLE_ENV in the Makefile).
LAB_ANSIBLE_ENV = {"ANSIBLE_VARS_ENABLED": "host_group_vars,community.sops.sops",
                   "SOPS_AGE_KEY_FILE": str(ROOT / ".lab" / "age-key.txt")}
LAB_SECRETS = {"all": {"lab_files_token", "lab_postgres_password"}, "site_a": {"backup_password", "backup_rest_password"},
               "site_b": {"backup_password", "backup_rest_password"}}


def make(target, **env):
    result = subprocess.run(["make", "--no-print-directory", target], cwd=ROOT, env={**os.environ, **env},
                            capture_output=True, text=True, timeout=2400, check=False)
    assert result.returncode == 0, f"make {target} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result.stdout + result.stderr  # Ansible's warnings too: the secrets test reads them


def recap(output):
    """{host: (ok, changed, unreachable, failed)} from a PLAY RECAP."""
    return {m[1]: tuple(int(n) for n in m.groups()[1:]) for m in RECAP.finditer(output)}


def on_host(container, *command):
    return subprocess.run(["podman", "exec", container, *command], capture_output=True, text=True,
                          timeout=60, check=False)


def lab_env():
    return {**os.environ, **LAB_ANSIBLE_ENV}


def lab_secrets():
    """{group: {name: value}} of the lab's secrets, decrypted by sops with the lab's key."""
    found = {}
    for path in sorted((ROOT / ".lab" / "group_vars").glob("*.sops.yaml")):
        result = subprocess.run(["sops", "decrypt", "--output-type", "json", str(path)], env=lab_env(),
                                capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, f"sops cannot decrypt {path.name} with the lab's key: {result.stderr[-2000:]}"
        found[path.name.removesuffix(".sops.yaml")] = json.loads(result.stdout)
    return found


def lab_leftovers():
    containers = subprocess.run(["podman", "ps", "-aq", "--filter", f"label={LABEL}"],
                                capture_output=True, text=True, check=True).stdout.split()
    networks = subprocess.run(["podman", "network", "ls", "-q", "--filter", f"label={LABEL}"],
                              capture_output=True, text=True, check=True).stdout.split()
    return containers + networks


@pytest.fixture(scope="module")
def lab():
    """Converge twice (the first run with -v, whose output the secrets test reads with the
    second's); yield both outputs; always take the lab down."""
    try:
        first = make("lab", ANSIBLE_VERBOSITY="1")
        second = make("lab")
        yield first, second
    finally:
        make("lab-down")


def test_first_run_converges_every_host(lab):
    hosts = recap(lab[0])
    assert set(hosts) == set(HOSTS)
    for ok, _changed, unreachable, failed in hosts.values():
        assert ok > 0 and unreachable == 0 and failed == 0


def changed_tasks(output):
    """The lines of a run that say what changed, each after its task's name."""
    task, found = "", []
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line.split("]", 1)[0][6:]
        elif line.startswith("changed:"):
            found.append(f"{task}: {line[:160]}")
    return found


def test_second_run_changes_nothing(lab):
    hosts = recap(lab[1])
    assert set(hosts) == set(HOSTS)
    assert {name: counts[1] for name, counts in hosts.items()} == {"jove": 0, "kronos": 0}, \
        "\n".join(changed_tasks(lab[1]))


@pytest.mark.parametrize("container", HOSTS.values())
def test_hosts_boot_systemd_cleanly(lab, container):
    assert on_host(container, "systemctl", "is-system-running").stdout.strip() == "running"


@pytest.mark.parametrize("container", HOSTS.values())
def test_hosts_have_quadlet_capable_podman(lab, container):
    version = re.search(r"(\d+)\.(\d+)", on_host(container, "podman", "--version").stdout)
    assert (int(version[1]), int(version[2])) >= (4, 4)


@pytest.mark.parametrize("container", HOSTS.values())
def test_lab_app_image_is_loaded_offline(lab, container):
    assert on_host(container, "podman", "image", "exists", "localhost/homelab-lab-app:latest").returncode == 0


def test_hosts_sit_on_their_site_and_the_mesh(lab):
    for container, site in (("lab-jove", "site-a"), ("lab-kronos", "site-b")):
        networks = subprocess.run(["podman", "inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
                                   container], capture_output=True, text=True, check=True).stdout.split()
        assert sorted(networks) == sorted(["homelab-lab-mesh", f"homelab-lab-{site}"])


def default_subnets(*podman):
    inspect = subprocess.run([*podman, "network", "inspect", "-f", "{{range .Subnets}}{{.Subnet}} {{end}}", "podman"],
                             capture_output=True, text=True, check=True)
    return inspect.stdout.split()


def test_nested_default_network_leaves_the_controllers(lab):
    # The controller keeps Podman's own default, the one the nested Podman used to share.
    assert default_subnets("podman") == ["10.88.0.0/16"]
    for container in HOSTS.values():
        assert default_subnets("podman", "exec", container, "podman") == ["10.231.128.0/24"]


def test_sites_reach_each_other_over_the_mesh(lab):
    assert on_host("lab-jove", "ping", "-c1", "-W2", "10.231.0.11").returncode == 0


def test_edge_publishes_http_and_https_on_loopback(lab):
    ports = subprocess.run(["podman", "port", "lab-jove"], capture_output=True, text=True, check=True).stdout
    assert "80/tcp -> 127.0.0.1:8080" in ports
    assert "443/tcp -> 127.0.0.1:8443" in ports


@pytest.mark.parametrize(("container", "services"), [("lab-jove", ["api", "web"]), ("lab-kronos", ["files"])])
def test_demo_services_run_on_their_hosts(lab, container, services):
    for service in services:
        assert on_host(container, "systemctl", "is-active", f"{service}.service").stdout.strip() == "active"
    page = on_host(container, "curl", "-sf", "http://127.0.0.1:9080/")
    assert "homelab lab app" in page.stdout


def test_same_host_dependency_orders_the_units(lab):
    after = on_host("lab-jove", "systemctl", "show", "-P", "After", "web.service").stdout.split()
    assert "api.service" in after
    # ...and web reaches api by name on the host's service network.
    assert on_host("lab-jove", "podman", "exec", "web", "wget", "-q", "-O", "-", "http://api:8080/").returncode == 0


def test_secret_reaches_the_kronos_service(lab):
    token = lab_secrets()["all"]["lab_files_token"]
    env = on_host("lab-kronos", "curl", "-sf", "http://127.0.0.1:9080/cgi-bin/env").stdout.splitlines()
    assert f"FILES_TOKEN={token}" in env
    assert token not in on_host("lab-kronos", "cat", "/etc/containers/systemd/files.container").stdout


def test_a_routed_service_of_another_site_is_published_on_the_mesh_address_only(lab):
    # files runs on kronos and is routed by the edge on jove: jove reaches it over the mesh.
    page = on_host("lab-jove", "curl", "-sf", "--max-time", "10", "http://10.231.0.11:8080/")
    assert "homelab lab app" in page.stdout, page.stderr
    unit = on_host("lab-kronos", "cat", "/etc/containers/systemd/files.container").stdout
    assert "PublishPort=10.231.0.11:8080:8080" in unit
    # On kronos itself the mesh address answers and its site address does not.
    assert "homelab lab app" in on_host("lab-kronos", "curl", "-sf", "--max-time", "10", "http://10.231.0.11:8080/").stdout
    assert on_host("lab-kronos", "curl", "-sf", "--max-time", "5", "http://10.231.2.10:8080/").returncode != 0


EDGE_DOMAIN = "lab.home.arpa"


def through_edge(name, path="/", tls=True):
    """GET <name>.lab.home.arpa through lab-jove's published edge ports, verified with .lab/ca.pem."""
    return https_client.get(8443 if tls else 8080, f"{name}.{EDGE_DOMAIN}", path, tls=tls,
                            cafile=str(ROOT / ".lab" / "ca.pem"))


@pytest.mark.parametrize("name", ["web", "files"])
def test_edge_serves_open_routes_of_both_sites_with_the_lab_ca(lab, name):
    # web runs on jove beside the edge, files on kronos (reached over the mesh).
    status, headers, body = through_edge(name)
    assert status == 200 and b"homelab lab app" in body
    assert "max-age=31536000" in headers["Strict-Transport-Security"]


def test_edge_redirects_http_to_https(lab):
    status, headers, _body = through_edge("web", "/page", tls=False)
    assert status in (301, 308) and headers["Location"] == f"https://web.{EDGE_DOMAIN}/page"


def test_edge_fails_closed_for_sso_routes_without_authentik(lab):
    status, headers, body = through_edge("api")
    assert status == 500 and b"homelab lab app" not in body
    # ...with the edge's readable page (served by the edge-pages entry), naming no address.
    assert b"Sign-in is unavailable" in body and headers["Content-Type"].startswith("text/html")
    assert b"authentik-server" not in body and b"10.231." not in body


def test_edge_serves_no_api_or_dashboard(lab):
    for name, path in (("traefik", "/dashboard/"), ("traefik", "/api/rawdata"), ("web", "/api/rawdata")):
        status, _headers, body = through_edge(name, path)
        assert b'"routers"' not in body and (status == 404 or name == "web")
    # The internal entrypoint (ping and metrics) is published for Prometheus on kronos, on
    # jove's mesh address only, and serves neither the API nor the dashboard there.
    ports = on_host("lab-jove", "podman", "port", "traefik").stdout
    assert "443/tcp" in ports
    assert [line.split(" -> ")[1] for line in ports.splitlines() if line.startswith("8082/")] == ["10.231.0.10:8082"]
    for path in ("/api/rawdata", "/dashboard/"):
        answer = on_host("lab-kronos", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                         f"http://10.231.0.10:8082{path}")
        assert answer.stdout == "404"


def test_edge_picks_up_a_route_change_without_a_restart(lab):
    started = on_host("lab-jove", "systemctl", "show", "-P", "ExecMainStartTimestamp", "traefik.service").stdout
    dynamic = "/etc/homelab/traefik/dynamic/routes.yml"
    original = on_host("lab-jove", "cat", dynamic).stdout
    changed = original.replace("Host(`web.lab.home.arpa`)", "Host(`web2.lab.home.arpa`)")
    assert changed != original
    # The file is put back exactly (content, owner, mode): later converges must find nothing to change.
    assert on_host("lab-jove", "cp", "-p", dynamic, f"{dynamic}.orig").returncode == 0
    try:
        on_host("lab-jove", "sh", "-c", f"cat > {dynamic}.new <<'EOF'\n{changed}EOF\nmv {dynamic}.new {dynamic}")
        for _attempt in range(50):
            if through_edge("web2")[0] == 200:
                break
            time.sleep(0.2)
        assert through_edge("web2")[0] == 200
    finally:
        on_host("lab-jove", "mv", f"{dynamic}.orig", dynamic)
    assert on_host("lab-jove", "systemctl", "show", "-P", "ExecMainStartTimestamp", "traefik.service").stdout == started


def prometheus(path, **params):
    """GET Prometheus' HTTP API on kronos's loopback (where it answers): the ``data`` part."""
    command = ["curl", "-sf", "--max-time", "10", "-G", f"http://127.0.0.1:9090/api/v1/{path}"]
    for name, value in params.items():
        command += ["--data-urlencode", f"{name}={value}"]
    answer = on_host("lab-kronos", *command)
    assert answer.returncode == 0, f"Prometheus on kronos: {answer.stderr}"
    return json.loads(answer.stdout)["data"]


def query(expression, key="instance"):
    """{the ``key`` label: value} of an instant query."""
    return {item["metric"].get(key): float(item["value"][1])
            for item in prometheus("query", query=expression)["result"]}


def eventually(check, what, seconds=120):
    """Poll ``check`` (two scrape intervals and more) until it returns something true."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            assert result, f"{what}: not within {seconds} s"
            return result
        time.sleep(2)


# The jobs the lab's catalog gives Prometheus: fixed ones, and files' own (it has metrics).
MONITORING_JOBS = {"node", "blackbox", "traefik", "prometheus", "alertmanager", "blackbox_exporter", "files"}
ALERTS = {"NodeDown", "DiskFull", "HighCPU", "HighMemory", "CertExpiring", "ServiceDown", "ServiceRestarting",
          "RouteLeaking", "BackupStale"}


def test_prometheus_and_alertmanager_answer_on_kronos_loopback_only(lab):
    for port in (9090, 9093):
        assert on_host("lab-kronos", "curl", "-sf", "--max-time", "5", f"http://127.0.0.1:{port}/-/ready").returncode == 0
        # Not on the mesh: the way in from elsewhere is a route through the edge.
        assert on_host("lab-jove", "curl", "-s", "--max-time", "5", f"http://10.231.0.11:{port}/").returncode != 0


def test_every_monitoring_target_is_up(lab):
    def all_up():
        targets = prometheus("targets", state="active")["activeTargets"]
        jobs = {target["labels"]["job"] for target in targets}
        return jobs == MONITORING_JOBS and all(target["health"] == "up" for target in targets) and targets

    targets = eventually(all_up, "every target of " + ", ".join(sorted(MONITORING_JOBS)) + " up")
    nodes = {target["labels"]["instance"] for target in targets if target["labels"]["job"] == "node"}
    assert nodes == {"jove:9100", "kronos:9100"}


def test_every_route_probe_gets_what_its_auth_expects(lab):
    def probed():
        success = query('probe_success{job="blackbox", probe="route"}')
        return len(success) == 3 and all(value == 1.0 for value in success.values()) and success

    assert set(eventually(probed, "every route probe succeeding")) == {
        f"https://{name}.{EDGE_DOMAIN}/" for name in ("api", "web", "files")}
    # The SSO route fails closed (500 with the page), the open ones answer 200: none leaks.
    statuses = query('probe_http_status_code{job="blackbox", probe="route"}')
    assert statuses == {f"https://api.{EDGE_DOMAIN}/": 500.0, f"https://web.{EDGE_DOMAIN}/": 200.0,
                        f"https://files.{EDGE_DOMAIN}/": 200.0}
    # Across the mesh to the other site: ping and the node exporter's port.
    assert query('probe_success{job="blackbox", probe=~"icmp|tcp"}') == {"jove": 1.0}


def test_the_alert_rules_are_loaded_and_no_critical_alert_fires(lab):
    rules = {rule["name"] for group in prometheus("rules")["groups"] for rule in group["rules"]}
    assert rules == ALERTS
    # Warnings (HighCPU, say) depend on the machine the lab shares; critical ones on the lab.
    firing = [alert["labels"]["alertname"] for alert in prometheus("alerts")["alerts"]
              if alert["state"] == "firing" and alert["labels"].get("severity") == "critical"]
    assert firing == []


def test_a_stopped_service_shows_in_its_unit_and_probe_metrics(lab):
    unit = 'node_systemd_unit_state{job="node", host="kronos", name="files.service", state="active"}'
    assert eventually(lambda: query(unit, "name").get("files.service") == 1.0, "files.service active in the metrics")
    assert on_host("lab-kronos", "systemctl", "stop", "files.service").returncode == 0
    try:
        eventually(lambda: query(unit, "name").get("files.service") == 0.0, "files.service inactive in the metrics")
        eventually(lambda: query('probe_success{service="files"}').get(f"https://files.{EDGE_DOMAIN}/") == 0.0,
                   "the files route probe failing")
    finally:
        assert on_host("lab-kronos", "systemctl", "start", "files.service").returncode == 0
    eventually(lambda: query('probe_success{service="files"}').get(f"https://files.{EDGE_DOMAIN}/") == 1.0,
               "the files route probe succeeding again")


def playbook(name, *extra, expect_ok=True):
    """Run one of the collection's playbooks on the lab; returns (returncode, output)."""
    result = subprocess.run(["ansible-playbook", "-i", "tests/lab/inventory", "-i", ".lab/inventory.yml",
                             f"playbooks/{name}.yml", *extra], cwd=ROOT, env=lab_env(), capture_output=True,
                            text=True, timeout=900, check=False)
    output = result.stdout + result.stderr
    if expect_ok:
        assert result.returncode == 0, f"{name} failed:\n{output[-4000:]}"
    return result.returncode, output


def verify_rows(output):
    """{(what, where): state} of the last table the verify playbook printed in ``output``."""
    start = output.rindex("TASK [Print the table]")
    lines = output[start:].split('"msg": [', 1)[1].split("]", 1)[0].splitlines()
    rows = [re.split(r"\s{2,}", line.strip().strip('",')) for line in lines if line.strip().startswith('"')]
    assert rows[0] == ["what", "where", "state"], rows[:2]
    return {(row[0], row[1]): row[2] for row in rows[1:]}


def verify_problems(output):
    """The problems the verify playbook failed with (its fail task's message)."""
    failed = re.search(r"^fatal: \[\w+\]: FAILED! => (\{.*\})$", output[output.rindex("TASK [Fail naming every problem]"):],
                       re.M)
    assert failed, output[-3000:]
    return json.loads(failed[1])["msg"].split("; ")


LAB_ROUTES = {(f"route https://api.{EDGE_DOMAIN}/ (sso)", "jove"): "500",
              (f"route https://web.{EDGE_DOMAIN}/ (none)", "jove"): "200",
              (f"route https://files.{EDGE_DOMAIN}/ (none)", "jove"): "200"}


def rows_of(rows, kind):
    return {key: state for key, state in rows.items() if key[0].startswith(kind + " ")}


@pytest.mark.parametrize("run", [0, 1], ids=["first", "second"])
def test_the_site_run_ends_with_the_verify_table(lab, run):
    output = lab[run]
    assert re.findall(r"^PLAY \[(.*)\]", output, re.M)[-1] == "Verify the site"
    assert re.findall(r"^TASK \[(.*)\]", output[output.rindex("PLAY [Verify the site]"):], re.M)[-2:] == [
        "Print the table", "Fail naming every problem"]
    rows = verify_rows(output)
    for unit, host in (("homelab-network", "jove"), ("traefik", "jove"), ("api", "jove"), ("web", "jove"),
                       ("homelab-network", "kronos"), ("files-data-volume", "kronos"), ("files", "kronos"),
                       ("prometheus", "kronos")):
        assert rows[(f"unit {unit}.service", host)] == "active", unit
    assert rows_of(rows, "route") == LAB_ROUTES
    targets = rows_of(rows, "target")
    assert {("target node jove:9100", "kronos"), ("target node kronos:9100", "kronos")} <= set(targets)
    assert set(targets.values()) <= {"up", "waiting for its first scrape"}, targets
    # Nothing has been backed up yet, unless a timer fired since (the drill comes later).
    for volume, host in (("files-data", "kronos"), ("traefik-acme", "jove")):
        state = rows[(f"backup {volume} (daily)", host)]
        assert state == "waiting for its first run" or state.endswith(" ago"), state


@pytest.mark.parametrize("extra", [(), ("--check",)], ids=["run", "check"])
def test_verify_passes_changing_nothing(lab, extra):
    _returncode, output = playbook("verify", *extra)
    assert {name: counts[1] for name, counts in recap(output).items()} == {"jove": 0, "kronos": 0}
    rows = verify_rows(output)
    assert rows[("unit web.service", "jove")] == "active"
    assert rows_of(rows, "route") == LAB_ROUTES


def test_verify_fails_naming_a_stopped_service(lab):
    assert on_host("lab-jove", "systemctl", "stop", "web.service").returncode == 0
    try:
        returncode, output = playbook("verify", expect_ok=False)
    finally:
        assert on_host("lab-jove", "systemctl", "start", "web.service").returncode == 0
        # Healthy again before the next test: the unit active and the route answering through the edge.
        eventually(lambda: on_host("lab-jove", "systemctl", "is-active", "web.service").stdout.strip() == "active"
                   and through_edge("web")[0] == 200, "web answering through the edge again")
    assert returncode != 0
    # Stopped: inactive, or failed when the container's exit on SIGTERM counts as a failure.
    assert verify_rows(output)[("unit web.service", "jove")] in ("inactive", "failed")
    problems = verify_problems(output)
    # The unit and its route, and nothing else: the rest of the site is healthy.
    assert problems[0].split(": ")[:2] == ["jove", "unit web.service"], problems
    assert [problem.split(": ")[1] for problem in problems[1:]] == [f"route https://web.{EDGE_DOMAIN}/ (none)"], problems


def files_checksums():
    """sha256 of every file in the files service's data volume, as the service sees it."""
    listing = on_host("lab-kronos", "podman", "exec", "files", "sh", "-c",
                      "cd /data && find . -type f | sort | xargs -r sha256sum")
    assert listing.returncode == 0, listing.stderr
    return dict(reversed(line.split(None, 1)) for line in listing.stdout.splitlines())


def snapshots(container, *args):
    result = on_host(container, "homelab-restic", "snapshots", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def back_up(container, service):
    result = on_host(container, "systemctl", "start", f"homelab-backup@{service}.service")
    assert result.returncode == 0, on_host(container, "journalctl", "-u", f"homelab-backup@{service}.service",
                                           "--no-pager", "-n", "40").stdout


@pytest.fixture(scope="module")
def drill(lab):
    """Files in the files service's volume on kronos, backed up to jove's rest-server
    (and jove's Traefik volume to kronos's); yields their checksums."""
    write = ("mkdir -p /data/docs && echo 'first version' > /data/docs/note.txt"
             " && dd if=/dev/urandom of=/data/blob.bin bs=1k count=300 2>/dev/null && echo keep > /data/keep.txt")
    assert on_host("lab-kronos", "podman", "exec", "files", "sh", "-c", write).returncode == 0
    before = files_checksums()
    back_up("lab-kronos", "files")
    back_up("lab-jove", "traefik")
    yield before


@pytest.mark.parametrize("container, timers", [
    ("lab-jove", ["homelab-backup-traefik.timer", "homelab-backup-prune.timer"]),
    ("lab-kronos", ["homelab-backup-files.timer", "homelab-backup-prune.timer"]),
])
def test_backup_timers_are_active(lab, container, timers):
    for timer in timers:
        assert on_host(container, "systemctl", "is-active", timer).stdout.strip() == "active", timer


def test_a_backup_lands_on_the_other_sites_rest_server(drill):
    taken = snapshots("lab-kronos", "--tag", "service:files,volume:files-data")
    assert len(taken) >= 1
    assert taken[-1]["hostname"] == "kronos"
    assert {"service:files", "volume:files-data"} <= set(taken[-1]["tags"])
    # The repository is on jove, in its rest-server's volume, under kronos's own name.
    mountpoint = on_host("lab-jove", "podman", "volume", "inspect", "--format", "{{.Mountpoint}}",
                         "backup-a-data").stdout.strip()
    assert on_host("lab-jove", "test", "-f", f"{mountpoint}/kronos/config").returncode == 0
    assert on_host("lab-kronos", "podman", "volume", "exists", "backup-a-data").returncode != 0


def test_restore_brings_files_back_byte_identical(drill):
    damage = ("rm /data/docs/note.txt && echo changed > /data/keep.txt && echo intruder > /data/new.txt"
              " && dd if=/dev/zero of=/data/blob.bin bs=1k count=3 2>/dev/null")
    assert on_host("lab-kronos", "podman", "exec", "files", "sh", "-c", damage).returncode == 0
    assert files_checksums() != drill
    playbook("restore", "-e", "restore_service=files")
    assert files_checksums() == drill
    assert on_host("lab-kronos", "systemctl", "is-active", "files.service").stdout.strip() == "active"
    # The damaged data was kept first, in case the wrong snapshot was chosen.
    assert snapshots("lab-kronos", "--tag", "pre-restore"), "no pre-restore safety snapshot"


def test_the_backed_up_host_cannot_delete_its_backups(drill):
    before = [snapshot["id"] for snapshot in snapshots("lab-kronos")]
    # restic may say it forgot them; the append-only server keeps every file.
    on_host("lab-kronos", "homelab-restic", "forget", "--prune", *before)
    on_host("lab-kronos", "homelab-restic", "forget", "--keep-last", "1", "--prune")
    assert [snapshot["id"] for snapshot in snapshots("lab-kronos")] == before


@pytest.mark.parametrize("extra, message", [
    (["-e", "restore_service=nothing-here"], "nothing-here is not a service of the catalog"),
    (["-e", "restore_service=web"], "web has no volume that is backed up"),
    (["-e", "restore_service=files", "-e", "restore_snapshot=deadbeef"], "deadbeef"),
])
def test_a_bad_restore_changes_nothing(drill, extra, message):
    started = started_at("lab-kronos", "files")
    count = len(snapshots("lab-kronos"))
    returncode, output = playbook("restore", *extra, expect_ok=False)
    assert returncode != 0 and message in output, output[-3000:]
    assert started_at("lab-kronos", "files") == started
    assert len(snapshots("lab-kronos")) == count


# notes on jove (site A) has its database on the PostgreSQL on kronos (site B): the catalog's
# one database field gives it the connection in its environment and the password as a
# Podman secret; it reaches kronos's mesh address, where 5432 is published for it only.
NOTES_QUERY = ('PGPASSWORD="$DATABASE_PASSWORD" psql -X -tA -v ON_ERROR_STOP=1 -h "$DATABASE_HOST"'
               ' -p "$DATABASE_PORT" -U "$DATABASE_USER" -d "$DATABASE_NAME" -c "$LAB_SQL"')


def notes_query(sql):
    """Run ``sql`` from the notes container on jove, with the connection and password it was given."""
    return on_host("lab-jove", "podman", "exec", "-e", f"LAB_SQL={sql}", "notes", "sh", "-c", NOTES_QUERY)


def server_query(sql):
    """Run ``sql`` in the notes database on kronos, as the superuser over the local socket."""
    result = on_host("lab-kronos", "podman", "exec", "postgres", "psql", "-X", "-tA", "-v", "ON_ERROR_STOP=1",
                     "-U", "postgres", "-d", "notes", "-c", sql)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_database_server_and_its_app_run_healthy(lab):
    assert on_host("lab-kronos", "systemctl", "is-active", "postgres.service").stdout.strip() == "active"
    assert on_host("lab-kronos", "podman", "healthcheck", "run", "postgres").returncode == 0
    assert on_host("lab-jove", "systemctl", "is-active", "notes.service").stdout.strip() == "active"


def test_the_app_queries_its_database_across_sites_over_the_mesh(lab):
    env = dict(item.split("=", 1) for item in container_env("lab-jove", "notes") if "=" in item)
    assert {key: env.get(key) for key in ("DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME", "DATABASE_USER")} == {
        "DATABASE_HOST": "10.231.0.11", "DATABASE_PORT": "5432", "DATABASE_NAME": "notes", "DATABASE_USER": "notes"}
    result = notes_query("select current_user || ' ' || current_database()")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "notes notes"
    # The role owns its database: the app can make its tables.
    made = notes_query("create table if not exists lab_notes (body text); select 1")
    assert made.returncode == 0, made.stderr
    # kronos publishes PostgreSQL on its mesh address only, and only because an app elsewhere uses it.
    unit = on_host("lab-kronos", "cat", "/etc/containers/systemd/postgres.container").stdout
    assert [line for line in unit.splitlines() if line.startswith("PublishPort=")] == ["PublishPort=10.231.0.11:5432:5432"]


def test_the_database_passwords_are_in_no_unit_or_rendered_file(lab):
    password = on_host("lab-jove", "podman", "exec", "notes", "printenv", "DATABASE_PASSWORD").stdout.strip()
    assert len(password) == 64
    for container in HOSTS.values():
        for secret in (password, "lab-only-postgres-superuser"):
            # -D skip: the PostgreSQL socket lives under /var/lib/homelab on kronos.
            found = on_host(container, "sh", "-c", 'grep -rlF -D skip -- "$0" /etc/containers/systemd /etc/homelab'
                            ' $(ls -d /var/lib/homelab 2>/dev/null)', secret)
            assert found.returncode == 1 and found.stdout == "", f"{container}: {found.stdout}{found.stderr}"


def test_a_database_restore_brings_a_deleted_row_back(lab):
    # The drill of the backup layer, for a dumped database: a row, a backup, the row gone,
    # the restore, the row back (the dump is loaded into the running server).
    server_query("create table if not exists drill (id int primary key, body text);"
                 " insert into drill values (1, 'kept by the dump') on conflict do nothing")
    back_up("lab-kronos", "postgres")
    taken = snapshots("lab-kronos", "--tag", "service:postgres,volume:postgres-data")
    assert taken, "no snapshot of the postgres dump"
    server_query("delete from drill")
    assert server_query("select count(*) from drill") == "0"
    playbook("restore", "-e", "restore_service=postgres")
    assert server_query("select body from drill where id = 1") == "kept by the dump"
    assert on_host("lab-kronos", "podman", "healthcheck", "run", "postgres").returncode == 0
    # The app's role came back with the dump, its password with it.
    assert notes_query("select 1").returncode == 0


def test_backup_verify_passes_and_prints_its_table(drill):
    _returncode, output = playbook("backup_verify")
    for line in ("files-data", "traefik-acme", "result"):
        assert line in output


def test_backup_metrics_reach_prometheus(drill):
    stamp = 'homelab_backup_last_success_timestamp_seconds{service="files"}'
    assert eventually(lambda: (query(stamp, "volume").get("files-data") or 0) > 0, "the files backup's metric")


def test_backup_verify_fails_naming_a_damaged_repository(drill):
    # Last of the drill: it damages kronos's repository on jove for good.
    mountpoint = on_host("lab-jove", "podman", "volume", "inspect", "--format", "{{.Mountpoint}}",
                         "backup-a-data").stdout.strip()
    packs = on_host("lab-jove", "find", f"{mountpoint}/kronos/data", "-type", "f").stdout.split()
    assert packs
    for pack in packs:
        flip = on_host("lab-jove", "sh", "-c", f"printf 'XXXXXXXX' | dd of={pack} bs=1 seek=64 conv=notrunc 2>/dev/null")
        assert flip.returncode == 0
    returncode, output = playbook("backup_verify", "-e", "backup_verify_read_data_subset=100%", expect_ok=False)
    assert returncode != 0
    assert "kronos files-data at backup-a: failed" in output, output[-3000:]


# --- the base layer: nftables inside the lab hosts, sshd keys only, the admin user --------

MESH = {"jove": "10.231.0.10", "kronos": "10.231.0.11"}


LAB_APP_IMAGE = "localhost/homelab-lab-app:latest"
LAB_APP_COMMAND = '["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]'


def image_of(container, service):
    """The id of the image a service's container runs."""
    return on_host(container, "podman", "container", "inspect", "--format", "{{.Image}}", service).stdout.strip()


def tag_of(container, reference=LAB_APP_IMAGE):
    return on_host(container, "podman", "image", "inspect", "--format", "{{.Id}}", reference).stdout.strip()


def new_app_image(container, script):
    """A new version of the lab's app image on a host, as a pull would leave it: the tag
    names the current image changed by ``script``. Returns its id."""
    built = on_host(container, "podman", "run", "--name", "lab-new-image", "--network", "none", LAB_APP_IMAGE,
                    "/bin/busybox", "sh", "-c", script)
    assert built.returncode == 0, built.stderr
    committed = on_host(container, "podman", "commit", "--quiet", "--change", f"CMD {LAB_APP_COMMAND}",
                        "lab-new-image", LAB_APP_IMAGE)
    on_host(container, "podman", "rm", "lab-new-image")
    assert committed.returncode == 0, committed.stderr
    return tag_of(container)


def test_update_refuses_an_unknown_service_before_any_change(lab):
    returncode, output = playbook("update", "-e", '{"update_services": ["nope"]}', expect_ok=False)
    assert returncode != 0
    assert "update_services: nope is not a service of the catalog" in output
    assert all(counts[1] == 0 for counts in recap(output).values())


def test_update_moves_a_service_to_its_new_image_after_a_backup(lab):
    before = image_of("lab-kronos", "files")
    new = new_app_image("lab-kronos", "echo lab-update-2 > /www/version.txt")
    assert new != before

    _returncode, checked = playbook("update", "--check")
    assert f"files: {LAB_APP_IMAGE} {before[:12]} -> {new[:12]}, after a backup of files" in checked
    assert image_of("lab-kronos", "files") == before

    _returncode, output = playbook("update")
    assert {name: counts[1] > 0 for name, counts in recap(output).items()} == {"jove": False, "kronos": True}
    assert image_of("lab-kronos", "files") == new
    assert through_edge("files", "/version.txt")[::2] == (200, b"lab-update-2\n")
    # The volume was backed up first, and the image it ran is kept under its rollback name.
    assert [set(snapshot["tags"]) for snapshot in snapshots("lab-kronos", "--tag", "pre-update")] == [
        {"service:files", "volume:files-data", "pre-update"}]
    assert tag_of("lab-kronos", "localhost/homelab-rollback/files:previous") == before

    _returncode, again = playbook("update")
    assert {name: counts[1] for name, counts in recap(again).items()} == {"jove": 0, "kronos": 0}


def test_update_rolls_back_what_does_not_become_healthy_and_stops_before_the_next_site(lab):
    # jove (site A, updated first): the app image loses its page, so api's health check fails.
    # kronos (site B) has a new image too, which it must not get: the run stops at jove.
    ran = {service: image_of("lab-jove", service) for service in ("api", "web", "edge-pages")}
    previous = tag_of("lab-jove")
    broken = new_app_image("lab-jove", "rm /www/index.html")
    kronos_ran = image_of("lab-kronos", "files")
    kronos_new = new_app_image("lab-kronos", "echo lab-update-3 > /www/version.txt")
    try:
        returncode, output = playbook("update", "-e", "update_health_timeout=10", expect_ok=False)
        assert returncode != 0
        failed = re.search(r"^fatal: \[jove\]: FAILED! => (\{.*\})$", output, re.M)
        assert failed, output[-3000:]
        message = json.loads(failed[1])["msg"]
        assert re.match(rf"^[a-z, -]+: rolled back to {previous[:12]} \({LAB_APP_IMAGE} {broken[:12]} did not become"
                        r" healthy within 10 s\)", message), message
        assert set(message.split(":", 1)[0].split(", ")) == set(ran)
        assert tag_of("lab-jove") == previous
        assert {service: image_of("lab-jove", service) for service in ran} == ran
        assert on_host("lab-jove", "podman", "healthcheck", "run", "api").returncode == 0
        assert through_edge("web")[0] == 200
        assert image_of("lab-kronos", "files") == kronos_ran
    finally:
        on_host("lab-kronos", "podman", "tag", kronos_ran, LAB_APP_IMAGE)
        on_host("lab-kronos", "podman", "rmi", kronos_new)
        on_host("lab-jove", "podman", "rmi", broken)


def connects(address, port):
    """Whether a TCP connection from the controller to ``address:port`` is accepted (a dropped
    SYN waits out the timeout; a refused one fails at once)."""
    try:
        with socket.create_connection((address, port), timeout=5):
            return True
    except OSError:
        return False


def lab_ssh(user, *command, **options):
    """ssh from the controller to lab-jove with the lab's key and known hosts."""
    state = ROOT / ".lab"
    args = ["ssh", "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={state / 'known_hosts'}",
            "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10"]
    for key, value in options.items():
        args += ["-o", f"{key}={value}"]
    return subprocess.run([*args, "-i", str(state / "id_ed25519"), f"{user}@{MESH['jove']}", *command],
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_firewall_table_is_loaded_next_to_podmans(lab):
    for container in HOSTS.values():
        tables = on_host(container, "nft", "list", "tables").stdout.splitlines()
        assert "table inet homelab" in tables
        assert on_host(container, "systemctl", "is-active", "homelab-firewall.service").stdout.strip() == "active"
        assert "policy drop" in on_host(container, "nft", "list", "chain", "inet", "homelab", "input").stdout


def test_a_port_not_in_the_catalog_is_closed_while_the_edge_answers(lab):
    # A listener on every address of jove, on a port no catalog entry publishes: it answers on
    # the host itself, and the controller on the mesh cannot reach it; the edge's 443 can.
    started = on_host("lab-jove", "sh", "-c", "python3 -m http.server 9999 >/dev/null 2>&1 & echo $!")
    pid = started.stdout.strip()
    assert pid.isdigit(), started.stderr
    try:
        assert eventually(lambda: on_host("lab-jove", "curl", "-sf", "--max-time", "2",
                                          "http://127.0.0.1:9999/").returncode == 0, "the listener on lab-jove")
        assert not connects(MESH["jove"], 9999)
        assert connects(MESH["jove"], 443)
        status, _headers, body = through_edge("web")
        assert status == 200 and b"homelab lab app" in body
    finally:
        on_host("lab-jove", "kill", pid)


def test_a_mesh_port_answers_on_the_mesh(lab):
    # files (kronos) is routed by jove's edge over the mesh: its mesh port stays open to the mesh.
    assert connects(MESH["kronos"], 8080)


def test_sshd_refuses_passwords_and_keyboard_interactive(lab):
    effective = on_host("lab-jove", "/usr/sbin/sshd", "-T").stdout.splitlines()
    assert "passwordauthentication no" in effective
    assert "kbdinteractiveauthentication no" in effective
    answer = lab_ssh("labadmin", "true", PubkeyAuthentication="no",
                     PreferredAuthentications="password,keyboard-interactive")
    assert answer.returncode != 0
    assert "Permission denied (publickey)" in answer.stderr


def test_the_admin_user_logs_in_with_its_key_and_may_use_sudo(lab):
    key = (ROOT / ".lab" / "id_ed25519.pub").read_text().strip()
    assert on_host("lab-jove", "cat", "/home/labadmin/.ssh/authorized_keys").stdout.strip() == key
    answer = lab_ssh("labadmin", "sudo", "-n", "id", "-un")
    assert answer.returncode == 0 and answer.stdout.strip() == "root", answer.stderr


# No lab secret in clear anywhere but the root-only places meant for it: Podman's secret store
# and the backup role's 0600 files (restic's password and environment, the rest-server's copy
# of each client's password). Looked for after the backup drill, so that the backup and
# restore runs are covered too. The values go to grep on its standard input, never on a
# command line.
SCANNED = ["/etc", "/usr/local", "/var/lib/containers/storage/secrets", "/run/systemd", "/root"]  # and /var/lib/homelab*
SECRET_STORES = ("/etc/homelab/backup/", "/var/lib/containers/storage/secrets/")
FILES_WITH_PATTERNS = ('umask 077; patterns="$(mktemp)"; trap \'rm -f "$patterns"\' EXIT; cat >"$patterns"; '
                       'grep -rlsF -D skip -f "$patterns" "$@" /var/lib/homelab* '
                       '| while IFS= read -r path; do stat -c "%a %n" "$path"; done')


def secret_values():
    """{value: "group.name"} of every lab secret, all that lab.sh makes."""
    found = lab_secrets()
    assert {group: set(values) for group, values in found.items()} == LAB_SECRETS
    return {value: f"{group}.{name}" for group, values in found.items() for name, value in values.items()}


def leaked(values, text):
    """Which secrets ("group.name", never the value) ``text`` holds."""
    return sorted(where for value, where in values.items() if value in text)


def test_the_lab_keeps_its_secrets_sops_encrypted_for_its_own_age_key(lab):
    key = ROOT / ".lab" / "age-key.txt"
    assert key.stat().st_mode & 0o777 == 0o600
    recipient = subprocess.run(["age-keygen", "-y", str(key)], capture_output=True, text=True, check=True).stdout.strip()
    for group in LAB_SECRETS:
        document = yaml.safe_load((ROOT / ".lab" / "group_vars" / f"{group}.sops.yaml").read_text())
        assert [entry["recipient"] for entry in document["sops"]["age"]] == [recipient], group
    values = secret_values()
    names = set().union(*LAB_SECRETS.values())
    for path in (ROOT / "tests" / "lab" / "inventory" / "group_vars").glob("*.yml"):
        assert not names & set(yaml.safe_load(path.read_text())), f"{path.name} sets a lab secret in clear"
    for path in [*(ROOT / ".lab").rglob("*"), *(ROOT / "tests" / "lab").rglob("*")]:
        if path.is_file():
            assert leaked(values, path.read_bytes().decode(errors="replace")) == [], path


@pytest.mark.parametrize("container", HOSTS.values())
def test_no_lab_secret_in_a_unit_a_config_or_a_readable_file(drill, container):
    values = secret_values()
    result = subprocess.run(["podman", "exec", "-i", container, "sh", "-c", FILES_WITH_PATTERNS, "scan", *SCANNED],
                            input="".join(f"{value}\n" for value in values), capture_output=True, text=True,
                            timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    holders = {path: int(mode, 8) for mode, path in (line.split(" ", 1) for line in result.stdout.splitlines())}
    misplaced = {path: oct(mode) for path, mode in holders.items() if not path.startswith(SECRET_STORES) or mode & 0o077}
    assert misplaced == {}, "a lab secret outside the root-only secret stores, or readable by others than root"
    # The scan finds what it looks for: the backup role's password files hold the host's own.
    assert [path for path in holders if path.startswith("/etc/homelab/backup/repositories/")], holders


@pytest.mark.parametrize("container", HOSTS.values())
def test_no_lab_secret_in_the_journal(drill, container):
    values = secret_values()
    journal = subprocess.run(["podman", "exec", container, "journalctl", "--no-pager", "-o", "json"],
                             capture_output=True, text=True, timeout=300, check=False)
    assert journal.returncode == 0 and journal.stdout, journal.stderr
    where = set()
    for line in journal.stdout.splitlines():
        for secret in leaked(values, line):
            entry = json.loads(line)
            where.add(f"{secret} in {entry.get('_SYSTEMD_UNIT') or entry.get('SYSLOG_IDENTIFIER')}")
    assert where == set()


def test_no_lab_secret_in_the_ansible_output(lab):
    values = secret_values()
    runs = {"first make lab (-v)": lab[0], "second make lab": lab[1]}
    assert {name: leaked(values, output) for name, output in runs.items()} == {name: [] for name in runs}


def documented_tags(role):
    """The tags a role's README lists under "## Tags"."""
    readme = (ROOT / "roles" / role / "README.md").read_text()
    section = readme.split("## Tags", 1)[1].split("\n## ", 1)[0]
    return list(dict.fromkeys(re.findall(rf"`({role}_[a-z_]+)`", section)))


@pytest.mark.parametrize("tag", documented_tags("podman") + documented_tags("service") + documented_tags("traefik")
                         + documented_tags("monitoring") + documented_tags("backup") + documented_tags("base"))
def test_every_documented_tag_runs_alone(lab, tag):
    hosts = recap(converge("--tags", tag))
    assert {name: counts[1:] for name, counts in hosts.items()} == {"jove": (0, 0, 0), "kronos": (0, 0, 0)}


def converge(*extra, kill_at=None):
    """Run the site playbook on the lab; with ``kill_at``, SIGKILL it when that line starts."""
    command = ["ansible-playbook", "-i", "tests/lab/inventory", "-i", ".lab/inventory.yml", "playbooks/site.yml", *extra]
    process = subprocess.Popen(command, cwd=ROOT, env=lab_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if kill_at and line.startswith(kill_at):
                os.killpg(process.pid, signal.SIGKILL)
                break
        process.wait(timeout=600)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    output = "".join(lines)
    if kill_at:
        assert process.returncode == -signal.SIGKILL, f"the converge ended before {kill_at!r}:\n{output[-3000:]}"
    else:
        assert process.returncode == 0, f"the converge failed:\n{output[-4000:]}"
    return output


def container_env(container, service):
    """The environment the container's main process runs with (podman exec would show
    secrets as they are now, not as the process got them)."""
    return on_host(container, "podman", "exec", service, "cat", "/proc/1/environ").stdout.split("\0")


def started_at(container, service):
    """When the service last became active, on the clock every lab container shares."""
    return int(on_host(container, "systemctl", "show", "-P", "ActiveEnterTimestampMonotonic",
                       f"{service}.service").stdout.strip())


def test_a_dependency_on_another_host_starts_first(lab):
    # files on kronos depends on api on jove: with both stopped, the services layer
    # converges jove (api started and healthy) before kronos starts files.
    on_host("lab-kronos", "systemctl", "stop", "files.service")
    on_host("lab-jove", "systemctl", "stop", "api.service")
    converge()
    assert started_at("lab-jove", "api") > 0
    assert started_at("lab-kronos", "files") > started_at("lab-jove", "api")


def test_a_killed_converge_converges_when_run_again(lab):
    # A new environment value on jove and a rotated secret on kronos; the converge is
    # killed once every unit and secret is written, before anything restarts.
    change = ["-e", "lab_api_revision=2", "-e", "lab_files_token=rotated-lab-token"]
    converge(*change, kill_at="TASK [homelab.stack.service : Start, restart or reload what the plan says")
    assert "LAB_REVISION=1" in container_env("lab-jove", "api")
    assert f"FILES_TOKEN={lab_secrets()['all']['lab_files_token']}" in container_env("lab-kronos", "files")
    assert "LAB_REVISION=2" in on_host("lab-jove", "cat", "/etc/containers/systemd/api.container").stdout

    again = recap(converge(*change))
    assert again["jove"][1] > 0 and again["kronos"][1] > 0
    assert "LAB_REVISION=2" in container_env("lab-jove", "api")
    assert "FILES_TOKEN=rotated-lab-token" in container_env("lab-kronos", "files")

    settled = recap(converge(*change))
    assert {name: counts[1] for name, counts in settled.items()} == {"jove": 0, "kronos": 0}


def test_lab_down_leaves_nothing(lab):
    # Runs last in this module (pytest keeps file order): take the lab down and look.
    make("lab-down")
    assert lab_leftovers() == []
    assert not (ROOT / ".lab").exists()

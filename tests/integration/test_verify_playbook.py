"""playbooks/verify.yml run on this machine as the edge and Prometheus host of a tiny site.

What it reads is real where that can run here: the route probe is the playbook's own curl
script against an HTTPS server on the loopback with a certificate of a test CA (the edge's
TLS mode internal), Prometheus' targets API an HTTP server on the loopback, the backup
metrics a textfile like the runner's. Only systemctl is a stand-in (no systemd here),
which prints the states a test gives it.
"""

import http.server
import json
import os
import ssl
import sys
import threading
import time

import pytest
import yaml

from ansible_run import ROOT
from loopback import free_port, make_certificates

DOMAIN = "site.test"
# systemctl show --property=Id,LoadState,ActiveState,SubState -- UNIT...: the units named in
# $FAKE_SYSTEMCTL_INACTIVE (one a line) are inactive, the others active.
FAKE_SYSTEMCTL = """#!/bin/sh
[ "$1" = show ] || { echo "fake systemctl: unexpected call: $*" >&2; exit 99; }
shift 2
[ "$1" = -- ] && shift
for unit; do
  state=active
  grep -qx "$unit" "$FAKE_SYSTEMCTL_INACTIVE" 2>/dev/null && state=inactive
  printf 'Id=%s\\nLoadState=loaded\\nActiveState=%s\\nSubState=x\\n\\n' "$unit" "$state"
done
"""


class Answers:
    """What the fake edge answers per host name, and what the fake Prometheus says."""

    def __init__(self):
        self.routes = {f"web.{DOMAIN}": 200, f"api.{DOMAIN}": 500}
        self.targets = [{"labels": {"job": "node", "instance": "jove:9100"}, "health": "up", "lastError": ""}]


def serve(handler_class, port, context=None):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler_class)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(name="site")
def site_fixture(tmp_path):
    """The tiny site: servers running, an inventory, a fake systemctl; yields a runner of the playbook."""
    answers = Answers()
    certificates = make_certificates(tmp_path, [f"*.{DOMAIN}"])

    class Edge(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            status = answers.routes.get(self.headers["Host"], 404)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args):
            pass

    class Prometheus(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = json.dumps({"status": "success", "data": {"activeTargets": answers.targets,
                                                             "droppedTargets": []}}).encode()
            self.send_response(200 if self.path == "/api/v1/targets" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates["edge.crt"], certificates["edge.key"])
    edge_port, prometheus_port = free_port(), free_port()
    servers = [serve(Edge, edge_port, context), serve(Prometheus, prometheus_port)]

    bin_dir, metrics_dir = tmp_path / "bin", tmp_path / "metrics"
    bin_dir.mkdir()
    metrics_dir.mkdir()
    (bin_dir / "systemctl").write_text(FAKE_SYSTEMCTL)
    (bin_dir / "systemctl").chmod(0o755)
    inactive = tmp_path / "inactive"
    inactive.write_text("")
    (metrics_dir / "homelab_backup_files.prom").write_text(
        f'homelab_backup_last_success_timestamp_seconds{{service="files",volume="files-data"}} {int(time.time()) - 60}\n')
    app = "localhost/app:1"
    services = [
        {"name": "traefik", "host": "jove", "platform": "traefik"},
        {"name": "prometheus", "host": "jove", "platform": "prometheus",
         "publish": [f"127.0.0.1:{prometheus_port}:9090"]},
        {"name": "api", "host": "jove", "image": app, "port": 8080, "route": {"auth": "sso"}},
        {"name": "web", "host": "jove", "image": app, "port": 8080, "route": {"auth": "none"}},
        {"name": "files", "host": "jove", "image": app, "volumes": [{"name": "data", "mount": "/data", "backup": "daily"}]},
    ]
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {
        "children": {"podman_hosts": {"hosts": {"jove": None}}, "edge": {"hosts": {"jove": None}}},
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                 "homelab_domain": DOMAIN, "homelab_edge_host": "jove", "homelab_services": services,
                 "verify_route_ca_file": certificates["ca.pem"], "verify_edge_address": f"127.0.0.1:{edge_port}",
                 "verify_backup_metrics_dir": str(metrics_dir)}}}))
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_SYSTEMCTL_INACTIVE": str(inactive),
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}

    def run(*extra):
        import subprocess  # pylint: disable=import-outside-toplevel
        result = subprocess.run(["ansible-playbook", "-i", str(inventory), "playbooks/verify.yml", *extra], cwd=ROOT,
                                env=env, capture_output=True, text=True, timeout=300, check=False)
        return result.returncode, result.stdout + result.stderr

    run.answers, run.inactive, run.metrics, run.tmp = answers, inactive, metrics_dir, tmp_path
    yield run
    for server in servers:
        server.shutdown()
        server.server_close()


def table(output):
    """The rows of the printed table, each split in words."""
    start = output.index('"msg": [')
    return [line.strip().strip('",').split() for line in output[start:].splitlines()[1:] if line.strip().startswith('"')]


def test_a_healthy_site_passes_changing_nothing_and_prints_one_table(site):
    code, output = site()
    assert code == 0, output[-3000:]
    assert "changed=0" in output and "failed=0" in output
    rows = table(output)
    assert rows[0] == ["what", "where", "state"]
    assert ["unit", "web.service", "jove", "active"] in rows
    assert ["route", f"https://web.{DOMAIN}/", "(none)", "jove", "200"] in rows
    assert ["route", f"https://api.{DOMAIN}/", "(sso)", "jove", "500"] in rows
    assert ["target", "node", "jove:9100", "jove", "up"] in rows
    assert ["backup", "files-data", "(daily)", "jove", "1m", "ago"] in rows
    # traefik's certificate volume has not been backed up yet; its timer is active.
    assert ["backup", "traefik-acme", "(daily)", "jove", "waiting", "for", "its", "first", "run"] in rows


def test_check_mode_reads_and_judges_all_the_same(site):
    code, output = site("--check")
    assert code == 0, output[-3000:]
    assert ["route", f"https://web.{DOMAIN}/", "(none)", "jove", "200"] in table(output)


def test_a_stopped_unit_fails_naming_it(site):
    site.inactive.write_text("web.service\n")
    code, output = site()
    assert code != 0
    assert "jove: unit web.service: inactive" in output
    assert ["unit", "web.service", "jove", "inactive"] in table(output)


def test_a_route_answering_wrong_fails_naming_it(site):
    site.answers.routes[f"api.{DOMAIN}"] = 200
    site.answers.routes[f"web.{DOMAIN}"] = 503
    code, output = site()
    assert code != 0
    assert f"jove: route https://api.{DOMAIN}/ (sso): 200: answers 200 without sign-in" in output
    assert f"jove: route https://web.{DOMAIN}/ (none): 503: answers 503, not 2xx" in output


def test_a_certificate_the_ca_does_not_verify_fails_every_route(site):
    other = site.tmp / "other"
    other.mkdir()
    code, output = site("-e", f"verify_route_ca_file={make_certificates(other, ['x.test'])['ca.pem']}")
    assert code != 0
    assert f"jove: route https://web.{DOMAIN}/ (none): certificate not trusted" in output
    assert f"jove: route https://api.{DOMAIN}/ (sso): certificate not trusted" in output


def test_a_target_down_and_a_stale_backup_fail_naming_them(site):
    site.answers.targets.append({"labels": {"job": "files", "instance": "jove:8080"}, "health": "down",
                                 "lastError": "connection refused"})
    (site.metrics / "homelab_backup_files.prom").write_text(
        f'homelab_backup_last_success_timestamp_seconds{{service="files",volume="files-data"}} {int(time.time()) - 3 * 86400}\n')
    # Asked once more, 5 s later, before the report believes it.
    code, output = site("-e", "verify_target_retries=1")
    assert code != 0
    assert "jove: target files jove:8080: down: connection refused" in output
    assert "jove: backup files-data (daily): stale 3d: last good snapshot 3d ago, daily allows 2d" in output

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The monitoring files for real: prometheus.yml, alertmanager.yml and blackbox.yml rendered
by the collection's filters, checked by the real tools (``promtool check config``,
``amtool check-config``, the exporter's ``--config.check``), then run by the real binaries
(Debian's packages) on loopback ports: node_exporter, blackbox_exporter, Alertmanager and
Prometheus, scraping every second.

Behind the probes is a TLS app whose paths answer as routes do (an open route 200, a
route that leaks 200, a guarded route 401 or the redirect to sign in) with a certificate
from a test CA, the blackbox exporter's ``ca_file``. Alertmanager notifies a fake webhook
receiver (tests/fakes/alert_receiver.py), one path per receiver. The rules are the test's
own (``RULES``): the contract's BackupStale and NodeDown expressions without their ``for``
wait (promtool rule tests cover the durations), as the role's rule file is not on this branch.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import time
import urllib.parse
import urllib.request

import pytest
import yaml

from ansible_collections.homelab.stack.plugins.filter.alertmanager_config import FilterModule as AlertmanagerFilter
from ansible_collections.homelab.stack.plugins.filter.blackbox_config import FilterModule as BlackboxFilter
from ansible_collections.homelab.stack.plugins.filter.prometheus_config import FilterModule as PrometheusFilter
from fakes import FakeHandler, FakeServer
from fakes.alert_receiver import FakeAlertReceiver
from loopback import free_port, make_certificates

prometheus_config = PrometheusFilter().filters()["prometheus_config"]
alertmanager_config = AlertmanagerFilter().filters()["alertmanager_config"]
blackbox_config = BlackboxFilter().filters()["blackbox_config"]

# What each path of the route app answers: as an open route, a guarded route that leaks
# (the app answers strangers), a guarded route's denial, its redirect to sign in.
ANSWERS = {"/open": 200, "/leaky": 200, "/denied": 401, "/redirect": 302, "/sign-in": 200}
CRITICAL_PATH = "/ntfy/homelab-critical"
WARNING_PATH = "/hook/warning"
RULES = {"groups": [{"name": "homelab-test", "rules": [
    {"alert": "NodeDown", "expr": 'up{job="node"} == 0', "labels": {"severity": "critical"},
     "annotations": {"summary": "{{ $labels.host }} is down", "description": "node_exporter does not answer."}},
    {"alert": "BackupStale",
     "expr": "time() - homelab_backup_last_success_timestamp_seconds > 2 * homelab_backup_interval_seconds",
     "labels": {"severity": "warning"},
     "annotations": {"summary": "{{ $labels.service }}/{{ $labels.volume }} has no recent backup",
                     "description": "The last good snapshot is older than two periods."}},
]}]}
TIMEOUT = 30


class RouteApp(FakeServer):
    """HTTPS answers by path (ANSWERS); the redirect points to the sign-in page."""

    thread_name = "fake-route-app"
    handler_class = property(lambda self: _RouteHandler)

    def __init__(self, certs):
        super().__init__()
        self.ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ssl_context.load_cert_chain(certs["edge.crt"], certs["edge.key"])


class _RouteHandler(FakeHandler):
    def handle_request(self):
        self.fake.record({"method": self.command, "path": self.path})
        status = ANSWERS.get(self.path, 404)
        body = b"route %d" % status
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/sign-in")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def get_json(url, data=None):
    request = urllib.request.Request(url, data=None if data is None else json.dumps(data).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read() or b"null")


class Stack:
    """The rendered files in a tmp dir and the four processes on free loopback ports."""

    def __init__(self, tmp, tool, receiver, routes, certs):
        self.tmp = tmp
        self.tool = tool
        self.receiver = receiver
        self.routes = routes
        self.ports = {name: free_port() for name in ("node", "blackbox", "alertmanager", "prometheus")}
        self.processes = {}
        self.logs = {}
        self.textfile_dir = tmp / "textfile"
        self.textfile_dir.mkdir()
        (tmp / "rules").mkdir()
        (tmp / "rules" / "homelab.rules.yml").write_text(yaml.safe_dump(RULES))
        (tmp / "smtp-password").write_text("not used by the test\n")
        self.files = {
            "prometheus.yml": prometheus_config(self.view(), alertmanager=self.address("alertmanager"),
                                                blackbox=self.address("blackbox"), scrape_interval="1s",
                                                evaluation_interval="1s", rule_files=[str(tmp / "rules" / "*.yml")]),
            "alertmanager.yml": alertmanager_config(self.receivers(), critical="pager", warning="hook",
                                                    group_wait="1s", group_interval="1s", repeat_interval="1h"),
            "blackbox.yml": blackbox_config({}, ca_file=certs["ca.pem"]),
        }
        for name, text in self.files.items():
            (tmp / name).write_text(text)

    def address(self, name):
        return "127.0.0.1:%d" % self.ports[name]

    def view(self):
        """The monitoring targets view of a site whose host kronos runs all of it."""
        def target(name, **labels):
            return {"address": self.address(name), "labels": labels}

        def probe(module, url, **labels):
            return {"module": module, "target": url, "labels": dict(labels, instance=url)}

        return {
            "prometheus_host": "kronos",
            "jobs": [
                {"job": "node", "metrics_path": "/metrics",
                 "targets": [target("node", instance="kronos:9100", host="kronos")]},
                {"job": "prometheus", "metrics_path": "/metrics",
                 "targets": [target("prometheus", service="prometheus", host="kronos")]},
                {"job": "alertmanager", "metrics_path": "/metrics",
                 "targets": [target("alertmanager", service="alertmanager", host="kronos")]},
            ],
            "probes": [
                probe("http_2xx", self.routes.url + "/open", service="open", auth="none", probe="route"),
                probe("http_sso", self.routes.url + "/leaky", service="leaky", auth="sso", probe="route"),
                probe("http_sso", self.routes.url + "/denied", service="denied", auth="sso", probe="route"),
                probe("http_sso", self.routes.url + "/redirect", service="redirect", auth="sso", probe="route"),
                # A route served over plain HTTP fails: the routes are HTTPS only.
                probe("http_2xx", "http://%s/metrics" % self.address("node"), service="plain", auth="none",
                      probe="route"),
                {"module": "tcp_connect", "target": self.address("node"),
                 "labels": {"probe": "tcp", "instance": "jove", "host": "jove"}},
                {"module": "icmp", "target": "127.0.0.1", "labels": {"probe": "icmp", "instance": "jove-icmp", "host": "jove"}},
            ],
        }

    def receivers(self):
        return [
            {"name": "pager", "type": "ntfy", "url": self.receiver.url + CRITICAL_PATH},
            {"name": "hook", "type": "webhook", "url": self.receiver.url + WARNING_PATH},
            {"name": "mail", "type": "email", "to": "admin@example.com", "from": "alertmanager@example.com",
             "smarthost": "127.0.0.1:25", "auth_username": "alertmanager",
             "auth_password_file": str(self.tmp / "smtp-password")},
        ]

    def start(self):
        def config(name):
            return "--config.file=%s" % (self.tmp / name)

        self.spawn("node", [self.tool("node_exporter"), "--web.listen-address=" + self.address("node"),
                            "--collector.disable-defaults", "--collector.textfile",
                            "--collector.textfile.directory=%s" % self.textfile_dir])
        self.spawn("blackbox", [self.tool("blackbox_exporter"), config("blackbox.yml"),
                                "--web.listen-address=" + self.address("blackbox")])
        self.spawn("alertmanager", [self.tool("alertmanager"), config("alertmanager.yml"),
                                    "--storage.path=%s" % (self.tmp / "alertmanager-data"),
                                    "--web.listen-address=" + self.address("alertmanager"),
                                    "--cluster.listen-address="])
        self.spawn("prometheus", [self.tool("prometheus"), config("prometheus.yml"),
                                  "--storage.tsdb.path=%s" % (self.tmp / "prometheus-data"),
                                  "--web.listen-address=" + self.address("prometheus")])
        for name, path in (("node", "/metrics"), ("blackbox", "/metrics"), ("alertmanager", "/-/ready"),
                           ("prometheus", "/-/ready")):
            self.wait_for(lambda name=name, path=path: self.answers(name, path), "%s to answer" % name)

    def spawn(self, name, argv):
        self.logs[name] = open(self.tmp / ("%s.log" % name), "wb")
        self.processes[name] = subprocess.Popen(argv, stdout=self.logs[name], stderr=subprocess.STDOUT)

    def stop(self, name):
        process = self.processes.pop(name)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self.logs.pop(name).close()

    def stop_all(self):
        for name in list(self.processes):
            self.stop(name)

    def answers(self, name, path):
        with urllib.request.urlopen("http://%s%s" % (self.address(name), path), timeout=2) as response:
            return response.status == 200

    def query(self, expr):
        """The instant vector of ``expr`` as {instance: value}."""
        answer = get_json("http://%s/api/v1/query?%s" % (self.address("prometheus"), urllib.parse.urlencode({"query": expr})))
        return {sample["metric"].get("instance"): float(sample["value"][1]) for sample in answer["data"]["result"]}

    def wait_for(self, check, what):
        """Poll ``check`` until it returns something true; fail with the processes' logs."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    pytest.fail("%s exited (%s) while waiting for %s:\n%s"
                                % (name, process.returncode, what, self.log(name)))
            try:
                result = check()
                if result:
                    return result
            except OSError:
                pass
            time.sleep(0.2)
        return pytest.fail("timed out waiting for %s; logs:\n%s" % (
            what, "\n".join("== %s\n%s" % (name, self.log(name)) for name in self.processes)))

    def log(self, name):
        return (self.tmp / ("%s.log" % name)).read_text(errors="replace")[-3000:]


@pytest.fixture(name="stack", scope="module")
def stack_fixture(tmp_path_factory, prometheus_tool):
    tmp = tmp_path_factory.mktemp("monitoring")
    certs = make_certificates(tmp, ["127.0.0.1"])
    receiver = FakeAlertReceiver().start()
    routes = RouteApp(certs).start()
    stack = Stack(tmp, prometheus_tool, receiver, routes, certs)
    try:
        yield stack
    finally:
        stack.stop_all()
        routes.stop()
        receiver.stop()
    assert receiver.contract_violations == []


@pytest.fixture(name="running", scope="module")
def running_fixture(stack):
    stack.start()
    return stack


def check(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_the_rendered_files_pass_the_real_checks(stack, prometheus_tool):
    tmp = stack.tmp
    promtool = check([prometheus_tool("promtool"), "check", "config", str(tmp / "prometheus.yml")])
    assert promtool.returncode == 0, promtool.stdout + promtool.stderr
    assert "1 rule files found" in promtool.stdout  # the rule file was found and checked too
    amtool = check([prometheus_tool("amtool"), "check-config", str(tmp / "alertmanager.yml")])
    assert amtool.returncode == 0, amtool.stdout + amtool.stderr
    assert "3 receivers" in amtool.stdout and "1 inhibit rules" in amtool.stdout
    exporter = check([prometheus_tool("blackbox_exporter"), "--config.check", "--config.file=%s" % (tmp / "blackbox.yml")])
    assert exporter.returncode == 0, exporter.stdout + exporter.stderr


@pytest.mark.parametrize("name, broken, command", [
    ("prometheus.yml", ("  evaluation_interval: 1s\n", "  evaluation_interval: 1s\n  evaluation_intervall: 1s\n"),
     ["promtool", "check", "config", "{}"]),
    ("alertmanager.yml", ("  group_by:\n", "  group_byy:\n"), ["amtool", "check-config", "{}"]),
    ("blackbox.yml", ("      follow_redirects: false\n", "      follow_redirect: false\n"),
     ["blackbox_exporter", "--config.check", "--config.file={}"]),
])
def test_the_checks_refuse_a_broken_file(stack, prometheus_tool, name, broken, command):
    """The checks above are strict: one misspelt key fails each of them."""
    text = stack.files[name]
    assert broken[0] in text
    path = stack.tmp / ("broken-" + name)
    path.write_text(text.replace(broken[0], broken[1], 1))
    assert check([prometheus_tool(command[0])] + [arg.format(path) for arg in command[1:]]).returncode != 0


def test_the_node_target_is_up_with_its_labels(running):
    up = running.wait_for(lambda: running.query('up{job="node", host="kronos"}'), "the node target's first scrape")
    assert up == {"kronos:9100": 1.0}

    def every_target_up():
        up = running.query("up")
        return len(up) == 3 + 7 and set(up.values()) == {1.0} and up

    up = running.wait_for(every_target_up, "every target up")
    # Scrape jobs without an instance label are named by their address.
    assert running.address("prometheus") in up and running.address("alertmanager") in up


def test_the_probes_expect_what_each_route_should_answer(running):
    url = running.routes.url
    expected = {  # instance: (probe_success, probe_http_status_code)
        url + "/open": (1.0, 200.0),
        url + "/leaky": (0.0, 200.0),  # an SSO route answering 200 leaks: RouteLeaking
        url + "/denied": (1.0, 401.0),
        url + "/redirect": (1.0, 302.0),  # the redirect itself, not the sign-in page behind it
    }
    success = running.wait_for(lambda: len(running.query('probe_success{job="blackbox"}')) == 7
                               and running.query('probe_success{job="blackbox"}'), "every probe's first result")
    status = running.query('probe_http_status_code{job="blackbox", probe="route"}')
    assert {instance: (success[instance], status[instance]) for instance in expected} == expected
    assert success["http://%s/metrics" % running.address("node")] == 0.0  # plain HTTP
    assert success["jove"] == 1.0  # tcp_connect to the node exporter's port
    assert success["jove-icmp"] == 1.0  # ping: raw sockets, the test runs as root
    # The modules are chosen by the module label, the certificate checked against the CA file.
    assert running.query('probe_success{module="http_sso"}').keys() == {url + "/leaky", url + "/denied", url + "/redirect"}
    assert url + "/open" in running.query("probe_ssl_earliest_cert_expiry > time()")


def test_a_stale_backup_fires_a_warning_that_reaches_the_warning_receiver(running):
    now = time.time()
    (running.textfile_dir / "backup.prom").write_text(
        "homelab_backup_last_success_timestamp_seconds{service=\"files\",volume=\"data\"} %d\n"
        "homelab_backup_interval_seconds{service=\"files\",volume=\"data\"} 86400\n"
        "homelab_backup_last_success_timestamp_seconds{service=\"files\",volume=\"fresh\"} %d\n"
        "homelab_backup_interval_seconds{service=\"files\",volume=\"fresh\"} 3600\n" % (now - 3 * 86400, now - 60))
    alerts = running.wait_for(lambda: [alert for alert in running.receiver.alerts(WARNING_PATH)
                                       if alert["labels"]["alertname"] == "BackupStale"], "BackupStale at the webhook")
    labels = alerts[0]["labels"]
    assert alerts[0]["status"] == "firing" and alerts[0]["receiver"] == "hook"
    assert {key: labels[key] for key in ("severity", "service", "volume", "host", "job", "instance")} == {
        "severity": "warning", "service": "files", "volume": "data", "host": "kronos", "job": "node",
        "instance": "kronos:9100"}
    assert alerts[0]["annotations"]["summary"] == "files/data has no recent backup"
    assert {alert["labels"]["volume"] for alert in running.receiver.alerts() if alert["labels"]["alertname"] == "BackupStale"} == {"data"}
    assert not [alert for alert in running.receiver.alerts(CRITICAL_PATH) if alert["labels"]["alertname"] == "BackupStale"]


def test_warnings_are_inhibited_while_their_host_is_down(running):
    """Alerts posted to Alertmanager's API as Prometheus posts them: a warning of a host whose
    NodeDown fires is suppressed; another host's warning, a critical alert, and a route probe's
    warning (route probes carry no host label) are not."""
    def alert(name, severity, instance, host=None):
        labels = {"alertname": name, "severity": severity, "instance": instance, "test": "inhibition"}
        return {"labels": dict(labels, host=host) if host else labels}

    api = "http://%s/api/v2/alerts" % running.address("alertmanager")
    get_json(api, [alert("NodeDown", "critical", "api-host:9100", host="api-host"),
                   alert("HighCPU", "warning", "api-host:9100", host="api-host"),
                   alert("ServiceDown", "critical", "api-host:9100", host="api-host"),
                   alert("HighCPU", "warning", "other-host:9100", host="other-host"),
                   alert("CertExpiring", "warning", "https://app.example.com/")])

    def states():
        found = {(item["labels"]["alertname"], item["labels"].get("host")): item["status"]["state"]
                 for item in get_json(api) if item["labels"].get("test") == "inhibition"}
        return len(found) == 5 and "unprocessed" not in found.values() and found

    assert running.wait_for(states, "Alertmanager to process the posted alerts") == {
        ("NodeDown", "api-host"): "active",
        ("HighCPU", "api-host"): "suppressed",
        ("ServiceDown", "api-host"): "active",
        ("HighCPU", "other-host"): "active",
        ("CertExpiring", None): "active",
    }


def test_a_stopped_node_exporter_fires_node_down_to_the_critical_receiver(running):
    running.stop("node")
    alerts = running.wait_for(lambda: [alert for alert in running.receiver.alerts(CRITICAL_PATH)
                                       if alert["labels"]["alertname"] == "NodeDown"
                                       and alert["labels"]["host"] == "kronos"], "NodeDown at the ntfy topic")
    assert alerts[0]["receiver"] == "pager" and alerts[0]["labels"]["instance"] == "kronos:9100"
    # ntfy gets its message templates in the topic URL's query.
    assert alerts[0]["query"]["tpl"] == ["1"] and "{{.commonLabels.alertname}}" in alerts[0]["query"]["t"][0]
    assert alerts[0]["labels"]["severity"] == "critical"

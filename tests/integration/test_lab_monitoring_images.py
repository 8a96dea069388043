"""The lab's monitoring images (tests/lab/build-monitoring-images.sh) as the lab host gets
them: each archive loads, runs Debian 13's real binary as the official image would, and
answers the health check Podman runs through /bin/sh.

The containers run without a network (loopback only), so the tests need no free port
and touch no network of the controller.
"""

import os
import pathlib
import shutil
import subprocess
import time
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = ROOT / "tests" / "lab" / "build-monitoring-images.sh"
ENV = dict(os.environ, CONTAINERS_CONF=str(ROOT / "tests" / "lab" / "controller-containers.conf"),
           PODMAN_IGNORE_CGROUPSV1_WARNING="1")

# name: (reference, entrypoint, user, workdir, version line of the Debian 13 package)
IMAGES = {
    "prometheus": ("localhost/homelab-lab-prometheus:latest", "/usr/bin/prometheus", "nobody",
                   "/prometheus", "prometheus, version 2.53."),
    "alertmanager": ("localhost/homelab-lab-alertmanager:latest", "/usr/bin/prometheus-alertmanager", "nobody",
                     "/alertmanager", "alertmanager, version 0.28."),
    "blackbox-exporter": ("localhost/homelab-lab-blackbox-exporter:latest", "/usr/bin/prometheus-blackbox-exporter",
                          "blackbox_exporter", "", "blackbox_exporter, version 0.26."),
}
# The tools the monitoring role runs inside the images to check a file (--entrypoint),
# under the official images' names.
TOOLS = [("prometheus", "promtool", "promtool, version 2.53."),
         ("alertmanager", "amtool", "amtool, version 0.28."),
         ("alertmanager", "alertmanager", "alertmanager, version 0.28."),
         ("blackbox-exporter", "blackbox_exporter", "blackbox_exporter, version 0.26.")]


def podman(*args, check=True):
    result = subprocess.run(["podman", *args], env=ENV, capture_output=True, text=True, timeout=120, check=False)
    if check:
        assert result.returncode == 0, f"podman {' '.join(args)}: {result.stderr}"
    return result


@pytest.fixture(scope="module")
def images():
    """Build (cached: seconds when warm) and load every archive, as the podman role does."""
    if shutil.which("podman") is None:
        pytest.fail("podman is missing: apt-get install podman (or run tests/lab/setup-controller.sh)")
    build = subprocess.run([str(BUILD)], env=ENV, capture_output=True, text=True, timeout=600, check=False)
    assert build.returncode == 0, build.stderr
    archives = {pathlib.Path(archive).name: archive for archive in build.stdout.split()}
    # The backup layer's rest-server image is made by the same script (test_rest_server_image_*).
    assert sorted(archives) == sorted([f"{name}-image.tar" for name in IMAGES] + [REST_SERVER_ARCHIVE])
    for name in list(IMAGES) + ["rest-server"]:
        archive = archives[f"{name}-image.tar"]
        loaded = podman("load", "--input", archive).stdout
        assert f"localhost/homelab-lab-{name}:latest" in loaded, f"{archive}: {loaded}"
    return {name: spec[0] for name, spec in IMAGES.items()}


REST_SERVER_ARCHIVE = "rest-server-image.tar"
REST_SERVER_IMAGE = "localhost/homelab-lab-rest-server:latest"


def test_rest_server_image_is_shaped_like_the_official_one(images):
    # restic/rest-server: the binary at /usr/bin/rest-server, no entrypoint, root, data in /data.
    config = podman("image", "inspect", "--format", "{{json .Config.Entrypoint}}|{{json .Config.Cmd}}|{{.Config.User}}",
                    REST_SERVER_IMAGE).stdout.strip()
    assert config == 'null|["/usr/bin/rest-server","--path","/data"]|', config
    version = podman("run", "--rm", "--network", "none", REST_SERVER_IMAGE, "/usr/bin/rest-server", "--version").stdout
    assert "rest-server 0.13." in version, version


@pytest.mark.parametrize("name", IMAGES)
def test_image_is_shaped_like_the_official_one(images, name):
    _ref, entrypoint, user, workdir, _version = IMAGES[name]
    config = podman("image", "inspect", "--format",
                    "{{json .Config.Entrypoint}}|{{.Config.User}}|{{.Config.WorkingDir}}", images[name]).stdout
    assert config.strip() == f'["{entrypoint}"]|{user}|{workdir}'


@pytest.mark.parametrize("name", IMAGES)
def test_entrypoint_is_the_debian_13_binary(images, name):
    result = podman("run", "--rm", "--network", "none", images[name], "--version")
    assert IMAGES[name][4] in result.stdout + result.stderr


@pytest.mark.parametrize(("name", "tool", "version"), TOOLS)
def test_tools_answer_under_the_official_names(images, name, tool, version):
    result = podman("run", "--rm", "--network", "none", "--entrypoint", tool, images[name], "--version")
    assert version in result.stdout + result.stderr


class Container:
    """One detached container of an image, removed (with its anonymous volume) on exit."""

    def __init__(self, image, files, args=(), options=()):
        self.name = f"homelab-test-{uuid.uuid4().hex[:8]}"
        self.argv = ["run", "-d", "--name", self.name, "--network", "none", *options]
        for host_path, path in files:
            self.argv += ["-v", f"{host_path}:{path}:ro"]
        self.argv += [image, *args]

    def __enter__(self):
        podman(*self.argv)
        return self

    def __exit__(self, *exc):
        podman("rm", "-f", "-v", self.name, check=False)

    def shell(self, command):
        """Run a string command through the image's /bin/sh, as Podman runs a health check."""
        return podman("exec", self.name, "/bin/sh", "-c", command, check=False)

    def wait_healthy(self, command):
        """The health check's result once the service had up to a minute to start."""
        deadline = time.monotonic() + 60
        result = self.shell(command)
        while result.returncode != 0 and time.monotonic() < deadline:
            if podman("container", "inspect", "--format", "{{.State.Running}}", self.name).stdout.strip() != "true":
                break
            time.sleep(0.5)
            result = self.shell(command)
        logs = podman("logs", self.name, check=False)
        assert result.returncode == 0, f"{command}: {result.stderr}\n{logs.stdout}{logs.stderr}"
        return result


def config_file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o644)  # the images run as non-root users
    return path


def test_prometheus_starts_with_the_role_flags_and_loads_rules(images, tmp_path):
    tmp_path.chmod(0o755)
    config = config_file(tmp_path, "prometheus.yml", (
        "rule_files: [/etc/prometheus/rules/*.yml]\n"
        "scrape_configs:\n  - job_name: prometheus\n    static_configs: [{targets: ['127.0.0.1:9090']}]\n"))
    rules = tmp_path / "rules"
    rules.mkdir(mode=0o755)
    config_file(rules, "test.yml", "groups:\n  - name: lab-image-test\n    rules:\n"
                "      - alert: Always\n        expr: vector(1)\n        labels: {severity: warning}\n")
    flags = ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus",
             "--web.enable-lifecycle"]
    files = [(config, "/etc/prometheus/prometheus.yml"), (rules, "/etc/prometheus/rules")]
    with Container(images["prometheus"], files, flags) as prometheus:
        prometheus.wait_healthy("wget -q -O /dev/null http://127.0.0.1:9090/-/ready")
        loaded = prometheus.shell("wget -q -O - http://127.0.0.1:9090/api/v1/rules")
        assert '"name":"lab-image-test"' in loaded.stdout
        reload = prometheus.shell("wget -q -O /dev/null --post-data '' http://127.0.0.1:9090/-/reload")
        assert reload.returncode == 0, reload.stderr


def test_alertmanager_starts_with_its_config_and_answers_ready(images, tmp_path):
    tmp_path.chmod(0o755)
    config = config_file(tmp_path, "alertmanager.yml", (
        "route: {receiver: hook}\nreceivers:\n  - name: hook\n    webhook_configs: [{url: 'http://127.0.0.1:9/'}]\n"))
    # One Alertmanager: no gossip cluster (which without a network finds no address to bind).
    flags = ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager",
             "--cluster.listen-address="]
    with Container(images["alertmanager"], [(config, "/etc/alertmanager/alertmanager.yml")], flags) as alertmanager:
        alertmanager.wait_healthy("wget -q -O /dev/null http://127.0.0.1:9093/-/ready")


def test_blackbox_exporter_is_healthy_and_probes(images, tmp_path):
    tmp_path.chmod(0o755)
    config = config_file(tmp_path, "config.yml", (
        "modules:\n  tcp_connect: {prober: tcp}\n  icmp: {prober: icmp, icmp: {preferred_ip_protocol: ip4}}\n"))
    # Podman 5 (the lab hosts') allows ICMP echo sockets to group 0 by default; the
    # controller's Podman 4 does not, so the test sets what the lab host has.
    options = ["--sysctl", "net.ipv4.ping_group_range=0 0"]
    with Container(images["blackbox-exporter"], [(config, "/etc/blackbox_exporter/config.yml")],
                   options=options) as blackbox:
        blackbox.wait_healthy("wget -q -O /dev/null http://127.0.0.1:9115/-/healthy")
        for module, target in (("tcp_connect", "127.0.0.1:9115"), ("icmp", "127.0.0.1")):
            probe = blackbox.shell(f"wget -q -O - 'http://127.0.0.1:9115/probe?module={module}&target={target}'")
            assert "\nprobe_success 1\n" in probe.stdout, f"{module}: {probe.stdout}"

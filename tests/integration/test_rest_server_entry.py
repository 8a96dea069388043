# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rest_server entry for real: its unit through the real Quadlet generator, and its
command line run by Debian 13's rest-server 0.13 (the lab hosts' version), with restic
0.18 at the URL the backup_client view gives.

The container cannot run here (no registry), so the command runs on loopback with its
container paths moved under tmp_path and the listen address on a free loopback port; the
flags are the catalog's, word for word.
"""

from __future__ import annotations

import base64
import hashlib
import json
import pathlib
import ssl
import subprocess
import urllib.error
import urllib.request

import pytest

from loopback import free_port, make_certificates, wait_listening
from quadlet_generator import generate_host_units

from ansible_collections.homelab.stack.plugins.filter.backup_client import FilterModule as ClientFilter
from ansible_collections.homelab.stack.plugins.filter.validate_catalog import FilterModule as CatalogFilter
from ansible_collections.homelab.stack.plugins.module_utils.quadlet import read_key
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import rest_server

validate_catalog = CatalogFilter().filters()["validate_catalog"]
backup_client = ClientFilter().filters()["backup_client"]

HOSTS = ["jove", "kronos"]
SITES = {"jove": "site-a", "kronos": "site-b"}
CATALOG = [
    {"name": "backup-a", "host": "jove", "platform": "rest_server"},
    {"name": "files", "host": "kronos", "image": "docker.io/library/busybox:1.37",
     "volumes": [{"name": "data", "mount": "/data", "backup": "daily"}]},
]
REST_PASSWORD = "rest-secret-7a1c"
RESTIC_PASSWORD = "restic-secret-2b9d"


@pytest.mark.parametrize("address, published", [
    ("100.64.0.10", "100.64.0.10:8000:8000"),
    ("fd7a:115c:a1e0::a", "[fd7a:115c:a1e0::a]:8000:8000"),
])
def test_its_unit_runs_the_command_published_on_the_mesh_address_only(generator, tmp_path, address, published):
    units, generated = generate_host_units(generator, tmp_path, validate_catalog(CATALOG, HOSTS), "jove", address)
    assert sorted(generated) == sorted(units)
    command = read_key(generated["backup-a.container"], "Service", "ExecStart")
    assert f"--publish {published}" in command and command.count("--publish") == 1
    assert "-v backup-a-data:/data" in command
    assert "-v /etc/homelab/rest-server:/etc/rest-server:ro" in command
    assert "--health-cmd" not in command
    assert command.endswith(
        "docker.io/restic/rest-server:0.14.0 /usr/bin/rest-server --path /data --listen :8000 --append-only"
        " --private-repos --htpasswd-file /etc/rest-server/htpasswd --tls --tls-cert /etc/rest-server/tls.crt"
        " --tls-key /etc/rest-server/tls.key")


def htpasswd_line(user, password):
    """An htpasswd SHA-1 entry (rest-server takes bcrypt, SHA-1 and MD5 crypt)."""
    digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()  # noqa: S324 - htpasswd's format
    return "%s:{SHA}%s\n" % (user, digest)


@pytest.fixture(name="server")
def server_fixture(tmp_path, trixie):
    """The entry's command run by the real rest-server: (port, CA certificate path)."""
    config, data = tmp_path / "etc-rest-server", tmp_path / "data"
    config.mkdir()
    data.mkdir()
    tls = make_certificates(config, ["127.0.0.1"])
    pathlib.Path(tls["edge.crt"]).rename(config / "tls.crt")
    pathlib.Path(tls["edge.key"]).rename(config / "tls.key")
    (config / "htpasswd").write_text(htpasswd_line("kronos", REST_PASSWORD) + htpasswd_line("vesta", REST_PASSWORD))
    port = free_port()
    [entry] = [service for service in validate_catalog(CATALOG, HOSTS) if service["name"] == "backup-a"]
    where = {rest_server.DATA_DIR: str(data), f":{rest_server.PORT}": f"127.0.0.1:{port}"}
    command = [str(trixie / "restic-rest-server")] + [
        where.get(word, word.replace(rest_server.CONFIG_DIR, str(config))) for word in entry["command"][1:]]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(process, port, "restic-rest-server %s" % " ".join(command))
        yield port, tls["ca.pem"]
    finally:
        process.terminate()
        process.wait(timeout=30)


def restic(trixie, tmp_path, url, cacert, user, *args):
    env = {"RESTIC_PASSWORD": RESTIC_PASSWORD, "RESTIC_REST_USERNAME": user, "RESTIC_REST_PASSWORD": REST_PASSWORD,
           "RESTIC_CACHE_DIR": str(tmp_path / "cache"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    return subprocess.run([str(trixie / "restic"), "-r", url, "--cacert", str(cacert), *args], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_without_a_user_every_path_is_refused(server):
    """Why the entry has no health check: even / answers 401 without a user."""
    port, cacert = server
    context = ssl.create_default_context(cafile=str(cacert))
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"https://127.0.0.1:{port}/", context=context, timeout=30)
    assert raised.value.code == 401


def test_the_client_backs_up_to_its_own_repository_and_cannot_delete(server, trixie, tmp_path):
    port, cacert = server
    [repository] = backup_client(validate_catalog(CATALOG, HOSTS), "kronos", SITES, {"jove": "127.0.0.1"})[
        "repositories"]
    assert repository["url"] == "rest:https://127.0.0.1:8000/kronos/"
    url = repository["url"].replace(":8000/", f":{port}/")
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "a.txt").write_text("kept\n")

    assert restic(trixie, tmp_path, url, cacert, "kronos", "init").returncode == 0
    backup = restic(trixie, tmp_path, url, cacert, "kronos", "backup", "--host", "kronos", str(tmp_path / "files"))
    assert backup.returncode == 0, backup.stderr
    # --append-only: the client cannot forget its own snapshot (restic 0.18 says so, yet exits 0).
    [snapshot] = json.loads(restic(trixie, tmp_path, url, cacert, "kronos", "snapshots", "--json").stdout)
    forget = restic(trixie, tmp_path, url, cacert, "kronos", "forget", snapshot["id"])
    assert "403 Forbidden" in forget.stderr
    assert [item["id"] for item in json.loads(restic(trixie, tmp_path, url, cacert, "kronos", "snapshots",
                                                     "--json").stdout)] == [snapshot["id"]]
    # --private-repos: another user, signed in (its own repository opens), cannot open kronos's.
    assert restic(trixie, tmp_path, url.replace("/kronos/", "/vesta/"), cacert, "vesta", "init").returncode == 0
    other = restic(trixie, tmp_path, url, cacert, "vesta", "snapshots")
    assert other.returncode != 0 and "401 Unauthorized" in other.stderr

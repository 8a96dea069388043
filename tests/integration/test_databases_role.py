# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/databases (tasks_from: create) against a real PostgreSQL 15 on this machine: the
role connects as the superuser over the cluster's unix socket (trusted locally, as the
postgres image's is), creates each app's role and database, changes nothing on a second
run, and the app then logs in over TCP (scram-sha-256, as the image asks off the socket)
with the password the catalog delivers to it, which stays the same across runs. Check mode
creates nothing, and a server not started yet (no socket) is skipped."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess

import pytest
import yaml

import backup_lab
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog import database_server, normalise_catalog

ROOT = pathlib.Path(__file__).resolve().parents[2]
RECAP = re.compile(r"^\S+\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
# community.postgresql runs its modules with the managed host's Python and its driver, as the
# role installs it on a server's host (python3-psycopg2); the controller's venv has none.
HOST_PYTHON = "/usr/bin/python3"
PLAY = """
- hosts: kronos
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: homelab.stack.databases
        tasks_from: create
"""


def services(socket_dir, superuser_password="lab-superuser-password"):
    return [
        {"name": "postgres", "host": "kronos", "platform": "postgres",
         "secrets": {"POSTGRES_PASSWORD": superuser_password},
         "mounts": [{"source": str(socket_dir), "target": "/var/run/postgresql"}]},
        {"name": "wiki-js", "host": "jove", "image": "x", "database": {"server": "postgres"}},
        {"name": "books", "host": "kronos", "image": "x", "database": {"server": "postgres", "user": "reader"}},
    ]


@pytest.fixture(name="cluster", scope="module")
def cluster_fixture():
    """PostgreSQL 15 trusting its socket, asking passwords (scram-sha-256) over TCP."""
    if subprocess.run([HOST_PYTHON, "-c", "import psycopg2"], capture_output=True, check=False).returncode != 0:
        pytest.fail("python3-psycopg2 is missing (community.postgresql needs it on the managed host): "
                    "apt-get install --no-install-recommends python3-psycopg2")
    cluster = backup_lab.Cluster()
    try:
        (cluster.dir / "data" / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n")
        cluster.psql("select pg_reload_conf()")
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(name="site")
def site_fixture(tmp_path, cluster):
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {
        "kronos": {"ansible_connection": "local", "ansible_python_interpreter": HOST_PYTHON},
        "jove": {"ansible_host": "100.64.0.10"}}}}))
    (tmp_path / "play.yml").write_text(PLAY)
    return tmp_path


def converge(site, cluster, catalog_services, *extra):
    """Run the role's create tasks; (returncode, output, changed count). The role reads the
    database_server view of the catalog; only its port is the test cluster's (its socket is
    named after the port, and the image's is 5432)."""
    catalog = normalise_catalog(catalog_services, ["jove", "kronos"])
    view = dict(database_server(catalog, "kronos"), port=cluster.port)
    (site / "vars.json").write_text(json.dumps({"homelab_services": catalog_services, "databases_server": view}))
    result = subprocess.run(
        ["ansible-playbook", "-i", str(site / "hosts.yml"), str(site / "play.yml"), "-e", f"@{site / 'vars.json'}", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False, env=dict(os.environ))
    output = result.stdout + result.stderr
    recap = RECAP.search(output)
    return result.returncode, output, int(recap[1]) if recap else None


def passwords(catalog_services):
    catalog = normalise_catalog(catalog_services, ["jove", "kronos"])
    return {item["user"]: item["password"] for item in database_server(catalog, "kronos")["databases"]}


def login(cluster, user, password, database, sql="select current_user || ' ' || current_database()"):
    return subprocess.run(
        [cluster.psql_path, "-X", "-tA", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(cluster.port),
         "-U", user, "-d", database, "-c", sql],
        capture_output=True, text=True, timeout=60, check=False, env=dict(os.environ, PGPASSWORD=password))


def test_the_role_creates_each_apps_role_and_database_once_and_the_app_logs_in(site, cluster):
    catalog_services = services(cluster.dir)
    returncode, output, changed = converge(site, cluster, catalog_services)
    assert returncode == 0, output
    assert changed == 2, output  # the roles task and the databases task
    secrets = passwords(catalog_services)
    for password in list(secrets.values()) + ["lab-superuser-password"]:
        assert password not in output
    owners = cluster.psql("select datname, pg_get_userbyid(datdba) from pg_database where datname in"
                          " ('wiki_js', 'books') order by 1").stdout.split()
    assert owners == ["books|reader", "wiki_js|wiki_js"]

    returncode, output, changed = converge(site, cluster, catalog_services)
    assert returncode == 0, output
    assert changed == 0, output

    # The app logs in over TCP with the password delivered to it, and owns its database.
    result = login(cluster, "wiki_js", secrets["wiki_js"], "wiki_js")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wiki_js wiki_js"
    created = login(cluster, "reader", secrets["reader"], "books", "create table shelf (id int); select 'made'")
    assert created.returncode == 0 and created.stdout.split("\n")[:2] == ["CREATE TABLE", "made"], created.stderr
    wrong = login(cluster, "wiki_js", "not-the-password", "wiki_js")
    assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr


def test_the_password_is_stable_and_a_new_superuser_password_is_set_on_the_next_run(site, cluster):
    catalog_services = services(cluster.dir)
    assert converge(site, cluster, catalog_services)[0] == 0
    before = passwords(catalog_services)
    assert passwords(services(cluster.dir)) == before
    assert login(cluster, "wiki_js", before["wiki_js"], "wiki_js").returncode == 0

    rotated = services(cluster.dir, superuser_password="rotated-superuser-password")
    returncode, output, changed = converge(site, cluster, rotated)
    assert returncode == 0, output
    assert changed == 1, output  # the roles' passwords, not the databases
    after = passwords(rotated)
    assert after["wiki_js"] != before["wiki_js"]
    assert login(cluster, "wiki_js", after["wiki_js"], "wiki_js").returncode == 0
    assert login(cluster, "wiki_js", before["wiki_js"], "wiki_js").returncode != 0
    # Back to the first password, which then stays.
    assert converge(site, cluster, catalog_services)[0] == 0
    assert converge(site, cluster, catalog_services)[2] == 0


def test_check_mode_creates_nothing(site, cluster):
    newcomer = services(cluster.dir) + [{"name": "check-only", "host": "jove", "image": "x",
                                         "database": {"server": "postgres"}}]
    returncode, output, changed = converge(site, cluster, newcomer, "--check")
    assert returncode == 0, output
    assert changed == 2, output  # it would create the role and the database, and does not
    assert cluster.psql("select count(*) from pg_roles where rolname = 'check_only'").stdout.strip() == "0"
    assert cluster.psql("select count(*) from pg_database where datname = 'check_only'").stdout.strip() == "0"


@pytest.mark.parametrize("mode", [[], ["--check"]], ids=["run", "check"])
def test_a_server_not_started_yet_is_skipped(site, cluster, tmp_path, mode):
    # The services layer asks before its tiers too, when a new server has not started.
    returncode, output, changed = converge(site, cluster, services(tmp_path / "not-started"), *mode)
    assert returncode == 0, output
    assert changed == 0 and "skipping: [kronos]" in output, output

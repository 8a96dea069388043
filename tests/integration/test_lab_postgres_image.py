"""The lab's PostgreSQL image (tests/lab/build-postgres-image.sh) as the catalog host gets
it: the archive loads and behaves like docker.io/library/postgres:17 for what the backup
layer uses: first-start initdb from POSTGRES_*, pg_isready, a password login over TCP,
`podman exec CTR pg_dumpall -U USER`, a restore with `podman exec -i CTR psql`, and the
verify drill's throw-away scratch cluster on a unix socket only.

The containers run without a network (loopback only), so the tests need no free port.
"""

import os
import pathlib
import shutil
import subprocess
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = ROOT / "tests" / "lab" / "build-postgres-image.sh"
REF = "localhost/homelab-lab-postgres:latest"
ENV = dict(os.environ, CONTAINERS_CONF=str(ROOT / "tests" / "lab" / "controller-containers.conf"),
           PODMAN_IGNORE_CGROUPSV1_WARNING="1")
PASSWORD = "lab-only-" + uuid.uuid4().hex[:8]

# The verify drill's scratch cluster: a temp dir, no TCP, the dump from stdin, one query.
SCRATCH = r"""set -eu
d="$(mktemp -d)"
initdb -D "$d/data" -U postgres --auth=trust >/dev/null
pg_ctl -D "$d/data" -o "-c listen_addresses='' -c unix_socket_directories=$d" -l "$d/log" -w start >/dev/null
psql -h "$d" -U postgres -d postgres -q >/dev/null
psql -h "$d" -U postgres -d postgres -Atc 'select count(*) from pg_database'
pg_ctl -D "$d/data" -m fast -w stop >/dev/null
"""


def podman(*args, check=True, stdin=None):
    result = subprocess.run(["podman", *args], env=ENV, capture_output=True, text=True, timeout=120,
                            input=stdin, check=False)
    if check:
        assert result.returncode == 0, f"podman {' '.join(args)}: {result.stderr}"
    return result


@pytest.fixture(scope="module")
def image():
    """Build (cached: seconds when warm) and load the archive, as the podman role does."""
    if shutil.which("podman") is None:
        pytest.fail("podman is missing: apt-get install podman (or run tests/lab/setup-controller.sh)")
    build = subprocess.run([str(BUILD)], env=ENV, capture_output=True, text=True, timeout=900, check=False)
    assert build.returncode == 0, build.stderr
    archive = build.stdout.strip()
    assert pathlib.Path(archive).name == "postgres-image.tar"
    assert REF in podman("load", "--input", archive).stdout
    return REF


def wait_ready(name, user):
    """pg_isready as the health check runs it, until the first start's initdb is done."""
    for _attempt in range(120):
        ready = podman("exec", name, "pg_isready", "-q", "-U", user, check=False)
        logs = podman("logs", name, check=False)
        if ready.returncode == 0 and "init process complete" in logs.stdout + logs.stderr:
            return
        if podman("container", "inspect", "-f", "{{.State.Running}}", name).stdout.strip() != "true":
            pytest.fail(f"{name} exited: {logs.stdout}{logs.stderr}")
        subprocess.run(["sleep", "0.5"], check=True)
    pytest.fail(f"{name} never became ready")


@pytest.fixture
def server(image):
    names = []

    def start(**env):
        name = "homelab-test-pg-" + uuid.uuid4().hex[:8]
        flags = [f"--env={key}={value}" for key, value in env.items()]
        podman("run", "-d", "--name", name, "--network", "none", *flags, image)
        names.append(name)
        wait_ready(name, env.get("POSTGRES_USER", "postgres"))
        return name

    yield start
    for name in names:
        podman("rm", "-f", "-t", "0", name, check=False)


def psql(name, *args, stdin=None, user="app", database="appdb"):
    return podman("exec", "-i", name, "psql", "-v", "ON_ERROR_STOP=1", "-U", user, "-d", database,
                  "-At", *args, stdin=stdin)


def test_paths_and_user_as_the_official_image(image):
    out = podman("run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c",
                 "id -u postgres; id -g postgres; echo $PGDATA; "
                 "for t in psql pg_dumpall pg_ctl initdb postgres pg_isready; do command -v $t; done").stdout
    assert out.split() == ["999", "999", "/var/lib/postgresql/data"] + [
        f"/usr/lib/postgresql/17/bin/{tool}" for tool in ("psql", "pg_dumpall", "pg_ctl", "initdb", "postgres",
                                                          "pg_isready")]


def test_refuses_to_start_without_a_password(image):
    run = podman("run", "--rm", "--network", "none", image, check=False)
    assert run.returncode != 0
    assert "POSTGRES_PASSWORD is not set" in run.stderr


def test_password_login_over_tcp_and_local_trust(server):
    name = server(POSTGRES_USER="app", POSTGRES_PASSWORD=PASSWORD, POSTGRES_DB="appdb")
    ok = podman("exec", f"--env=PGPASSWORD={PASSWORD}", name, "psql", "-h", "127.0.0.1", "-U", "app",
                "-d", "appdb", "-Atc", "select current_user || '@' || current_database()")
    assert ok.stdout.strip() == "app@appdb"
    wrong = podman("exec", "--env=PGPASSWORD=wrong", name, "psql", "-h", "127.0.0.1", "-U", "app", "-d", "appdb",
                   "-c", "select 1", check=False)
    assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr
    none = podman("exec", name, "psql", "-h", "127.0.0.1", "-w", "-U", "app", "-d", "appdb", "-c", "select 1",
                  check=False)
    assert none.returncode != 0
    # Root exec on the local socket: trust, as the official image.
    assert psql(name, "-c", "select 1").stdout.strip() == "1"


def test_password_file_and_default_database(image, tmp_path):
    name = "homelab-test-pg-" + uuid.uuid4().hex[:8]
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    podman("run", "-d", "--name", name, "--network", "none", "-v", f"{secret}:/run/secrets/pw:ro,Z",
           "--env=POSTGRES_USER=keeper", "--env=POSTGRES_PASSWORD_FILE=/run/secrets/pw", image)
    try:
        wait_ready(name, "keeper")
        out = podman("exec", f"--env=PGPASSWORD={PASSWORD}", name, "psql", "-h", "127.0.0.1", "-U", "keeper",
                     "-Atc", "select current_database()").stdout
        assert out.strip() == "keeper"
    finally:
        podman("rm", "-f", "-t", "0", name, check=False)


def test_dump_restore_and_scratch_cluster(server, image):
    source = server(POSTGRES_USER="app", POSTGRES_PASSWORD=PASSWORD, POSTGRES_DB="appdb")
    psql(source, "-c", "create table notes (id int primary key, body text)")
    psql(source, "-c", "insert into notes select g, 'note ' || g from generate_series(1, 42) g")
    psql(source, "-c", "create database extra")
    dump = podman("exec", source, "pg_dumpall", "-U", "app").stdout
    assert "PostgreSQL database cluster dump" in dump and "CREATE DATABASE extra" in dump

    # A fresh server restored through podman exec -i psql, as the backup layer restores.
    target = server(POSTGRES_USER="app", POSTGRES_PASSWORD=PASSWORD, POSTGRES_DB="appdb")
    podman("exec", "-i", target, "psql", "-U", "app", "-d", "postgres", "-q", stdin=dump)
    assert psql(target, "-c", "select count(*), max(body) from notes").stdout.strip() == "42|note 9"
    assert psql(target, "-c", "select 1", database="extra").stdout.strip() == "1"

    # The verify drill's scratch cluster, no network, as user postgres: template0,
    # template1, postgres, plus the dump's appdb and extra.
    scratch = podman("run", "--rm", "-i", "--network", "none", "--user", "postgres", "--entrypoint", "sh",
                     image, "-c", SCRATCH, stdin=dump)
    assert scratch.stdout.strip() == "5", scratch.stderr

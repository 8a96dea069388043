"""What the backup runner's integration tests run for real, each rule once: the tools they
need (a missing one fails naming the Debian package that brings it), a restic-rest-server
as the homelab serves it, Podman volumes and a PostgreSQL 15 cluster."""

import atexit
import contextlib
import functools
import os
import pathlib
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

from loopback import free_port, wait_listening

POSTGRES_BIN = pathlib.Path("/usr/lib/postgresql/15/bin")


def tool(name, package):
    """The path of ``name`` (on PATH, or PostgreSQL 15's server binaries); fails the test
    saying how to install ``package`` when it is missing: a missing tool is never a skip."""
    path = shutil.which(name) or (str(POSTGRES_BIN / name) if (POSTGRES_BIN / name).exists() else None)
    if path is None:
        pytest.fail("%s is missing: install the Debian package %s (tests/lab/setup-controller.sh does, as root; or: "
                    "apt-get install --no-install-recommends %s)" % (name, package, package))
    return path


@contextlib.contextmanager
def rest_server(directory, trixie, user, password):
    """restic-rest-server as the homelab runs it: --append-only --private-repos, TLS with a
    self-signed certificate for 127.0.0.1 made by the openssl CLI, ``user`` in an htpasswd
    file of one bcrypt entry made by ``htpasswd -B`` (rest-server 0.13 takes only bcrypt and
    {SHA} entries). Serves ``directory``/served; yields (``user``'s repository URL, the
    certificate restic's --cacert must trust)."""
    htpasswd, openssl = tool("htpasswd", "apache2-utils"), tool("openssl", "openssl")
    served, tls = directory / "served", directory / "tls"
    served.mkdir()
    tls.mkdir()
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(tls / "tls.key"), "-out", str(tls / "tls.crt"), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], capture_output=True, check=True, timeout=60)
    subprocess.run([htpasswd, "-B", "-i", "-c", str(tls / "htpasswd"), user], input=password, text=True,
                   capture_output=True, check=True, timeout=60)
    port = free_port()
    server = subprocess.Popen([str(trixie / "restic-rest-server"), "--listen", "127.0.0.1:%d" % port, "--path",
                               str(served), "--append-only", "--private-repos", "--htpasswd-file", str(tls / "htpasswd"),
                               "--tls", "--tls-cert", str(tls / "tls.crt"), "--tls-key", str(tls / "tls.key")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(server, port, "restic-rest-server")
        yield "rest:https://127.0.0.1:%d/%s/" % (port, user), str(tls / "tls.crt")
    finally:
        server.terminate()
        server.wait(timeout=30)


@functools.cache
def _repository_template(restic, password):
    """A repository ``restic init`` made for ``password`` in a directory removed at exit."""
    directory = pathlib.Path(tempfile.mkdtemp(prefix="homelab-restic-template-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    subprocess.run([restic, "init", "--repo", str(directory / "repository")], capture_output=True, check=True,
                   timeout=300, env=dict(os.environ, RESTIC_PASSWORD=password, RESTIC_CACHE_DIR=str(directory / "cache")))
    return directory / "repository"


def new_repository(trixie, password, target):
    """A fresh restic repository at ``target`` (a directory rest-server serves, or a local
    path) that ``password`` opens: a copy of one ``restic init`` made once per test session for
    that password. init calibrates its key derivation to take about a second; a copy takes
    milliseconds, and is the repository a fresh init makes."""
    shutil.copytree(_repository_template(str(trixie / "restic"), password), target)


class Volumes:
    """Real Podman volumes made by ``podman volume create``; ``remove()`` removes them all."""

    def __init__(self):
        self.podman = tool("podman", "podman")
        self.made = []

    def make(self, suffix):
        """A new volume: (its name, its mountpoint)."""
        name = "hb-test-%s-%s" % (uuid.uuid4().hex[:8], suffix)
        subprocess.run([self.podman, "volume", "create", name], capture_output=True, check=True, timeout=120)
        self.made.append(name)
        return name, pathlib.Path(self.mountpoint(name))

    def mountpoint(self, name):
        return subprocess.run([self.podman, "volume", "inspect", "--format", "{{.Mountpoint}}", name], check=True,
                              capture_output=True, text=True, timeout=120).stdout.strip()

    def remove(self):
        for name in self.made:
            subprocess.run([self.podman, "volume", "rm", "--force", name], capture_output=True, check=False, timeout=120)


def postgres_directory(prefix):
    """A new directory outside pytest's root-only tmp tree that the postgres user owns."""
    directory = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
    directory.chmod(0o755)
    shutil.chown(directory, "postgres", "postgres")
    return directory


@functools.cache
def cluster_template():
    """The data directory of a cluster made by initdb once per test session (removed at exit):
    initdb makes the same fresh cluster every time, and a copy of it takes a tenth of the time."""
    directory = postgres_directory("homelab-backup-pg-template-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    # As the postgres user (initdb refuses root); --no-sync: a test cluster has no crash to survive.
    subprocess.run([tool("initdb", "postgresql-15"), "-D", str(directory / "data"), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], user="postgres", group="postgres", extra_groups=[],
                   cwd=directory, capture_output=True, check=True, timeout=300)
    return directory / "data"


class Cluster:
    """A PostgreSQL 15 cluster on a Unix socket and 127.0.0.1, in a directory of its own
    outside pytest's root-only tmp tree, run as the postgres user: initdb refuses root.
    Each starts as a fresh copy of cluster_template()."""

    def __init__(self):
        postgres = tool("postgres", "postgresql-15")
        self.psql_path = tool("psql", "postgresql-client")
        template = cluster_template()
        self.dir = postgres_directory("homelab-backup-pg-")
        self.port = free_port()
        subprocess.run(["cp", "-a", str(template), str(self.dir / "data")], capture_output=True, check=True, timeout=300)
        # Started as the postgres user directly, not through runuser, so that close() signals the
        # server itself (runuser, signalled, waits 2 s and then kills it). fsync off: nothing
        # here must survive a crash.
        self.server = subprocess.Popen([postgres, "-D", str(self.dir / "data"), "-k", str(self.dir),
                                        "-c", "listen_addresses=127.0.0.1", "-p", str(self.port), "-c", "fsync=off"],
                                       user="postgres", group="postgres", extra_groups=[], cwd=self.dir,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_listening(self.server, self.port, "postgres")
            # listening is not yet accepting: until recovery ends postgres answers "starting up"
            deadline = time.monotonic() + 60
            while self.psql("select 1", ok=False).returncode != 0:
                assert time.monotonic() < deadline, "postgres did not accept connections within 60 s"
                time.sleep(0.1)
        except BaseException:
            self.close()
            raise

    def connection(self):
        return ["-h", str(self.dir), "-p", str(self.port), "-U", "postgres"]

    def dump_command(self):
        return [tool("pg_dumpall", "postgresql-client"), *self.connection(), "--clean", "--if-exists"]

    def load_command(self, stop_on_error=False):
        return [self.psql_path, "-X", "-q"] + (["-v", "ON_ERROR_STOP=1"] if stop_on_error else []) + [
            *self.connection(), "-d", "postgres"]

    def psql(self, sql, database="postgres", ok=True):
        completed = subprocess.run([self.psql_path, "-X", "-tA", "-v", "ON_ERROR_STOP=1", *self.connection(),
                                    "-d", database, "-c", sql], capture_output=True, text=True, timeout=60,
                                   check=False)
        assert completed.returncode == 0 or not ok, completed.stderr
        return completed

    def close(self):
        self.server.terminate()
        self.server.wait(timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)

"""Fixtures shared by the integration tests: the real Quadlet generator, the Prometheus
tools (Debian packages on the controller), Debian 13's restic, and for the
authentik_* module tests one fake Authentik per test module and a runner of the module
the test module names in ``AUTHENTIK_MODULE``."""

import pathlib
import subprocess

import pytest

from authentik_playbook import Runner
from fakes.authentik import FakeAuthentik
from prometheus_tools import prometheus_tool
from quadlet_generator import ensure_generator


ROOT = pathlib.Path(__file__).resolve().parents[2]


# Debian 13's restic 0.18 and restic-rest-server 0.13, as the lab hosts run them (Debian 12
# has no rest-server package): fetched from Debian's archive into .cache by the script below.
@pytest.fixture(scope="session", name="trixie")
def trixie_fixture():
    script = ROOT / "tests" / "lab" / "fetch-trixie-restic.sh"
    completed = subprocess.run([str(script)], capture_output=True, text=True, timeout=600, check=False)
    if completed.returncode != 0:
        pytest.fail("%s could not fetch Debian 13's restic and restic-rest-server (it needs Debian's archive): %s"
                    % (script.name, completed.stderr[-2000:]))
    return pathlib.Path(completed.stdout.strip())


@pytest.fixture(scope="session")
def generator():
    """The real Quadlet generator's path (extracted from the lab image when missing)."""
    return ensure_generator()


@pytest.fixture(name="fake", scope="module")
def fake_authentik_fixture():
    with FakeAuthentik() as fake:
        yield fake
        assert fake.contract_violations == []


@pytest.fixture(name="run")
def authentik_runner_fixture(request, fake, tmp_path):
    fake.reset()
    return Runner(fake, tmp_path, request.module.AUTHENTIK_MODULE)


@pytest.fixture(name="prometheus_tool", scope="session")
def prometheus_tool_fixture():
    """``prometheus_tool(name)``: the path of a tool of tests/prometheus_tools.py; a missing
    one fails the test naming its package."""
    return prometheus_tool

"""Fixtures shared by the integration tests: the real Quadlet generator, the Prometheus
tools (Debian packages on the controller), and for the
authentik_* module tests one fake Authentik per test module and a runner of the module
the test module names in ``AUTHENTIK_MODULE``."""


import pytest

from authentik_playbook import Runner
from fakes.authentik import FakeAuthentik
from prometheus_tools import prometheus_tool
from quadlet_generator import ensure_generator


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

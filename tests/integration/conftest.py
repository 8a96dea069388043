"""Fixtures shared by the integration tests: the real Quadlet generator, the Prometheus
tools (Debian packages on the controller), and for the
authentik_* module tests one fake Authentik per test module and a runner of the module
the test module names in ``AUTHENTIK_MODULE``."""

import os
import shutil

import pytest

from authentik_playbook import Runner
from fakes.authentik import FakeAuthentik
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


# The Prometheus tools' Debian packages and binary names (Debian's first, then upstream's).
PROMETHEUS_TOOLS = {
    "promtool": ("prometheus", ("promtool",)),
    "prometheus": ("prometheus", ("prometheus",)),
    "amtool": ("prometheus-alertmanager", ("amtool",)),
    "alertmanager": ("prometheus-alertmanager", ("prometheus-alertmanager", "alertmanager")),
    "blackbox_exporter": ("prometheus-blackbox-exporter", ("prometheus-blackbox-exporter", "blackbox_exporter")),
    "node_exporter": ("prometheus-node-exporter", ("prometheus-node-exporter", "node_exporter")),
}


@pytest.fixture(name="prometheus_tool", scope="session")
def prometheus_tool_fixture():
    """``prometheus_tool(name)``: the path of a tool of PROMETHEUS_TOOLS; a missing one fails
    the test naming its package."""

    def locate(name):
        package, binaries = PROMETHEUS_TOOLS[name]
        search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/bin"])
        for binary in binaries:
            path = shutil.which(binary, path=search)
            if path:
                return path
        return pytest.fail("%s is missing: install the Debian package %s (apt-get install --no-install-recommends %s)"
                           % (name, package, package))

    return locate

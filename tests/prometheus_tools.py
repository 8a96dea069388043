"""The controller's real Prometheus tools for tests: where each binary is.

tests/lab/setup-controller.sh installs them from Debian's packages (in /usr/bin); a test
that needs one and does not find it fails, naming the package, rather than being skipped.
"""

import os
import shutil

import pytest

# tool -> (Debian package, binary names: Debian's first, then the upstream release's)
TOOLS = {
    "promtool": ("prometheus", ("promtool",)),
    "prometheus": ("prometheus", ("prometheus",)),
    "amtool": ("prometheus-alertmanager", ("amtool",)),
    "alertmanager": ("prometheus-alertmanager", ("prometheus-alertmanager", "alertmanager")),
    "prometheus-blackbox-exporter": ("prometheus-blackbox-exporter", ("prometheus-blackbox-exporter", "blackbox_exporter")),
    "prometheus-node-exporter": ("prometheus-node-exporter", ("prometheus-node-exporter", "node_exporter")),
}


def prometheus_tool(name):
    """The path of one of TOOLS, looked up on PATH and in /usr/bin; the test fails without it."""
    package, binaries = TOOLS[name]
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/bin"])
    for binary in binaries:
        path = shutil.which(binary, path=search)
        if path:
            return path
    pytest.fail("%s is missing: install the Debian package %s (tests/lab/setup-controller.sh does, as root;"
                " or: apt-get install --no-install-recommends %s)" % (name, package, package))

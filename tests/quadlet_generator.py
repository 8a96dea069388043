"""The real Quadlet generator for tests: where it is, how validate_units runs it, and a
host's catalog units through it.

`make quadlet` extracts it from the lab image into .cache/bin; ensure_generator() does
the same when a test runs without it.
"""

import os
import pathlib
import subprocess

from ansible_collections.homelab.stack.plugins.filter.host_units import FilterModule as UnitsFilter
from ansible_collections.homelab.stack.plugins.module_utils.quadlet import unit_filename, unit_text, validate_units

ROOT = pathlib.Path(__file__).resolve().parent.parent
GENERATOR = ROOT / ".cache" / "bin" / "quadlet"


def ensure_generator():
    """The generator's path, extracted from the lab image first when it is missing."""
    if not GENERATOR.exists():
        subprocess.run([str(ROOT / "tests" / "lab" / "extract-quadlet.sh")], check=True)
    return str(GENERATOR)


def run_generator(args, env):
    """The ``run`` that module_utils.quadlet.validate_units expects: (rc, stdout, stderr)."""
    result = subprocess.run(args, env=dict(os.environ, **env), capture_output=True, text=True, timeout=120,
                            check=False)
    return result.returncode, result.stdout, result.stderr


def generate_host_units(generator, directory, catalog, host, address=None, addresses=None):
    """A host's units of a normalised catalog as the service role writes them, and what the
    real generator makes of them: ({file name: unit text}, {file name: generated unit}).
    ``addresses`` ({host: mesh address}) is needed when an app's database is on another host."""
    host_units = UnitsFilter().filters()["host_units"]
    units = {unit_filename(unit["name"], unit["type"]): unit_text(unit)
             for unit in host_units(catalog, host, address, addresses)}
    return units, validate_units(generator, str(directory), units, run_generator)

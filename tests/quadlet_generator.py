"""The real Quadlet generator for tests: where it is, and how validate_units runs it.

`make quadlet` extracts it from the lab image into .cache/bin; ensure_generator() does
the same when a test runs without it.
"""

import os
import pathlib
import subprocess

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

"""Shared test settings: make the checkout resolvable as homelab.stack for every test."""

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# The same settings `make` exports, so tests also run from a bare `pytest`.
os.environ.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".cache" / "collections"))
os.environ.setdefault("CONTAINERS_CONF", str(ROOT / "tests" / "lab" / "controller-containers.conf"))
os.environ.setdefault("PODMAN_IGNORE_CGROUPSV1_WARNING", "1")
# Tools of the running virtualenv (ansible-playbook, molecule) come first on PATH.
os.environ["PATH"] = os.pathsep.join([str(pathlib.Path(sys.executable).parent), os.environ["PATH"]])

# Tests import plugins as Python packages (ansible_collections.homelab.stack...): the
# collection link made by `make collection` is put on sys.path.
if str(ROOT / ".cache" / "collections") not in sys.path:
    sys.path.insert(0, str(ROOT / ".cache" / "collections"))

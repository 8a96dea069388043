"""What every benchmark on the lab shares: where the tools are and how the lab is reached."""

import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
INVENTORY = ["-i", str(ROOT / "tests" / "lab" / "inventory"), "-i", str(ROOT / ".lab" / "inventory.yml")]


def env():
    """The environment `make` gives Ansible, so a benchmark runs like `make lab` does."""
    environment = dict(os.environ)
    environment.update({
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".cache" / "collections"),
        "CONTAINERS_CONF": str(ROOT / "tests" / "lab" / "controller-containers.conf"),
        # The lab's secrets are SOPS-encrypted for its age key (tests/lab/lab.sh).
        "ANSIBLE_VARS_ENABLED": "host_group_vars,community.sops.sops",
        "SOPS_AGE_KEY_FILE": str(ROOT / ".lab" / "age-key.txt"),
    })
    return environment

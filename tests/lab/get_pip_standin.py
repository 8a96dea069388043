"""Stand-in for pip's get-pip.py, used by ansible-test to put pip into its empty venvs.

ansible-test downloads get-pip.py from a host that offline and registry-only machines
cannot reach; it runs a cached copy instead when one exists, with pip-install arguments
(e.g. ``--disable-pip-version-check pip==25.2 --no-setuptools --no-wheel``). This file
serves as that copy: ensurepip brings pip from the Python installation itself, then pip
installs the requested packages from the package index.
"""

import subprocess
import sys

IGNORED = {"--no-setuptools", "--no-wheel"}


def main():
    args = [arg for arg in sys.argv[1:] if arg not in IGNORED]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"], stdout=subprocess.DEVNULL)
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *args])


if __name__ == "__main__":
    main()

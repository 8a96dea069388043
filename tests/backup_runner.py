"""The host-side backup runner (roles/backup/files/homelab_backup) importable in tests.

On a host, roles/backup installs plugins/module_utils/restic.py as homelab_backup/restic.py;
here roles/backup/files goes on sys.path and homelab_backup.restic is the module_utils file
itself, so the runner and the collection share one copy of restic's rules. install() lays
the runner out as the role does, for tests that run its entry scripts.
"""

import pathlib
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
RUNNER_DIR = ROOT / "roles" / "backup" / "files"

if str(RUNNER_DIR) not in sys.path:
    sys.path.insert(0, str(RUNNER_DIR))

import homelab_backup  # noqa: E402 pylint: disable=wrong-import-position
from ansible_collections.homelab.stack.plugins.module_utils import restic  # noqa: E402 pylint: disable=wrong-import-position

sys.modules["homelab_backup.restic"] = restic
homelab_backup.restic = restic


def install(prefix):
    """The runner installed under ``prefix`` as the role installs it under /usr/local:
    sbin/homelab-backup, sbin/homelab-restic and lib/homelab-backup/homelab_backup/ (with
    restic.py copied in). Returns the sbin directory."""
    prefix = pathlib.Path(prefix)
    package = prefix / "lib" / "homelab-backup" / "homelab_backup"
    shutil.copytree(RUNNER_DIR / "homelab_backup", package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "plugins" / "module_utils" / "restic.py", package / "restic.py")
    (prefix / "sbin").mkdir()
    for script in ("homelab-backup", "homelab-restic"):
        shutil.copy(RUNNER_DIR / script, prefix / "sbin" / script)
    return prefix / "sbin"

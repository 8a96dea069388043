"""The host-side backup runner (roles/backup/files/homelab_backup) importable in tests.

On a host, roles/backup installs plugins/module_utils/restic.py as homelab_backup/restic.py;
here roles/backup/files goes on sys.path and homelab_backup.restic is the module_utils file
itself, so the runner and the collection share one copy of restic's rules.
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
RUNNER_DIR = ROOT / "roles" / "backup" / "files"

if str(RUNNER_DIR) not in sys.path:
    sys.path.insert(0, str(RUNNER_DIR))

import homelab_backup  # noqa: E402 pylint: disable=wrong-import-position
from ansible_collections.homelab.stack.plugins.module_utils import restic  # noqa: E402 pylint: disable=wrong-import-position

sys.modules["homelab_backup.restic"] = restic
homelab_backup.restic = restic

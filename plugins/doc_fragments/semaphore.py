# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of every module that talks to the Semaphore UI API."""

from __future__ import annotations


class ModuleDocFragment:
    """DOCUMENTATION: the Semaphore UI REST API connection (module_utils/semaphore.py, api_argument_spec)."""

    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Address of Semaphore UI, for example V(https://semaphore.example.com). A trailing C(/api) is accepted.
      - If not set, the environment variable E(SEMAPHORE_URL) is used.
      - Set it once per play for every Semaphore module with C(module_defaults) and the action group
        C(group/homelab.stack.semaphore).
    type: str
  api_token:
    description:
      - A Semaphore API token (C(User > API tokens), or C(POST /api/user/tokens)), sent in the C(Authorization) header
        as a bearer token. Its user must be an admin or the project's owner or manager.
      - If not set, the environment variable E(SEMAPHORE_TOKEN) is used.
      - Never logged or shown in messages.
    type: str
"""

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of every plugin that talks to the Proxmox VE API."""

from __future__ import annotations


class ModuleDocFragment:
    """The Proxmox VE connection: DOCUMENTATION for inventory plugins (options read from
    the environment through C(env:) entries), MODULES for modules (the same options; the
    module's argument spec reads the same variables as fallbacks)."""

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Address of the Proxmox VE API, for example V(https://pve1.example.com:8006).
      - A bare host name means HTTPS on port 8006. A trailing C(/api2/json) is accepted.
      - Any node of a cluster answers for the whole cluster.
    type: str
    env:
      - name: PROXMOX_URL
  user:
    description:
      - The Proxmox VE user, with its realm, for example V(root@pam) or V(ansible@pve).
      - Needed with O(password). With a token it is optional when O(token_id) is the full
        token name (V(ansible@pve!inventory)).
    type: str
    env:
      - name: PROXMOX_USER
  password:
    description:
      - The password of O(user). Costs one login request; prefer an API token.
      - Used only when no O(token_id) and O(token_secret) are given.
    type: str
    env:
      - name: PROXMOX_PASSWORD
  token_id:
    description:
      - The API token name, short (V(inventory), combined with O(user)) or full
        (V(ansible@pve!inventory)).
      - A token without privilege separation has the user's permissions; otherwise grant
        the token its own (C(VM.Audit), C(Sys.Audit), C(VM.GuestAgent.Audit) to read an inventory).
    type: str
    env:
      - name: PROXMOX_TOKEN_ID
  token_secret:
    description:
      - The secret (a UUID) of O(token_id). It is never shown in messages.
    type: str
    env:
      - name: PROXMOX_TOKEN_SECRET
  validate_certs:
    description:
      - Verify the API's TLS certificate. Turn off only for a self-signed certificate you cannot replace.
    type: bool
    default: true
    env:
      - name: PROXMOX_VALIDATE_CERTS
  timeout:
    description:
      - Seconds to wait for a connection and for each answer.
    type: int
    default: 10
"""

    MODULES = r"""
options:
  url:
    description:
      - Address of the Proxmox VE API, for example V(https://pve1.example.com:8006).
      - A bare host name means HTTPS on port 8006. A trailing C(/api2/json) is accepted.
      - If not set, the environment variable E(PROXMOX_URL) is used.
    type: str
  user:
    description:
      - The Proxmox VE user, with its realm, for example V(root@pam).
      - If not set, the environment variable E(PROXMOX_USER) is used.
    type: str
  password:
    description:
      - The password of O(user); used only without O(token_id) and O(token_secret).
      - If not set, the environment variable E(PROXMOX_PASSWORD) is used.
    type: str
  token_id:
    description:
      - The API token name, short (combined with O(user)) or full (V(ansible@pve!deploy)).
      - If not set, the environment variable E(PROXMOX_TOKEN_ID) is used.
    type: str
  token_secret:
    description:
      - The secret of O(token_id).
      - If not set, the environment variable E(PROXMOX_TOKEN_SECRET) is used.
    type: str
  validate_certs:
    description:
      - Verify the API's TLS certificate.
      - If not set, the environment variable E(PROXMOX_VALIDATE_CERTS) is used.
    type: bool
    default: true
  api_timeout:
    description:
      - Seconds to wait for a connection and for each answer of the API.
    type: int
    default: 10
"""

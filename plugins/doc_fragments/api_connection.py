# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TLS and timeout options every module of a token-authenticated HTTP API takes
(module_utils/api_connection.py); each API's own fragment documents its address and token."""

from __future__ import annotations


class ModuleDocFragment:
    """DOCUMENTATION: ``validate_certs`` and ``timeout`` of connection_argument_spec."""

    DOCUMENTATION = r"""
options:
  validate_certs:
    description:
      - Verify the server's TLS certificate. Turn off only for a self-signed certificate you cannot replace.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for a connection and for each answer of the API.
      - Reads that fail with HTTP 502, 503 or 504 or cannot connect are tried twice more; writes never are.
    type: int
    default: 30
"""

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by the filters that read the normalised service catalog."""

from __future__ import annotations


class ModuleDocFragment:
    """The catalog input (DOCUMENTATION) and the host argument (HOST)."""

    DOCUMENTATION = r"""
options:
  _input:
    description: The normalised catalog, the output of P(homelab.stack.validate_catalog#filter).
    type: list
    elements: dict
    required: true
"""

    HOST = r"""
options:
  host:
    description: The inventory host to look at, usually C(inventory_hostname).
    type: str
    required: true
"""

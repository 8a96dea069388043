# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the catalog words a problem: ``service <name>: <field>: <problem>``."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def _error(service: str, field: str, problem: str) -> AnsibleFilterError:
    """Build the error for one field of one service (``service #3`` or ``service web``)."""
    return AnsibleFilterError(f"service {service}: {field}: {problem}")


def _kind(value: object) -> str:
    """Name the YAML-level type of a value for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


def _quote(value: object) -> str:
    """Quote a user value for an error message: ``'mars'``."""
    return repr(str(value))


def _is_list(value: object) -> bool:
    return isinstance(value, (list, tuple))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)

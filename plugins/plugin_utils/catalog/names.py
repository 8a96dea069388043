# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every name the catalog derives from a service: DNS labels, volumes, secrets, units.

Quadlet's own names (which service a unit generates) come from module_utils/quadlet.py.
"""

from __future__ import annotations

import re

from ansible_collections.homelab.stack.plugins.module_utils.quadlet import service_name

# The network every service of a host joins, and its Quadlet unit's base name.
NETWORK_NAME = "homelab"

_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def is_dns_label(value: object) -> bool:
    """Tell whether ``value`` is a lower-case DNS label (1-63 of a-z, 0-9 and inner ``-``)."""
    return isinstance(value, str) and _DNS_LABEL.fullmatch(value) is not None


def is_dns_name(value: object) -> bool:
    """Tell whether ``value`` is a lower-case DNS name: dot-separated labels, at most 253 characters."""
    return (isinstance(value, str) and 0 < len(value) <= 253
            and all(is_dns_label(label) for label in value.split(".")))


def volume_name(service: str, volume: str) -> str:
    """The Podman volume (and Quadlet ``.volume`` unit) name of a service volume: ``<svc>-<vol>``."""
    return f"{service}-{volume}"


def secret_name(service: str, key: str) -> str:
    """The Podman secret name of a service secret: ``<svc>-<key lower-cased, _ as ->``."""
    return f"{service}-{key.lower().replace('_', '-')}"


def network_service_name() -> str:
    """The systemd unit Quadlet generates for the homelab network."""
    return service_name(NETWORK_NAME, "network")


def oidc_secret_env(service: str) -> str:
    """The environment variable that carries a service's OIDC client secret to the identity
    provider's worker (read by its blueprint): ``HOMELAB_OIDC_<SERVICE>_SECRET``."""
    return "HOMELAB_OIDC_%s_SECRET" % service.upper().replace("-", "_")

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One rule for turning machine names into inventory host names.

Every inventory source of the collection (Proxmox guests, Tailscale devices) names its
hosts with normalise_hostname(), so the same machine seen by two sources becomes one
host and its variables merge.
"""

from __future__ import annotations

import re

_NOT_ALLOWED = re.compile(r"[^a-z0-9-]+")


def normalise_hostname(name):
    """The inventory name for a machine name, or None when nothing usable is left.

    The short name (before the first dot), lower-cased, with every run of characters
    other than letters, digits and '-' turned into one '-', and no '-' at either end:
    ``Web_01.tail1234.ts.net`` -> ``web-01``, ``Media Server`` -> ``media-server``.
    """
    if not isinstance(name, str):
        return None
    short = name.strip().split(".", 1)[0].lower()
    cleaned = _NOT_ALLOWED.sub("-", short).strip("-")
    return re.sub(r"-{2,}", "-", cleaned) or None

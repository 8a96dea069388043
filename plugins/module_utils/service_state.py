# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a host runs for the service catalog, read from systemd and Podman.

The service role restarts a service when what its container was started from has
changed since: a unit file, a secret, the image its tag names. These small pure
functions turn the outputs of ``systemctl show``, ``podman container inspect``,
``podman images`` and ``podman secret inspect`` into plain facts with epoch times, so
the decision (plugin_utils/catalog.py, ``service_plan``) can be made from the actual
state and unit-tested without a host. The names the collection marks its objects with
live here too, for Python and YAML alike.
"""

from __future__ import annotations

import calendar
import json
import re

# The [Unit] key every unit the service role writes carries (value "true").
MANAGED_KEY = "X-HomelabManaged"
# The Podman label naming the catalog service of a container, volume or secret.
SERVICE_LABEL = "homelab.service"
# The Podman label marking secrets the service role created (value "true").
MANAGED_LABEL = "homelab.managed"

# Properties read per service; systemctl prints one KEY=value block per unit.
UNIT_PROPERTIES = ("Id", "LoadState", "ActiveState", "SubState", "NeedDaemonReload")

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?\s*(Z|[+-]\d\d:?\d\d)?"
)


class StateError(Exception):
    """Output of systemctl or Podman that cannot be read, worded for the user."""


def epoch(text):
    """Seconds since the epoch (float, microseconds kept) of an RFC 3339 time from Podman.

    Podman writes nanoseconds and a zone (``2026-12-02T12:28:05.619142648Z`` or
    ``...+01:00``); datetime cannot read nine digits of fraction, hence the pattern.
    """
    match = _TIMESTAMP.fullmatch((text or "").strip())
    if not match:
        raise StateError("cannot read the time %r" % (text,))
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction = float("0." + match.group(7)) if match.group(7) else 0.0
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    zone = match.group(8)
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds + fraction


def unit_blocks(output):
    """{unit id: {property: value}} from ``systemctl show --property=Id,...`` of some units
    (one ``KEY=value`` block per unit, blocks apart by an empty line)."""
    blocks = {}
    for block in output.strip().split("\n\n"):
        values = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if "Id" in values:
            blocks[values["Id"]] = values
    return blocks


def parse_units(output, services):
    """{service: {active_state, sub_state, load_state, need_daemon_reload}} from
    ``systemctl show --property=...`` of ``<service>.service`` for each of ``services``.
    """
    blocks = unit_blocks(output)
    result = {}
    for service in services:
        values = blocks.get(service + ".service", {})
        result[service] = {
            "load_state": values.get("LoadState", "not-found"),
            "active_state": values.get("ActiveState", "inactive"),
            "sub_state": values.get("SubState", "dead"),
            "need_daemon_reload": values.get("NeedDaemonReload") == "yes",
        }
    return result


def _json(output, what):
    try:
        return json.loads(output) if output.strip() else []
    except ValueError:
        raise StateError("cannot read the output of %s as JSON" % what)


def parse_containers(output):
    """{container name: {created, image_id, image_name, health, running}} from
    ``podman container inspect`` of the catalog's containers.
    """
    result = {}
    for container in _json(output, "podman container inspect"):
        state = container.get("State") or {}
        health = state.get("Health") or state.get("Healthcheck") or {}
        result[container["Name"].lstrip("/")] = {
            "created": epoch(container["Created"]),
            "image_id": container.get("Image", ""),
            "image_name": container.get("ImageName", ""),
            "health": health.get("Status") or None,
            "running": bool(state.get("Running")),
        }
    return result


def parse_images(output):
    """{image reference: image id} for every tag in ``podman images --format json``."""
    result = {}
    for image in _json(output, "podman images"):
        for name in image.get("Names") or []:
            result[name] = image.get("Id", "")
    return result


def parse_secrets(output):
    """[{name, created, labels}] from ``podman secret inspect``, without any secret data.

    ``created`` is the later of CreatedAt and UpdatedAt: an update replaces what the
    next container gets, like a new secret does.
    """
    result = []
    for secret in _json(output, "podman secret inspect"):
        spec = secret.get("Spec") or {}
        times = [epoch(secret[key]) for key in ("CreatedAt", "UpdatedAt") if secret.get(key)]
        result.append({"name": spec.get("Name", ""), "created": max(times) if times else 0.0,
                       "labels": spec.get("Labels") or {}})
    return sorted(result, key=lambda item: item["name"])


def image_reference(image):
    """The reference Podman resolves ``image`` to (``name:latest`` without a tag), or
    None for an image pinned by digest, whose id cannot move.
    """
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return None
    return image if ":" in last else image + ":latest"


def short_name_candidates(reference):
    """The names Podman lists a short-name ``reference`` under after a pull from Docker Hub.

    ``podman images`` shows fully qualified names (``docker.io/library/nginx:latest``) for
    a catalog's ``nginx`` or ``nginx:latest``; a reference whose first part is a registry
    (it has a dot or a port, or is ``localhost``) is already what Podman shows.
    """
    first, slash, _rest = reference.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return [reference]
    if not slash:
        return [reference, "docker.io/library/" + reference]
    return [reference, "docker.io/" + reference]


def image_tag(images, image):
    """The name the host lists its tag for ``image`` under, in ``parse_images``'s result, or
    None: pinned by digest (there is no tag to move) or not on the host.

    ``podman tag`` needs this name rather than the catalog's: it reads a short name as
    ``localhost/<name>``.
    """
    reference = image_reference(image)
    if reference is None:
        return None
    for name in short_name_candidates(reference):
        if name in images:
            return name
    return None


def image_id(images, image):
    """The id of the image the host's tag for ``image`` names, or None (see ``image_tag``)."""
    name = image_tag(images, image)
    return images[name] if name else None

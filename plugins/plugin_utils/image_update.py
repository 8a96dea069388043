# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``homelab.stack.update`` does on one host: which images moved, which services follow.

A service runs the image its tag named when the container was created. After a pull (or an
image loaded or built on the host) the tag may name another image: the service is then
updated, after a backup of its volumes, and rolled back when it does not become healthy.

Services that share an image are updated together. A tag is one per host, so rolling it back
rolls back every service that uses it; updating them one by one would leave some on the new
image and the tag on the old one, which the next converge would "fix" without a backup.

Not public API: the role ``homelab.stack.update`` is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.module_utils.service_state import image_id, image_reference, image_tag
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.errors import _is_list
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.service_plan import host_containers
from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import backup_sets

ROLLBACK_REPOSITORY = "localhost/homelab-rollback"


def rollback_tag(service):
    """The name the image ``service`` ran before its last update keeps, so it is never pruned
    and can be gone back to by hand (``podman tag <it> <image>``, then a restart)."""
    return f"{ROLLBACK_REPOSITORY}/{service}:previous"


def _selected(catalog, host, only):
    """``host``'s services in start order that the update looks at.

    ``only`` (``update_services``) names services of the catalog, or is empty for all. A
    service sharing its image with a named one is looked at too: the tag is one per host,
    so moving it for one moves it for all of them.
    """
    containers = host_containers(catalog, host)
    if only is None or only == []:
        return containers
    if not _is_list(only) or not all(isinstance(name, str) for name in only):
        raise AnsibleFilterError("update_services: must be a list of service names")
    unknown = [name for name in only if name not in {service["name"] for service in catalog}]
    if unknown:
        raise AnsibleFilterError(f"update_services: {', '.join(unknown)} is not a service of the catalog")
    images = {container["image"] for container in containers if container["name"] in only}
    return [container for container in containers if container["image"] in images]


def pullable_images(catalog: object, host: object, only: object = None) -> list:
    """The images of ``host``'s services a pull can move, each once, in start order.

    Not those pinned by digest (nothing moves them) nor ``localhost/`` ones (built or loaded
    on the host: there is no registry to pull them from; whatever put a new one there has
    already moved the tag). ``only`` as for :func:`image_update_plan`.
    """
    images = []
    for container in _selected(catalog, host, only):
        image = container["image"]
        if image_reference(image) is None or image.startswith("localhost/") or image in images:
            continue
        images.append(image)
    return images


def _short(image_id):
    """An image id as Podman shows it: 12 hex digits, without the ``sha256:`` some outputs carry."""
    return image_id.rsplit(":", 1)[-1][:12]


def _summary(update):
    """One line of the run's output for ``update``: who moves from what to what."""
    backup = f", after a backup of {', '.join(update['backup'])}" if update["backup"] else ""
    return (f"{', '.join(update['services'])}: {update['image']} {_short(update['from'])} -> "
            f"{_short(update['to'])}{backup}")


def image_update_plan(catalog: object, host: object, state: object, only: object = None) -> dict:
    """The update of ``host`` from its state as P(homelab.stack.service_info#module) read it.

    Returns ``{updates, unchanged, pinned, problems}``:

    - ``updates``: one item per image whose tag moved, in the start order of its first
      service: ``{image, tag, from, to, services, healthcheck, backup, rollback_tags, summary}``
      where ``tag`` is the name the host lists the tag under (what ``podman tag`` takes),
      ``from`` is the image the services ran (the one most of them ran, should they
      differ), ``to`` the one the tag names now, ``services`` the services to restart in
      start order, ``healthcheck`` and ``backup`` those of them that declare a health check
      and that have backed-up volumes, ``rollback_tags`` {service: its rollback name},
      ``summary`` one line saying all that;
    - ``unchanged``: services already on the image their tag names;
    - ``pinned``: services whose image is pinned by digest (an update is a catalog change);
    - ``problems``: "service <name>: <what>" for a service that is not running or whose
      image is not on the host; the role stops on any before changing anything.

    ``only`` limits the update to these service names and those sharing an image with them
    (all of the host's when None or empty).
    """
    if not isinstance(state, Mapping) or not all(key in state for key in ("services", "images")):
        raise AnsibleFilterError("image_update_plan: expects the result of homelab.stack.service_info")
    backed_up = {item["service"] for item in backup_sets(catalog) if item["host"] == host}
    groups, unchanged, pinned, problems = {}, [], [], []
    for container in _selected(catalog, host, only):
        name, image = container["name"], container["image"]
        if image_reference(image) is None:
            pinned.append(name)
            continue
        running = (state["services"].get(name) or {}).get("container") or {}
        if not running.get("running") or not running.get("image_id"):
            problems.append(f"service {name}: is not running; converge the site first (homelab.stack.site)")
            continue
        current = image_id(state["images"], image)
        if current is None:
            problems.append(f"service {name}: image: {image} is not on the host")
            continue
        if current == running["image_id"]:
            unchanged.append(name)
            continue
        group = groups.setdefault(image, {"image": image, "tag": image_tag(state["images"], image), "to": current,
                                          "ran": Counter(), "services": []})
        group["ran"][running["image_id"]] += 1
        group["services"].append(container)
    updates = []
    for group in groups.values():
        services = group["services"]
        updates.append({
            "image": group["image"],
            "tag": group["tag"],
            # most_common keeps first-seen order on a tie: the first service's image.
            "from": group["ran"].most_common(1)[0][0],
            "to": group["to"],
            "services": [service["name"] for service in services],
            "healthcheck": [service["name"] for service in services if service["healthcheck"]],
            "backup": [service["name"] for service in services if service["name"] in backed_up],
            "rollback_tags": {service["name"]: rollback_tag(service["name"]) for service in services},
        })
        updates[-1]["summary"] = _summary(updates[-1])
    return {"updates": updates, "unchanged": unchanged, "pinned": pinned, "problems": problems}

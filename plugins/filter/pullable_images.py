# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.image_update import pullable_images

DOCUMENTATION = r"""
name: pullable_images
short_description: The images of a host's services that a pull can move
version_added: 0.1.0
description:
  - The images of the host's present services, each once, in start order, that C(homelab.stack.update) pulls.
  - >-
    Not those pinned by digest (nothing moves them), nor C(localhost/) ones (built or loaded on the host:
    no registry has them; whatever put a new one there has already moved the tag).
positional: host
options:
  only:
    description: Limit to the images of these service names (every service of the host when empty).
    type: list
    elements: str
extends_documentation_fragment:
  - homelab.stack.catalog
  - homelab.stack.catalog.host
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Pull what the catalog runs on this host
  ansible.builtin.command:
    argv: [podman, pull, --quiet, "{{ item }}"]
  loop: "{{ homelab_catalog | homelab.stack.pullable_images(inventory_hostname) }}"
  changed_when: false
"""

RETURN = r"""
_value:
  description: Image references as the catalog writes them.
  type: list
  elements: str
"""


class FilterModule:
    """The pullable_images filter."""

    def filters(self):
        return {"pullable_images": pullable_images}

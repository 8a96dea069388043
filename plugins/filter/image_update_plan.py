# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.image_update import image_update_plan

DOCUMENTATION = r"""
name: image_update_plan
short_description: Which services of a host move to a new image, and how
version_added: 0.1.0
description:
  - The plan of C(homelab.stack.update) on one host, from its state as
    M(homelab.stack.service_info) read it after the pulls.
  - A service is updated when its image's tag on the host names another image than its container
    runs. Services sharing an image are updated together (the tag is one per host, so a
    rollback moves all of them back).
  - Pure, it reads the catalog and the state, and changes nothing.
positional: host,state
options:
  host:
    description: The inventory host, usually C(inventory_hostname).
    type: str
    required: true
  state:
    description: The result of M(homelab.stack.service_info) for the host's services.
    type: dict
    required: true
  only:
    description: Limit the update to these service names (every service of the host when empty).
    type: list
    elements: str
seealso:
  - plugin: homelab.stack.pullable_images
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: What the update would do on this host
  ansible.builtin.debug:
    msg: "{{ homelab_catalog | homelab.stack.image_update_plan(inventory_hostname, service_state) }}"
# When localhost/app:latest moved on a host running web and api from it:
#   {updates: [{image: localhost/app:latest, from: 3f1e..., to: 9ab0..., services: [api, web],
#               healthcheck: [api], backup: [], rollback_tags: {api: localhost/homelab-rollback/api:previous, ...}}],
#    unchanged: [traefik], pinned: [], problems: []}
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    updates:
      description:
        - One item per image whose tag moved, in start order; C(from) is the image the services ran (the one
          most of them ran should they differ), C(to) the one the tag names now.
        - C(services) are restarted in start order; C(healthcheck) and C(backup) list those of them that declare a
          health check and that have backed-up volumes; C(rollback_tags) the name each service's previous image
          keeps.
      type: list
      elements: dict
    unchanged:
      description: Services already on the image their tag names.
      type: list
      elements: str
    pinned:
      description: Services whose image is pinned by digest (updating them is a catalog change).
      type: list
      elements: str
    problems:
      description: "C(service <name>: <what>) for services not running or whose image is not on the host."
      type: list
      elements: str
"""


class FilterModule:
    """The image_update_plan filter."""

    def filters(self):
        return {"image_update_plan": image_update_plan}

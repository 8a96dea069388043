# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.views import host_units

DOCUMENTATION = r"""
name: host_units
short_description: The Quadlet units of one host's services, in apply order
version_added: 0.1.0
description:
  - Returns the Quadlet unit specifications for the present services of one host from the normalised
    catalog, in the order to apply them; first the C(homelab) network, then every service volume
    (catalog order), then the containers, each after the same-host services it depends on and
    otherwise in catalog order.
  - Dependencies on services of other hosts do not become C(After)/C(Requires);
    C(playbooks/services.yml) orders those hosts (P(homelab.stack.host_tiers#filter)).
  - Each volume and container is tagged with the service that owns it, in the reserved
    C(homelab.service) label of its C(spec); the network has no owner, every service of the host uses it.
    The service role's plan reads the tag to restart exactly the services whose units changed.
  - Returns an empty list when the host has no present service.
  - A routed service that the edge reaches over the mesh (C(route.mesh_port), see
    O(homelab.stack.validate_catalog#filter:edge)) publishes C(<address>:<mesh_port>:<port>), on the mesh
    address only; so does a service that Prometheus scrapes from another host (C(metrics.mesh_port), published as
    C(<address>:<metrics.mesh_port>:<metrics.port>) unless the route's binding already serves it).
    A C(platform=postgres) server that an app on another host uses publishes C(<address>:5432:5432).
  - An app with a C(database) gets its connection in its C(Environment) (C(<prefix>_HOST), C(_PORT), C(_NAME),
    C(_USER); P(homelab.stack.database_client#filter)), its password as the Podman secret C(<prefix>_PASSWORD).
positional: host,address
options:
  address:
    description:
      - The host's mesh address (usually C(homelab_mesh_address), else C(ansible_host)). Needed when a service
        of the host is routed by an edge on another host, or scraped by Prometheus on another host.
    type: str
  addresses:
    description:
      - Every host's mesh address (P(homelab.stack.mesh_addresses#filter) of C(groups['all'])). Needed when an app
        of the host has its database on another host (its C(<prefix>_HOST) is that host's mesh address).
    type: dict
seealso:
  - plugin: homelab.stack.validate_catalog
    plugin_type: filter
  - plugin: homelab.stack.host_secrets
    plugin_type: filter
extends_documentation_fragment:
  - homelab.stack.catalog
  - homelab.stack.catalog.host
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Units of this host
  ansible.builtin.set_fact:
    homelab_units: "{{ homelab_catalog | homelab.stack.host_units(inventory_hostname) }}"

# A service whoami on jove with a volume data gives, in this order:
#   - {name: homelab, type: network, ...}
#   - {name: whoami-data, type: volume, ...}
#   - {name: whoami, type: container,
#      spec: {ContainerName: whoami, Image: ..., Network: homelab.network, Label: {homelab.service: whoami},
#             Volume: [whoami-data.volume:/data]}, ...}
"""

RETURN = r"""
_value:
  description: The units in apply order, each in the form the O(homelab.stack.quadlet#module:units) option takes.
  type: list
  elements: dict
  contains:
    name:
      description: The unit's name; the Quadlet file is C(<name>.<type>).
      type: str
    type:
      description: The Quadlet unit type.
      type: str
      choices: [network, volume, container]
    unit:
      description: The C([Unit]) section; C(Description), C(X-HomelabManaged), and for containers C(After) and C(Requires) when set.
      type: dict
    spec:
      description:
        - The section named after the type (C([Network]), C([Volume]) or C([Container])), keys in a fixed order.
        - For containers C(ContainerName), C(Image), C(Network), C(Label), then when set C(Environment), C(Secret),
          C(Volume), C(PublishPort), C(Exec), C(AutoUpdate), C(HealthCmd), C(HealthInterval), C(HealthRetries),
          C(HealthStartPeriod), C(PodmanArgs).
      type: dict
    service:
      description: The C([Service]) section.
      type: dict
    install:
      description: The C([Install]) section.
      type: dict
"""


class FilterModule:
    """The host_units filter."""

    def filters(self):
        return {"host_units": host_units}

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils.catalog.schema import normalise_catalog

DOCUMENTATION = r"""
name: validate_catalog
short_description: Validate the service catalog and fill in its defaults
version_added: 0.1.0
description:
  - Checks every entry of C(homelab_services) and returns the catalog normalised, in input order,
    with every field present and its default filled in.
  - Fields and defaults are C(name), C(host), C(image), C(state=present), C(port=None),
    C(route=None) or C({auth, subdomain, hosts, paths, allow_from, rate_limit, public, groups, mesh_port})
    (C(auth=sso), C(subdomain=<name>), C(hosts=[]) extra host names, C(paths=[]) path prefixes,
    C(allow_from=[]) CIDR networks, C(rate_limit=None) or C({average, burst=<average>}) requests per second,
    C(public=false) for the Cloudflare tunnel, C(groups=[]) that may use an SSO route, C(mesh_port) see O(edge)), C(env={}) (values as strings),
    C(secrets={}), C(volumes=[]) of C({name, mount, backup}) (C(backup) see below), C(depends_on=[]),
    C(metrics=None) or C({port=<port>, path=/metrics, mesh_port}) (C(mesh_port) see below),
    C(healthcheck=None) or C({cmd, interval=30s, retries=3, start_period=10s}), C(publish=[]), C(labels={}),
    C(command=None) or a list of strings (a string is split like a shell would), C(auto_update=false),
    C(resources={}) or C({memory, cpus}), C(purge_volumes=false), C(oidc=None) or C({redirect_paths, scopes=[openid, profile, email]})
    (an OpenID Connect client, which needs a route), C(mounts=[]) of C({source, target, readonly=false}) (host paths
    bind-mounted into the container), C(platform=None) or a platform kind (C(traefik), C(cloudflared), C(edge_pages),
    C(prometheus), C(alertmanager), C(blackbox_exporter), C(grafana), C(loki), C(authentik), C(alloy),
    C(rest_server), C(postgres), C(semaphore)) whose container defaults
    fill the fields the entry leaves unset, C(database=None) or C({server, name, user, env_prefix=DATABASE}) (a
    database on a C(platform=postgres) entry, see below). A field set to C(null) takes its default.
  - It also checks the catalog as a whole. Names are unique, C(depends_on) names services that exist, that are
    not the service itself, not absent (for a present service) and form no cycle; the systemd units,
    Podman volumes and Podman secrets made for the services of one host, the ports published on one host, and the
    route subdomains and extra host names, do not collide.
  - A volume's C(backup) is a schedule (C(hourly), C(daily), C(weekly), C(monthly) or C(never); C(none) is
    accepted and normalised to C(never)) or a mapping C({schedule, keep, dump, pause}); either normalises to
    C({schedule, keep, dump=None, pause=false}) (C(backup=None) to C(never)). C(keep) is the restic keep policy,
    a mapping of C(last), C(hourly), C(daily), C(weekly), C(monthly), C(yearly) to a positive integer or C(all),
    or C(all) (nothing is forgotten); it replaces the schedule's default (C(hourly) C({hourly=72}), C(daily)
    C({daily=30}), C(weekly) C({weekly=13}), C(monthly) C(all); C(never) C(None)). C(dump=postgres) backs up the
    service's database as a dump, C(pause=true) stops the service around the copy; not both, one dump per service.
  - A C(platform=traefik) entry runs on O(edge), once; so do C(cloudflared) and C(edge_pages) (the edge's page
    server, busybox's httpd serving the pages the traefik role writes).
  - >-
    The monitoring kinds run the official images with their configuration read-only from
    C(/etc/homelab/<kind>) and a data volume (C(backup=never)) for C(prometheus) and C(alertmanager);
    C(prometheus) publishes C(127.0.0.1:9090:9090) and C(alertmanager) C(127.0.0.1:9093:9093) (host loopback
    only), C(blackbox_exporter) nothing. C(alertmanager) and C(blackbox_exporter) run on the host of the
    C(prometheus) entry, which reaches them by name.
  - >-
    A C(platform=rest_server) entry is restic's rest-server (the official image), where the hosts of the other
    sites back up: its repositories in a volume C(data) at C(/data) (C(backup=never)), C(htpasswd), C(tls.crt)
    and C(tls.key) read-only from C(/etc/homelab/rest-server) at C(/etc/rest-server), the flags C(--append-only
    --private-repos --tls), port 8000 published on its host's mesh address only; no health check. One per host
    at most (C(service <name>: platform: host <host> already runs rest_server ...)); its port stays 8000.
  - >-
    A C(platform=postgres) entry is a shared PostgreSQL (the official image, at most one per host, port 5432): its
    data in a volume C(data) at C(/var/lib/postgresql/data) backed up C({schedule=hourly, dump=postgres}) (a copy
    of the live files is refused), a C(pg_isready) health check, its socket directory mounted from
    C(/var/lib/homelab/postgres/socket), and the secret C(POSTGRES_PASSWORD) (required). Its port is published on
    its host's mesh address only, and only when a present app of another host uses it.
  - >-
    A C(platform=semaphore) entry is Semaphore UI (the official image pinned to 2.16.50, port 3000, once in the
    catalog): a route with C(auth=sso) unless set, SQLite and its C(config.json) in a volume C(data) at
    C(/var/lib/semaphore) backed up C({schedule=daily, pause=true}), a C(/api/ping) health check, its port published
    on C(127.0.0.1) only (where the semaphore role reaches the API; one such binding is required), C(env) merged key
    by key over C(SEMAPHORE_DB_DIALECT=sqlite), C(SEMAPHORE_DB_PATH), C(SEMAPHORE_CONFIG_PATH), C(SEMAPHORE_ADMIN=admin),
    C(SEMAPHORE_ADMIN_NAME) and C(SEMAPHORE_ADMIN_EMAIL), and the secrets C(SEMAPHORE_ADMIN_PASSWORD) and
    C(SEMAPHORE_ACCESS_KEY_ENCRYPTION) (required; the key must be 16, 24 or 32 bytes in base64).
  - >-
    A service's C(database) names a C(platform=postgres) entry of the catalog as C(server) (present when the
    service is); C(name) and C(user) default to the service's name with C(-) as C(_) and must be lower-case
    PostgreSQL names (not the server's own databases, not the superuser, no role starting with C(pg_)), unique
    per server. The service gets the secret C(<env_prefix>_PASSWORD), derived from the server's
    C(POSTGRES_PASSWORD) and both names unless it sets it, and on the server's host a C(depends_on) on it;
    P(homelab.stack.host_units#filter) gives it C(<env_prefix>_HOST), C(_PORT), C(_NAME) and C(_USER), which its
    own C(env) must not set.
  - With a present C(platform=prometheus) entry, a service with C(metrics) on another host gets
    C(metrics.mesh_port), the port Prometheus scrapes it on, published on that host's mesh address only; unless
    set, the route's C(mesh_port) when the route publishes the same container port there (one binding), else the
    metrics port. On Prometheus' host, or without a Prometheus entry, C(metrics.mesh_port) is C(null).
  - With O(edge), a routed service of another host gets C(route.mesh_port) (default its C(port)), the port the edge
    reaches it on, published on that host's mesh address only. On the edge host, or without O(edge),
    C(route.mesh_port) is C(null) and the edge reaches the container by name.
  - The input is not modified, and a normalised catalog passes through unchanged.
  - >-
    Any problem fails with C(service <name>: <field>: <problem>), or C(service #<index>: ...) when the
    entry has no valid name. Secret values are never shown.
positional: hosts
options:
  _input:
    description: The service catalog, usually C(homelab_services). C(null) counts as an empty catalog.
    type: list
    elements: dict
    required: true
  hosts:
    description: Every inventory host name, usually C(groups['all']); each service's C(host) must be one of them.
    type: list
    elements: str
    required: true
  edge:
    description: The inventory host that runs the edge (Traefik), usually C(homelab_edge_host). Omitted or C(null), no route is reached over the mesh.
    type: str
seealso:
  - plugin: homelab.stack.host_units
    plugin_type: filter
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Validate the catalog once for the play
  ansible.builtin.set_fact:
    homelab_catalog: "{{ homelab_services | homelab.stack.validate_catalog(groups['all'], edge=homelab_edge_host | default(none)) }}"

# homelab_services:
#   - name: whoami
#     host: jove
#     image: docker.io/traefik/whoami:v1.10
#     port: 80
#     route: {auth: none}
# becomes
#   - name: whoami
#     host: jove
#     image: docker.io/traefik/whoami:v1.10
#     state: present
#     port: 80
#     route: {auth: none, subdomain: whoami, hosts: [], paths: [], allow_from: [], rate_limit: null, public: false,
#             groups: [], mesh_port: null}
#     env: {}
#     secrets: {}
#     volumes: []
#     depends_on: []
#     metrics: null
#     healthcheck: null
#     publish: []
#     labels: {}
#     command: null
#     auto_update: false
#     resources: {}
#     purge_volumes: false
"""

RETURN = r"""
_value:
  description: The normalised catalog, one dictionary per service in input order, every field present.
  type: list
  elements: dict
"""


class FilterModule:
    """The validate_catalog filter."""

    def filters(self):
        return {"validate_catalog": normalise_catalog}

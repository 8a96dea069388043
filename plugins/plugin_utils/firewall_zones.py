# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base role's firewall zones: checking what the user declares, and turning zones,
the catalog's ports (the ``firewall_ports`` view) and the role's settings into the
openings that plugins/module_utils/nftables.py renders.

A zone is ``{name, interfaces, sources}``: the packets that arrive on one of its
interfaces (every interface when it lists none) and, when it has sources, come from one
of them. The names mean something to the role: the mesh zone (``mesh`` by default) gets
the published service ports, the SSH zones (``management`` and ``mesh``) get SSH; any other
zone (``lan``, ``dmz``) gets only what is public (the edge's 80/443).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

ZONE_FIELDS = ("name", "interfaces", "sources")


def _zone_list(zones: object, variable: str) -> list:
    if not isinstance(zones, (list, tuple)):
        raise AnsibleFilterError(f"{variable}: must be a list of zones, got {type(zones).__name__}")
    return list(zones)


def zone_problems(zones: object, interfaces: object, later_interfaces: object = (),
                  variable: str = "base_firewall_zones") -> list:
    """Every problem of ``zones`` on a host with ``interfaces`` (``ansible_interfaces``), as
    ``<variable>[<i>].<field>: <problem>`` messages; [] when they are fine.

    Why before any change: a zone naming an interface the host does not have would open
    nothing where the user expects it (a typo such as ``eht0`` silently closes SSH from
    the management network). ``later_interfaces`` are interfaces a later layer creates
    (the mesh layer's ``tailscale0``): naming them before they exist is fine, their rules
    match as soon as they appear. A trailing ``*`` (``wg*``) matches by prefix.
    """
    problems = []
    present = set(interfaces or []) | set(later_interfaces or [])
    seen: dict = {}
    for index, zone in enumerate(_zone_list(zones, variable)):
        where = f"{variable}[{index}]"
        if not isinstance(zone, Mapping):
            problems.append(f"{where}: must be a dict {{name, interfaces, sources}}")
            continue
        unknown = sorted(set(zone) - set(ZONE_FIELDS))
        if unknown:
            problems.append(f"{where}: unknown field(s) {', '.join(map(str, unknown))}; a zone has {', '.join(ZONE_FIELDS)}")
        name = zone.get("name")
        if not isinstance(name, str) or not name:
            problems.append(f"{where}.name: must be a non-empty string")
        elif name in seen:
            problems.append(f"{where}.name: '{name}' is already the name of {variable}[{seen[name]}]")
        else:
            seen[name] = index
        names = zone.get("interfaces") or []
        sources = zone.get("sources") or []
        if not names and not sources:
            problems.append(f"{where}: give interfaces, sources or both (a zone of every packet would open its ports to all)")
        for position, interface in enumerate(names):
            if not isinstance(interface, str) or not interface:
                problems.append(f"{where}.interfaces[{position}]: must be an interface name")
            elif interface.endswith("*"):
                if not any(known.startswith(interface[:-1]) for known in present):
                    problems.append(f"{where}.interfaces[{position}]: no interface of this host matches '{interface}'"
                                    f" (it has {', '.join(sorted(interfaces or [])) or 'none'})")
            elif interface not in present:
                problems.append(f"{where}.interfaces[{position}]: this host has no interface '{interface}'"
                                f" (it has {', '.join(sorted(interfaces or [])) or 'none'})")
        for position, source in enumerate(sources):
            try:
                ipaddress.ip_network(str(source), strict=False)
            except ValueError:
                problems.append(f"{where}.sources[{position}]: '{source}' is not an address or CIDR network")
    return problems


def openings(ports: list, zones: list, mesh_zone: str, ssh_zones: list, ssh_port: int,
             host_ports: list) -> list:
    """The openings of the host's table (see nftables.ruleset): the catalog's ``ports``
    (public ones from every interface, mesh ones from ``mesh_zone`` and the host's
    containers), SSH from the declared ``ssh_zones``, and ``host_ports``
    (``{port, protocol, zones, comment}``: listeners of the host itself such as the node
    exporter; ``zones`` empty is every interface). Zones named but not declared are left
    out of ``ssh_zones`` and ``host_ports`` (a site without a management network just has
    none); a mesh port without a declared mesh zone is an error, since it could only be
    closed or opened to all.
    """
    declared = {zone["name"] for zone in zones}
    result = []
    for port in ports:
        services = ", ".join(port["services"])
        if port["scope"] == "public":
            result.append({"port": port["port"], "protocol": port["protocol"], "zones": [], "published": True,
                           "containers": False, "comment": f"public: {services}"})
            continue
        if mesh_zone not in declared:
            raise AnsibleFilterError(
                f"base_firewall_mesh_zone: '{mesh_zone}' is not a zone of base_firewall_zones, but service(s)"
                f" {services} publish port {port['port']}/{port['protocol']} for the mesh: declare the zone"
                f" (e.g. {{name: {mesh_zone}, interfaces: [tailscale0]}})")
        result.append({"port": port["port"], "protocol": port["protocol"], "zones": [mesh_zone],
                       "published": True, "containers": True, "comment": f"mesh: {services}"})
    ssh = [name for name in ssh_zones if name in declared]
    if ssh:
        result.append({"port": int(ssh_port), "protocol": "tcp", "zones": ssh, "published": False,
                       "containers": False, "comment": "ssh"})
    for extra in host_ports:
        names = list(extra.get("zones") or [])
        wanted = [name for name in names if name in declared]
        if names and not wanted:
            continue
        result.append({"port": int(extra["port"]), "protocol": extra.get("protocol") or "tcp", "zones": wanted,
                       "published": False, "containers": mesh_zone in wanted,
                       "comment": extra.get("comment") or ""})
    return result

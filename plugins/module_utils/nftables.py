# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's own nftables table (``table inet homelab``) as one ``nft -f`` file.

Why a table of our own, replaced atomically, and never ``flush ruleset``: Podman's netavark
keeps its own tables (``table inet netavark``, or iptables-nft's ``ip filter``/``ip nat``)
for container networking and published ports; flushing the ruleset would cut every
container off until netavark rebuilt them. The file first creates the table (a no-op when
it exists), deletes it, then declares it anew, all in one transaction: the kernel applies
the whole file or nothing, and a reload never leaves the host without a firewall.

How published container ports are filtered: netavark DNATs them in prerouting, so they
reach the container through the FORWARD hook, never INPUT. The ``forward`` chain therefore
looks at new connections whose conntrack entry was DNATed (``ct status dnat``) and admits
them by their ORIGINAL destination port (``ct original proto-dst``, the port the client
asked for, not the container's): public ports from anywhere, mesh ports only from the
mesh zone (and the host's own containers), everything else dropped. Traffic that was not
DNATed (containers going out, container to container) is left to netavark.

A packet is dropped when any base chain of any table drops it, so this table can only take
away; ``accept`` here never overrides another table's ``drop``.
"""

from __future__ import annotations

import ipaddress

TABLE = "homelab"


def _quoted(names: list) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _interfaces(names: list) -> list:
    """``iifname`` matches for ``names``: one set for plain names, one match per wildcard
    (``podman*``), since older nft refuses wildcards inside anonymous sets."""
    plain = [name for name in names if not name.endswith("*")]
    result = [f"iifname {{ {_quoted(plain)} }}"] if plain else []
    result.extend(f'iifname "{name}"' for name in names if name.endswith("*"))
    return result


def zone_matches(zone: dict) -> list:
    """The match prefixes that select packets of ``zone`` ({interfaces, sources}): its
    interfaces, and of those only the packets from its sources when it has any (one prefix
    per address family, since ``ip saddr`` and ``ip6 saddr`` cannot share a set)."""
    interfaces = _interfaces(list(zone.get("interfaces") or [])) or [""]
    sources = [ipaddress.ip_network(source, strict=False) for source in zone.get("sources") or []]
    if not sources:
        return interfaces
    result = []
    for family, keyword in ((4, "ip saddr"), (6, "ip6 saddr")):
        networks = [str(network) for network in sources if network.version == family]
        if networks:
            result.extend(f"{interface} {keyword} {{ {', '.join(networks)} }}".strip() for interface in interfaces)
    return result


def _comment(text: str) -> str:
    """A comment nft accepts: no double quote, at most 128 bytes."""
    return text.replace('"', "'")[:128]


def _ports(ports: list) -> str:
    ordered = sorted(set(ports))
    return str(ordered[0]) if len(ordered) == 1 else "{ " + ", ".join(str(port) for port in ordered) + " }"


def _by_protocol(openings: list) -> dict:
    result: dict = {}
    for opening in openings:
        result.setdefault(opening["protocol"], []).append(opening["port"])
    return result


def controller_rule(address: str, port: int) -> str:
    """The rule that keeps Ansible's own SSH connection: its source address to sshd's port.
    An IPv4-mapped IPv6 address (sshd on a dual-stack socket) is matched as the IPv4 one."""
    parsed = ipaddress.ip_address(address)
    if parsed.version == 6 and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    keyword = "ip saddr" if parsed.version == 4 else "ip6 saddr"
    return f"{keyword} {parsed} tcp dport {int(port)} accept comment \"the controller's connection\""


def _rules(matches: list, openings: list, action: str, port_match: str) -> list:
    """One rule per (match, protocol): ``<match> <protocol> <port_match> <ports> <action>``."""
    lines = []
    for protocol, ports in sorted(_by_protocol(openings).items()):
        for match in matches:
            lines.append(" ".join(part for part in (match, port_match.format(protocol=protocol), _ports(ports),
                                                    action) if part))
    return lines


def ruleset(zones: list, openings: list, controller: dict | None = None, trusted_interfaces: list | None = None,
            table: str = TABLE) -> str:
    """The ``nft -f`` text of the table.

    ``zones`` are ``{name, interfaces, sources}``. ``openings`` are ``{port, protocol, zones,
    published, comment}``: ``zones`` empty means every interface; ``published`` true means a
    container port published by Podman (filtered in the forward chain by its original
    destination port, and opened in input too, harmlessly, for a rootless or host-network
    listener), false a listener of the host itself (input only); ``containers`` true lets the
    host's own containers (``trusted_interfaces``) reach it as well. ``controller`` is
    ``{address, port}``. ``trusted_interfaces`` are the host's container bridges
    (``podman*``): containers reach the mesh ports and the containers' DNS like the mesh does.
    """
    by_name = {zone["name"]: zone for zone in zones}
    trusted = list(trusted_interfaces or [])
    input_lines = [
        'iif "lo" accept',
        "ct state established,related accept",
        "ct state invalid drop",
        "meta l4proto icmp accept",
        "meta l4proto ipv6-icmp accept",
        'ip6 saddr fe80::/10 udp dport 546 accept comment "DHCPv6 replies"',
    ]
    if controller:
        input_lines.append(controller_rule(controller["address"], controller["port"]))
    for match in _interfaces(trusted):
        input_lines.append(f'{match} meta l4proto {{ tcp, udp }} th dport 53 accept comment "the containers\' DNS"')
    forward_lines = []
    for opening in openings:
        names = list(opening.get("zones") or [])
        matches = [match for name in names for match in zone_matches(by_name[name])] if names else [""]
        if names and opening.get("containers"):
            matches += _interfaces(trusted)
        comment = f' comment "{_comment(opening["comment"])}"' if opening.get("comment") else ""
        input_lines += _rules(matches, [opening], "accept" + comment, "{protocol} dport")
        if opening.get("published"):
            forward_lines += _rules(matches, [opening], "accept" + comment,
                                    "meta l4proto {protocol} ct original proto-dst")
    body = [
        "# Managed by Ansible (homelab.stack base role). Only this table is replaced;",
        "# Podman's (netavark's) tables and any other are left alone.",
        f"table inet {table} {{}}",
        f"delete table inet {table}",
        f"table inet {table} {{",
        "\tchain input {",
        "\t\ttype filter hook input priority filter; policy drop;",
        *(f"\t\t{line}" for line in input_lines),
        "\t}",
        "",
        "\t# Published container ports arrive DNATed, through forward: admitted by the port the",
        "\t# client asked for, from the zones the catalog allows; other DNATed connections dropped.",
        "\tchain forward {",
        "\t\ttype filter hook forward priority filter; policy accept;",
        "\t\tct status dnat ct state new jump published",
        "\t}",
        "",
        "\tchain published {",
        *(f"\t\t{line}" for line in forward_lines),
        "\t\tdrop",
        "\t}",
        "}",
    ]
    return "\n".join(body) + "\n"

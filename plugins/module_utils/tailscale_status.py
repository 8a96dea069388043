# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The output of ``tailscale status --json`` (the client's ``ipnstate.Status``), read once.

Shared by the ``tailscale_node`` module (the node's own addresses, which peer is the exit
node) and the ``tailscale`` inventory plugin's local source (every node as a device). A
sample is kept in ``tests/fixtures/tailscale-status.json``.

``parse_status`` gives ``{"backend_state", "self", "peers"}``, each node as:
``id`` (the nodeId, "" when the client has none yet), ``hostname``, ``dns_name`` (MagicDNS
name without the trailing dot), ``ips`` (Tailscale addresses), ``os``, ``online``, ``tags``
(as Tailscale writes them, ``tag:server``), ``routes`` (the subnet routes approved for the
node), ``last_seen`` (None when unknown) and ``external`` (shared in from another tailnet).
"""

from __future__ import annotations

# Go's zero time.Time: what the status shows for a time it does not have.
GO_ZERO_TIME = "0001-01-01T00:00:00Z"


def parse_status(status):
    """The decoded JSON of ``tailscale status --json`` as plain values; ValueError when it has another shape."""
    own = status.get("Self") if isinstance(status, dict) else None
    peers = peer_objects(status)
    return {
        "backend_state": status.get("BackendState") or "",
        "self": parse_node(own) if isinstance(own, dict) else None,
        "peers": [parse_node(peer) for peer in peers],
    }


def peer_objects(status):
    """The ``Peer`` values of the status as it has them; ValueError when it has another shape."""
    if not isinstance(status, dict):
        raise ValueError("expected a JSON object")
    peers = status.get("Peer") or {}
    if not isinstance(peers, dict):
        raise ValueError("'Peer' is not an object")
    if not all(isinstance(peer, dict) for peer in peers.values()):
        raise ValueError("a peer that is not an object")
    return list(peers.values())


def parse_node(node):
    """One node of the status (``Self`` or a ``Peer`` value)."""
    ips = list(node.get("TailscaleIPs") or [])
    # AllowedIPs are the node's own addresses plus the subnet routes approved for it; older
    # clients, and nodes whose routes are not in use, only have PrimaryRoutes.
    own = {ip + ("/128" if ":" in ip else "/32") for ip in ips}
    if node.get("AllowedIPs") is not None:
        routes = [prefix for prefix in node["AllowedIPs"] if prefix not in own]
    else:
        routes = list(node.get("PrimaryRoutes") or [])
    last_seen = node.get("LastSeen")
    return {
        "id": str(node.get("ID") or ""),
        "hostname": node.get("HostName") or "",
        "dns_name": (node.get("DNSName") or "").rstrip("."),
        "ips": ips,
        "os": node.get("OS") or "",
        "online": node.get("Online") is True,
        "tags": list(node.get("Tags") or []),
        "routes": routes,
        "last_seen": last_seen if last_seen and last_seen != GO_ZERO_TIME else None,
        "external": node.get("ShareeNode") is True,
    }


def is_named(node, value):
    """Whether value is one of the parsed node's Tailscale IPs, its host name, MagicDNS name or that name's first label."""
    names = (node["hostname"], node["dns_name"], node["dns_name"].split(".")[0])
    return bool(value) and (value in node["ips"] or value in names)


def peer_by_id(status, node_id):
    """The parsed peer with this nodeId, or None."""
    return next((peer for peer in status["peers"] if node_id and peer["id"] == node_id), None)

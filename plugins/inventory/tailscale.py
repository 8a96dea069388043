# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: tailscale
short_description: Tailscale devices as inventory hosts
version_added: 0.1.0
author: homelab.stack maintainers (@homelab-stack)
description:
  - Lists every device of a tailnet as an inventory host, from the Tailscale API v2
    (C(GET /api/v2/tailnet/{tailnet}/devices?fields=all)) or from C(tailscale status --json)
    run on the controller.
  - Hosts are named with the collection's shared naming rule (the same as the Proxmox
    inventory), so a machine that is both a Proxmox guest and a Tailscale device becomes one
    host whose variables merge. The name is the device's machine name (C(hostname)), or the
    first label of its MagicDNS name when the machine name gives nothing usable or is
    C(localhost) (as Android devices report), cut at the first dot, lower-cased, with every
    run of characters other than letters, digits and C(-) turned into one C(-).
    C(Web_01) becomes C(web-01).
  - When several devices get the same name, each of them is named C(<name>-<id>), where
    C(<id>) is the last six characters of its nodeId (without the C(CNTRL) ending that all
    nodeIds share), lower-cased; should those still collide, the whole nodeId is used. A device
    with no usable name at all is named C(device-<nodeId>).
  - Uses a YAML configuration file whose name ends with C(tailscale.yml) or C(tailscale.yaml).
requirements:
  - requests (Python library, for O(source=api))
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: Marks this file as a configuration of this plugin.
    type: str
    required: true
    choices: ['homelab.stack.tailscale']
  source:
    description:
      - Where the device list comes from.
      - V(api) asks the Tailscale API and needs credentials (O(api_key), or O(oauth_client_id)
        and O(oauth_client_secret)).
      - V(local) runs C(tailscale status --json) on the controller and lists the devices that
        the controller's own Tailscale client sees (itself and its peers). It needs no
        credentials, but knows no advertised routes and no authorization state.
    type: str
    choices: ['api', 'local']
    default: api
  api_url:
    description: Base URL of the Tailscale API (a trailing C(/api/v2) is accepted).
    type: str
    default: https://api.tailscale.com
    env:
      - name: TAILSCALE_API_URL
  tailnet:
    description:
      - The tailnet to list. V(-) is the default tailnet of the credentials, which is what
        most users want; otherwise the organization name shown in the admin console.
    type: str
    default: '-'
    env:
      - name: TAILSCALE_TAILNET
  api_key:
    description:
      - A Tailscale API access key (C(tskey-api-...)), sent with HTTP basic authentication.
      - Never displayed by this plugin. Can be a template, such as a lookup, or a vaulted value.
    type: str
    secret: true
    env:
      - name: TAILSCALE_API_KEY
  oauth_client_id:
    description:
      - ID of an OAuth client; the plugin trades it and O(oauth_client_secret) for a
        short-lived access token (C(POST /api/v2/oauth/token)). The OAuth client needs read
        access to devices (the C(devices:core:read) scope).
      - Mutually exclusive with O(api_key).
    type: str
    env:
      - name: TAILSCALE_OAUTH_CLIENT_ID
  oauth_client_secret:
    description: Secret of the OAuth client (C(tskey-client-...)). Never displayed by this plugin.
    type: str
    secret: true
    env:
      - name: TAILSCALE_OAUTH_CLIENT_SECRET
  timeout:
    description:
      - Seconds to wait for each API answer (O(source=api)) or for C(tailscale status)
        (O(source=local)).
      - API answers 429 and 5xx are retried up to three times, honouring C(Retry-After).
    type: int
    default: 30
  tailscale_command:
    description: The C(tailscale) command line client that O(source=local) runs (a name on E(PATH) or a path).
    type: str
    default: tailscale
  ansible_host_source:
    description:
      - What C(ansible_host) is set to.
      - V(ipv4) is the device's Tailscale IPv4 address (100.x.y.z).
      - V(dns) is its MagicDNS name, without the trailing dot.
      - When the device has no such value, C(ansible_host) is not set.
    type: str
    choices: ['ipv4', 'dns']
    default: ipv4
  group_prefix:
    description: Prefix of the groups this plugin makes (see the notes).
    type: str
    default: tailscale_
  include_unauthorized:
    description: Also list devices that are waiting for device authorization (C(authorized) false).
    type: bool
    default: false
  include_external:
    description:
      - Also list devices shared into the tailnet from another tailnet (C(isExternal) true;
        with O(source=local), peers flagged C(ShareeNode)).
    type: bool
    default: false
  include_pseudo_nodes:
    description:
      - Also list the nodes that are not machines of the tailnet; see the notes for the rule.
    type: bool
    default: false
notes:
  - "Host variables: C(tailscale_id) (nodeId), C(tailscale_hostname) (the machine name as
    Tailscale has it), C(tailscale_ips) (all Tailscale addresses), C(tailscale_dns_name)
    (MagicDNS name, no trailing dot), C(tailscale_os), C(tailscale_online) (bool),
    C(tailscale_tags) (without the C(tag:) prefix), C(tailscale_routes), C(tailscale_last_seen)
    and C(ansible_host); with O(source=api) also C(tailscale_advertised_routes)."
  - "C(tailscale_routes) are the subnet routes approved for the device: the API's
    C(enabledRoutes); with O(source=local), the peer's C(AllowedIPs) without its own addresses
    (or C(PrimaryRoutes) when C(AllowedIPs) is absent). C(tailscale_advertised_routes) is the
    API's C(advertisedRoutes), the routes the device offers; the local client does not know them."
  - "C(tailscale_online): with O(source=api), the device's C(connectedToControl) field when the
    API sends it (newer API versions); otherwise the device counts as online when its
    C(lastSeen) is less than 15 minutes old, because the control server only updates
    C(lastSeen) about every 10 minutes. With O(source=local), the peer's C(Online) field."
  - "Groups, with the default O(group_prefix): C(tailscale_tag_<tag>) for each tag,
    C(tailscale_os_<os>), C(tailscale_online) and C(tailscale_offline). Group names are
    lower-cased and every character other than letters, digits and C(_) becomes C(_), so
    C(tag:site-a) gives C(tailscale_tag_site_a) and C(macOS) gives C(tailscale_os_macos)."
  - "Pseudo-nodes, skipped unless O(include_pseudo_nodes): Mullvad exit nodes, recognised by a
    MagicDNS name ending in C(.mullvad.ts.net), and Funnel ingress relays, recognised by the
    machine name or first MagicDNS label C(funnel-ingress-node)."
  - "With O(source=api) the whole inventory comes from one API request. When it fails (refused
    credentials, HTTP errors after the retries, a timeout, an answer that is not JSON), the
    source fails with a message naming the request and adds no host at all: there is no partial
    inventory."
  - "With caching on, a cached run makes no request at all; C(meta: refresh_inventory) and
    C(ansible-inventory --flush-cache) fetch the devices again and refresh the cache."
"""

EXAMPLES = r"""
# tailnet.tailscale.yml: every device of the tailnet of the API key in TAILSCALE_API_KEY
plugin: homelab.stack.tailscale

---
# OAuth client credentials, connect by MagicDNS name, extra groups, a cache of one hour
plugin: homelab.stack.tailscale
oauth_client_id: "{{ lookup('ansible.builtin.env', 'TS_CLIENT_ID') }}"
oauth_client_secret: "{{ lookup('ansible.builtin.env', 'TS_CLIENT_SECRET') }}"
ansible_host_source: dns
groups:
  servers: "'server' in tailscale_tags"
keyed_groups:
  - key: tailscale_os
    prefix: os
compose:
  ansible_user: "'root' if 'server' in tailscale_tags else 'admin'"
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-inventory
cache_timeout: 3600

---
# No credentials: what the controller's own Tailscale client sees
plugin: homelab.stack.tailscale
source: local
include_external: true
"""

import datetime
import json
import re
import subprocess

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.homelab.stack.plugins.module_utils.tailscale import TailscaleClient, TailscaleError
from ansible_collections.homelab.stack.plugins.module_utils.tailscale_status import parse_status
from ansible_collections.homelab.stack.plugins.plugin_utils.hostnames import normalise_hostname
from ansible_collections.homelab.stack.plugins.plugin_utils.inventory_source import CachedConstructedSource

# lastSeen is refreshed by the control server about every 10 minutes, so a device seen
# within the last 15 minutes is taken to be connected (see the notes in DOCUMENTATION).
ONLINE_WINDOW = datetime.timedelta(minutes=15)
# Every Tailscale nodeId ends like this, so it is left out of the collision suffix.
NODE_ID_ENDING = "CNTRL"
FUNNEL_INGRESS = "funnel-ingress-node"
MULLVAD_SUFFIX = ".mullvad.ts.net"
NO_PARTIAL = "no Tailscale host was added (the device list comes from this one request, so there is no partial inventory)"


class InventoryModule(BaseInventoryPlugin, CachedConstructedSource):
    """Tailscale devices as hosts, from the API or from the local ``tailscale`` client."""

    NAME = "homelab.stack.tailscale"

    def verify_file(self, path):
        """Accept only files named ``*tailscale.yml`` or ``*tailscale.yaml``."""
        return super().verify_file(path) and path.endswith(("tailscale.yml", "tailscale.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        records = self.read_through_cache(path, cache, self._fetch)
        self._populate(records)

    def _option(self, name):
        """An option's value, templated when it is a template (lookups for credentials)."""
        value = self.get_option(name)
        if isinstance(value, str) and self.templar.is_template(value):
            value = self.templar.template(value)
        return value

    def _fetch(self):
        """The device records (see device_from_api) of the configured source."""
        if self.get_option("source") == "local":
            return self._fetch_local()
        try:
            client = TailscaleClient(api_url=self._option("api_url"), api_key=self._option("api_key"),
                                     oauth_client_id=self._option("oauth_client_id"),
                                     oauth_client_secret=self._option("oauth_client_secret"),
                                     timeout=self.get_option("timeout"))
            devices = client.list_devices(self._option("tailnet"), fields="all")
        except TailscaleError as error:
            raise AnsibleParserError("%s: %s; %s" % (self.NAME, to_native(error), NO_PARTIAL)) from None
        now = datetime.datetime.now(datetime.timezone.utc)
        try:
            return [device_from_api(device, now) for device in devices]
        except ValueError as error:
            raise AnsibleParserError("%s: unexpected device in the API answer: %s; %s" % (self.NAME, error, NO_PARTIAL)) from None

    def _fetch_local(self):
        command = [self.get_option("tailscale_command"), "status", "--json"]
        shown = " ".join(command)
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=self.get_option("timeout"), check=False)
        except subprocess.TimeoutExpired:
            raise AnsibleParserError("%s: '%s' did not finish within %s seconds" % (self.NAME, shown, self.get_option("timeout"))) from None
        except OSError as error:
            raise AnsibleParserError("%s: cannot run '%s': %s" % (self.NAME, shown, error)) from None
        if result.returncode != 0:
            raise AnsibleParserError("%s: '%s' failed (exit code %d): %s"
                                     % (self.NAME, shown, result.returncode, (result.stderr or result.stdout).strip()[-500:]))
        try:
            status = json.loads(result.stdout)
        except ValueError as error:
            raise AnsibleParserError("%s: the output of '%s' is not JSON: %s" % (self.NAME, shown, error)) from None
        try:
            return devices_from_status(status)
        except ValueError as error:
            raise AnsibleParserError("%s: '%s': %s" % (self.NAME, shown, error)) from None

    def _populate(self, records):
        kept = []
        for record in records:
            reason = skip_reason(record, self.get_option("include_unauthorized"), self.get_option("include_external"),
                                 self.get_option("include_pseudo_nodes"))
            if reason:
                self.display.vvv("%s: skipping %s (%s): %s" % (self.NAME, record["hostname"], record["id"], reason))
            else:
                kept.append(record)
        for name, record in zip(host_names(kept), kept):
            self.inventory.add_host(name)
            # Device names and tags are set by tailnet members: marked unsafe so that Ansible
            # never templates them, on every supported ansible-core.
            for key, value in host_vars(record, self.get_option("ansible_host_source")).items():
                self.inventory.set_variable(name, key, wrap_var(value))
            for group in group_names(record, self.get_option("group_prefix")):
                self.inventory.add_group(group)
                self.inventory.add_child(group, name)
            # With the variables of every source so far, so that a static inventory's
            # variables of the same host can be used in compose, groups and keyed_groups.
            self.construct_host(name, self.inventory.get_host(name).get_vars())


# Device records: one shape for both sources, so that the cache, the filters and the
# naming do not care where a device came from. Keys: id (nodeId), hostname, dns_name,
# ips, os, online, tags, routes, advertised_routes (None when unknown), last_seen,
# authorized, external.


def device_from_api(device, now):
    """The record of one API device object (fields=all); ``now`` is an aware datetime."""
    if not isinstance(device, dict):
        raise ValueError("expected an object, got %s" % type(device).__name__)
    node_id = device.get("nodeId") or device.get("id")
    if not node_id:
        raise ValueError("a device without nodeId or id")
    if isinstance(device.get("connectedToControl"), bool):
        online = device["connectedToControl"]
    else:
        seen = parse_time(device.get("lastSeen"))
        online = seen is not None and now - seen < ONLINE_WINDOW
    return {
        "id": str(node_id),
        "hostname": device.get("hostname") or "",
        "dns_name": (device.get("name") or "").rstrip("."),
        "ips": list(device.get("addresses") or []),
        "os": device.get("os") or "",
        "online": online,
        "tags": [strip_tag(tag) for tag in device.get("tags") or []],
        "routes": list(device.get("enabledRoutes") or []),
        "advertised_routes": list(device.get("advertisedRoutes") or []),
        "last_seen": device.get("lastSeen") or None,
        "authorized": device.get("authorized") is not False,
        "external": device.get("isExternal") is True,
    }


def devices_from_status(status):
    """The records of ``tailscale status --json``: its ``Self`` and every ``Peer``."""
    parsed = parse_status(status)
    if parsed["backend_state"] != "Running":
        raise ValueError("Tailscale is not running on the controller (BackendState: %s)" % status.get("BackendState"))
    nodes = [parsed["self"]] if parsed["self"] else []
    return [_record_from_node(node) for node in nodes + parsed["peers"]]


def _record_from_node(node):
    if not node["id"]:
        raise ValueError("a peer without ID")
    return dict(node, tags=[strip_tag(tag) for tag in node["tags"]],
                advertised_routes=None,  # the local client does not know them
                authorized=True)  # and only sees authorized peers


def strip_tag(tag):
    """``tag:server`` -> ``server``."""
    return tag[len("tag:"):] if tag.startswith("tag:") else tag


def parse_time(value):
    """An aware datetime from an RFC 3339 time such as ``2022-12-01T05:23:30Z``, or None."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)", value or "")
    if not match:
        return None
    moment = datetime.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S")
    zone = match.group(2)
    if zone == "Z":
        return moment.replace(tzinfo=datetime.timezone.utc)
    offset = datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return moment.replace(tzinfo=datetime.timezone(offset if zone[0] == "+" else -offset))


def skip_reason(record, include_unauthorized=False, include_external=False, include_pseudo_nodes=False):
    """Why a device is not listed (a short text), or None when it is."""
    first_label = record["dns_name"].split(".", 1)[0].lower()
    if not include_pseudo_nodes:
        if record["dns_name"].lower().endswith(MULLVAD_SUFFIX):
            return "a Mullvad exit node"
        if FUNNEL_INGRESS in (record["hostname"].lower(), first_label):
            return "a Funnel ingress node"
    if not include_external and record["external"]:
        return "shared in from another tailnet"
    if not include_unauthorized and not record["authorized"]:
        return "not authorized"
    return None


def _base_name(record):
    name = normalise_hostname(record["hostname"])
    if name is None or name == "localhost":
        name = normalise_hostname(record["dns_name"]) or name
    return name or "device-%s" % _id_label(record["id"])


def _id_label(node_id):
    return normalise_hostname(node_id) or "unknown"


def _short_id(node_id):
    core = node_id[:-len(NODE_ID_ENDING)] if node_id.endswith(NODE_ID_ENDING) and len(node_id) > len(NODE_ID_ENDING) else node_id
    return _id_label(core[-6:])


def host_names(records):
    """The inventory name of each record, in order; unique and the same for the same devices in any order."""
    bases = [_base_name(record) for record in records]
    names = ["%s-%s" % (base, _short_id(record["id"])) if bases.count(base) > 1 else base
             for base, record in zip(bases, records)]
    # Short ids can collide too (or match another device's name): those use the full id.
    return [name if names.count(name) == 1 or name == base else "%s-%s" % (base, _id_label(record["id"]))
            for name, base, record in zip(names, bases, records)]


def host_vars(record, ansible_host_source="ipv4"):
    """The host variables of a record."""
    hostvars = {
        "tailscale_id": record["id"],
        "tailscale_hostname": record["hostname"],
        "tailscale_ips": record["ips"],
        "tailscale_dns_name": record["dns_name"],
        "tailscale_os": record["os"],
        "tailscale_online": record["online"],
        "tailscale_tags": record["tags"],
        "tailscale_routes": record["routes"],
        "tailscale_last_seen": record["last_seen"],
    }
    if record["advertised_routes"] is not None:
        hostvars["tailscale_advertised_routes"] = record["advertised_routes"]
    if ansible_host_source == "dns":
        address = record["dns_name"]
    else:
        address = next((ip for ip in record["ips"] if "." in ip), None)
    if address:
        hostvars["ansible_host"] = address
    return hostvars


def group_names(record, prefix="tailscale_"):
    """The groups of a record: tags, OS and online state."""
    groups = ["%stag_%s" % (prefix, tag) for tag in record["tags"]]
    if record["os"]:
        groups.append("%sos_%s" % (prefix, record["os"]))
    groups.append("%s%s" % (prefix, "online" if record["online"] else "offline"))
    return [re.sub(r"[^a-z0-9_]", "_", group.lower()) for group in groups]

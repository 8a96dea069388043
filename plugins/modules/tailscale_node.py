#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tailscale_node
short_description: Make a host's Tailscale client settings match the options
version_added: 0.1.0
description:
  - Reads C(tailscale status --json) and C(tailscale debug prefs) and changes the node only when a
    setting differs from the options.
  - A node that is not logged in (C(NeedsLogin)) is joined with C(tailscale up --authkey=...), passing
    every desired setting. C(--reset) is never used, so settings the task does not mention are kept.
  - A node that is already up is changed with C(tailscale set), which touches only the flags given.
  - C(tailscale set) does not accept C(--advertise-tags), so a change of O(advertise_tags) (or bringing a
    stopped node back up) runs C(tailscale up) with the full current settings plus the desired ones, as
    C(tailscale up) requires every non-default setting to be mentioned.
  - Only options that are set are compared and changed; an option left unset (V(null)) is left alone.
author:
  - homelab.stack maintainers (@homelab-stack)
attributes:
  check_mode:
    support: full
    description: Computes the differences and the commands that would run; runs nothing that changes the node.
  diff_mode:
    support: full
    description: Shows the managed settings before and after as dictionaries.
  platform:
    support: full
    platforms: posix
    description: Hosts with the Tailscale client installed and its daemon (C(tailscaled)) running.
options:
  state:
    description:
      - V(up) makes the node logged in and running with the given settings.
      - V(down) runs C(tailscale down) when the node wants to run; the other settings are then ignored.
    type: str
    choices: [up, down]
    default: up
  auth_key:
    description:
      - Auth key (C(tskey-auth-...)) used to log the node in.
      - Only used when the node is not logged in; required then.
      - Never logged or returned; commands show it as C(********).
    type: str
  hostname:
    description: Hostname the node uses on the tailnet.
    type: str
  advertise_routes:
    description:
      - Subnet routes (CIDRs) to advertise; an empty list stops advertising subnets.
      - Each item must be a network address with its prefix length such as C(10.0.0.0/24) (not C(10.0.0.5/24)); a single
        address such as C(10.0.0.5) is the host route C(10.0.0.5/32).
      - Use O(advertise_exit_node) rather than C(0.0.0.0/0) or C(::/0).
    type: list
    elements: str
  advertise_tags:
    description:
      - ACL tags to advertise, each C(tag:<name>), the name a letter followed by letters, digits or dashes; an empty
        list removes them.
      - Changing them runs C(tailscale up) (see the description).
    type: list
    elements: str
  accept_routes:
    description: Whether to accept subnet routes advertised by other nodes.
    type: bool
  advertise_exit_node:
    description: Whether to offer this node as an exit node.
    type: bool
  exit_node:
    description:
      - Exit node to use, by Tailscale IP or node name; an empty string stops using one.
      - Cannot be combined with O(advertise_exit_node=true).
    type: str
  ssh:
    description: Whether to run the Tailscale SSH server.
    type: bool
  accept_dns:
    description: Whether to use the DNS configuration of the tailnet (MagicDNS).
    type: bool
  login_server:
    description:
      - Base URL (C(https://) or C(http://)) of the control server, for example a Headscale server.
      - Only applied when the node logs in; a logged-in node with another control server fails the task.
    type: str
  tailscale_command:
    description: Path of the C(tailscale) command; by default it is looked up on E(PATH).
    type: path
  timeout:
    description: Seconds C(tailscale up) waits for the node to come up.
    type: int
    default: 60
notes:
  - Changing the control server of a logged-in node needs C(tailscale logout) first; the module does not log out.
"""

EXAMPLES = r"""
- name: Join the tailnet as a subnet router
  homelab.stack.tailscale_node:
    auth_key: "{{ vault_tailscale_auth_key }}"
    hostname: gateway
    advertise_routes:
      - 192.168.10.0/24
    advertise_tags:
      - tag:router
    accept_dns: false

- name: Join a Headscale tailnet and use an exit node
  homelab.stack.tailscale_node:
    auth_key: "{{ vault_headscale_key }}"
    login_server: https://headscale.lab.example
    exit_node: gateway
    accept_routes: true

- name: Stop using an exit node and enable Tailscale SSH
  homelab.stack.tailscale_node:
    exit_node: ""
    ssh: true

- name: Disconnect
  homelab.stack.tailscale_node:
    state: down
"""

RETURN = r"""
changed:
  description: Whether a command that changes the node ran (or would run, in check mode).
  returned: always
  type: bool
state:
  description: The managed settings after the task (predicted in check mode).
  returned: always
  type: dict
  sample:
    state: up
    backend_state: Running
    hostname: gateway
    advertise_routes: [192.168.10.0/24]
    advertise_tags: [tag:router]
    accept_routes: false
    advertise_exit_node: false
    exit_node: ""
    ssh: false
    accept_dns: false
    login_server: https://controlplane.tailscale.com
    tailscale_ips: [100.64.0.1, "fd7a:115c:a1e0::1"]
commands:
  description: The commands run (or that would run in check mode), the auth key shown as C(********).
  returned: always
  type: list
  elements: list
  sample: [[tailscale, set, "--advertise-routes=192.168.10.0/24", "--advertise-exit-node=false"]]
diff:
  description: The managed settings before and after.
  returned: when diff mode is on
  type: dict
"""

import ipaddress
import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.homelab.stack.plugins.module_utils.tailscale_settings import (
    DEFAULT_CONTROL_URL,
    EXIT_ROUTES,
    SettingError,
    check_exit_node,
    check_login_server,
    normalize_routes,
    normalize_tags,
    normalize_url,
    setting_problems,
)
from ansible_collections.homelab.stack.plugins.module_utils.tailscale_status import (
    is_named,
    parse_node,
    parse_status,
    peer_by_id,
    peer_objects,
)

MASK = "********"
SETTINGS = ("hostname", "advertise_routes", "advertise_tags", "accept_routes", "advertise_exit_node",
            "exit_node", "ssh", "accept_dns", "login_server")
BOOL_FLAGS = (("accept_routes", "accept-routes"), ("accept_dns", "accept-dns"), ("ssh", "ssh"))


def find_peer(status, value):
    """The peer, as the status has it, whose Tailscale IP, host name or MagicDNS name is value, or None."""
    return next((peer for peer in peer_objects(status) if is_named(parse_node(peer), value)), None)


def current_exit_node(prefs, status):
    """(display value, value to pass to --exit-node) of the exit node in use."""
    if prefs.get("ExitNodeIP"):
        return prefs["ExitNodeIP"], prefs["ExitNodeIP"]
    node_id = prefs.get("ExitNodeID") or ""
    if not node_id:
        return "", ""
    peer = peer_by_id(parse_status(status), node_id)
    if peer is None:
        return node_id, node_id
    return peer["hostname"] or node_id, peer["ips"][0] if peer["ips"] else node_id


def exit_node_matches(wanted, prefs, status):
    if not wanted:
        return not prefs.get("ExitNodeIP") and not prefs.get("ExitNodeID")
    if prefs.get("ExitNodeIP"):
        return wanted == prefs["ExitNodeIP"]
    peer = find_peer(status, wanted)
    return bool(peer) and bool(prefs.get("ExitNodeID")) and parse_node(peer)["id"] == prefs["ExitNodeID"]


def current_settings(prefs, status):
    """The managed settings as the node has them."""
    routes = [str(r) for r in prefs.get("AdvertiseRoutes") or []]
    parsed = parse_status(status)
    own = parsed["self"] or parse_node({})
    logged_in = not prefs.get("LoggedOut") and parsed["backend_state"] != "NeedsLogin"
    return {
        "state": "up" if logged_in and prefs.get("WantRunning") else "down",
        "backend_state": parsed["backend_state"],
        "hostname": prefs.get("Hostname") or own["hostname"],
        "advertise_routes": sorted(r for r in routes if r not in EXIT_ROUTES),
        "advertise_tags": sorted(prefs.get("AdvertiseTags") or []),
        "accept_routes": bool(prefs.get("RouteAll")),
        "advertise_exit_node": all(r in routes for r in EXIT_ROUTES),
        "exit_node": current_exit_node(prefs, status)[0],
        "ssh": bool(prefs.get("RunSSH")),
        "accept_dns": bool(prefs.get("CorpDNS")),
        "login_server": normalize_url(prefs.get("ControlURL")),
        "tailscale_ips": own["ips"],
    }


def desired_settings(params, prefs, status):
    """(before, after, changed setting names) for state=up; raises SettingError."""
    wanted = {}
    for name in ("hostname", "accept_routes", "advertise_exit_node", "ssh", "accept_dns"):
        if params.get(name) is not None:
            wanted[name] = params[name]
    if params.get("advertise_routes") is not None:
        wanted["advertise_routes"] = normalize_routes(params["advertise_routes"])
    if params.get("advertise_tags") is not None:
        wanted["advertise_tags"] = normalize_tags(params["advertise_tags"])
    if params.get("login_server") is not None:
        check_login_server(params["login_server"])
        wanted["login_server"] = normalize_url(params["login_server"])
    before = current_settings(prefs, status)
    after = dict(before, **wanted)
    exit_node = params.get("exit_node")
    if exit_node is not None:
        exit_node = exit_node.strip()
        if exit_node and not exit_node_matches(exit_node, prefs, status):
            if find_peer(status, exit_node) is None and not is_ip(exit_node):
                raise SettingError("exit_node: no peer has the IP or name %r" % exit_node)
            after["exit_node"] = exit_node
        elif not exit_node:
            after["exit_node"] = ""
    # Checked on the settings the node would end with: either may already be set on it.
    check_exit_node(after["exit_node"], after["advertise_exit_node"])
    changed = [name for name in SETTINGS if after[name] != before[name]]
    after["state"] = "up"
    return before, after, changed


def is_ip(value):
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def bool_flag(flag, value):
    return "--%s=%s" % (flag, "true" if value else "false")


def set_flags(after, changed):
    """Flags of `tailscale set` for the changed settings (routes and exit node always together)."""
    flags = []
    if "hostname" in changed:
        flags.append("--hostname=%s" % after["hostname"])
    if "advertise_routes" in changed or "advertise_exit_node" in changed:
        flags.append("--advertise-routes=%s" % ",".join(after["advertise_routes"]))
        flags.append(bool_flag("advertise-exit-node", after["advertise_exit_node"]))
    if "exit_node" in changed:
        flags.append("--exit-node=%s" % after["exit_node"])
    for name, flag in BOOL_FLAGS:
        if name in changed:
            flags.append(bool_flag(flag, after[name]))
    return flags


def up_flags(after, changed, prefs, status, login_server_given):
    """Every managed setting (desired, else current) plus the other non-default prefs, for `tailscale up`."""
    flags = []
    if login_server_given or after["login_server"] != DEFAULT_CONTROL_URL:
        flags.append("--login-server=%s" % after["login_server"])
    hostname = after["hostname"] if "hostname" in changed or prefs.get("Hostname") else ""
    if hostname:
        flags.append("--hostname=%s" % hostname)
    flags.append("--advertise-routes=%s" % ",".join(after["advertise_routes"]))
    flags.append(bool_flag("advertise-exit-node", after["advertise_exit_node"]))
    flags.append("--advertise-tags=%s" % ",".join(after["advertise_tags"]))
    exit_node = after["exit_node"] if "exit_node" in changed else current_exit_node(prefs, status)[1]
    flags.append("--exit-node=%s" % exit_node)
    for name, flag in BOOL_FLAGS:
        flags.append(bool_flag(flag, after[name]))
    # settings this module does not manage, kept as they are (`up` resets what it is not told)
    if prefs.get("ShieldsUp"):
        flags.append("--shields-up=true")
    if prefs.get("ExitNodeAllowLANAccess"):
        flags.append("--exit-node-allow-lan-access=true")
    if prefs.get("OperatorUser"):
        flags.append("--operator=%s" % prefs["OperatorUser"])
    if prefs.get("NoSNAT"):
        flags.append("--snat-subnet-routes=false")
    return flags


def plan(params, prefs, status):
    """(before, after, list of argument lists after the `tailscale` command); raises SettingError."""
    if params["state"] == "down":
        before = current_settings(prefs, status)
        after = dict(before, state="down")
        commands = [["down"]] if prefs.get("WantRunning") else []
        if commands and after["backend_state"] == "Running":
            after["backend_state"] = "Stopped"
        return before, after, commands
    before, after, changed = desired_settings(params, prefs, status)
    backend_state = parse_status(status)["backend_state"]
    needs_login = bool(prefs.get("LoggedOut")) or backend_state in ("NeedsLogin", "NoState")
    login_server_given = params.get("login_server") is not None
    if needs_login:
        if not params.get("auth_key"):
            raise SettingError("auth_key: the node is not logged in (BackendState %s); auth_key is required to join it"
                               % (backend_state or "unknown"))
        command = ["up", "--authkey=%s" % params["auth_key"]] + up_flags(after, changed, prefs, status, login_server_given)
        command.append("--timeout=%ss" % params["timeout"])
        after["backend_state"] = "Running"
        return before, after, [command]
    if "login_server" in changed:
        raise SettingError("login_server: the node is logged in to %s; run `tailscale logout` before moving it to %s"
                           % (before["login_server"], after["login_server"]))
    if not prefs.get("WantRunning") or "advertise_tags" in changed:
        command = ["up"] + up_flags(after, changed, prefs, status, login_server_given)
        command.append("--timeout=%ss" % params["timeout"])
        after["backend_state"] = "Running"
        return before, after, [command]
    if changed:
        return before, after, [["set"] + set_flags(after, changed)]
    return before, after, []


def mask(text, secret):
    if secret and text:
        return text.replace(secret, MASK)
    return text


class TailscaleNode:
    def __init__(self, module):
        self.module = module
        self.secret = module.params.get("auth_key") or ""
        command = module.params.get("tailscale_command")
        if command:
            if not os.access(command, os.X_OK):
                module.fail_json(msg="tailscale_command: %s is not an executable file" % command)
            self.binary = command
        else:
            self.binary = module.get_bin_path("tailscale", required=False)
            if not self.binary:
                module.fail_json(msg="tailscale_command: the tailscale command was not found on PATH; install Tailscale or set tailscale_command")

    def display(self, args):
        return [os.path.basename(self.binary)] + [mask(a, self.secret) for a in args]

    def run(self, args):
        rc, out, err = self.module.run_command([self.binary] + args)
        if rc != 0:
            self.module.fail_json(msg="`%s` failed (rc %s): %s" % (" ".join(self.display(args)), rc, mask((err or out).strip(), self.secret)),
                                  rc=rc, stdout=mask(out, self.secret), stderr=mask(err, self.secret))
        return out

    def read_json(self, args):
        out = self.run(args)
        try:
            return json.loads(out)
        except ValueError as error:
            self.module.fail_json(msg="`%s` did not print JSON: %s" % (" ".join(self.display(args)), error))
        return None

    def read(self):
        prefs = self.read_json(["debug", "prefs"]) or {}
        status = self.read_json(["status", "--json"]) or {}
        try:
            parse_status(status)
        except ValueError as error:
            self.module.fail_json(msg="`%s` printed a status of another shape: %s"
                                  % (" ".join(self.display(["status", "--json"])), error))
        return prefs, status


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["up", "down"], default="up"),
            auth_key=dict(type="str", no_log=True),
            hostname=dict(type="str"),
            advertise_routes=dict(type="list", elements="str"),
            advertise_tags=dict(type="list", elements="str"),
            accept_routes=dict(type="bool"),
            advertise_exit_node=dict(type="bool"),
            exit_node=dict(type="str"),
            ssh=dict(type="bool"),
            accept_dns=dict(type="bool"),
            login_server=dict(type="str"),
            tailscale_command=dict(type="path"),
            timeout=dict(type="int", default=60),
        ),
        supports_check_mode=True,
    )
    # The rules that need no look at the node, before the node is read.
    problems = setting_problems(module.params)
    if problems:
        module.fail_json(msg="; ".join(problems))
    node = TailscaleNode(module)
    prefs, status = node.read()
    try:
        before, after, commands = plan(module.params, prefs, status)
    except SettingError as error:
        module.fail_json(msg=mask(str(error), node.secret))
        return
    if commands and not module.check_mode:
        for args in commands:
            node.run(args)
        prefs, status = node.read()
        actual = current_settings(prefs, status)
        wanted = [name for name in SETTINGS if module.params.get(name) is not None]
        if module.params["state"] == "up":
            differ = [name for name in wanted if name != "exit_node" and actual[name] != after[name]]
            if module.params.get("exit_node") is not None and not exit_node_matches(module.params["exit_node"].strip(), prefs, status):
                differ.append("exit_node")
            if differ:
                module.warn("tailscale did not apply: %s" % ", ".join(differ))
            actual["exit_node"] = after["exit_node"] if "exit_node" not in differ else actual["exit_node"]
        after = actual
    result = dict(changed=bool(commands), state=after, commands=[node.display(args) for args in commands])
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

"""A fake ``tailscale`` CLI for the homelab.stack.tailscale_node tests.

State lives in the JSON file named by FAKE_TAILSCALE_STATE (a missing file is a fresh,
logged-out node); every invocation's argv is appended, one JSON list a line, to
FAKE_TAILSCALE_LOG when that is set. Output shapes follow ``tailscale status --json`` and
``tailscale debug prefs``; flags are parsed like Go's flag package (unknown flags fail).
"""

import ipaddress
import json
import os
import sys

DEFAULT_CONTROL = "https://controlplane.tailscale.com"
EXIT_ROUTES = ("0.0.0.0/0", "::/0")
SELF_IPS = ["100.64.0.1", "fd7a:115c:a1e0::1"]
SUFFIX = "tail1234.ts.net"

BOOL_FLAGS = {
    "accept-routes": "RouteAll",
    "accept-dns": "CorpDNS",
    "ssh": "RunSSH",
    "shields-up": "ShieldsUp",
    "exit-node-allow-lan-access": "ExitNodeAllowLANAccess",
    "advertise-exit-node": None,
    "snat-subnet-routes": None,
    "reset": None,
    "force-reauth": None,
    "json": None,
    "qr": None,
    "webclient": None,
}
STRING_FLAGS = {"hostname", "advertise-routes", "advertise-tags", "exit-node", "login-server", "authkey",
                "auth-key", "timeout", "operator", "netfilter-mode"}
UP_FLAGS = set(BOOL_FLAGS) - {"webclient"} | STRING_FLAGS
SET_FLAGS = {"accept-routes", "accept-dns", "ssh", "shields-up", "exit-node-allow-lan-access", "advertise-exit-node",
             "hostname", "advertise-routes", "exit-node", "operator", "webclient"}
DEFAULTS = {"RouteAll": False, "CorpDNS": True, "RunSSH": False, "ShieldsUp": False, "ExitNodeAllowLANAccess": False,
            "Hostname": "", "AdvertiseTags": None, "AdvertiseRoutes": None, "ExitNodeID": "", "ExitNodeIP": "",
            "OperatorUser": "", "NoSNAT": False}
# prefs key -> the flag that mentions it, for the "requires mentioning all non-default flags" check of `up`
MENTION = {"RouteAll": "accept-routes", "CorpDNS": "accept-dns", "RunSSH": "ssh", "ShieldsUp": "shields-up",
           "ExitNodeAllowLANAccess": "exit-node-allow-lan-access", "Hostname": "hostname", "AdvertiseTags": "advertise-tags",
           "ExitNodeID": "exit-node", "ExitNodeIP": "exit-node", "OperatorUser": "operator", "NoSNAT": "snat-subnet-routes"}


class CliError(Exception):
    pass


def fresh_state():
    prefs = dict(DEFAULTS, ControlURL=DEFAULT_CONTROL, WantRunning=False, LoggedOut=True, NetfilterMode=2,
                 NotepadURLs=False, Persist=None)
    return {"BackendState": "NeedsLogin", "prefs": prefs, "peers": {}}


def load(path):
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
        base = fresh_state()
        base["prefs"].update(state.get("prefs", {}))
        base.update({k: v for k, v in state.items() if k != "prefs"})
        return base
    return fresh_state()


def save(path, state):
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(state, handle, indent=2, sort_keys=True)


def parse_flags(args, allowed):
    flags = {}
    index = 0
    while index < len(args):
        arg = args[index]
        if not arg.startswith("-") or arg in ("-", "--"):
            raise CliError("too many non-flag arguments: %r" % args[index:])
        name, has_value, value = arg.lstrip("-").partition("=")
        if name not in allowed:
            raise CliError("flag provided but not defined: -%s" % name)
        if name in BOOL_FLAGS:
            if not has_value:
                value = "true"
            if value not in ("true", "false"):
                raise CliError('invalid boolean value %r for -%s: parse error' % (value, name))
            flags[name] = value == "true"
        else:
            if not has_value:
                index += 1
                if index >= len(args):
                    raise CliError("flag needs an argument: -%s" % name)
                value = args[index]
            flags[name] = value
        index += 1
    return flags


def parse_routes(text):
    routes = []
    for item in [r for r in text.split(",") if r]:
        try:
            network = ipaddress.ip_network(item, strict=False)
        except ValueError as error:
            raise CliError("%r is not a valid IP address or CIDR prefix" % item) from error
        if str(network) != item:
            raise CliError("%s has non-address bits set; expected %s" % (item, network))
        routes.append(str(network))
    if ("0.0.0.0/0" in routes) != ("::/0" in routes):
        raise CliError("--advertise-routes=0.0.0.0/0 and ::/0 must be used together; use --advertise-exit-node")
    return routes


def find_peer(state, value):
    for peer in state["peers"].values():
        names = {peer.get("HostName", ""), peer.get("DNSName", "").rstrip("."), peer.get("DNSName", "").split(".")[0]}
        if value in peer.get("TailscaleIPs", []) or value in names:
            return peer
    return None


def apply_flags(state, flags, up):
    prefs = state["prefs"]
    for flag, key in BOOL_FLAGS.items():
        if key and flag in flags:
            prefs[key] = flags[flag]
    if "snat-subnet-routes" in flags:
        prefs["NoSNAT"] = not flags["snat-subnet-routes"]
    for flag, key in (("hostname", "Hostname"), ("operator", "OperatorUser")):
        if flag in flags:
            prefs[key] = flags[flag]
    if "login-server" in flags:
        prefs["ControlURL"] = flags["login-server"].rstrip("/") or DEFAULT_CONTROL
    if "advertise-tags" in flags:
        tags = [t for t in flags["advertise-tags"].split(",") if t]
        for tag in tags:
            if not tag.startswith("tag:"):
                raise CliError('tag: "%s": tags must start with \'tag:\'' % tag)
        prefs["AdvertiseTags"] = tags or None
    current = list(prefs.get("AdvertiseRoutes") or [])
    if up or "advertise-routes" in flags or "advertise-exit-node" in flags:
        # `up` resets what it is not told; `set` keeps the half (subnets / exit node) it is not told
        if "advertise-routes" in flags:
            routes = parse_routes(flags["advertise-routes"])
        else:
            routes = [] if up else [r for r in current if r not in EXIT_ROUTES]
        if "advertise-exit-node" in flags:
            advertise_exit = flags["advertise-exit-node"]
        else:
            advertise_exit = set(EXIT_ROUTES) <= set(routes) or (not up and set(EXIT_ROUTES) <= set(current))
        routes = [r for r in routes if r not in EXIT_ROUTES] + (list(EXIT_ROUTES) if advertise_exit else [])
        prefs["AdvertiseRoutes"] = routes or None
    if "exit-node" in flags:
        value = flags["exit-node"]
        if not value:
            prefs["ExitNodeID"], prefs["ExitNodeIP"] = "", ""
        else:
            peer = find_peer(state, value)
            if peer is None:
                raise CliError('invalid value "%s" for --exit-node; must be IP or unique node name' % value)
            prefs["ExitNodeID"], prefs["ExitNodeIP"] = peer["ID"], ""
    if prefs["ExitNodeID"] and all(r in (prefs.get("AdvertiseRoutes") or []) for r in EXIT_ROUTES):
        raise CliError("Cannot advertise an exit node and use an exit node at the same time.")


def check_reversion(prefs, flags):
    missing = []
    for key, flag in MENTION.items():
        if prefs.get(key) != DEFAULTS[key] and flag not in flags and "--%s" % flag not in missing:
            missing.append("--%s" % flag)
    routes = prefs.get("AdvertiseRoutes") or []
    if [r for r in routes if r not in EXIT_ROUTES] and "advertise-routes" not in flags:
        missing.append("--advertise-routes")
    if all(r in routes for r in EXIT_ROUTES) and "advertise-exit-node" not in flags:
        missing.append("--advertise-exit-node")
    if prefs.get("ControlURL") != DEFAULT_CONTROL and "login-server" not in flags:
        missing.append("--login-server")
    if missing:
        raise CliError("Error: changing settings via 'tailscale up' requires mentioning all non-default flags. "
                       "To proceed, either re-run your command with --reset or mention: %s" % " ".join(missing))


def cmd_up(state, args):
    flags = parse_flags(args, UP_FLAGS)
    prefs = state["prefs"]
    logged_in = not prefs["LoggedOut"] and state["BackendState"] != "NeedsLogin"
    if logged_in and not flags.get("reset"):
        check_reversion(prefs, flags)
    key = flags.get("authkey", flags.get("auth-key", ""))
    if flags.get("reset"):
        prefs.update(DEFAULTS)
    else:
        for pref_key, flag in MENTION.items():  # `up` resets unmentioned settings to their defaults
            if flag not in flags:
                prefs[pref_key] = DEFAULTS[pref_key]
    apply_flags(state, flags, up=True)
    if not logged_in:
        if not key:
            raise CliError("To authenticate, visit:\n\n\thttps://login.tailscale.com/a/fake0123\n\n"
                           "timeout waiting for Tailscale service to enter a Running state; check health with \"tailscale status\"")
        if not key.startswith("tskey-auth-"):
            raise CliError("backend error: invalid key: unable to validate API key")
    prefs.update(LoggedOut=False, WantRunning=True)
    state["BackendState"] = "Running"


def cmd_set(state, args):
    flags = parse_flags(args, SET_FLAGS)
    apply_flags(state, flags, up=False)


def cmd_down(state, args):
    parse_flags(args, {"accept-risk"})
    state["prefs"]["WantRunning"] = False
    if state["BackendState"] == "Running":
        state["BackendState"] = "Stopped"


def status_json(state):
    prefs = state["prefs"]
    online = state["BackendState"] == "Running"
    has_ips = not prefs["LoggedOut"]
    host = prefs["Hostname"] or state.get("os_hostname", "fakehost")
    self_node = {"ID": "nSelfCNTRL", "PublicKey": "nodekey:self", "HostName": host,
                 "DNSName": "%s.%s." % (host, SUFFIX) if has_ips else "", "OS": "linux",
                 "TailscaleIPs": SELF_IPS if has_ips else None, "Online": online,
                 "ExitNode": False, "ExitNodeOption": False}
    peers = {}
    for key, peer in state["peers"].items():
        peers[key] = dict({"OS": "linux", "Online": True, "ExitNodeOption": True},
                          **peer, ExitNode=peer["ID"] == prefs["ExitNodeID"])
    return {"Version": "1.76.1-fake", "TUN": True, "BackendState": state["BackendState"],
            "AuthURL": "", "TailscaleIPs": SELF_IPS if has_ips else None, "Self": self_node,
            "Health": [], "MagicDNSSuffix": SUFFIX,
            "CurrentTailnet": {"Name": "example.com", "MagicDNSSuffix": SUFFIX, "MagicDNSEnabled": True} if has_ips else None,
            "Peer": peers or None, "User": None}


def main(argv):
    log_path = os.environ.get("FAKE_TAILSCALE_LOG")
    if log_path:
        with open(log_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(argv) + "\n")
    state_path = os.environ.get("FAKE_TAILSCALE_STATE")
    state = load(state_path)
    if not argv:
        sys.stderr.write("USAGE\n  tailscale [flags] <subcommand> [command flags]\n")
        return 0
    command, args = argv[0], argv[1:]
    try:
        if command == "version":
            sys.stdout.write("1.76.1\n  tailscale commit: fake\n  go version: go1.23.1\n")
        elif command == "status":
            if args != ["--json"] and args != ["-json"]:
                raise CliError("fake tailscale: only `status --json` is implemented")
            sys.stdout.write(json.dumps(status_json(state), indent=2) + "\n")
        elif command == "debug":
            if args != ["prefs"]:
                raise CliError("fake tailscale: only `debug prefs` is implemented")
            sys.stdout.write(json.dumps(state["prefs"], indent="\t") + "\n")
        elif command in ("up", "set", "down"):
            {"up": cmd_up, "set": cmd_set, "down": cmd_down}[command](state, args)
            save(state_path, state)
        else:
            raise CliError("tailscale: unknown subcommand: %s" % command)
    except CliError as error:
        sys.stderr.write("%s\n" % error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

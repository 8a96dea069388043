# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules for a Tailscale node's settings (the flags of ``tailscale up`` and ``tailscale set``).

Written once for the ``tailscale_node`` module, which checks its options with them, and the
``tailscale`` role, which refuses bad variables with them (the ``tailscale_setting_problems``
filter) before it installs anything. Each rule has one message; it names the option as the
caller spells it: the module's option names, or the role's with ``prefix='tailscale_'``.
"""

from __future__ import annotations

import ipaddress
import re

DEFAULT_CONTROL_URL = "https://controlplane.tailscale.com"
# The default routes: advertising both is what offering an exit node means.
EXIT_ROUTES = ("0.0.0.0/0", "::/0")
# Tailscale's own rule for a tag name: a letter, then letters, digits or dashes.
ACL_TAG = re.compile(r"tag:[A-Za-z][A-Za-z0-9-]*")
LOGIN_SERVER_URL = re.compile(r"https?://\S")


class SettingError(ValueError):
    """A setting Tailscale would refuse or read otherwise; the message names the option."""


def normalize_routes(routes, prefix=""):
    """Validated, canonical, sorted CIDRs; raises SettingError naming the first bad item.

    A route is a network address with its prefix length (10.0.1.0/24, not 10.0.1.5/24); a
    single address is a host route (10.0.1.5 is 10.0.1.5/32). The default routes are refused:
    offering them is what advertise_exit_node is for.
    """
    result = []
    for item in routes:
        text = str(item).strip()
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError:
            raise SettingError("%sadvertise_routes: %r is not a valid network address in CIDR form: write the network"
                               " with its prefix length, e.g. %s" % (prefix, str(item), _network_of(text))) from None
        if str(network) in EXIT_ROUTES:
            raise SettingError("%sadvertise_routes: %s is a default route; use %sadvertise_exit_node=true instead to offer"
                               " this node as an exit node" % (prefix, network, prefix))
        if str(network) not in result:
            result.append(str(network))
    return sorted(result)


def _network_of(text):
    """The network an address with host bits set belongs to, or a sample route."""
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        return "10.0.1.0/24"


def normalize_tags(tags, prefix=""):
    """Unique, sorted ACL tags; raises SettingError naming the first bad one."""
    result = []
    for tag in tags:
        tag = str(tag).strip()
        if not ACL_TAG.fullmatch(tag):
            raise SettingError("%sadvertise_tags: %r is not an ACL tag: a tag must start with 'tag:' followed by a name,"
                               " a letter then letters, digits or dashes" % (prefix, tag))
        if tag not in result:
            result.append(tag)
    return sorted(result)


def normalize_url(url):
    """The control server URL as the node reports it: the default when unset, no trailing slash."""
    return (url or DEFAULT_CONTROL_URL).rstrip("/")


def check_login_server(url, prefix=""):
    if not LOGIN_SERVER_URL.match(str(url)):
        raise SettingError("%slogin_server: %r is not an https:// or http:// URL" % (prefix, str(url)))


def check_exit_node(exit_node, advertise_exit_node, prefix=""):
    """Refuse using an exit node while offering this node as one."""
    if exit_node and str(exit_node).strip() and advertise_exit_node:
        raise SettingError("%sexit_node: a node cannot use an exit node and be one: it would use %s while"
                           " %sadvertise_exit_node is true; unset one of them"
                           % (prefix, str(exit_node).strip(), prefix))


def check_timeout(timeout, prefix=""):
    if timeout <= 0:
        raise SettingError("%stimeout: must be a positive number of seconds, got %s" % (prefix, timeout))


def setting_problems(settings, prefix=""):
    """The message of every rule the given settings break, in option order ([] when none).

    ``settings`` holds the module's options by name; a missing or None option is not set
    and not checked.
    """
    checks = (
        ("advertise_routes", normalize_routes),
        ("advertise_tags", normalize_tags),
        ("login_server", check_login_server),
        ("timeout", check_timeout),
    )
    problems = []
    for name, check in checks:
        if settings.get(name) is not None:
            try:
                check(settings[name], prefix=prefix)
            except SettingError as error:
                problems.append(str(error))
    try:
        check_exit_node(settings.get("exit_node"), settings.get("advertise_exit_node"), prefix=prefix)
    except SettingError as error:
        problems.append(str(error))
    return problems

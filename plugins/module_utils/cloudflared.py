# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloudflared's tunnel configuration: the ingress rules, and the checks cloudflared itself
makes when it loads them (its ingress/ingress.go: ``validate`` and ``validateHostname``).

cloudflared cannot run on the project's machines, so the same rules are applied here
before a file is written: an invalid file would leave the tunnel down.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# What a request for a host no rule names gets: a plain 404, never an origin.
CATCH_ALL = {"service": "http_status:404"}


class IngressError(ValueError):
    """An ingress rule cloudflared would refuse; the message says which and why."""


def ingress_rules(routes, origin_url, ca_pool=None):
    """One rule per host of every public route, to the edge at ``origin_url``, then the catch-all.

    The edge routes by host name, so each rule presents the host as TLS server name;
    ``ca_pool`` is the CA file (as the container sees it) that signs the edge's certificate
    when it is not a public one.
    """
    rules = []
    for route in routes:
        if not route["public"]:
            continue
        for host in route["hosts"]:
            origin = {"originServerName": host}
            if ca_pool:
                origin["caPool"] = ca_pool
            rules.append({"hostname": host, "service": origin_url, "originRequest": origin})
    rules.append(dict(CATCH_ALL))
    validate_ingress(rules)
    return {"ingress": rules}


def validate_ingress(rules):
    """Refuse what cloudflared refuses when it loads ``ingress`` (IngressError)."""
    if not rules:
        raise IngressError("The config file doesn't contain any ingress rules")
    for index, rule in enumerate(rules):
        _check_service(rule.get("service", ""))
        hostname = rule.get("hostname", "")
        if re.search(r":[0-9]+$", hostname):
            raise IngressError("rule #%d: Hostname cannot contain a port" % (index + 1))
        if hostname.rfind("*") > 0:
            raise IngressError('rule #%d: Hostname patterns can have at most one wildcard character ("*") and it can'
                               ' only be used for subdomains, e.g. "*.example.com"' % (index + 1))
        catch_all = hostname in ("", "*") and not rule.get("path")
        if index == len(rules) - 1 and not catch_all:
            raise IngressError("The last ingress rule must match all URLs (i.e. it should not have a hostname or path"
                               " filter)")
        if index < len(rules) - 1 and catch_all:
            raise IngressError("Rule #%d is matching the hostname '%s', but this will match every hostname, meaning the"
                               " rules which follow it will never be triggered." % (index + 1, hostname))


def _check_service(service):
    if service.startswith("http_status:"):
        if not re.fullmatch(r"[0-9]+", service[len("http_status:"):]):
            raise IngressError("invalid HTTP status in %r" % service)
        return
    if service.startswith("unix:") or service in ("hello_world", "hello-world", "helloworld", "bastion"):
        return
    parts = urlsplit(service)
    if not parts.scheme or not parts.hostname:
        raise IngressError("%s is an invalid address, please make sure it has a scheme and a hostname" % service)
    if parts.path:
        raise IngressError("%s is an invalid address, ingress rules don't support proxying to a different path on the"
                           " origin service. The path will be the same as the eyeball request's path" % service)

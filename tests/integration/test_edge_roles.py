# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/traefik and roles/cloudflared on this machine over the local connection, writing
into temporary directories (the edge and tunnel entries mount them at their configuration
directories): check mode on a fresh host changes nothing, a converge writes the
configuration (and for Traefik a certificate from an internal CA kept in another
directory), a second converge changes nothing, the certificate is renewed before it ends,
and bad input fails before any change. A stand-in systemctl records the restarts the
roles ask for (tests/fakes/systemctl_cli).
"""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import re
import stat
import subprocess
import sys

import jsonschema
import pytest
import yaml
from cryptography import x509

import traefik_schemas

ROOT = pathlib.Path(__file__).resolve().parents[2]
FAKE_SYSTEMCTL = ROOT / "tests" / "fakes" / "systemctl_cli"
RECAP = re.compile(r"^\S+\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)

PLAY = """
- hosts: jove
  gather_facts: false
  roles: {roles}
"""


@pytest.fixture(name="site")
def site_fixture(tmp_path):
    """Paths and variables of one edge: the configuration and CA directories start absent."""
    return make_site(tmp_path)


def make_site(tmp_path):
    """The site of site_fixture in ``tmp_path``."""
    config_dir = tmp_path / "etc-traefik"
    tunnel_dir = tmp_path / "etc-cloudflared"
    pages_dir = tmp_path / "edge-pages"
    variables = {
        "homelab_domain": "lab.test",
        "homelab_edge_host": "jove",
        "traefik_internal_ca_dir": str(tmp_path / "ca"),
        "traefik_ca_export_path": str(tmp_path / "exported-ca.pem"),
        "homelab_services": [
            {"name": "traefik", "host": "jove", "platform": "traefik",
             "mounts": [{"source": str(config_dir), "target": "/etc/traefik", "readonly": True}]},
            {"name": "edge-pages", "host": "jove", "platform": "edge_pages",
             "mounts": [{"source": str(pages_dir), "target": "/www", "readonly": True}]},
            {"name": "tunnel", "host": "jove", "platform": "cloudflared", "secrets": {"TUNNEL_TOKEN": "not-a-token"},
             "mounts": [{"source": str(tunnel_dir), "target": "/etc/cloudflared", "readonly": True}]},
            {"name": "whoami", "host": "kronos", "image": "docker.io/traefik/whoami:v1.10", "port": 80,
             "route": {"auth": "none", "hosts": ["who.site-b.lab.test", "who.example.org"], "public": True}},
            {"name": "paperless", "host": "jove", "image": "ghcr.io/paperless-ngx/paperless-ngx:2.14", "port": 8000,
             "route": {"auth": "sso", "allow_from": ["192.168.1.0/24"]}},
        ],
    }
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {
        "jove": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "kronos": {"ansible_host": "100.64.0.11"}}}}))
    return {"tmp": tmp_path, "config": config_dir, "tunnel": tunnel_dir, "pages": pages_dir, "ca": tmp_path / "ca",
            "vars": variables}


def converge(site, *extra, roles=("traefik",), **overrides):
    """Run the roles; (returncode, output, changed count)."""
    (site["tmp"] / "play.yml").write_text(PLAY.format(roles=json.dumps([f"homelab.stack.{r}" for r in roles])))
    variables = dict(site["vars"], **overrides)
    (site["tmp"] / "vars.json").write_text(json.dumps(variables))
    env = dict(os.environ, PATH=f"{FAKE_SYSTEMCTL}{os.pathsep}{os.environ['PATH']}",
               FAKE_SYSTEMCTL_LOG=str(site["tmp"] / "systemctl.log"), FAKE_SYSTEMCTL_TRY_RESTART_RC="5")
    result = subprocess.run(
        ["ansible-playbook", "-i", str(site["tmp"] / "hosts.yml"), str(site["tmp"] / "play.yml"),
         "-e", f"@{site['tmp'] / 'vars.json'}", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False, env=env)
    output = result.stdout + result.stderr
    recap = RECAP.search(output)
    return result.returncode, output, int(recap[1]) if recap else None


@pytest.fixture(name="converged", scope="module")
def converged_fixture(tmp_path_factory):
    """A site converged once with the traefik role: (the site, the converge's return code,
    output and changed count). The tests that need a converged edge share it."""
    site = make_site(tmp_path_factory.mktemp("converged"))
    return site, *converge(site)


def certificate(path):
    return x509.load_pem_x509_certificate(pathlib.Path(path).read_bytes())


def test_check_mode_on_a_fresh_edge_changes_nothing(site):
    returncode, output, _changed = converge(site, "--check")
    assert returncode == 0, output
    assert not site["config"].exists() and not site["ca"].exists()
    assert not site["pages"].exists()


def test_a_converge_writes_the_edge_and_a_second_changes_nothing(converged):
    site, returncode, output, changed = converged
    assert returncode == 0, output
    assert changed > 0
    static = yaml.safe_load((site["config"] / "traefik.yml").read_text())
    jsonschema.Draft7Validator(traefik_schemas.STATIC).validate(static)
    assert static["providers"]["file"] == {"directory": "/etc/traefik/dynamic", "watch": True}
    dynamic = yaml.safe_load((site["config"] / "dynamic" / "routes.yml").read_text())
    jsonschema.Draft7Validator(traefik_schemas.DYNAMIC).validate(dynamic)
    routers = dynamic["http"]["routers"]
    assert routers["whoami"]["rule"] == "Host(`whoami.lab.test`) || Host(`who.site-b.lab.test`) || Host(`who.example.org`)"
    assert dynamic["http"]["services"]["whoami"]["loadBalancer"]["servers"] == [{"url": "http://100.64.0.11:80"}]
    assert dynamic["http"]["services"]["paperless"]["loadBalancer"]["servers"] == [{"url": "http://paperless:8000"}]
    assert "homelab-sso" in routers["paperless"]["middlewares"] and "paperless-outpost" in routers
    # The catalog's page server answers a failing sign-in step, through the gate.
    assert dynamic["http"]["services"]["homelab-edge-pages"]["loadBalancer"]["servers"] == [
        {"url": "http://edge-pages:8080"}]
    assert routers["sso-gate"]["entryPoints"] == ["sso-gate"] and static["entryPoints"]["sso-gate"]
    page = site["pages"] / "sign-in-unavailable.html"
    assert "Sign-in is unavailable" in page.read_text() and stat.S_IMODE(page.stat().st_mode) == 0o644
    assert dynamic["tls"]["certificates"] == [{"certFile": "/etc/traefik/certs/edge.crt",
                                              "keyFile": "/etc/traefik/certs/edge.key"}]
    # The certificate: issued by the exported CA for the domain, and the extra host inside it
    # that the wildcard does not cover (the one outside the domain needs acme or files).
    ca = certificate(site["tmp"] / "exported-ca.pem")
    edge = certificate(site["config"] / "certs" / "edge.crt")
    edge.verify_directly_issued_by(ca)
    names = edge.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert sorted(names) == ["*.lab.test", "lab.test", "who.site-b.lab.test"]
    assert stat.S_IMODE((site["config"] / "certs" / "edge.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(site["ca"].stat().st_mode) == 0o700
    assert "PRIVATE KEY" not in output
    assert "try-restart traefik.service" in (site["tmp"] / "systemctl.log").read_text()

    returncode, output, changed = converge(site)
    assert returncode == 0 and changed == 0, output


def test_the_certificate_is_renewed_before_it_ends(site):
    assert converge(site, traefik_internal_certificate_days=40)[0] == 0
    first = certificate(site["config"] / "certs" / "edge.crt")
    # 40 days left, and a renewal 30 days ahead: kept.
    assert converge(site, traefik_internal_certificate_days=40)[2] == 0
    # 40 days left, and a renewal 45 days ahead: renewed, for the new validity.
    returncode, output, changed = converge(site, traefik_internal_certificate_days=90, traefik_internal_renew_days=45)
    assert returncode == 0 and changed > 0, output
    second = certificate(site["config"] / "certs" / "edge.crt")
    assert second.serial_number != first.serial_number
    left = second.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(days=89) < left <= datetime.timedelta(days=90)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"traefik_internal_ca_dir": ""}, "traefik_tls_mode internal needs traefik_internal_ca_dir"),
    ({"traefik_tls_mode": "acme"}, "traefik_tls_mode acme needs traefik_acme_email"),
    ({"traefik_tls_mode": "files", "traefik_certificate_file": "/nonexistent.crt"},
     "traefik_tls_mode files needs traefik_certificate_file and traefik_certificate_key_file"),
    ({"traefik_tls_mode": "letsencrypt"}, "traefik_tls_mode"),
    ({"homelab_edge_host": "kronos"}, "traefik runs on homelab_edge_host (kronos), not on jove"),
    ({"traefik_dashboard_host": "Traefik.LAB"}, "traefik_config: dashboard_host: 'Traefik.LAB' is not a lower-case DNS name"),
    ({"traefik_sso_outpost_url": "authentik:9000"}, "traefik_config: outpost_url: must be an http:// or https:// URL"),
])
def test_bad_input_fails_before_any_change(site, overrides, message):
    returncode, output, _changed = converge(site, **overrides)
    assert returncode != 0 and message in output, output
    assert not site["config"].exists() and not site["ca"].exists()
    assert not site["pages"].exists()


def test_a_catalog_without_the_edge_entry_is_refused(site):
    services = site["vars"]["homelab_services"][1:]
    returncode, output, _changed = converge(site, homelab_services=services)
    assert returncode != 0 and "homelab_services has no edge: add {name: traefik, host: jove, platform: traefik}" in output
    assert not site["config"].exists()


def test_a_route_collision_is_refused_before_any_change(site):
    services = site["vars"]["homelab_services"] + [
        {"name": "other", "host": "jove", "image": "x/y:1", "port": 80, "route": {"subdomain": "whoami"}}]
    returncode, output, _changed = converge(site, homelab_services=services)
    assert returncode != 0 and "service other: route.subdomain: 'whoami' is already used by service whoami" in output
    assert not site["config"].exists()


def test_the_tunnel_sends_public_routes_to_the_edge_and_nothing_else(site, converged):
    ca_file = str(converged[0]["tmp"] / "exported-ca.pem")  # the edge's CA, as the traefik role exports it
    assert converged[1] == 0
    returncode, output, _changed = converge(site, roles=("cloudflared",), cloudflared_origin_ca_file=ca_file)
    assert returncode == 0, output
    config = yaml.safe_load((site["tunnel"] / "config.yml").read_text())
    origin = {"caPool": "/etc/cloudflared/ca.pem"}
    assert config == {"ingress": [
        {"hostname": "whoami.lab.test", "service": "https://traefik:443",
         "originRequest": dict(origin, originServerName="whoami.lab.test")},
        {"hostname": "who.site-b.lab.test", "service": "https://traefik:443",
         "originRequest": dict(origin, originServerName="who.site-b.lab.test")},
        {"hostname": "who.example.org", "service": "https://traefik:443",
         "originRequest": dict(origin, originServerName="who.example.org")},
        {"service": "http_status:404"}]}
    assert (site["tunnel"] / "ca.pem").read_bytes() == pathlib.Path(ca_file).read_bytes()
    assert "try-restart tunnel.service" in (site["tmp"] / "systemctl.log").read_text()
    assert "not-a-token" not in output
    returncode, output, changed = converge(site, roles=("cloudflared",), cloudflared_origin_ca_file=ca_file)
    assert returncode == 0 and changed == 0, output


def test_the_tunnel_in_check_mode_on_a_fresh_edge_changes_nothing(site):
    returncode, output, _changed = converge(site, "--check", roles=("cloudflared",))
    assert returncode == 0, output
    assert not site["tunnel"].exists()


@pytest.mark.parametrize(("overrides", "message"), [
    ({"cloudflared_origin_ca_file": "/nonexistent/ca.pem"},
     "cloudflared_origin_ca_file: '/nonexistent/ca.pem' is not a file on the controller"),
    ({"cloudflared_origin_url": "traefik:443"}, "cloudflared_config: traefik:443 is an invalid address"),
])
def test_bad_tunnel_input_fails_before_any_change(site, overrides, message):
    returncode, output, _changed = converge(site, roles=("cloudflared",), **overrides)
    assert returncode != 0 and message in output, output
    assert not site["tunnel"].exists()


def test_a_catalog_without_the_tunnel_is_refused(site):
    services = [service for service in site["vars"]["homelab_services"] if service["name"] != "tunnel"]
    returncode, output, _changed = converge(site, roles=("cloudflared",), homelab_services=services)
    assert returncode != 0 and "homelab_services has no tunnel: add {name: tunnel, host: jove" in output


AUTHENTIK_SECRETS = {"AUTHENTIK_SECRET_KEY": "k", "AUTHENTIK_BOOTSTRAP_PASSWORD": "p", "AUTHENTIK_BOOTSTRAP_TOKEN": "t",
                     "AUTHENTIK_POSTGRESQL__PASSWORD": "d"}


@pytest.mark.parametrize(("authentik_host", "outpost"), [
    (None, "http://identity-provider.invalid"),  # no identity provider: SSO routes fail closed
    ("jove", "http://authentik:9000"),  # on the edge host, by container name
    ("kronos", "http://100.64.0.11:9000"),  # elsewhere, over the mesh like any route
])
def test_forward_auth_asks_the_catalogs_identity_provider(site, authentik_host, outpost):
    services = list(site["vars"]["homelab_services"])
    if authentik_host:
        services.append({"name": "authentik", "host": authentik_host, "platform": "authentik",
                         "secrets": AUTHENTIK_SECRETS})
    returncode, output, _changed = converge(site, homelab_services=services)
    assert returncode == 0, output
    dynamic = yaml.safe_load((site["config"] / "dynamic" / "routes.yml").read_text())
    # The site has a page server, so forward auth asks the loopback gate, which asks the outpost.
    assert dynamic["http"]["middlewares"]["homelab-sso"]["forwardAuth"]["address"] == \
        "http://127.0.0.1:8083/outpost.goauthentik.io/auth/traefik"
    assert dynamic["http"]["services"]["sso-gate"]["loadBalancer"]["servers"] == [{"url": outpost}]
    assert dynamic["http"]["services"]["homelab-sso-outpost"]["loadBalancer"]["servers"] == [
        {"url": outpost + "/outpost.goauthentik.io"}]
    if authentik_host:
        # Users sign in at its own route, which it guards itself.
        assert dynamic["http"]["routers"]["authentik"]["middlewares"] == ["homelab-secure-headers"]

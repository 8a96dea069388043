# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tunnel's ingress from the routes view, and cloudflared's own load-time checks."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.stack.plugins.module_utils import cloudflared

ORIGIN = "https://traefik:443"


def route(name, public, hosts=None):
    hosts = hosts or [f"{name}.example.com"]
    return {"name": name, "hosts": hosts, "public": public}


def test_only_public_routes_go_through_the_tunnel_and_the_rest_get_404():
    config = cloudflared.ingress_rules([route("blog", True, ["blog.example.com", "www.example.org"]),
                                        route("nas", False)], ORIGIN, ca_pool="/etc/cloudflared/ca.pem")
    assert config == {"ingress": [
        {"hostname": "blog.example.com", "service": ORIGIN,
         "originRequest": {"originServerName": "blog.example.com", "caPool": "/etc/cloudflared/ca.pem"}},
        {"hostname": "www.example.org", "service": ORIGIN,
         "originRequest": {"originServerName": "www.example.org", "caPool": "/etc/cloudflared/ca.pem"}},
        {"service": "http_status:404"},
    ]}


def test_no_public_route_leaves_only_the_catch_all():
    assert cloudflared.ingress_rules([route("nas", False)], ORIGIN) == {"ingress": [{"service": "http_status:404"}]}


@pytest.mark.parametrize("rules, message", [
    ([], "doesn't contain any ingress rules"),
    ([{"hostname": "a.example.com", "service": ORIGIN}], "The last ingress rule must match all URLs"),
    ([{"service": ORIGIN}, {"service": "http_status:404"}], "Rule #1 is matching the hostname '', but"),
    ([{"hostname": "a.example.com:443", "service": ORIGIN}, {"service": "http_status:404"}], "cannot contain a port"),
    ([{"hostname": "a.*.example.com", "service": ORIGIN}, {"service": "http_status:404"}], "at most one wildcard"),
    ([{"hostname": "a.example.com", "service": "traefik:443"}, {"service": "http_status:404"}],
     "traefik:443 is an invalid address"),
    ([{"hostname": "a.example.com", "service": "https://traefik/app"}, {"service": "http_status:404"}],
     "don't support proxying to a different path"),
    ([{"service": "http_status:nope"}], "invalid HTTP status"),
])
def test_what_cloudflared_refuses_is_refused(rules, message):
    with pytest.raises(cloudflared.IngressError, match=message):
        cloudflared.validate_ingress(rules)


def test_a_wildcard_first_label_and_a_star_catch_all_are_accepted():
    cloudflared.validate_ingress([{"hostname": "*.example.com", "service": ORIGIN}, {"hostname": "*", "service": ORIGIN}])

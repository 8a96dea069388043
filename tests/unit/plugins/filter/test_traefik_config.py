# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The traefik_config filter's page server option (the model is tested in
tests/unit/plugins/module_utils/test_traefik.py)."""

from __future__ import annotations

import re

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.filter.traefik_config import FilterModule
from ansible_collections.homelab.stack.plugins.module_utils import traefik

traefik_config = FilterModule().filters()["traefik_config"]
OUTPOST = "http://authentik-server:9000"
ROUTE = {"name": "app", "host": "jove", "fqdn": "app.lab.example.com", "hosts": ["app.lab.example.com"], "paths": [],
         "port": 8000, "auth": "sso", "allow_from": [], "rate_limit": None, "public": False, "groups": [],
         "url": "http://app:8000"}
PAGES = {"name": "edge-pages", "host": "jove", "image": "docker.io/library/busybox:1.37",
         "host_dir": "/etc/homelab/edge-pages", "secrets": [], "config_dir": "/www", "port": 8080,
         "sign_in_page": "sign-in-unavailable.html"}


def test_the_page_server_is_reached_by_its_container_name():
    http = traefik_config([ROUTE], OUTPOST, pages=PAGES)["http"]
    assert http["services"][traefik.PAGES_SERVICE] == {"loadBalancer": {"servers": [{"url": "http://edge-pages:8080"}]}}
    assert http["middlewares"][traefik.FORWARD_AUTH]["forwardAuth"]["address"] == (
        "http://127.0.0.1:8083/outpost.goauthentik.io/auth/traefik")


def test_without_a_page_server_forward_auth_asks_the_outpost_itself():
    http = traefik_config([ROUTE], OUTPOST)["http"]
    assert http["middlewares"][traefik.FORWARD_AUTH]["forwardAuth"]["address"] == (
        "http://authentik-server:9000/outpost.goauthentik.io/auth/traefik")
    assert traefik.SSO_GATE not in http["routers"] and traefik.PAGES_SERVICE not in http["services"]


@pytest.mark.parametrize("pages", ["http://edge-pages:8080", {"name": "edge-pages"}, []])
def test_a_page_server_that_is_not_the_entry_is_refused(pages):
    with pytest.raises(AnsibleFilterError, match=re.escape(
            "traefik_config: pages: must be the entry from homelab.stack.platform_service('edge_pages')")):
        traefik_config([ROUTE], OUTPOST, pages=pages)

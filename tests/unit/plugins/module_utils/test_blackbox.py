# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""blackbox.yml: the route probes' expectations (2xx; never 200 behind SSO) and the mesh probes."""

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.module_utils import blackbox


def test_the_modules_the_probes_name():
    assert sorted(blackbox.blackbox_config()["modules"]) == sorted(blackbox.MODULES)


def test_sso_routes_must_answer_the_fail_closed_statuses_and_never_200():
    sso = blackbox.blackbox_config()["modules"]["http_sso"]
    assert sso["prober"] == "http"
    assert sso["http"]["valid_status_codes"] == [302, 303, 307, 401, 403, 500, 502, 503, 504]
    assert 200 not in sso["http"]["valid_status_codes"]
    # The redirect to sign in is the answer; followed, the sign-in page would answer 200.
    assert sso["http"]["follow_redirects"] is False


def test_open_routes_take_any_2xx_and_both_http_modules_want_https():
    modules = blackbox.blackbox_config()["modules"]
    assert "valid_status_codes" not in modules["http_2xx"]["http"]  # blackbox's default: any 2xx
    for name in ("http_2xx", "http_sso"):
        assert modules[name]["http"]["fail_if_not_ssl"] is True
        assert modules[name]["http"]["preferred_ip_protocol"] == "ip4"
        assert "tls_config" not in modules[name]["http"]


def test_the_ca_file_signs_the_routes_certificates():
    modules = blackbox.blackbox_config(ca_file="/etc/blackbox/ca.pem")["modules"]
    for name in ("http_2xx", "http_sso"):
        assert modules[name]["http"]["tls_config"] == {"ca_file": "/etc/blackbox/ca.pem"}


def test_mesh_probes():
    modules = blackbox.blackbox_config()["modules"]
    assert modules["icmp"] == {"prober": "icmp", "icmp": {"preferred_ip_protocol": "ip4"}}
    assert modules["tcp_connect"] == {"prober": "tcp", "tcp": {"preferred_ip_protocol": "ip4"}}

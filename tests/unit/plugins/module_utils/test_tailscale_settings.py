"""The rules of a Tailscale node's settings (module_utils/tailscale_settings.py), shared by
the tailscale_node module and the tailscale role's validation."""

import pytest

from ansible_collections.homelab.stack.plugins.module_utils.tailscale_settings import (
    SettingError,
    check_exit_node,
    check_login_server,
    check_timeout,
    normalize_routes,
    normalize_tags,
    setting_problems,
)


def test_a_route_with_host_bits_proposes_its_network():
    with pytest.raises(SettingError) as caught:
        normalize_routes(["10.231.1.0/24", "10.231.2.7/24"])
    assert str(caught.value) == ("advertise_routes: '10.231.2.7/24' is not a valid network address in CIDR form:"
                                 " write the network with its prefix length, e.g. 10.231.2.0/24")


def test_a_route_that_is_no_address_proposes_a_sample():
    with pytest.raises(SettingError, match=r"'site-a' is not a valid .* e\.g\. 10\.0\.1\.0/24$"):
        normalize_routes(["site-a"])


def test_the_prefix_names_the_callers_variables():
    with pytest.raises(SettingError) as caught:
        normalize_routes(["0.0.0.0/0"], prefix="tailscale_")
    assert str(caught.value).startswith("tailscale_advertise_routes: 0.0.0.0/0 is a default route;"
                                        " use tailscale_advertise_exit_node=true instead")


@pytest.mark.parametrize("tag", ["tag:1web", "tag:web_01", "tag:web.lab", "tag:-web"])
def test_a_tag_name_is_a_letter_then_letters_digits_or_dashes(tag):
    with pytest.raises(SettingError, match=r"^advertise_tags: %r is not an ACL tag" % tag):
        normalize_tags([tag])


def test_tags_tailscale_accepts_are_kept():
    assert normalize_tags(["tag:Site-A2", "tag:web"]) == ["tag:Site-A2", "tag:web"]


@pytest.mark.parametrize("url", ["headscale.lab.example", "ftp://headscale", "https://", ""])
def test_the_login_server_is_an_http_url(url):
    with pytest.raises(SettingError, match=r"^login_server: .* is not an https:// or http:// URL$"):
        check_login_server(url)


def test_login_servers_that_are_urls_pass():
    check_login_server("https://headscale.lab.example")
    check_login_server("http://10.0.0.1:8080/")


@pytest.mark.parametrize("exit_node, advertise, refused", [
    ("gateway", True, True),
    (" gateway ", True, True),
    ("gateway", False, False),
    ("", True, False),
    ("  ", True, False),
    (None, True, False),
])
def test_a_node_cannot_use_an_exit_node_and_be_one(exit_node, advertise, refused):
    if refused:
        with pytest.raises(SettingError, match="^exit_node: a node cannot use an exit node and be one: it would use gateway"):
            check_exit_node(exit_node, advertise)
    else:
        check_exit_node(exit_node, advertise)


@pytest.mark.parametrize("timeout", [0, -5])
def test_the_timeout_is_positive(timeout):
    with pytest.raises(SettingError, match="^timeout: must be a positive number of seconds, got %s$" % timeout):
        check_timeout(timeout)


def test_every_broken_rule_has_its_message_in_option_order():
    problems = setting_problems({"advertise_routes": ["10.0.0.1/8"], "advertise_tags": ["server"], "login_server": "x",
                                 "timeout": 0, "exit_node": "gw", "advertise_exit_node": True}, prefix="tailscale_")
    assert [problem.split(":")[0] for problem in problems] == [
        "tailscale_advertise_routes", "tailscale_advertise_tags", "tailscale_login_server", "tailscale_timeout",
        "tailscale_exit_node"]


def test_unset_settings_are_not_checked():
    assert setting_problems({}) == []
    assert setting_problems({"advertise_routes": None, "advertise_tags": None, "login_server": None, "timeout": None,
                             "exit_node": "gw", "advertise_exit_node": None}) == []


def test_good_settings_have_no_problem():
    assert setting_problems({"advertise_routes": ["10.0.1.0/24", "10.0.0.5"], "advertise_tags": ["tag:router"],
                             "login_server": "https://headscale.lab.example", "timeout": 60, "exit_node": "",
                             "advertise_exit_node": True}) == []

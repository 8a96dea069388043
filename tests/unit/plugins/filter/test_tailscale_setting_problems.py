"""The tailscale_setting_problems filter: the tailscale_node module's rules for the role."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.filter.tailscale_setting_problems import (
    FilterModule,
    tailscale_setting_problems,
)
from ansible_collections.homelab.stack.plugins.module_utils.tailscale_settings import SettingError, normalize_routes


def test_the_filter_is_registered():
    assert FilterModule().filters() == {"tailscale_setting_problems": tailscale_setting_problems}


def test_the_role_gets_the_modules_message_with_its_variable_names():
    problems = tailscale_setting_problems({"advertise_routes": ["10.231.2.7/24"]}, prefix="tailscale_")
    with pytest.raises(SettingError) as caught:
        normalize_routes(["10.231.2.7/24"])
    assert problems == ["tailscale_" + str(caught.value)]


@pytest.mark.parametrize("advertise", [True, "yes", "true", 1])
def test_yaml_spellings_of_a_boolean_count(advertise):
    problems = tailscale_setting_problems({"exit_node": "gw", "advertise_exit_node": advertise})
    assert len(problems) == 1 and problems[0].startswith("exit_node: a node cannot use an exit node and be one")


def test_a_timeout_given_as_text_is_a_number():
    assert tailscale_setting_problems({"timeout": "60"}) == []
    assert tailscale_setting_problems({"timeout": "0"}) == ["timeout: must be a positive number of seconds, got 0"]


@pytest.mark.parametrize("settings", [["10.0.0.0/24"], {"timeout": "soon"}, {"advertise_exit_node": "maybe"}])
def test_what_is_not_settings_fails_the_filter(settings):
    with pytest.raises(AnsibleFilterError, match="^tailscale_setting_problems: "):
        tailscale_setting_problems(settings)

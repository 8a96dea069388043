# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""alertmanager.yml: routes by severity, the NodeDown inhibition, receivers, bad input."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.homelab.stack.plugins.module_utils import alertmanager

NTFY = {"name": "phone", "type": "ntfy", "url": "https://ntfy.sh/homelab-alerts"}
MAIL = {"name": "mail", "type": "email", "to": "admin@example.com", "from": "am@example.com",
        "smarthost": "smtp.example.com:587", "auth_username": "am@example.com",
        "auth_password_file": "/etc/alertmanager/smtp-password"}
HOOK = {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:5001/alerts", "token_file": "/run/secrets/hook"}


def test_routes_by_severity_grouped_by_alert_and_instance():
    route = alertmanager.alertmanager_config([NTFY, MAIL], "phone", "mail")["route"]
    assert route == {
        "receiver": "phone",  # an alert without a known severity still reaches someone
        "group_by": ["alertname", "instance"],
        "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h",
        "routes": [{"matchers": ['severity="critical"'], "receiver": "phone"},
                   {"matchers": ['severity="warning"'], "receiver": "mail"}],
    }


def test_warnings_are_inhibited_while_the_same_host_is_down():
    # NodeDown's instance is <host>:9100, a route probe's its URL: only `host` is shared.
    assert alertmanager.alertmanager_config([NTFY], "phone", "phone")["inhibit_rules"] == [
        {"source_matchers": ['alertname="NodeDown"'], "target_matchers": ['severity="warning"'], "equal": ["host"]}]


def test_receivers_of_each_type():
    receivers = alertmanager.alertmanager_config([NTFY, MAIL, HOOK], "phone", "mail")["receivers"]
    assert receivers == [
        {"name": "phone", "webhook_configs": [{"url": alertmanager.ntfy_url("https://ntfy.sh/homelab-alerts"),
                                               "send_resolved": True}]},
        {"name": "mail", "email_configs": [{
            "to": "admin@example.com", "from": "am@example.com", "smarthost": "smtp.example.com:587",
            "require_tls": True, "send_resolved": True, "auth_username": "am@example.com",
            "auth_password_file": "/etc/alertmanager/smtp-password"}]},
        {"name": "hook", "webhook_configs": [{
            "url": "http://127.0.0.1:5001/alerts", "send_resolved": True,
            "http_config": {"authorization": {"type": "Bearer", "credentials_file": "/run/secrets/hook"}}}]},
    ]


def test_an_ntfy_topic_gets_the_message_templates_unless_its_url_has_its_own():
    url = alertmanager.ntfy_url("https://ntfy.example.com/homelab-alerts?p=4")
    parts = urlsplit(url)
    assert parts.scheme + "://" + parts.netloc + parts.path == "https://ntfy.example.com/homelab-alerts"
    assert parse_qs(parts.query) == {"p": ["4"], "tpl": ["1"], "t": [alertmanager.NTFY_TITLE],
                                     "m": [alertmanager.NTFY_MESSAGE]}
    own = "https://ntfy.example.com/homelab-alerts?tpl=1&m=%7B%7B.status%7D%7D"
    assert alertmanager.ntfy_url(own) == own


def test_email_to_a_list_without_authentication():
    mail = {key: value for key, value in MAIL.items() if not key.startswith("auth_")}
    mail.update(to=["a@example.com", "b@example.com"], require_tls=False, send_resolved=False)
    config = alertmanager.alertmanager_config([mail], "mail", "mail")["receivers"][0]["email_configs"][0]
    assert config == {"to": "a@example.com, b@example.com", "from": "am@example.com",
                      "smarthost": "smtp.example.com:587", "require_tls": False, "send_resolved": False}


def test_intervals():
    route = alertmanager.alertmanager_config([NTFY], "phone", "phone", group_wait="1s", group_interval="2s",
                                             repeat_interval="1h")["route"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("1s", "2s", "1h")


def without(receiver, key):
    return {name: value for name, value in receiver.items() if name != key}


@pytest.mark.parametrize("receivers, critical, warning, message", [
    ([NTFY, without(HOOK, "url")], "phone", "phone", r"^receivers\[1\]\.url: required for type webhook$"),
    ([dict(NTFY, url="")], "phone", "phone", r"^receivers\[0\]\.url: required for type ntfy$"),
    ([without(MAIL, "to")], "mail", "mail", r"^receivers\[0\]\.to: required for type email$"),
    ([without(MAIL, "smarthost")], "mail", "mail", r"^receivers\[0\]\.smarthost: required for type email$"),
    ([without(MAIL, "from")], "mail", "mail", r"^receivers\[0\]\.from: required for type email$"),
    ([dict(MAIL, smarthost="smtp.example.com")], "mail", "mail", r"^receivers\[0\]\.smarthost: must be host:port"),
    ([without(MAIL, "auth_password_file")], "mail", "mail",
     r"^receivers\[0\]\.auth_password_file: required with auth_username$"),
    ([without(MAIL, "auth_username")], "mail", "mail", r"^receivers\[0\]\.auth_username: required with auth_password_file$"),
    ([dict(MAIL, auth_password_file="smtp-password")], "mail", "mail",
     r"^receivers\[0\]\.auth_password_file: must be an absolute file path"),
    ([dict(MAIL, auth_password="hunter2")], "mail", "mail",
     r"^receivers\[0\]\.auth_password: not a field of type email \(secrets are given as files"),
    ([dict(NTFY, token="tk_abc")], "phone", "phone", r"^receivers\[0\]\.token: not a field of type ntfy \(secrets"),
    ([dict(NTFY, urll="x")], "phone", "phone", r"^receivers\[0\]\.urll: not a field of type ntfy$"),
    ([dict(NTFY, url="ntfy.sh/topic")], "phone", "phone", r"^receivers\[0\]\.url: must be an http:// or https:// URL"),
    ([dict(NTFY, send_resolved="yes")], "phone", "phone", r"^receivers\[0\]\.send_resolved: must be true or false"),
    ([dict(NTFY, type="slack")], "phone", "phone", r"^receivers\[0\]\.type: must be one of email, ntfy, webhook, got 'slack'"),
    ([without(NTFY, "name")], "phone", "phone", r"^receivers\[0\]\.name: must be a name"),
    ([NTFY, dict(HOOK, name="phone")], "phone", "phone", r"^receivers\[1\]\.name: 'phone' is already the name of receivers\[0\]"),
    ([NTFY], "pager", "phone", r"^critical: no receiver is named 'pager' \(receivers: phone\)$"),
    ([NTFY, MAIL], "phone", "mial", r"^warning: no receiver is named 'mial' \(receivers: mail, phone\)$"),
    ([], "phone", "phone", r"^receivers: required"),
    ("phone", "phone", "phone", r"^receivers: required"),
])
def test_bad_input_names_the_field(receivers, critical, warning, message):
    with pytest.raises(alertmanager.ConfigError, match=message):
        alertmanager.alertmanager_config(receivers, critical, warning)


def test_a_url_with_credentials_is_refused_without_repeating_them():
    with pytest.raises(alertmanager.ConfigError) as info:
        alertmanager.alertmanager_config([dict(NTFY, url="https://alice:s3cret@ntfy.example.com/alerts")],
                                         "phone", "phone")
    assert str(info.value).startswith("receivers[0].url: must not carry a user or password; give token_file")
    assert "s3cret" not in str(info.value)


def test_bad_interval_names_the_option():
    with pytest.raises(alertmanager.ConfigError, match="^group_wait: must be a Prometheus duration"):
        alertmanager.alertmanager_config([NTFY], "phone", "phone", group_wait="soon")

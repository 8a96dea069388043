# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alertmanager's configuration file, ``alertmanager.yml``, from the user's receivers.

Pure functions that build the file as data (Alertmanager's own keys); the filter writes
it as YAML. Alerts are grouped by alert and instance and routed by severity; warnings
are held back while the host they concern is down. Receivers are declared in a short
form (ntfy, e-mail, a generic webhook) and checked here, so that a missing URL names the
receiver's field instead of failing later in ``amtool``. Secrets are only ever file
paths (``auth_password_file``, ``token_file``): the rendered file holds none. Only
options that Alertmanager 0.25 (Debian 12) through the current release accept are
written; tests check the file with the real ``amtool check-config`` and run it.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ansible_collections.homelab.stack.plugins.module_utils.prometheus import ConfigError, check_address, check_duration

GROUP_BY = ("alertname", "instance")
SEVERITIES = ("critical", "warning")
# The alert that says a host is down, and the label every target of a host carries: a
# node's instance is <host>:9100 while a route probe's is its URL, so ``host`` is what
# "the same machine" means.
NODE_DOWN = "NodeDown"
HOST_LABEL = "host"

# ntfy's title and message templates (Go templates over Alertmanager's JSON payload).
NTFY_TITLE = "[{{.status}}] {{.commonLabels.alertname}} {{.commonLabels.instance}}"
NTFY_MESSAGE = "{{range .alerts}}{{.annotations.summary}}\n{{end}}"

# Each type's fields: required, then optional. Anything else is refused (a typo or a
# secret written inline).
FIELDS = {
    "ntfy": (("url",), ("token_file", "send_resolved")),
    "webhook": (("url",), ("token_file", "send_resolved")),
    "email": (("to", "from", "smarthost"), ("auth_username", "auth_password_file", "require_tls", "send_resolved")),
}
NAME = re.compile(r"[A-Za-z0-9_.-]+")


def _string(field, value, pattern=None, what="a string"):
    if not isinstance(value, str) or not value or (pattern is not None and not pattern.fullmatch(value)):
        raise ConfigError("%s: must be %s, got %r" % (field, what, value))
    return value


def _url(field, value):
    """An http(s) URL without credentials: those would be written into the file (and the
    error does not repeat such a URL)."""
    if isinstance(value, str) and "@" in urlsplit(value).netloc:
        raise ConfigError("%s: must not carry a user or password; give token_file (a bearer token read from a file)"
                          % field)
    return _string(field, value, re.compile(r"https?://[^\s/?#]+[^\s]*"), "an http:// or https:// URL")


def _path(field, value):
    return _string(field, value, re.compile(r"/.*"), "an absolute file path")


def _flag(field, value):
    if not isinstance(value, bool):
        raise ConfigError("%s: must be true or false, got %r" % (field, value))
    return value


def _webhook(receiver, field, url=None):
    """A generic webhook: Alertmanager posts its JSON to the URL. A token, read from a file,
    is sent as a bearer token."""
    config = {"url": url or _url(field + ".url", receiver["url"]),
              "send_resolved": _flag(field + ".send_resolved", receiver.get("send_resolved", True))}
    if "token_file" in receiver:
        config["http_config"] = {"authorization": {"type": "Bearer",
                                                   "credentials_file": _path(field + ".token_file",
                                                                             receiver["token_file"])}}
    return {"webhook_configs": [config]}


def ntfy_url(topic_url):
    """The topic URL with ntfy's message templates (ntfy 2.10 and later), so that a phone shows
    the alert's name, instance and summaries instead of Alertmanager's JSON. A URL that
    already asks for templating (``tpl``/``template``) is kept as it is."""
    parts = urlsplit(topic_url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(name in ("tpl", "template") for name, _value in query):
        return topic_url
    query += [("tpl", "1"), ("t", NTFY_TITLE), ("m", NTFY_MESSAGE)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _ntfy(receiver, field):
    """An ntfy topic: a webhook to the topic URL, with the message templates."""
    return _webhook(receiver, field, url=ntfy_url(_url(field + ".url", receiver["url"])))


def _email(receiver, field):
    """E-mail through the smarthost; the password only ever as a file Alertmanager reads."""
    to = receiver["to"]
    if isinstance(to, list) and to:
        to = ", ".join(_string("%s.to[%d]" % (field, index), item) for index, item in enumerate(to))
    config = {"to": _string(field + ".to", to, what="an address or a list of addresses"),
              "from": _string(field + ".from", receiver["from"]),
              "smarthost": check_address(field + ".smarthost", receiver["smarthost"]),
              "require_tls": _flag(field + ".require_tls", receiver.get("require_tls", True)),
              "send_resolved": _flag(field + ".send_resolved", receiver.get("send_resolved", True))}
    # SMTP authentication needs both; one without the other is a mistake, not "no auth".
    for given, needed in (("auth_username", "auth_password_file"), ("auth_password_file", "auth_username")):
        if given in receiver and needed not in receiver:
            raise ConfigError("%s.%s: required with %s" % (field, needed, given))
    if "auth_username" in receiver:
        config["auth_username"] = _string(field + ".auth_username", receiver["auth_username"])
        config["auth_password_file"] = _path(field + ".auth_password_file", receiver["auth_password_file"])
    return {"email_configs": [config]}


BUILDERS = {"ntfy": _ntfy, "webhook": _webhook, "email": _email}


def receiver_config(receiver, index):
    """One receiver of the short form as Alertmanager's receiver; ``index`` names it in errors."""
    field = "receivers[%d]" % index
    if not isinstance(receiver, dict):
        raise ConfigError("%s: must be a mapping with name and type" % field)
    name = _string(field + ".name", receiver.get("name"), NAME, "a name of letters, digits, '_', '.' and '-'")
    kind = receiver.get("type")
    if kind not in FIELDS:
        raise ConfigError("%s.type: must be one of %s, got %r" % (field, ", ".join(sorted(FIELDS)), kind))
    required, optional = FIELDS[kind]
    for key in required:
        if receiver.get(key) in (None, "", []):
            raise ConfigError("%s.%s: required for type %s" % (field, key, kind))
    for key in receiver:
        if key not in ("name", "type") + required + optional:
            hint = (" (secrets are given as files: auth_password_file, token_file)"
                    if "password" in key or "token" in key or "secret" in key else "")
            raise ConfigError("%s.%s: not a field of type %s%s" % (field, key, kind, hint))
    config = {"name": name}
    config.update(BUILDERS[kind](receiver, field))
    return config


def alertmanager_config(receivers, critical, warning, group_wait="30s", group_interval="5m", repeat_interval="4h"):
    """``alertmanager.yml``: ``receivers`` in the short form, ``critical`` and ``warning`` the
    names of the receivers for each severity. An alert without a known severity goes to the
    critical receiver: nothing is dropped.
    """
    if not isinstance(receivers, list) or not receivers:
        raise ConfigError("receivers: required, a non-empty list of {name, type, ...}")
    built = [receiver_config(receiver, index) for index, receiver in enumerate(receivers)]
    names = {}
    for index, receiver in enumerate(built):
        if receiver["name"] in names:
            raise ConfigError("receivers[%d].name: %r is already the name of receivers[%d]" % (
                index, receiver["name"], names[receiver["name"]]))
        names[receiver["name"]] = index
    chosen = {"critical": critical, "warning": warning}
    for severity in SEVERITIES:
        if chosen[severity] not in names:
            raise ConfigError("%s: no receiver is named %r (receivers: %s)" % (
                severity, chosen[severity], ", ".join(sorted(names))))
    return {
        "route": {
            "receiver": critical,
            "group_by": list(GROUP_BY),
            "group_wait": check_duration("group_wait", group_wait),
            "group_interval": check_duration("group_interval", group_interval),
            "repeat_interval": check_duration("repeat_interval", repeat_interval),
            "routes": [{"matchers": ['severity="%s"' % severity], "receiver": chosen[severity]}
                       for severity in SEVERITIES],
        },
        "inhibit_rules": [{
            "source_matchers": ['alertname="%s"' % NODE_DOWN],
            "target_matchers": ['severity="warning"'],
            "equal": [HOST_LABEL],
        }],
        "receivers": built,
    }

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Grafana's provisioning files and its settings file, from the Grafana view of the catalog.

Grafana reads, under its provisioning directory, ``datasources/*.yml`` (the datasources it
keeps as written: Prometheus the default, Alertmanager, Loki when there is one) and
``dashboards/*.yml`` (providers: where dashboard JSON files are, re-read while it runs).
Its settings come from the environment the catalog gives the container, and from
``grafana.ini`` for what needs the homelab's domain, which the catalog does not know:
the public URL and, with sign-in through Authentik, Authentik's endpoints (the URLs of
Authentik's Grafana integration guide: ``/application/o/authorize/``, ``token/``,
``userinfo/`` and the application's ``end-session/``).

Grafana cannot run on the project's build machines (no package, no image), so these
files are checked here against the provisioning format (:func:`check_datasources`) and
their YAML parsed by the tests, not loaded by Grafana.
"""

from __future__ import annotations

import re

# Datasource provisioning format (apiVersion 1) and what each datasource needs.
API_VERSION = 1
DATASOURCE_KEYS = ("name", "type", "access", "url", "uid")
DATASOURCE_TYPES = ("prometheus", "alertmanager", "loki")
# Grafana's uid rule: at most 40 letters, digits, '-' and '_'.
UID = re.compile(r"[A-Za-z0-9_-]{1,40}")
# The provisioned datasources' uids, which the role's dashboards refer to.
PROMETHEUS_UID = "prometheus"
ALERTMANAGER_UID = "alertmanager"
LOKI_UID = "loki"
# Files under the provisioning directory.
DATASOURCES_FILE = "datasources/homelab.yml"
DASHBOARDS_FILE = "dashboards/homelab.yml"
SETTINGS_FILE = "grafana.ini"


class GrafanaError(ValueError):
    """Input the files cannot be built from; the message starts with the field at fault."""


def datasources(prometheus, alertmanager=None, loki=None):
    """The datasource provisioning document: Prometheus (the default) at ``prometheus``,
    Alertmanager and Loki at their URLs when given (None: left out). Grafana proxies every
    query (``access: proxy``), so only Grafana's container needs to reach them."""
    sources = [{"name": "Prometheus", "type": "prometheus", "uid": PROMETHEUS_UID, "access": "proxy",
                "url": prometheus, "isDefault": True, "editable": False}]
    if alertmanager is not None:
        # Prometheus' Alertmanager (not Grafana's own, nor Mimir's): its silences and alerts.
        sources.append({"name": "Alertmanager", "type": "alertmanager", "uid": ALERTMANAGER_UID, "access": "proxy",
                        "url": alertmanager, "editable": False,
                        "jsonData": {"implementation": "prometheus", "handleGrafanaManagedAlerts": False}})
    if loki is not None:
        sources.append({"name": "Loki", "type": "loki", "uid": LOKI_UID, "access": "proxy", "url": loki,
                        "editable": False})
    document = {"apiVersion": API_VERSION, "datasources": sources}
    check_datasources(document)
    return document


def check_datasources(document):
    """Refuse a datasource document Grafana would reject or load wrongly: apiVersion 1,
    every datasource with its keys (a known type, an http(s) URL, a valid uid), names and
    uids unique, at most one default. Raises GrafanaError naming the field."""
    if not isinstance(document, dict) or document.get("apiVersion") != API_VERSION:
        raise GrafanaError("apiVersion: must be %d" % API_VERSION)
    items = document.get("datasources")
    if not isinstance(items, list) or not items:
        raise GrafanaError("datasources: must be a non-empty list")
    seen = {"name": {}, "uid": {}}
    for index, item in enumerate(items):
        field = "datasources[%d]" % index
        if not isinstance(item, dict):
            raise GrafanaError("%s: must be a mapping" % field)
        for key in DATASOURCE_KEYS:
            if not isinstance(item.get(key), str) or not item[key]:
                raise GrafanaError("%s.%s: is required (a non-empty string)" % (field, key))
        if item["type"] not in DATASOURCE_TYPES:
            raise GrafanaError("%s.type: %r is not one of %s" % (field, item["type"], ", ".join(DATASOURCE_TYPES)))
        if not re.match(r"https?://[^/\s]+", item["url"]):
            raise GrafanaError("%s.url: %r is not an http(s) URL" % (field, item["url"]))
        if not UID.fullmatch(item["uid"]):
            raise GrafanaError("%s.uid: %r is not a Grafana uid (1-40 letters, digits, - or _)" % (field, item["uid"]))
        for key in ("name", "uid"):
            previous = seen[key].setdefault(item[key], index)
            if previous != index:
                raise GrafanaError("%s.%s: %r is also datasources[%d]'s" % (field, key, item[key], previous))
    if sum(1 for item in items if item.get("isDefault")) > 1:
        raise GrafanaError("datasources: only one may be the default")
    return document


def dashboard_provider(path):
    """The dashboards provider document: every JSON file under ``path`` (the container's
    dashboards directory), in one folder, kept as the files say (no edits saved from the
    UI; people copy a dashboard to change it), re-read every minute."""
    return {"apiVersion": API_VERSION, "providers": [{
        "name": "homelab", "orgId": 1, "folder": "homelab", "type": "file", "disableDeletion": True,
        "allowUiUpdates": False, "updateIntervalSeconds": 60, "options": {"path": path, "foldersFromFilesStructure": False},
    }]}


def _ini_value(field, value):
    """A value for grafana.ini: one line, no leading/trailing space (the parser trims it)."""
    if not isinstance(value, str) or not value or value != value.strip() or any(c in value for c in "\r\n"):
        raise GrafanaError("%s: %r cannot be an ini value" % (field, value))
    return value


def settings(root_url=None, sign_in=None):
    """The text of grafana.ini: ``[server] root_url`` (where people reach Grafana, for its
    links and the OAuth redirect), and with ``sign_in`` ``{issuer, slug}`` Authentik's
    endpoints at ``issuer`` (``https://<authentik's route>``) and the sign-out of its
    application ``slug``. The rest of Grafana's settings are in its environment."""
    lines = ["# Written by homelab.stack's monitoring role; the rest is in the container's environment."]
    if root_url is not None:
        lines += ["[server]", "root_url = %s" % _ini_value("root_url", root_url)]
    if sign_in is not None:
        issuer = _ini_value("sign_in.issuer", sign_in["issuer"]).rstrip("/")
        slug = _ini_value("sign_in.slug", sign_in["slug"])
        lines += ["[auth]", "signout_redirect_url = %s/application/o/%s/end-session/" % (issuer, slug),
                  "[auth.generic_oauth]",
                  "auth_url = %s/application/o/authorize/" % issuer,
                  "token_url = %s/application/o/token/" % issuer,
                  "api_url = %s/application/o/userinfo/" % issuer]
    return "\n".join(lines) + "\n"

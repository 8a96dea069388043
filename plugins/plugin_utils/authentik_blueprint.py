# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Authentik's blueprint format: entries that Authentik's worker applies from files.

A blueprint refers to other objects with YAML tags, which plain data cannot hold:
``!Find [model, [field, value]]`` (an existing object), ``!KeyOf id`` (an entry of the same
blueprint) and ``!Env NAME`` (a value from the worker's environment, so that a secret is
never written into the file). They are modelled here as small classes and written with
a dumper that knows them. ``applications_blueprint`` turns the catalog's
``sso_applications`` view into the blueprint the authentik role installs.

It is controller-side code (a filter writes the file), hence plugin_utils: writing the
tags needs PyYAML, which modules on a managed host cannot count on.
"""

from __future__ import annotations

from ansible_collections.homelab.stack.plugins.plugin_utils import yaml_text

# Objects every Authentik has (its default blueprints and the embedded outpost).
AUTHORIZATION_FLOW = "default-provider-authorization-implicit-consent"
INVALIDATION_FLOW = "default-provider-invalidation-flow"
SIGNING_KEY = "authentik Self-signed Certificate"
EMBEDDED_OUTPOST = "goauthentik.io/outposts/embedded"
BLUEPRINT_NAME = "homelab.stack applications"


class Find:
    """``!Find [model, [field, value]]``: the primary key of an existing object."""

    def __init__(self, model, field, value):
        self.model, self.field, self.value = model, field, value

    def __eq__(self, other):
        return isinstance(other, Find) and vars(self) == vars(other)


class KeyOf:
    """``!KeyOf id``: the primary key of the entry with that ``id`` in this blueprint."""

    def __init__(self, entry_id):
        self.entry_id = entry_id

    def __eq__(self, other):
        return isinstance(other, KeyOf) and self.entry_id == other.entry_id


class Env:
    """``!Env NAME``: the value of the worker's environment variable NAME."""

    def __init__(self, name):
        self.name = name

    def __eq__(self, other):
        return isinstance(other, Env) and self.name == other.name


class _Dumper(yaml_text.Dumper):
    """The plain-data dumper, which also writes the three tags."""


_Dumper.add_representer(Find, lambda d, v: d.represent_sequence("!Find", [v.model, [v.field, v.value]], flow_style=True))
_Dumper.add_representer(KeyOf, lambda d, v: d.represent_scalar("!KeyOf", v.entry_id))
_Dumper.add_representer(Env, lambda d, v: d.represent_scalar("!Env", v.name))


def oidc_slug(name: str, forward_auth: bool) -> str:
    """The slug of a service's OIDC application: its name, or ``<name>-oidc`` when the name
    is already its forward-auth application's (Authentik's slugs are unique)."""
    return "%s-oidc" % name if forward_auth else name


def dump(blueprint):
    """The blueprint as YAML text with Authentik's tags."""
    return yaml_text.dump(blueprint, dumper=_Dumper)


def _flows():
    return {"authorization_flow": Find("authentik_flows.flow", "slug", AUTHORIZATION_FLOW),
            "invalidation_flow": Find("authentik_flows.flow", "slug", INVALIDATION_FLOW)}


def _application(entry_id, slug, name, provider_id, launch_url):
    return {"model": "authentik_core.application", "id": entry_id, "identifiers": {"slug": slug},
            "attrs": {"name": name, "provider": KeyOf(provider_id), "meta_launch_url": launch_url}}


def applications_blueprint(applications, authentik_url=None):
    """The blueprint for the ``sso_applications`` view.

    For each forward-auth application a proxy provider (mode ``forward_single``, the app's
    URL as external host) and its application, every such provider on the embedded
    outpost (the edge's forward auth asks it); for each OIDC client a confidential OAuth2
    provider (client id the service name, client secret from the worker's environment,
    strict redirect URIs, the scopes' mappings, Authentik's self-signed signing key) and
    its application (slug ``<name>-oidc`` when the service also has forward auth); the
    groups a route names, bound to its application (then only they may use it).
    ``authentik_url``: where users reach Authentik (``https://authentik.<domain>``), set as
    the embedded outpost's ``authentik_host``, where it sends browsers to sign in.
    """
    entries = []
    groups = sorted({group for app in applications for group in app["groups"]})
    for group in groups:
        entries.append({"model": "authentik_core.group", "id": "group-%s" % group, "identifiers": {"name": group}})
    proxied = []
    for app in applications:
        name, url = app["name"], "https://%s" % app["fqdn"]
        bound = []
        if app["forward_auth"]:
            entries.append({"model": "authentik_providers_proxy.proxyprovider", "id": "provider-%s" % name,
                            "identifiers": {"name": "homelab %s" % name},
                            "attrs": dict(_flows(), mode="forward_single", external_host=url)})
            entries.append(_application("app-%s" % name, name, name, "provider-%s" % name, url))
            proxied.append(KeyOf("provider-%s" % name))
            bound.append("app-%s" % name)
        oidc = app["oidc"]
        if oidc is not None:
            slug = oidc_slug(name, app["forward_auth"])
            entries.append({"model": "authentik_providers_oauth2.oauth2provider", "id": "provider-%s-oidc" % name,
                            "identifiers": {"name": "homelab %s OIDC" % name},
                            "attrs": dict(_flows(), client_type="confidential", client_id=name,
                                          client_secret=Env(oidc["secret_env"]),
                                          redirect_uris=[{"matching_mode": "strict", "url": uri}
                                                         for uri in oidc["redirect_uris"]],
                                          property_mappings=[Find("authentik_providers_oauth2.scopemapping",
                                                                  "scope_name", scope) for scope in oidc["scopes"]],
                                          signing_key=Find("authentik_crypto.certificatekeypair", "name", SIGNING_KEY))})
            entries.append(_application("app-%s-oidc" % name, slug, name, "provider-%s-oidc" % name, url))
            bound.append("app-%s-oidc" % name)
        for app_id in bound:
            for order, group in enumerate(app["groups"]):
                entries.append({"model": "authentik_policies.policybinding",
                                "identifiers": {"target": KeyOf(app_id), "group": KeyOf("group-%s" % group)},
                                "attrs": {"order": order}})
    outpost = {"providers": proxied}
    if authentik_url:
        outpost["config"] = {"authentik_host": authentik_url}
    entries.append({"model": "authentik_outposts.outpost", "identifiers": {"managed": EMBEDDED_OUTPOST},
                    "attrs": outpost})
    return {"version": 1,
            "metadata": {"name": BLUEPRINT_NAME,
                         "labels": {"blueprints.goauthentik.io/description": "Written by homelab.stack from the catalog"}},
            "entries": entries}

#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: authentik_oidc_client
short_description: An OAuth2/OpenID Connect client in Authentik (provider and application)
version_added: 0.1.0
description:
  - Makes an Authentik OAuth2/OpenID provider and the application O(slug) that uses it match the options, and
    returns the client ID and secret so that a playbook can hand them to the service.
  - Scopes are given by name and found as Authentik's scope property mappings (C(scope_name)); the signing key by
    the name of its certificate-key pair; flows by slug.
  - Authentik makes the client ID and secret when it creates the provider. The module never makes or changes them
    unless O(client_id) or O(client_secret) is given, so later runs return the same secret.
  - The application is found by O(slug); its provider is the one the application uses, or else the OAuth2 provider
    named O(provider_name). Only the settings the module manages are compared and changed (C(PATCH)).
  - O(state=absent) deletes the application and its provider.
author:
  - homelab.stack maintainers (@homelab-stack)
extends_documentation_fragment:
  - homelab.stack.authentik
  - homelab.stack.api_connection
  - homelab.stack.authentik.provider_flows
attributes:
  check_mode:
    support: full
    description: Reads the objects and reports what would change; sends no write request. The client ID and secret of
      a provider that would be created are V(null).
  diff_mode:
    support: full
    description: Shows the managed settings before and after; never the client secret.
options:
  slug:
    description: Internal name of the application, used in URLs and in the issuer C(/application/o/<slug>/).
    type: str
    required: true
  name:
    description: Display name of the application. Required with O(state=present).
    type: str
  state:
    description: V(present) creates or updates the provider and application; V(absent) deletes them.
    type: str
    choices: [present, absent]
    default: present
  redirect_uris:
    description:
      - The redirect URIs the client may use, matched exactly (Authentik's C(strict) mode). Required with
        O(state=present).
    type: list
    elements: str
  scopes:
    description: Scope names the client may ask for; each needs a scope mapping in Authentik.
    type: list
    elements: str
    default: [openid, email, profile]
  client_type:
    description: V(confidential) clients keep a secret (server-side apps); V(public) ones cannot (single-page apps).
    type: str
    choices: [confidential, public]
    default: confidential
  signing_key:
    description: Name of the certificate-key pair that signs the tokens; an empty string signs with the client secret (HS256).
    type: str
    default: authentik Self-signed Certificate
  provider_name:
    description: Name of the OAuth2 provider (unique among all providers); by default C(<slug>-oidc).
    type: str
  meta_launch_url:
    description: The launch URL in Authentik's application library. Unset leaves it alone.
    type: str
  client_id:
    description: A client ID to set instead of the one Authentik made. Unset keeps the current one.
    type: str
  client_secret:
    description:
      - A client secret to set instead of the one Authentik made, for example from a vault. Unset keeps the current one.
      - Never logged.
    type: str
notes:
  - The returned C(client_secret) is a secret. Run the task with C(no_log=true) and pass the registered value
    only to tasks that also have C(no_log=true), such as C(containers.podman.podman_secret) (see the examples).
"""

EXAMPLES = r"""
- name: An OIDC client for Grafana, its secret kept out of the output
  homelab.stack.authentik_oidc_client:
    api_url: https://auth.example.com
    api_token: "{{ vault_authentik_token }}"
    slug: grafana
    name: Grafana
    redirect_uris:
      - https://grafana.example.com/login/generic_oauth
  register: grafana_oidc
  no_log: true

- name: Hand the client ID and secret to the service as Podman secrets
  containers.podman.podman_secret:
    name: "grafana_oidc_{{ item.key }}"
    data: "{{ item.value }}"
    skip_existing: false
  loop:
    - {key: client_id, value: "{{ grafana_oidc.client_id }}"}
    - {key: client_secret, value: "{{ grafana_oidc.client_secret }}"}
  loop_control:
    label: "grafana_oidc_{{ item.key }}"
  no_log: true

- name: A public client (no secret) with the offline_access scope
  homelab.stack.authentik_oidc_client:
    slug: mobile
    name: Mobile app
    client_type: public
    scopes: [openid, profile, email, offline_access]
    redirect_uris: ["app.example.mobile:/callback"]
"""

RETURN = r"""
client_id:
  description: The client ID (V(null) in check mode when the provider is still to be created, and when absent).
  returned: always
  type: str
  sample: 9b1e7c0d4a2f6e3b8c5d1a7f0e4b2c6d8a3f5e1b
client_secret:
  description:
    - The client secret, the same on every run unless O(client_secret) changes it (V(null) as for C(client_id)).
    - A secret. Register the result under C(no_log=true); see the notes.
    - Shown as C(********) when O(client_secret) gives it, as Ansible hides the values of secret options.
  returned: always
  type: str
issuer:
  description: The issuer path below the Authentik address, C(/application/o/<slug>/) (provider issuer mode C(per_provider)).
  returned: when O(state=present)
  type: str
  sample: /application/o/grafana/
application:
  description: The application after the task (predicted in check mode; V(null) when absent).
  returned: always
  type: dict
provider:
  description: The provider's managed settings after the task, without the secret; C(pk) is V(null) when not created yet.
  returned: always
  type: dict
requests:
  description: The write requests sent (or that would be sent in check mode), as C(METHOD path).
  returned: always
  type: list
  elements: str
diff:
  description: The managed settings before and after, without the client secret.
  returned: when diff mode is on
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.homelab.stack.plugins.module_utils.authentik import (
    DEFAULT_SIGNING_KEY,
    AuthentikError,
    SettingError,
    api_argument_spec,
    application_requests,
    application_view,
    check_slug,
    client_from_module,
    fail_json_from,
    flow_pks,
    provider_flows_argument_spec,
    provider_requests,
    read_application,
    removal_requests,
    send_planned,
)

PROVIDERS = "/providers/oauth2/"
MANAGED = ("name", "client_type", "redirect_uris", "property_mappings", "signing_key", "authorization_flow",
           "invalidation_flow", "client_id")


def redirect_uris(uris):
    """The API's redirect URI entries (strict matching) for a list of URLs; refuses blanks."""
    entries = []
    for uri in uris:
        uri = str(uri).strip()
        if not uri:
            raise SettingError("redirect_uris: an entry is empty")
        entries.append({"matching_mode": "strict", "url": uri})
    return entries


def provider_view(provider, names):
    """The managed settings of an OAuth2 provider object (pks shown by name where known); never the secret."""
    if provider is None:
        return None
    view = {"pk": provider.get("pk")}
    for field in MANAGED:
        value = provider.get(field)
        if field == "property_mappings":
            value = sorted(names.get(pk, pk) for pk in value or [])
        elif field in ("signing_key", "authorization_flow", "invalidation_flow"):
            value = names.get(value, value)
        view[field] = value
    return view


def plan(params, current, refs):
    """(before, after, requests) for the provider and its application.

    ``current``: ``application`` and ``provider`` (API objects or None). ``refs``: what the
    options' names resolve to: ``flows`` (slug -> pk), ``scopes`` (scope name -> mapping
    pk, in the order of the option), ``signing_key`` (pk or None), ``mapping_names`` (scope mapping pk -> scope name, for
    the diff). Raises SettingError.
    """
    names = {pk: slug for slug, pk in refs.get("flows", {}).items()}
    names.update(refs.get("mapping_names", {}))
    if refs.get("signing_key"):
        names[refs["signing_key"]] = params["signing_key"]
    application, provider = current["application"], current["provider"]
    before = {"application": application_view(application, provider and provider["name"]),
              "provider": provider_view(provider, names)}
    if params["state"] == "absent":
        return before, {"application": None, "provider": None}, removal_requests(PROVIDERS, application, provider)

    for option in ("name", "redirect_uris"):
        if not params.get(option):
            raise SettingError("%s: required with state=present" % option)
    desired = {"name": provider_name(params), "client_type": params["client_type"],
               "redirect_uris": redirect_uris(params["redirect_uris"]),
               "authorization_flow": refs["flows"][params["authorization_flow"]],
               "invalidation_flow": refs["flows"][params["invalidation_flow"]],
               "signing_key": refs.get("signing_key")}
    scope_pks = sorted(refs["scopes"].values())
    if provider is None or sorted(provider.get("property_mappings") or []) != scope_pks:
        desired["property_mappings"] = scope_pks
    for option in ("client_id", "client_secret"):
        if params.get(option):
            desired[option] = params[option]
    requests, provider_pk, after_provider = provider_requests(PROVIDERS, provider, desired)
    desired_app = {"name": params["name"], "slug": params["slug"], "provider": provider_pk}
    if params.get("meta_launch_url") is not None:
        desired_app["meta_launch_url"] = params["meta_launch_url"]
    app_requests, after_app = application_requests(application, desired_app)
    after = {"application": application_view(after_app, desired["name"]), "provider": provider_view(after_provider, names)}
    return before, after, requests + app_requests


def provider_name(params):
    return params.get("provider_name") or "%s-oidc" % params["slug"]


def resolve(client, params):
    """The pks of the flows, scope mappings and signing key the options name."""
    scopes = params["scopes"] or []
    pks = client.scope_mapping_pks(scopes, "scopes")
    signing_key = client.certificate_pk(params["signing_key"], "signing_key") if params["signing_key"] else None
    # Every scope mapping by pk, so that the diff names the scopes a provider has now.
    mapping_names = {item["pk"]: item["scope_name"] for item in client.list("/propertymappings/provider/scope/")}
    return {"flows": flow_pks(client, params), "scopes": dict(zip(scopes, pks)), "signing_key": signing_key,
            "mapping_names": mapping_names}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            api_argument_spec(),
            **provider_flows_argument_spec(),
            slug=dict(type="str", required=True),
            name=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            redirect_uris=dict(type="list", elements="str"),
            scopes=dict(type="list", elements="str", default=["openid", "email", "profile"]),
            client_type=dict(type="str", choices=["confidential", "public"], default="confidential"),
            signing_key=dict(type="str", default=DEFAULT_SIGNING_KEY, no_log=False),
            provider_name=dict(type="str"),
            meta_launch_url=dict(type="str"),
            client_id=dict(type="str"),
            client_secret=dict(type="str", no_log=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    client = client_from_module(module)
    try:
        check_slug(params["slug"])
        refs = resolve(client, params) if params["state"] == "present" else {}
        application, provider = read_application(client, params["slug"], PROVIDERS, provider_name(params),
                                                 "an OAuth2/OpenID provider", "name")
        before, after, requests = plan(params, {"application": application, "provider": provider}, refs)
        final = provider
        if requests and not module.check_mode:
            created = send_planned(client, requests, PROVIDERS)
            if params["state"] == "present":
                # The provider as Authentik now has it: the answer of its creation, or a fresh read.
                final = created or client.get("%s%s/" % (PROVIDERS, provider["pk"]))
                after["provider"]["pk"] = final["pk"]
    except SettingError as error:
        module.fail_json(msg=str(error))
        return
    except AuthentikError as error:
        fail_json_from(module, error)
        return
    present = params["state"] == "present" and final is not None
    result = dict(changed=bool(requests), application=after["application"], provider=after["provider"],
                  client_id=final.get("client_id") if present else None,
                  client_secret=final.get("client_secret") if present else None,
                  requests=["%s %s" % (m, p) for m, p, _b in requests])
    if params["state"] == "present":
        result["issuer"] = "/application/o/%s/" % params["slug"]
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: authentik_application
short_description: An Authentik application guarded by forward auth, bound to an outpost
version_added: 0.1.0
description:
  - Makes three Authentik objects match the options, as Authentik's guide for Traefik forward auth sets them up.
  - A proxy provider in mode C(forward_single) (forward auth for one application) for O(external_host), with the
    authorization and invalidation flows given by their slugs.
  - An application O(slug) that uses this provider.
  - The provider in the C(providers) list of the O(outpost) (by default the embedded outpost); other providers of
    the outpost are kept.
  - The application is found by O(slug); its provider is the one the application uses, or else the proxy provider
    named O(provider_name). Only the settings the module manages are compared and changed (C(PATCH)).
  - O(state=absent) deletes the application and its proxy provider; Authentik then drops the provider from every
    outpost.
author:
  - homelab.stack maintainers (@homelab-stack)
extends_documentation_fragment:
  - homelab.stack.authentik
  - homelab.stack.api_connection
  - homelab.stack.authentik.provider_flows
attributes:
  check_mode:
    support: full
    description: Reads the objects and reports what would change; sends no write request.
  diff_mode:
    support: full
    description: Shows the managed settings of the provider, the application and the outpost binding before and after.
options:
  slug:
    description: Internal name of the application, used in URLs; letters, digits, C(-) and C(_).
    type: str
    required: true
  name:
    description: Display name of the application. Required with O(state=present).
    type: str
  state:
    description: V(present) creates or updates the provider, application and binding; V(absent) deletes them.
    type: str
    choices: [present, absent]
    default: present
  external_host:
    description:
      - The address users open, V(https://whoami.example.com); a bare name such as V(whoami.example.com)
        means C(https://) that name. Required with O(state=present).
    type: str
  meta_launch_url:
    description: The launch URL in Authentik's application library; by default O(external_host).
    type: str
  provider_name:
    description: Name of the proxy provider (unique among all providers); by default C(<slug>-forward-auth).
    type: str
  skip_path_regex:
    description:
      - Regular expressions (one per line) of paths that need no authentication, for example V(^/api/).
      - Unset leaves the provider's setting alone.
    type: str
  outpost:
    description: Name of the outpost that serves the provider.
    type: str
    default: authentik Embedded Outpost
  groups:
    description:
      - Names of the groups allowed to use the application. Each must exist, or the task fails before any change.
      - B(Access is not restricted by this module yet.) Authentik restricts access with policy bindings
        (C(/api/v3/policies/bindings/)), which are outside the API subset the module is tested against; the
        module checks the groups, returns them and warns. Bind them with a blueprint until then.
    type: list
    elements: str
notes:
  - The Traefik side (a C(forwardAuth) middleware to C(/outpost.goauthentik.io/auth/traefik) and the
    C(/outpost.goauthentik.io/) route on the application's host) is rendered by the C(traefik) role.
"""

EXAMPLES = r"""
- name: Forward auth for whoami through the embedded outpost
  homelab.stack.authentik_application:
    api_url: https://auth.example.com
    api_token: "{{ vault_authentik_token }}"
    slug: whoami
    name: whoami
    external_host: whoami.example.com

- name: An application whose API needs no login, with an explicit consent screen
  homelab.stack.authentik_application:
    slug: paperless
    name: Paperless
    external_host: https://paperless.example.com
    authorization_flow: default-provider-authorization-explicit-consent
    skip_path_regex: "^/api/"

- name: Remove the application and its provider
  homelab.stack.authentik_application:
    slug: whoami
    state: absent
"""

RETURN = r"""
application:
  description: The application after the task (predicted in check mode; V(null) when absent).
  returned: always
  type: dict
  sample: {slug: whoami, name: whoami, meta_launch_url: "https://whoami.example.com", provider: whoami-forward-auth}
provider:
  description: The proxy provider's managed settings after the task; C(pk) is V(null) when not created yet.
  returned: always
  type: dict
  sample:
    pk: 7
    name: whoami-forward-auth
    mode: forward_single
    external_host: https://whoami.example.com
    authorization_flow: default-provider-authorization-implicit-consent
    invalidation_flow: default-provider-invalidation-flow
outpost:
  description: The outpost and whether it serves the provider after the task.
  returned: always
  type: dict
  sample: {name: authentik Embedded Outpost, bound: true}
groups:
  description: The groups of O(groups) with their pks (not bound; see O(groups)).
  returned: always
  type: list
  elements: dict
requests:
  description: The write requests sent (or that would be sent in check mode), as C(METHOD path).
  returned: always
  type: list
  elements: str
diff:
  description: The managed settings before and after.
  returned: when diff mode is on
  type: dict
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.homelab.stack.plugins.module_utils.authentik import (
    EMBEDDED_OUTPOST,
    AuthentikError,
    SettingError,
    api_argument_spec,
    application_requests,
    application_view,
    check_slug,
    flow_pks,
    client_from_module,
    fail_json_from,
    provider_flows_argument_spec,
    provider_requests,
    read_application,
    removal_requests,
    segment,
    send_planned,
)

PROVIDERS = "/providers/proxy/"
OUTPOSTS = "/outposts/instances/"
MODE = "forward_single"


def external_url(value):
    """``https://name`` for a bare host name; an http(s) URL of a host as given, without a trailing slash."""
    text = (value or "").strip()
    url = text.rstrip("/") if "://" in text else "https://" + text.rstrip("/")
    scheme, _sep, host = url.partition("://")
    if scheme not in ("http", "https") or not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?", host):
        raise SettingError("external_host: %r is not a host name or an http(s) address of a host" % value)
    return url


def provider_view(provider, flow_slugs):
    """The managed settings of a proxy provider API object, flows by slug where known."""
    if provider is None:
        return None
    return {"pk": provider.get("pk"), "name": provider["name"], "mode": provider.get("mode"),
            "external_host": provider.get("external_host"),
            "authorization_flow": flow_slugs.get(provider.get("authorization_flow"), provider.get("authorization_flow")),
            "invalidation_flow": flow_slugs.get(provider.get("invalidation_flow"), provider.get("invalidation_flow")),
            "skip_path_regex": provider.get("skip_path_regex", "")}


def plan(params, current, flows):
    """(before, after, requests) for the provider, the application and the outpost binding.

    ``current``: ``application``, ``provider`` (API objects or None) and ``outpost`` (the
    outpost object). ``flows``: flow slug -> pk for the two flows of the options.
    ``requests``: (method, path, body) in the order to send; a body may hold NEW_PROVIDER
    where the pk of the provider created by the first request goes. Raises SettingError.
    """
    flow_slugs = {pk: slug for slug, pk in flows.items()}
    application, provider, outpost = current["application"], current["provider"], current["outpost"]
    bound = provider is not None and provider["pk"] in outpost["providers"]
    before = {"application": application_view(application, provider and provider["name"]),
              "provider": provider_view(provider, flow_slugs),
              "outpost": {"name": outpost["name"], "bound": bound}}
    if params["state"] == "absent":
        requests = removal_requests(PROVIDERS, application, provider)
        after = {"application": None, "provider": None, "outpost": {"name": outpost["name"], "bound": False}}
        return before, after, requests

    for option in ("name", "external_host"):
        if not params.get(option):
            raise SettingError("%s: required with state=present" % option)
    host = external_url(params["external_host"])
    desired_provider = {"name": provider_name(params), "mode": MODE, "external_host": host,
                        "authorization_flow": flows[params["authorization_flow"]],
                        "invalidation_flow": flows[params["invalidation_flow"]]}
    if params.get("skip_path_regex") is not None:
        desired_provider["skip_path_regex"] = params["skip_path_regex"]
    requests, provider_pk, after_provider = provider_requests(PROVIDERS, provider, desired_provider)
    app_requests, after_app = application_requests(application, {
        "name": params["name"], "slug": params["slug"], "provider": provider_pk,
        "meta_launch_url": params.get("meta_launch_url") or host})
    requests += app_requests
    if not bound:
        requests.append(("PATCH", "%s%s/" % (OUTPOSTS, segment(outpost["pk"])),
                         {"providers": list(outpost["providers"]) + [provider_pk]}))
    after = {"application": application_view(after_app, desired_provider["name"]),
             "provider": provider_view(after_provider, flow_slugs),
             "outpost": {"name": outpost["name"], "bound": True}}
    return before, after, requests


def provider_name(params):
    return params.get("provider_name") or "%s-forward-auth" % params["slug"]


def read_current(client, params):
    """The application, its proxy provider and the outpost, as the API has them."""
    application, provider = read_application(client, params["slug"], PROVIDERS, provider_name(params), "a proxy provider",
                                             "name__iexact")
    return {"application": application, "provider": provider, "outpost": client.outpost(params["outpost"])}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            api_argument_spec(),
            **provider_flows_argument_spec(),
            slug=dict(type="str", required=True),
            name=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            external_host=dict(type="str"),
            meta_launch_url=dict(type="str"),
            provider_name=dict(type="str"),
            skip_path_regex=dict(type="str"),
            outpost=dict(type="str", default=EMBEDDED_OUTPOST),
            groups=dict(type="list", elements="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    client = client_from_module(module)
    groups = []
    try:
        check_slug(params["slug"])
        flows = flow_pks(client, params) if params["state"] == "present" else {}
        for name in params.get("groups") or []:
            group = client.group(name)
            if group is None:
                raise SettingError("groups: Authentik has no group named %r" % name)
            groups.append({"name": name, "pk": group["pk"]})
        current = read_current(client, params)
        before, after, requests = plan(params, current, flows)
        if requests and not module.check_mode:
            created = send_planned(client, requests, PROVIDERS)
            if created is not None:
                after["provider"]["pk"] = created["pk"]
    except SettingError as error:
        module.fail_json(msg=str(error))
        return
    except AuthentikError as error:
        fail_json_from(module, error)
        return
    if groups:
        module.warn("groups: access to %s is not restricted by this module (policy bindings are not managed yet); "
                    "bind %s with a blueprint" % (params["slug"], ", ".join(g["name"] for g in groups)))
    result = dict(changed=bool(requests), application=after["application"], provider=after["provider"],
                  outpost=after["outpost"], groups=groups, requests=["%s %s" % (m, p) for m, p, _b in requests])
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One API request through PVE's pipeline, in pveproxy's order: route (HTTP 501 for what the
schema lacks), authenticate (401), verify the parameters (400 ``Parameter verification
failed.``), then the endpoint's answer or its ApiError."""

import json
import re
from urllib.parse import parse_qsl

from fakes.pve.schema import check_parameters


class ApiError(Exception):
    """An error answer: HTTP status, PVE's message and per-parameter errors."""

    def __init__(self, status, message, errors=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


def request_params(query, body, content_type):
    """The parameters of a request's query and form or JSON body: (dict, None), or ({}, ApiError) if the body is malformed."""
    values = dict(parse_qsl(query, keep_blank_values=True))
    if body:
        if (content_type or "").split(";")[0].strip() == "application/json":
            try:
                decoded = json.loads(body)
            except ValueError as exc:
                return {}, ApiError(400, "malformed JSON body: %s" % exc)
            values.update(decoded if isinstance(decoded, dict) else {})
        else:
            values.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return values, None


class Request:
    """One request through PVE's pipeline: route, authenticate, verify, answer; the lookups every endpoint uses."""

    def __init__(self, fake, method, path, params, problem, headers):
        self.fake = fake
        self.cluster = fake.cluster
        self.method = method
        self.path = path
        self.params = params
        self.problem = problem
        self.headers = headers
        self.user = None

    def answer(self):
        found = self.fake.schema.match(self.path)
        if found is None or self.method not in found[1]:
            raise ApiError(501, "Method '%s %s' not implemented" % (self.method, self.path))
        template, info, path_params = found
        method_schema = info[self.method]
        # Only methods open to the "world" (the login) go without credentials.
        if method_schema.get("permissions", {}).get("user") != "world":
            self.user = self.fake.authenticate(self.headers, self.method)
        if self.problem is not None:
            raise self.problem
        params = dict(self.params, **path_params)
        errors = check_parameters(method_schema.get("parameters") or {}, params)
        if errors:
            raise ApiError(400, "Parameter verification failed.", errors)
        handler = getattr(self, "_%s_%s" % (self.method.lower(), re.sub(r"[^a-z]+", "_", template.lower()).strip("_")), None)
        if handler is None:
            raise ApiError(501, "Method '%s %s' not implemented by the fake" % (self.method, self.path))
        with self.fake.state:
            self.fake.settle()
            return handler(**params)

    def _node(self, node):
        found = self.cluster.node(node)
        if found is None:
            raise ApiError(595, "hostname lookup '%s' failed - failed to get address info for: %s: Name or service not known" % (node, node))
        if not found.online:
            raise ApiError(595, "No route to host")
        return found

    def _guest(self, node, vmid, kind):
        self._node(node)
        guest = self.cluster.guest(vmid)
        if guest is None or guest.node != node or guest.type != kind:
            folder = "qemu-server" if kind == "qemu" else "lxc"
            raise ApiError(500, "Configuration file 'nodes/%s/%s/%s.conf' does not exist" % (node, folder, vmid))
        return guest

    def _param_error(self, name, message):
        raise ApiError(400, "Parameter verification failed.", {name: message})

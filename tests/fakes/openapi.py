# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An OpenAPI 3.0 document as a checker of requests and responses, for fake servers.

OpenAPI 3.0 schemas are not quite JSON Schema, so each schema is translated before
``jsonschema`` (draft 2020-12) sees it:

- ``nullable: true`` becomes "this schema, or null" (JSON Schema has no ``nullable``);
- ``readOnly``/``writeOnly`` are annotations for jsonschema; ``readOnly`` fields are
  kept out of request bodies by the rule below, ``writeOnly`` ones are not used by the
  documents we load;
- ``$ref`` to ``#/components/...`` resolves inside the same document;
- ``format`` is checked for ``uuid``, ``uri``, ``email`` and ``date-time``; an empty
  string passes as a ``uri``, as Django REST framework sends and takes "" for an unset
  URL field (Authentik's ``meta_launch_url``, ``internal_host``, ``logout_uri``).

Request bodies are stricter than a server built on Django REST framework: a top-level
field the request schema does not list (a read-only field such as ``pk``, or a typo) is
refused instead of silently dropped, so a client that sends a field the server would
ignore fails its tests rather than believing it set something.
"""

from __future__ import annotations

import copy
import datetime
import re
import uuid
from urllib.parse import urlsplit

import jsonschema
import yaml


def _check_uuid(value):
    if isinstance(value, str):
        uuid.UUID(value)
    return True


def _check_uri(value):
    # Authentik's URL fields are blank=True: it sends and accepts "" for "not set",
    # though the schema only says format: uri.
    if isinstance(value, str) and value:
        parts = urlsplit(value)
        if not parts.scheme or not parts.netloc:
            raise ValueError("not an absolute URI")
    return True


def _check_email(value):
    if isinstance(value, str) and value and not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
        raise ValueError("not an e-mail address")
    return True


def _check_date_time(value):
    if isinstance(value, str):
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


FORMATS = jsonschema.FormatChecker(formats=())
FORMATS.checks("uuid", raises=ValueError)(_check_uuid)
FORMATS.checks("uri", raises=ValueError)(_check_uri)
FORMATS.checks("email", raises=ValueError)(_check_email)
FORMATS.checks("date-time", raises=ValueError)(_check_date_time)


def to_json_schema(schema):
    """One OpenAPI 3.0 schema (and everything inside it) as JSON Schema."""
    if isinstance(schema, list):
        return [to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: to_json_schema(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable"):
        return {"anyOf": [result, {"type": "null"}]}
    return result


class Operation:
    """One method of one path: its parameters, request schema and response schemas."""

    def __init__(self, contract, method, template, spec):
        self.contract = contract
        self.method = method
        self.template = template
        self.spec = spec
        self.parameters = {}
        for parameter in spec.get("parameters", []):
            parameter = contract.resolve(parameter)
            self.parameters[(parameter["in"], parameter["name"])] = parameter
        body = spec.get("requestBody")
        schema = body and body.get("content", {}).get("application/json", {}).get("schema")
        self.request_schema = schema
        self.request_required = bool(body and body.get("required"))

    @property
    def query_names(self):
        return {name for (where, name) in self.parameters if where == "query"}

    def query_errors(self, query):
        """Field errors for query parameters the operation does not declare, requires but lacks, or of
        the wrong type or outside their ``enum``."""
        errors = {}
        for (where, name), parameter in self.parameters.items():
            if where == "query" and parameter.get("required") and name not in query:
                errors[name] = ["This query parameter is required (%s %s)." % (self.method, self.template)]
        for name, values in query.items():
            parameter = self.parameters.get(("query", name))
            if parameter is None:
                errors[name] = ["Unknown query parameter (not in the API schema of %s %s)." % (self.method, self.template)]
                continue
            kind = parameter.get("schema", {}).get("type")
            choices = parameter.get("schema", {}).get("enum")
            for value in values:
                if choices and value not in [str(choice) for choice in choices]:
                    errors[name] = ["%r is not one of %s." % (value, ", ".join(str(c) for c in choices))]
                if kind == "integer" and not re.fullmatch(r"-?\d+", value):
                    errors[name] = ["A valid integer is required."]
                elif kind == "boolean" and value not in ("true", "false", "True", "False", "1", "0"):
                    errors[name] = ["Must be a valid boolean."]
        return errors

    def body_errors(self, body):
        """Authentik-shaped field errors (``{"field": ["message"]}``) of a request body; {} when valid."""
        if self.request_schema is None:
            return {"non_field_errors": ["This request takes no body."]} if body is not None else {}
        if body is None:
            return {"non_field_errors": ["No data provided"]} if self.request_required else {}
        schema = self.contract.schema_of(self.request_schema)
        errors = {}
        if isinstance(body, dict):
            known = set(schema.get("properties", {}))
            for field in sorted(set(body) - known):
                errors[field] = ["Unknown field: %s does not accept it (read-only or not in the API schema)."
                                 % self.contract.name_of(self.request_schema)]
        for error in self.contract.validator(self.request_schema).iter_errors(body):
            field, message = _field_error(error)
            errors.setdefault(field, []).append(message)
        return errors

    def response_errors(self, status, body):
        """Problems of a response against the declared responses: a list of texts, empty when it conforms."""
        responses = self.spec.get("responses", {})
        declared = responses.get(str(status))
        if declared is None:
            if status in (401, 404, 405, 500):
                # Not declared by the document (401 from authentication, 404 for a missing
                # object): the generic error shape is still required.
                declared = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/GenericError"}}}}
            else:
                return ["status %s is not a declared response of %s %s" % (status, self.method, self.template)]
        declared = self.contract.resolve(declared)
        schema = declared.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return [] if body is None else ["status %s of %s %s has no body, got one" % (status, self.method, self.template)]
        return ["%s: %s" % ("/".join(str(p) for p in error.absolute_path) or "(body)", error.message)
                for error in self.contract.validator(schema).iter_errors(body)]


def _field_error(error):
    """(top-level field, message) for one jsonschema error of a request body."""
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        name = missing[0] if missing else "non_field_errors"
        if path:
            return str(path[0]), "%s: This field is required." % ".".join(str(p) for p in path + [name])
        return name, "This field is required."
    if not path:
        return "non_field_errors", error.message
    inner = ".".join(str(p) for p in path[1:])
    return str(path[0]), ("%s: %s" % (inner, error.message)) if inner else error.message


class Contract:
    """A loaded OpenAPI 3.0 document: operations by method and concrete path."""

    def __init__(self, source):
        """``source``: the path of the document, or the loaded document itself."""
        if isinstance(source, dict):
            self.document = source
        else:
            with open(source, encoding="utf-8") as handle:
                self.document = yaml.safe_load(handle)
        self.base_path = self.document["servers"][0]["url"].rstrip("/")
        self.root = {"components": to_json_schema(self.document.get("components", {}))}
        self.operations = []
        for template, item in self.document["paths"].items():
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template)) + "$"
            names = re.findall(r"\{([^}]+)\}", template)
            for method, spec in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    self.operations.append((re.compile(pattern), names, Operation(self, method.upper(), template, spec)))
        self._validators = {}

    def resolve(self, item):
        """A ``$ref`` object replaced by what it points to (one level)."""
        while isinstance(item, dict) and "$ref" in item:
            node = self.document
            for part in item["$ref"].lstrip("#/").split("/"):
                node = node[part]
            item = node
        return item

    def name_of(self, schema):
        return schema.get("$ref", "").rsplit("/", 1)[-1] or "the request schema"

    def schema_of(self, schema):
        return self.resolve(schema)

    def validator(self, schema):
        key = repr(schema)
        if key not in self._validators:
            root = dict(copy.deepcopy(self.root), **to_json_schema(schema))
            self._validators[key] = jsonschema.Draft202012Validator(root, format_checker=FORMATS)
        return self._validators[key]

    def match(self, method, path):
        """(operation, path parameters) for a request path below the base path; None if undeclared.

        A path that exists with other methods gives (None, "method") so that the caller can
        answer 405 rather than 404.
        """
        if not path.startswith(self.base_path + "/"):
            return None
        relative = path[len(self.base_path):]
        other_method = False
        for pattern, names, operation in self.operations:
            found = pattern.match(relative)
            if found:
                if operation.method == method:
                    return operation, dict(zip(names, found.groups()))
                other_method = True
        return (None, "method") if other_method else None

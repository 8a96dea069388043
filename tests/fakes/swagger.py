# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Swagger 2.0 document turned into the OpenAPI 3 shape that ``fakes.openapi`` checks.

The two describe the same things in different places, so the conversion is a move, not a
reading: ``definitions`` become ``components/schemas`` (and every ``$ref`` follows), a
``parameters: [{in: body, schema}]`` becomes ``requestBody``, a query or path parameter's
``type``/``enum``/``format`` go under ``schema``, parameters declared on the path go to each of
its operations, a response's ``schema`` goes under ``content: application/json``, ``basePath``
becomes the server URL, and response codes written as YAML integers become strings.

One reading is added: a body schema made of ``allOf`` parts is merged into one object schema,
so that the unknown-field check of ``fakes.openapi`` sees the properties of every part.
"""

from __future__ import annotations

import copy

import yaml

from fakes.openapi import Contract

PARAMETER_SCHEMA_KEYS = ("type", "enum", "format", "items", "minimum", "maximum", "default")


def _refs(node):
    """The node with Swagger 2.0 ``$ref``s pointed at their OpenAPI 3 places."""
    if isinstance(node, list):
        return [_refs(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _refs(value) for key, value in node.items()}
    ref = converted.get("$ref")
    if isinstance(ref, str):
        converted["$ref"] = (ref.replace("#/definitions/", "#/components/schemas/")
                             .replace("#/parameters/", "#/components/parameters/"))
    return converted


def _parameter(parameter):
    if "$ref" in parameter or parameter.get("in") == "body":
        return parameter
    converted = {key: value for key, value in parameter.items() if key not in PARAMETER_SCHEMA_KEYS}
    converted["schema"] = {key: parameter[key] for key in PARAMETER_SCHEMA_KEYS if key in parameter}
    return converted


def _merged(schema, definitions):
    """An ``allOf`` body schema as one object schema with every part's properties."""
    if "allOf" not in schema:
        return schema
    merged = {"type": "object", "properties": {}}
    for part in schema["allOf"]:
        if "$ref" in part:
            part = definitions[part["$ref"].rsplit("/", 1)[-1]]
        merged["properties"].update(part.get("properties", {}))
    return merged


def openapi3(document):
    """The OpenAPI 3 form of a Swagger 2.0 document (a new dict; the argument is not changed)."""
    document = _refs(copy.deepcopy(document))
    definitions = document.get("definitions", {})
    paths = {}
    for template, item in document.get("paths", {}).items():
        shared = item.get("parameters", [])
        converted_item = {}
        for method, operation in item.items():
            if method == "parameters" or not isinstance(operation, dict):
                continue
            operation = dict(operation)
            parameters = []
            for parameter in shared + operation.pop("parameters", []):
                if parameter.get("in") == "body":
                    operation["requestBody"] = {"required": bool(parameter.get("required")), "content": {
                        "application/json": {"schema": _merged(parameter["schema"], definitions)}}}
                else:
                    parameters.append(_parameter(parameter))
            operation["parameters"] = parameters
            responses = {}
            for status, response in (operation.get("responses") or {}).items():
                response = dict(response)
                if "schema" in response:
                    response["content"] = {"application/json": {"schema": response.pop("schema")}}
                responses[str(status)] = response
            operation["responses"] = responses
            converted_item[method] = operation
        paths[template] = converted_item
    return {"openapi": "3.0.3", "info": document.get("info", {}),
            "servers": [{"url": document.get("basePath", "/")}], "paths": paths,
            "components": {"schemas": definitions,
                           "parameters": {name: _parameter(p) for name, p in document.get("parameters", {}).items()}}}


def load(path, extra_paths=None):
    """A Contract for the Swagger 2.0 document at ``path``; the operations of ``extra_paths``
    (Swagger 2.0 path items) join the document's before the conversion, for what the server
    serves but the document omits."""
    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    for template, item in copy.deepcopy(extra_paths or {}).items():
        document.setdefault("paths", {}).setdefault(template, {}).update(item)
    return Contract(openapi3(document))

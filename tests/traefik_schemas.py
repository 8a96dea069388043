"""Traefik's published JSON schemas (tests/fixtures/traefik/, verbatim SchemaStore copies),
with the two options of Traefik 3.7 that they do not know yet.

Traefik 3.7.12 added the entry point option ``http.aliasHeadersStrategy`` (``keep``,
``delete``, ``reject``: traefik/traefik pull request 13720, the v3.7.12 migration notes)
and warns at startup while it is unset; SchemaStore's copy predates it. The static schema
gets that one property here, with Traefik's values.

Traefik 3.4 added the errors middleware's ``statusRewrites``, a map from a status or a
range (``"502-504"``) to the status answered instead (the errors middleware reference,
doc.traefik.io, "statusRewrites"); the dynamic schema gets that one property here.
Everything else is checked against the upstream files as they are.
"""

import json
import pathlib

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures" / "traefik"
DYNAMIC = json.loads((FIXTURES / "traefik-v3-file-provider.json").read_text())
STATIC = json.loads((FIXTURES / "traefik-v3.json").read_text())
STATIC["$defs"]["staticHTTPConfig"]["properties"].setdefault(
    "aliasHeadersStrategy", {"type": "string", "enum": ["keep", "delete", "reject"]})
DYNAMIC["definitions"]["errorsMiddleware"]["properties"].setdefault(
    "statusRewrites", {"type": "object", "additionalProperties": {"type": "integer"}})

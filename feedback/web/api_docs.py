"""The published API description: ``/schema`` documents ``/api`` and nothing else, truthfully.

Why a filter at serving time: Litestar builds one OpenAPI document from every route, pages and
forms included (the internal fuzz test walks all of it). Integrators get only ``/api``: no HTML
page, no dev tool, and for every operation the answers the error mapping in
``feedback.web.errors`` really gives, as ``application/problem+json``, with the security schemes
that really apply (the session cookie; a write also needs the CSRF header).

Why vendored Swagger UI: the documentation page must work on a network without internet access
and under the strict CSP (``feedback.web.security_headers``): assets from the ``swagger-ui-py``
package are served from ``/static/swagger-ui/`` and the start-up script is a static file, so the
page carries no inline code.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin
from litestar.serialization import encode_json

from feedback.web.api_auth import BEARER_SCHEME
from feedback.web.errors import TITLES_SV

API_PREFIX = "/api/"
SWAGGER_ASSETS = Path(str(resources.files("swagger_ui") / "static"))
PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = "#/components/schemas/ProblemDetails"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; title and detail in Swedish, for people.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "field": {"type": "string", "description": "The input field the error is about."},
        "errors": {
            "type": "array",
            "description": "One entry per refused input value.",
            "items": {"type": "object"},
        },
    },
}
SECURITY_SCHEMES: dict[str, Any] = {
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "uppf_session",
        "description": "The session cookie from signing in at /login (caseworker or manager).",
    },
    "csrfHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "x-csrftoken",
        "description": "A write with the session cookie also sends the value of the uppf_csrf cookie here.",
    },
}
# Either an API key (a case system) or a signed-in person's session (+ CSRF header on writes).
READ_SECURITY: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}, {"sessionCookie": []}]
WRITE_SECURITY: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}, {"sessionCookie": [], "csrfHeader": []}]
WRITE_METHODS = {"post", "put", "patch", "delete"}

# What every /api operation can answer, from feedback.web.errors and the app's limits.
ALWAYS = {
    "400": "Felaktiga uppgifter: en parameter eller kroppen kunde inte tas emot.",
    "401": "Inte inloggad (ingen eller utgången session) eller ogiltig/återkallad API-nyckel.",
    "403": "Fel roll, en enhet som inte är din, eller saknad CSRF-token vid skrivning.",
    "404": "Adressen eller uppgiften finns inte (eller är inte din).",
    "405": "Metoden stöds inte på den här adressen.",
    "429": "För många anrop med samma API-nyckel; försök igen senare (FEEDBACK_API_RATE_LIMIT).",
    "503": "Databasen är upptagen eller nere; svaret säger om något sparades.",
}
WRITES = {
    "409": "Uppgiften har redan ändrats eller finns redan.",
    "413": "Kroppen är större än FEEDBACK_MAX_REQUEST_BODY_BYTES.",
}


def _problem_response(status: str, description: str) -> dict[str, Any]:
    title = TITLES_SV.get(int(status), "Fel")
    return {
        "description": f"{title}. {description}",
        "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
    }


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def public_api_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The document for integrators: only ``/api`` paths, every error answer, real security."""
    out = copy.deepcopy(schema)
    paths = {p: ops for p, ops in out.get("paths", {}).items() if p.startswith(API_PREFIX) or p == "/api"}
    for operations in paths.values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            extra = {**ALWAYS, **(WRITES if method in WRITE_METHODS else {})}
            for status, description in extra.items():
                responses[status] = _problem_response(status, description)
            operation["security"] = WRITE_SECURITY if method in WRITE_METHODS else READ_SECURITY
    out["paths"] = paths
    components = out.setdefault("components", {})
    all_schemas = components.get("schemas", {})
    keep: set[str] = set()
    todo = _refs(paths)
    while todo:  # only the schemas the /api operations reach, transitively
        name = todo.pop()
        if name in keep or name not in all_schemas:
            continue
        keep.add(name)
        todo |= _refs(all_schemas[name])
    components["schemas"] = {name: all_schemas[name] for name in sorted(keep)}
    components["schemas"]["ProblemDetails"] = PROBLEM_SCHEMA
    components["securitySchemes"] = {**components.get("securitySchemes", {}), **SECURITY_SCHEMES}
    out["security"] = READ_SECURITY
    return out


class PublicJsonPlugin(JsonRenderPlugin):
    """``/schema/openapi.json``: the public document."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return encode_json(public_api_schema(openapi_schema))


class VendoredSwaggerPlugin(OpenAPIRenderPlugin):
    """``/schema`` and ``/schema/swagger``: Swagger UI from local files, no inline code."""

    def __init__(self) -> None:
        super().__init__(path=["/", "/swagger"], style="", favicon="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = json.dumps(str(openapi_schema.get("info", {}).get("title", "API")))[1:-1]
        document = self.get_openapi_json_route(request)
        html = f"""<!doctype html>
<html lang="sv">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css">
  <script src="/static/swagger-ui/swagger-ui-bundle.js" defer></script>
  <script src="/static/api-docs.js" defer></script>
</head>
<body>
  <main id="swagger-ui" data-openapi-url="{document}"></main>
</body>
</html>
"""
        return html.encode("utf-8")

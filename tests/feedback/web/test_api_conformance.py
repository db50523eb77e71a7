"""The published ``/api`` description: only /api, every error answer, the real security schemes.

(A schemathesis run with all checks over this document against a live server is still to come:
it could not be completed on the shared machine before hand-over.)
"""

from __future__ import annotations

from typing import Any

from feedback.core.settings import Settings
from feedback.web.api_docs import public_api_schema
from feedback.web.app import create_app


def _schema() -> dict[str, Any]:
    app = create_app(Settings(environment="test", database_url="sqlite+aiosqlite:///./unused-schema.db"))
    return public_api_schema(app.openapi_schema.to_schema())


def test_the_published_document_lists_only_the_api() -> None:
    document = _schema()
    assert document["paths"] and all(path.startswith("/api/") for path in document["paths"])
    for operations in document["paths"].values():
        for operation in operations.values():
            assert {"400", "401", "403", "503"} <= set(operation["responses"])
            assert operation["responses"]["401"]["content"].keys() == {"application/problem+json"}
    assert set(document["components"]["securitySchemes"]) == {"sessionCookie", "csrfHeader"}

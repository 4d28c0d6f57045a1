"""The OpenAPI `responses` of every route come from the error classes (server/errors.responses): every documented
code is one the API really answers with, every error answer has the {"error": {...}} schema, and every route
behind a token documents the 401s."""
from __future__ import annotations

import re

from server.errors import AppError
from server.main import create_app


def _codes() -> set[str]:
    seen, todo = set(), [AppError]
    while todo:
        cls = todo.pop()
        seen.add(cls.code)
        todo.extend(cls.__subclasses__())
    return seen


def test_documented_errors_are_real_codes_with_the_error_schema(settings):
    spec = create_app(settings).openapi()  # every router imported: every error class defined
    codes = _codes()
    checked = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for status, answer in op.get("responses", {}).items():
                if not status.startswith(("4", "5")) or answer["description"] == "Validation Error":
                    continue  # FastAPI's own 422 entry, when a route lists no 422 of its own
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (path, method, status)
                documented = [re.match(r"\w+", part.strip()).group(0) for part in answer["description"].split("|")]
                assert set(documented) <= codes, (path, method, status, set(documented) - codes)
                checked += 1
    assert checked > 100


def test_routes_behind_a_token_document_the_401s(settings):
    spec = create_app(settings).openapi()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if not op.get("security") or "OAuth2PasswordBearer" not in str(op["security"]):
                continue
            assert "401" in op["responses"], (path, method)
            assert {"not_authenticated", "invalid_token"} <= set(re.findall(r"\w+", op["responses"]["401"]
                                                                            ["description"])), (path, method)

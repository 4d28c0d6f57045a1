"""The OpenAPI document, shaped for generated clients (openapi-python-client, openapi-generator, orval...).

* Operation ids are `<first tag>-<route function name>` (`auth-login`, `users-create_user`, `attendance-kiosk_check`)
  instead of FastAPI's `kiosk_check_api_v1_kiosk_check_post`: a generator turns them into function names.
* Upload fields carry `format: binary` beside OpenAPI 3.1's `contentMediaType: application/octet-stream` (FastAPI
  writes only the latter, which generators such as openapi-python-client read as a plain string: the upload then
  arrives as text and the route answers 422).
* Enumerations are named schemas shared by every field and parameter that takes them (one `Role`, one `PunchKind`...)
  instead of an inline enum repeated per model. The names are the table ENUMS below: the Python side keeps its
  `Literal[...]` types, so validation does not change. A value set used inline twice without a name fails
  tests/system/test_openapi.py: add it here.
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

BINARY = "application/octet-stream"

# Named enumerations: the value set (in the order the code declares it) → the schema name.
ENUMS: dict[tuple[str, ...], str] = {
    ("admin", "manager", "employee"): "Role",
    ("in", "out"): "PunchKind",
    ("on_time", "late", "early_leave", "overtime", "off_shift"): "PunchStatus",
    ("present", "late", "absent", "incomplete", "off_day", "holiday", "on_leave", "half_day", "remote"): "DayStatus",
    ("present", "absent", "on_leave", "remote"): "MarkStatus",
    ("vacation", "sick", "personal", "unpaid", "other"): "LeaveKind",
    ("am", "pm"): "HalfDay",
    ("approved", "cancelled"): "LeaveStatus",
    ("missed_punch", "correction", "leave", "mark"): "RequestKind",
    ("pending", "approved", "rejected", "cancelled"): "RequestStatus",
    ("off", "challenge"): "LivenessMode",
    ("challenge", "offline"): "PunchLiveness",
    ("turn_left", "turn_right"): "LivenessAction",
    ("enrolled", "already_enrolled", "refused"): "BatchEnrollStatus",
}


def operation_id(route: APIRoute) -> str:
    """`<first tag>-<function name>`: FastAPI's generate_unique_id_function."""
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


def install(app: FastAPI) -> None:
    """app.openapi() (and so /openapi.json, /docs) serves the shaped document. The operation ids are given to
    FastAPI(generate_unique_id_function=operation_id) by create_app."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if not getattr(app.state, "openapi_shaped", False):
            app.openapi_schema = shape(build())
            app.state.openapi_shaped = True
        return app.openapi_schema

    app.openapi = openapi


def shape(spec: dict[str, Any]) -> dict[str, Any]:
    """Binary upload fields and named enums, in place; returns `spec`."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    used: set[str] = set()

    def visit(node: Any) -> Any:
        if isinstance(node, list):
            return [visit(x) for x in node]
        if not isinstance(node, dict):
            return node
        node = {k: visit(v) for k, v in node.items()}
        if node.get("type") == "string" and node.get("contentMediaType") == BINARY:
            node.setdefault("format", "binary")
        name = ENUMS.get(tuple(node.get("enum") or ()))
        if name and node.get("type", "string") == "string":
            used.add(name)
            rest = {k: v for k, v in node.items() if k not in ("type", "enum", "title")}
            return {"$ref": f"#/components/schemas/{name}", **rest}
        return node

    spec["paths"] = visit(spec.get("paths", {}))
    for key in list(schemas):
        schemas[key] = visit(schemas[key])
    for values, name in ENUMS.items():
        if name in used:
            schemas[name] = {"type": "string", "enum": list(values), "title": name}
    spec["components"]["schemas"] = dict(sorted(schemas.items()))
    return spec

"""The OpenAPI document is usable by generated clients (issue 16, item 6; server/openapi.py): clean operation ids,
named shared enums, uploads as binary, required fields required. tests/system/test_generated_client.py generates a
client from it and runs a whole day through that client."""
from __future__ import annotations

import re
from collections import Counter

import pytest



@pytest.fixture
def spec(client) -> dict:
    return client.get("/openapi.json").json()


def _operations(spec):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def _walk(node):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def test_operation_ids_are_tag_dash_name_and_unique(spec):
    ids = {(path, method): op["operationId"] for path, method, op in _operations(spec)}
    assert len(set(ids.values())) == len(ids)
    for (path, method), op_id in ids.items():
        assert re.fullmatch(r"[a-z]+-[a-z][a-z0-9_]*", op_id), (path, method, op_id)
        assert "api_v1" not in op_id
    assert ids[("/api/v1/auth/login", "post")] == "auth-login"
    assert ids[("/api/v1/kiosk/check", "post")] == "attendance-kiosk_check"
    assert ids[("/api/v1/users", "post")] == "users-create_user"


def test_one_role_enum_everywhere(spec):
    schemas = spec["components"]["schemas"]
    assert schemas["Role"] == {"type": "string", "enum": ["admin", "manager", "employee"], "title": "Role"}
    role = "#/components/schemas/Role"
    assert schemas["UserCreate"]["properties"]["role"]["$ref"] == role
    assert schemas["UserOut"]["properties"]["role"]["$ref"] == role
    assert {"$ref": role} in schemas["UserUpdate"]["properties"]["role"]["anyOf"]
    (param,) = [p for p in spec["paths"]["/api/v1/users"]["get"]["parameters"] if p["name"] == "role"]
    assert role in str(param["schema"])


def test_no_enum_is_written_inline_twice(spec):
    """A value set used in two places must be one named schema: add it to server/openapi.py ENUMS."""
    inline = Counter(tuple(n["enum"]) for n in _walk(spec["paths"]) if "enum" in n)
    for schema in spec["components"]["schemas"].values():
        inline.update(tuple(n["enum"]) for n in _walk(schema) if "enum" in n and n is not schema)
    assert [values for values, n in inline.items() if n > 1] == []


def test_uploads_are_binary_and_request_id_is_required(spec):
    schemas = spec["components"]["schemas"]
    uploads = [n for n in _walk(spec) if n.get("contentMediaType") == "application/octet-stream"]
    assert uploads and all(n.get("format") == "binary" for n in uploads)
    body = spec["paths"]["/api/v1/kiosk/check"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    kiosk = schemas[body["$ref"].rsplit("/", 1)[1]]
    assert "request_id" in kiosk["required"]
    assert kiosk["properties"]["request_id"]["type"] == "string"  # not optional, not nullable
    assert "anyOf" not in kiosk["properties"]["request_id"]
    images = schemas[spec["paths"]["/api/v1/users/{user_id}/faces"]["post"]["requestBody"]["content"]
                     ["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]]["properties"]["images"]
    assert images["items"]["format"] == "binary"


def test_the_kiosk_check_refuses_a_missing_request_id_naming_it(world, clock):
    r = world.client.post("/api/v1/kiosk/check", files={"image": ("f.jpg", b"user:1", "image/jpeg")},
                          headers={"X-Device-Key": world.device_key})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    assert [f["loc"] for f in r.json()["error"]["fields"]] == [["body", "request_id"]]

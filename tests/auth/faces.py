"""Real face photos for the auth/users tests: tests/fixtures/faces (copied from ../shared/faces with attribution),
falling back to ../shared/faces/small while the fixtures are being assembled."""
from __future__ import annotations

from pathlib import Path

import pytest

from server.faces.gallery import reset_gallery

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = (ROOT / "tests" / "fixtures" / "faces", ROOT.parent / "shared" / "faces" / "small")

# identities well apart from each other under the default model (cosine < 0.3 between them)
ANN = ("deepface_id01", ("img1.jpg", "img2.jpg", "img4.jpg"))
BOB = ("deepface_id03", ("img8.jpg", "img9.jpg", "img47.jpg"))
CAT = ("deepface_id05", ("img16.jpg", "img17.jpg", "img59.jpg"))


def photo(identity: str, name: str) -> bytes:
    for base in CANDIDATES:
        for path in (base / identity / name, base / "deepface" / identity / name, base / name):
            if path.is_file():
                return path.read_bytes()
    pytest.skip(f"face photo {identity}/{name} not available")


def photos(person, *indexes) -> list[bytes]:
    identity, names = person
    return [photo(identity, names[i]) for i in indexes]


def no_face() -> bytes:
    return photo("noface", "skimage_brick.png")


def two_faces() -> bytes:
    return photo("multi", "couple.jpg")


@pytest.fixture(autouse=True)
def fresh_gallery():
    """The gallery is a process-wide singleton: start each test from this test's database."""
    reset_gallery()
    yield
    reset_gallery()


def enroll(client, headers, user_id: int, images: list[bytes], *, consent: bool = True, expect: int = 201, **form):
    files = [("images", (f"p{i}.jpg", data, "image/jpeg")) for i, data in enumerate(images)]
    data = {"consent": "true" if consent else "false", **{k: str(v).lower() for k, v in form.items()}}
    r = client.post(f"/api/v1/users/{user_id}/faces", files=files, data=data, headers=headers)
    assert r.status_code == expect, r.text
    return r.json()


def face_login(client, image: bytes | list[bytes], employee_code: str | None = None):
    frames = image if isinstance(image, list) else [image]
    if len(frames) == 1:
        files = [("image", ("probe.jpg", frames[0], "image/jpeg"))]
    else:
        files = [("images", (f"f{i}.jpg", f, "image/jpeg")) for i, f in enumerate(frames)]
    data = {"employee_code": employee_code} if employee_code else {}
    return client.post("/api/v1/auth/face-login", files=files, data=data)

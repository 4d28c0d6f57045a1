"""Real face photos for the auth/users tests, from tests/fixtures/faces (see ATTRIBUTION.md there)."""
from __future__ import annotations

from pathlib import Path


FACES = Path(__file__).resolve().parents[1] / "fixtures" / "faces"

# Three people, far apart under the default model (cosine < 0.3 between any two of their photos).
ANN = ("deepface_id05", ("img16.jpg", "img17.jpg", "img61.jpg"))
BOB = ("deepface_id03", ("img50.jpg", "img51.jpg"))
CAT = ("deepface_id01", ("img5.jpg", "img11.jpg"))


def photo(identity: str, name: str) -> bytes:
    return (FACES / identity / name).read_bytes()


def photos(person, *indexes) -> list[bytes]:
    identity, names = person
    return [photo(identity, names[i]) for i in indexes]


def no_face() -> bytes:
    return photo("noface", "skimage_brick.png")


def two_faces() -> bytes:
    return photo("multi", "selfie-many-people.jpg")


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

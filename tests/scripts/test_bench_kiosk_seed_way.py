"""scripts/bench_kiosk.py's seed way: DeepFace.find over a folder of real photos (tests/fixtures/faces), offline, with
synthetic gallery entries added to DeepFace's own datastore. The comparison is only worth something if DeepFace
really searches those entries and does not rebuild or drop them on the next call: both are checked here."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.photos import FACES

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import bench_kiosk  # noqa: E402

PEOPLE = [("deepface_id01", "img5.jpg", "img11.jpg"), ("deepface_id03", "img50.jpg", "img51.jpg"),
          ("deepface_id05", "img16.jpg", "img17.jpg"), ("deepface_id10", "img44.jpg", "img46.jpg")]


@pytest.fixture
def seed(models_dir, monkeypatch):
    monkeypatch.setenv("DEEPFACE_HOME", "unset-by-the-test")  # SeedWay points these at its own copies: restored after
    monkeypatch.setenv("DEEPFACE_BACKEND_ENGINE", "onnx")
    people = [bench_kiosk.Person(ident, FACES / ident / enroll, [FACES / ident / probe], user_id=i + 1)
              for i, (ident, enroll, probe) in enumerate(PEOPLE)]
    way = bench_kiosk.SeedWay(models_dir, people, people[0].probes[0], quiet=True)
    yield way, people
    way.close()
    assert not way.root.exists()


def _probes(people):
    return [(p.user_id, p.probes[0].name, []) for p in people]


def test_seed_way_finds_the_real_people_and_keeps_the_synthetic_entries(seed):
    way, people = seed
    real = len(way.real_reps)
    assert real == len(people)  # one face per fixture photo, embedded by DeepFace's own first call
    rng = np.random.default_rng(7)
    vecs = rng.standard_normal((300, 128)).astype(np.float32)
    way.set_synthetic(vecs / np.linalg.norm(vecs, axis=1, keepdims=True))
    out = way.run(_probes(people))
    assert out["datastore_entries"] == real + 300 and out["datastore_unchanged_by_find"] is True
    assert out["requests"] == len(people) and out["tensorflow_imported"] is False
    assert out["outcomes"].get("recognized_right", 0) >= 3  # random vectors do not steal real matches
    assert out["latency_ms"]["median"] > 0
    assert len(list((way.folder / "synthetic").iterdir())) == 300

    way.set_synthetic(vecs[:10])  # a smaller gallery: the extra files go too, or find() would re-embed them
    assert len(list((way.folder / "synthetic").iterdir())) == 10
    assert way.run(_probes(people[:1]))["datastore_unchanged_by_find"] is True


def test_seed_way_searches_the_synthetic_entries(seed):
    """A synthetic entry holding exactly the probe's own DeepFace embedding must win over the enrolled photo."""
    way, people = seed
    from deepface import DeepFace

    twin = DeepFace.represent(str(people[0].probes[0]), model_name="SFace", detector_backend="yunet",
                              enforce_detection=False)[0]["embedding"]
    noise = np.random.default_rng(3).standard_normal((50, 128))
    way.set_synthetic([*noise, np.asarray(twin)])
    out = way.run(_probes(people[:1]))
    assert out["outcomes"] == {"recognized_wrong": 1}  # the twin (not a real person's file) is the closest
    assert out["datastore_unchanged_by_find"] is True

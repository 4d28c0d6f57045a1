"""scripts/enroll_folder.py: folder per person, people.csv mapping, failure summary by reason, resume."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[2]
FACES = ROOT / "tests" / "fixtures" / "faces"
sys.path.insert(0, str(ROOT / "scripts"))

import enroll_folder  # noqa: E402


def _photos(identity: str) -> list[Path]:
    photos = sorted((FACES / identity).glob("*.jpg"))
    if len(photos) < 2:
        pytest.skip(f"needs two photos of {identity} in tests/fixtures/faces")
    return photos


@pytest.fixture
def env(db_url, settings_factory, monkeypatch, tmp_path):
    import server.models  # noqa: F401
    from seeds import run_all
    from server.database import Database

    settings = settings_factory(db_url)
    for k, v in {"DATABASE_URL": db_url, "DATA_DIR": str(settings.data_dir), "MODELS_DIR": str(settings.models_dir),
                 "ADMIN_PASSWORD": "admin-password-123", "JWT_SECRET": "x" * 40, "ENVIRONMENT": "test"}.items():
        monkeypatch.setenv(k, v)
    db = Database(db_url)
    with db.session() as s:
        run_all(s, settings)
    yield db
    db.dispose()


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "people"
    for code, identity in (("E001", "deepface_id01"), ("E002", "deepface_id05")):
        (root / code).mkdir(parents=True)
        for p in _photos(identity):
            shutil.copy(p, root / code / p.name)
    shutil.copy(FACES / "noface" / "skimage_brick.png", root / "E002" / "zz_wall.png")  # refused: no face
    (root / "E003").mkdir()  # nobody's photos
    (root / "bad code!").mkdir()
    shutil.copy(_photos("deepface_id10")[0], root / "bad code!" / "x.jpg")
    return root


def _count(db, model) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def _run(root: Path, capsys, *extra) -> dict:
    assert enroll_folder.main([str(root), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_enrolls_a_folder_per_person_and_summarises_failures(env, tmp_path, capsys):
    from server.faces.models import FaceTemplate
    from server.users.models import User

    root = _folder(tmp_path)
    (root / "people.csv").write_text("folder,employee_code,full_name,email\nE001,E001,Ada Lovelace,ada@example.com\n"
                                     "E002,E002,Grace Hopper,\nE003,E003,Nobody Here,\n"
                                     "bad code!,bad code!,Bad Code,\n")
    out = _run(root, capsys)
    n1, n2 = len(_photos("deepface_id01")), len(_photos("deepface_id05"))
    assert out["photos"]["enrolled"] == n1 + n2
    assert out["people"]["created"] == 3
    reasons = out["failures_by_reason"]
    assert reasons.get("no_face") == 1 and reasons.get("no_photos") == 1 and reasons.get("invalid_person_data") == 1
    assert _count(env, FaceTemplate) == n1 + n2
    with env.session() as s:
        ada = s.scalar(select(User).where(User.employee_code == "E001"))
        assert ada.full_name == "Ada Lovelace" and ada.email == "ada@example.com" and ada.consent_at is not None

    again = _run(root, capsys)  # resume: nothing left to do
    assert again["photos"].get("enrolled", 0) == 0
    assert again["photos"]["skipped"] == n1 + n2 + 1
    assert _count(env, FaceTemplate) == n1 + n2

    (root / "people.csv").write_text("folder,employee_code,full_name\nE001,E001,Ada King\n")  # update
    third = _run(root, capsys)
    assert third["people"] == {"updated": 1}
    with env.session() as s:
        assert s.scalar(select(User.full_name).where(User.employee_code == "E001")) == "Ada King"


def test_resume_after_an_interruption_enrolls_nothing_twice(env, tmp_path, capsys, monkeypatch):
    from server.faces.models import FaceTemplate
    from server.faces import batch

    root = _folder(tmp_path)
    shutil.rmtree(root / "bad code!")
    real_batch, calls = batch.enroll_batch, []

    def interrupted(*args, **kw):  # the second batch commits, then the run is killed before the state is written
        out = real_batch(*args, **kw)
        calls.append(1)
        if len(calls) == 2:
            args[0].commit()
            raise KeyboardInterrupt
        return out

    monkeypatch.setattr(batch, "enroll_batch", interrupted)
    assert enroll_folder.main([str(root), "--json", "--batch-people", "1"]) == 130
    capsys.readouterr()
    monkeypatch.setattr(batch, "enroll_batch", real_batch)
    out = _run(root, capsys)
    n = len(_photos("deepface_id01")) + len(_photos("deepface_id05"))
    assert _count(env, FaceTemplate) == n
    assert out["photos"]["skipped"] >= len(_photos("deepface_id01"))


def test_reports_people_per_minute_over_batches(env, tmp_path, capsys):
    """Three people in batches of two: two batches, every photo analysed once, the rate in the summary."""
    from server.faces.models import FaceTemplate

    root = tmp_path / "people"
    for code, identity in (("E1", "deepface_id01"), ("E2", "deepface_id05"), ("E3", "deepface_id10")):
        (root / code).mkdir(parents=True)
        for p in _photos(identity):
            shutil.copy(p, root / code / p.name)
    out = _run(root, capsys, "--batch-people", "2", "--threads", "2")
    n = sum(len(_photos(i)) for i in ("deepface_id01", "deepface_id05", "deepface_id10"))
    rate = out["rate"]
    assert rate["people_enrolled"] == 3 and rate["batches"] == 2 and rate["photos_analysed"] == n
    assert rate["people_per_minute"] > 0 and rate["threads"] == 2
    assert _count(env, FaceTemplate) == n


def test_duplicate_face_of_another_person_is_refused(env, tmp_path, capsys):
    root = tmp_path / "dups"
    photos = _photos("deepface_id01")
    for code, photo in (("D1", photos[0]), ("D2", photos[1])):
        (root / code).mkdir(parents=True)
        shutil.copy(photo, root / code / photo.name)
    out = _run(root, capsys)
    assert out["photos"]["enrolled"] == 1
    assert out["failures_by_reason"] == {"duplicate_face": 1}
    [failure] = out["failures_by_person"]["D2"]
    assert failure["code"] == "duplicate_face" and failure["photo"] == photos[1].name
    assert failure["employee_code"] == "D1" and failure["user_id"] and failure["score"] > 0
    assert "already enrolled" in failure["reason"]
    assert "D1" not in out["failures_by_person"]


def test_one_duplicate_photo_does_not_refuse_the_rest_of_the_batch(env, tmp_path, capsys):
    """The service names the other person but not the photo: the batch is split and only the duplicate fails."""
    from server.faces.models import FaceTemplate
    from server.users.models import User

    root = tmp_path / "dups"
    ada, grace = _photos("deepface_id01"), _photos("deepface_id05")
    (root / "D1").mkdir(parents=True)
    shutil.copy(ada[0], root / "D1" / ada[0].name)
    (root / "D2").mkdir()
    shutil.copy(ada[1], root / "D2" / "a_same_as_D1.jpg")  # someone else's face among D2's own photos
    for p in grace:
        shutil.copy(p, root / "D2" / p.name)
    out = _run(root, capsys)
    assert out["photos"] == {"enrolled": 1 + len(grace), "failed": 1}
    assert out["failures_by_person"] == {"D2": [
        {**out["failures_by_person"]["D2"][0], "code": "duplicate_face", "photo": "a_same_as_D1.jpg",
         "employee_code": "D1"}]}
    with env.session() as s:
        d2 = s.scalar(select(User).where(User.employee_code == "D2"))
        assert s.scalar(select(func.count()).select_from(FaceTemplate)
                        .where(FaceTemplate.user_id == d2.id)) == len(grace)
    again = _run(root, capsys)  # the refusal is remembered: nothing retried, nothing enrolled twice
    assert again["photos"] == {"skipped": 2 + len(grace)} and again["failures_by_reason"] == {}


def test_folders_missing_from_people_csv_are_reported(env, tmp_path, capsys):
    from server.users.models import User

    root = tmp_path / "people"
    for code, identity in (("E001", "deepface_id01"), ("E002", "deepface_id05")):
        (root / code).mkdir(parents=True)
        shutil.copy(_photos(identity)[0], root / code / "1.jpg")
    (root / "people.csv").write_text("folder,employee_code,full_name\nE001,E001,Ada Lovelace\n"
                                     "E404,E404,Nobody\n")
    out = _run(root, capsys)
    assert out["photos"] == {"enrolled": 1}
    assert out["failures_by_reason"] == {"folder_not_in_people_csv": 1, "folder_missing": 1}
    assert out["failures_by_person"]["E002"][0]["code"] == "folder_not_in_people_csv"
    assert "people CSV" in out["failures_by_person"]["E002"][0]["reason"]
    assert out["failures_by_person"]["E404"][0]["code"] == "folder_missing"
    with env.session() as s:
        assert s.scalar(select(User).where(User.employee_code == "E002")) is None

    assert enroll_folder.main([str(root)]) == 0  # the plain summary names them too
    text = capsys.readouterr().out
    assert "folder_not_in_people_csv" in text and "E002/" in text

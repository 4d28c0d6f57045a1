"""Enrollment (consent, all or nothing, duplicates) and erasure (DB, disk, gallery) with real photos and the real
face engine."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.faces.models import FaceAttempt, FaceTemplate
from tests.fixtures.people import ANN, BOB, CAT, enroll, face_login, no_face, photos, two_faces  # noqa: F401
from tests.fixtures.api import admin_headers, create_user, error_code, user_headers


@pytest.fixture
def admin(client):
    return admin_headers(client)


def _templates(app, user_id=None) -> int:
    with app.state.db.session() as s:
        q = select(func.count()).select_from(FaceTemplate)
        if user_id is not None:
            q = q.where(FaceTemplate.user_id == user_id)
        return s.scalar(q)


def test_enroll_stores_templates_and_consent(client, app, admin, settings):
    ann = create_user(client, admin, code="ANN")
    out = enroll(client, admin, ann["id"], photos(ANN, 0, 1))
    assert out["user_id"] == ann["id"]
    assert len(out["templates"]) == 2
    assert {t["model_id"] for t in out["templates"]} == {app.state.faces.engine.model_id}
    assert all(t["quality"]["score"] > 0 for t in out["templates"])
    assert out["consent_version"] == settings.consent_text_version
    user = client.get(f"/api/v1/users/{ann['id']}", headers=admin).json()
    assert user["consent_at"] is not None and user["consent_version"] == settings.consent_text_version
    assert len(client.get(f"/api/v1/users/{ann['id']}/faces", headers=admin).json()) == 2
    assert _templates(app, ann["id"]) == 2
    # usable at once for face login (1:N and 1:1)
    r = face_login(client, photos(ANN, 2)[0])
    assert r.status_code == 200, r.text
    assert r.json()["user"]["id"] == ann["id"]


def test_consent_is_required(client, app, admin):
    ann = create_user(client, admin, code="ANN")
    r = client.post(f"/api/v1/users/{ann['id']}/faces",
                    files=[("images", ("a.jpg", photos(ANN, 0)[0], "image/jpeg"))], headers=admin)
    assert r.status_code == 422
    assert error_code(r) == "consent_required"
    enroll(client, admin, ann["id"], photos(ANN, 0), consent=False, expect=422)
    assert _templates(app) == 0


def test_one_bad_photo_rejects_the_whole_request(client, app, admin):
    ann = create_user(client, admin, code="ANN")
    r = enroll(client, admin, ann["id"], photos(ANN, 0) + [no_face()] + photos(ANN, 1) + [two_faces()],
               expect=422)
    err = r["error"]
    assert err["code"] == "no_face"
    assert err["image_index"] == 1
    assert [(f["index"], f["code"]) for f in err["failures"]] == [(1, "no_face"), (3, "multiple_faces")]
    assert _templates(app) == 0
    user = client.get(f"/api/v1/users/{ann['id']}", headers=admin).json()
    assert user["consent_at"] is None
    # the rejection is a decision record
    with app.state.db.session() as s:
        assert s.scalar(select(FaceAttempt.decision).where(FaceAttempt.purpose == "enroll")) == "rejected:no_face"


def test_not_an_image_is_422_with_index(client, admin):
    ann = create_user(client, admin, code="ANN")
    r = enroll(client, admin, ann["id"], photos(ANN, 0) + [b"definitely not an image"], expect=422)
    assert r["error"]["code"] == "invalid_image"
    assert r["error"]["image_index"] == 1


def test_one_to_five_photos(client, admin):
    ann = create_user(client, admin, code="ANN")
    r = enroll(client, admin, ann["id"], photos(ANN, 0) * 6, expect=422)
    assert r["error"]["code"] == "validation_error"
    r = client.post(f"/api/v1/users/{ann['id']}/faces", data={"consent": "true"}, headers=admin)
    assert r.status_code == 422


def test_duplicate_face_is_409_naming_the_other_user(client, app, admin):
    ann = create_user(client, admin, code="ANN")
    impostor = create_user(client, admin, code="IMP")
    enroll(client, admin, ann["id"], photos(ANN, 0, 1))
    r = enroll(client, admin, impostor["id"], photos(ANN, 2), expect=409)
    assert r["error"]["code"] == "duplicate_face"
    assert r["error"]["user_id"] == ann["id"]
    assert _templates(app, impostor["id"]) == 0
    # the same person enrolling more photos is not a duplicate
    enroll(client, admin, ann["id"], photos(ANN, 2))
    # an admin may override
    out = enroll(client, admin, impostor["id"], photos(ANN, 2), allow_duplicate=True)
    assert len(out["templates"]) == 1


def test_only_admins_may_override_a_duplicate(client, admin):
    _, mh = user_headers(client, admin, code="M1", role="manager", site="north")
    emp = create_user(client, admin, code="E1", site="north")
    enroll(client, mh, emp["id"], photos(BOB, 0), allow_duplicate=True, expect=403)


def test_manager_enrolls_own_site_only_and_employee_not_at_all(client, admin):
    _, mh = user_headers(client, admin, code="M1", role="manager", site="north")
    me, eh = user_headers(client, admin, code="E1", site="north")
    south = create_user(client, admin, code="S1", site="south")
    enroll(client, mh, me["id"], photos(BOB, 0))
    r = enroll(client, mh, south["id"], photos(CAT, 0), expect=403)
    assert r["error"]["code"] == "forbidden"
    enroll(client, eh, me["id"], photos(BOB, 1), expect=403)
    assert client.get(f"/api/v1/users/{south['id']}/faces", headers=mh).status_code == 403
    assert client.get(f"/api/v1/users/{me['id']}/faces", headers=eh).status_code == 200


def test_erase_leaves_nothing_and_the_gallery_forgets_at_once(client, app, admin, settings_factory, db_url, tmp_path):
    ann = create_user(client, admin, code="ANN")
    bob = create_user(client, admin, code="BOB")
    enroll(client, admin, ann["id"], photos(ANN, 0, 1))
    enroll(client, admin, bob["id"], photos(BOB, 0))
    probe = photos(ANN, 2)[0]
    assert face_login(client, probe).status_code == 200
    assert client.delete(f"/api/v1/users/{ann['id']}/faces", headers=admin).status_code == 204
    assert _templates(app, ann["id"]) == 0
    assert _templates(app, bob["id"]) == 1
    r = face_login(client, probe)  # the very next request, same worker
    assert r.status_code == 401
    assert error_code(r) == "face_not_recognized"
    assert face_login(client, probe, employee_code="ANN").status_code == 401
    assert face_login(client, photos(BOB, 1)[0]).status_code == 200
    user = client.get(f"/api/v1/users/{ann['id']}", headers=admin).json()
    assert user["biometrics_erased_at"] is not None
    audit = client.get("/api/v1/audit", params={"action": "faces.erase"}, headers=admin).json()["items"]
    assert audit[0]["entity_id"] == str(ann["id"]) and audit[0]["before"] == {"templates": 2}


def test_erase_removes_kept_photos_from_disk(settings_factory, db_url):
    from fastapi.testclient import TestClient

    from server.main import create_app

    settings = settings_factory(db_url, keep_enrollment_images=True)
    with TestClient(create_app(settings)) as c:
        admin = admin_headers(c)
        ann = create_user(c, admin, code="ANN")
        enroll(c, admin, ann["id"], photos(ANN, 0, 1))
        folder = Path(settings.images_dir)
        kept = [p for p in folder.rglob("*") if p.is_file()]
        assert len(kept) == 2
        assert c.delete(f"/api/v1/users/{ann['id']}/faces", headers=admin).status_code == 204
        assert [p for p in folder.rglob("*") if p.is_file()] == []
        assert not (folder / "enrollment" / str(ann["id"])).exists()


def test_employee_can_erase_its_own_face_but_not_another(client, app, admin):
    me, eh = user_headers(client, admin, code="E1")
    other = create_user(client, admin, code="E2")
    enroll(client, admin, me["id"], photos(ANN, 0))
    enroll(client, admin, other["id"], photos(BOB, 0))
    assert client.delete(f"/api/v1/users/{other['id']}/faces", headers=eh).status_code == 403
    assert client.delete(f"/api/v1/users/{me['id']}/faces", headers=eh).status_code == 204
    assert _templates(app, me["id"]) == 0 and _templates(app, other["id"]) == 1


def test_delete_user_deactivates_revokes_and_erases_but_keeps_attendance(client, app, admin):
    from datetime import date

    from server.attendance.models import Punch
    from server.clock import now

    ann, ah = user_headers(client, admin, code="ANN")
    refresh = client.post("/api/v1/auth/login", data={"username": "ANN", "password": "employee-password-1"}).json()
    enroll(client, admin, ann["id"], photos(ANN, 0, 1))
    with app.state.db.session() as s:
        s.add(Punch(user_id=ann["id"], kind="in", at=now(), work_date=date.today(), status="ok", source="kiosk"))
    assert client.delete(f"/api/v1/users/{ann['id']}", headers=admin).status_code == 204
    user = client.get(f"/api/v1/users/{ann['id']}", headers=admin).json()
    assert user["is_active"] is False and user["deactivated_at"] and user["biometrics_erased_at"]
    assert _templates(app, ann["id"]) == 0
    assert client.get("/api/v1/users/me", headers=ah).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": refresh["refresh_token"]}).status_code == 401
    assert face_login(client, photos(ANN, 2)[0]).status_code == 401
    with app.state.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Punch).where(Punch.user_id == ann["id"])) == 1
    actions = [e["action"] for e in client.get("/api/v1/audit", params={"entity_id": ann["id"]},
                                               headers=admin).json()["items"]]
    assert "users.delete" in actions and "faces.erase" in actions


def test_the_consent_text_is_served_for_the_version_enrollment_records(client, app, admin, settings):
    r = client.get("/api/v1/users/consent-text?lang=es", headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == settings.consent_text_version and body["lang"] == "es"
    assert body["text"].startswith("Consentimiento") and "plantilla biométrica" in body["text"]
    en = client.get("/api/v1/users/consent-text", headers=admin).json()
    assert en["lang"] == "en" and en["text"].startswith("Consent to the use of my face")
    assert client.get("/api/v1/users/consent-text?lang=fr", headers=admin).json()["lang"] == "en"  # none in French
    assert client.get("/api/v1/users/consent-text?lang=../x", headers=admin).status_code == 422
    assert client.get("/api/v1/users/consent-text").status_code == 401

    # the version shown must be the current one; the language shown is kept in the audit entry
    ann = create_user(client, admin, code="ANN")
    r = enroll(client, admin, ann["id"], photos(ANN, 0), consent_text_version="2019-01", expect=409)
    assert r["error"]["code"] == "consent_text_changed" and r["error"]["current"] == settings.consent_text_version
    assert _templates(app) == 0
    enroll(client, admin, ann["id"], photos(ANN, 0), consent_text_version=body["version"], consent_lang="es")
    from server.audit.models import AuditEntry

    with app.state.db.session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "faces.enroll"))
        assert entry.after["consent_version"] == settings.consent_text_version and entry.after["consent_lang"] == "es"


def test_a_version_without_a_text_is_404(settings_factory, db_url, tmp_path):
    from fastapi.testclient import TestClient

    from server.main import create_app

    own = tmp_path / "texts"
    own.mkdir()
    (own / "2027-02.en.txt").write_text("Our own consent text.\n", encoding="utf-8")
    for version, expect in (("2027-02", 200), ("2027-03", 404)):
        app = create_app(settings_factory(db_url, consent_text_version=version, consent_text_dir=own))
        with TestClient(app) as c:
            r = c.get("/api/v1/users/consent-text?lang=es", headers=admin_headers(c))
            assert r.status_code == expect, r.text
            if expect == 200:
                assert r.json() == {"version": "2027-02", "lang": "en", "text": "Our own consent text."}
            else:
                assert error_code(r) == "consent_text_missing"

"""The gallery holds active users only: a deactivated user is neither recognized nor a runner-up that makes an active
user's match ambiguous; deactivation and reactivation reach this process at once and other workers by the version."""
from __future__ import annotations

from sqlalchemy import select

from server.faces import service
from server.faces.gallery import Gallery
from server.faces.sync import GallerySync, read_version
from server.users.models import User
from tests.fixtures.api import admin_headers, create_user
from tests.fixtures.photos import PEOPLE, make_users, photo, sample

SFACE = "sface-2021dec"


def _set_active(db, user_id: int, active: bool) -> None:
    with db.session() as s:
        s.get(User, user_id).is_active = active


def _identify(db, rel, svc):
    with db.session() as s:
        return service.match_one_to_many(svc, [sample(rel, svc, "kiosk")], session=s)


def test_a_deactivated_twin_no_longer_makes_the_match_ambiguous(db, svc):
    """Ann enrolled twice (her old record, now deactivated, and her new one): only the active one counts."""
    with db.session() as s:
        old, new, bob = make_users(s, 3)
        service.store_templates(s, old, [sample(PEOPLE["id05"][0], svc)], settings=svc.settings)
        service.store_templates(s, new, [sample(PEOPLE["id05"][1], svc)], settings=svc.settings)
        service.store_templates(s, bob, [sample(PEOPLE["id03"][0], svc)], settings=svc.settings)
    probe = PEOPLE["id05"][2]
    d = _identify(db, probe, svc)
    assert not d.recognized and d.reason == "ambiguous"  # both of Ann's records are close: the margin rule refuses

    version = _version(db)
    _set_active(db, old, False)
    assert _version(db) == version + 1  # other workers notice through the gallery version
    assert svc.gallery.users(SFACE) == 2  # this process: at once, no polling
    d = _identify(db, probe, svc)
    assert d.recognized and d.user_id == new
    assert old not in {c.user_id for c in d.candidates}

    _set_active(db, old, True)  # reactivated: back in the gallery, with the same templates
    assert svc.gallery.users(SFACE) == 3 and svc.gallery.size(SFACE) == 3
    assert _identify(db, probe, svc).reason == "ambiguous"


def _version(db) -> int:
    with db.session() as s:
        return read_version(s)


def test_deactivated_users_are_not_loaded_and_other_workers_follow(db, svc):
    with db.session() as s:
        a, b = make_users(s, 2)
        service.store_templates(s, a, [sample(PEOPLE["id01"][0], svc)], settings=svc.settings)
        service.store_templates(s, b, [sample(PEOPLE["id10"][0], svc)], settings=svc.settings)
    other_worker = Gallery()
    with db.session() as s:
        assert other_worker.load(s, SFACE) == 2
    _set_active(db, b, False)
    poller = GallerySync(db, other_worker, SFACE, 128)
    assert poller.poll_once() == "applied"  # the version moved: the change log says who
    assert poller.poll_once() == "current"
    with db.session() as s:
        assert Gallery().load(s, SFACE) == 1  # a fresh start loads active users only
    assert other_worker.users(SFACE) == 1
    assert other_worker.search(sample(PEOPLE["id10"][1], svc).embedding, SFACE)[0].user_id == a


def test_setting_is_active_to_its_current_value_or_other_fields_does_not_bump(db, svc):
    with db.session() as s:
        (a,) = make_users(s, 1)
    version = _version(db)
    with db.session() as s:
        user = s.get(User, a)
        user.is_active = True
        user.full_name = "Renamed"
    assert _version(db) == version


def test_a_rolled_back_deactivation_changes_nothing(db, svc):
    with db.session() as s:
        (a,) = make_users(s, 1)
        service.store_templates(s, a, [sample(PEOPLE["id01"][0], svc)], settings=svc.settings)
    s = db.sessionmaker()
    try:
        s.get(User, a).is_active = False
        s.flush()
        s.rollback()
    finally:
        s.close()
    assert svc.gallery.users(SFACE) == 1
    with db.session() as s:
        assert s.scalar(select(User.is_active).where(User.id == a)) is True


def test_patch_is_active_over_http_updates_identify_at_once(client):
    admin = admin_headers(client)
    ann = create_user(client, admin, code="ANN")
    files = [("images", (f"{i}.jpg", photo(r), "image/jpeg")) for i, r in enumerate(PEOPLE["id05"][:2])]
    assert client.post(f"/api/v1/users/{ann['id']}/faces", files=files, data={"consent": "true"},
                       headers=admin).status_code == 201

    def identify():
        r = client.post("/api/v1/faces/identify", headers=admin,
                        files={"image": ("p.jpg", photo(PEOPLE["id05"][2]), "image/jpeg")})
        assert r.status_code == 200, r.text
        return r.json()

    assert identify()["user_id"] == ann["id"]
    assert client.patch(f"/api/v1/users/{ann['id']}", json={"is_active": False}, headers=admin).status_code == 200
    got = identify()
    assert got["decision"] == "unknown" and got["candidates"] == []  # not even listed as a candidate
    assert client.patch(f"/api/v1/users/{ann['id']}", json={"is_active": True}, headers=admin).status_code == 200
    assert identify()["user_id"] == ann["id"]


def test_the_version_row_is_created_once_even_when_workers_race(db, monkeypatch):
    from server.faces.sync import ensure_state_row
    from server.faces.models import GalleryState

    a, b = db.sessionmaker(), db.sessionmaker()
    try:
        assert a.get(GalleryState, 1) is None and b.get(GalleryState, 1) is None  # both saw no row
        ensure_state_row(a)
        a.commit()
        monkeypatch.setattr(b, "get", lambda *args, **kw: None)  # b looked before a committed: it inserts too
        ensure_state_row(b)  # loses the insert race quietly (unique id), the startup step does not fail
        b.commit()
    finally:
        a.close()
        b.close()
    with db.session() as s:
        assert s.query(GalleryState).count() == 1 and read_version(s) == 0

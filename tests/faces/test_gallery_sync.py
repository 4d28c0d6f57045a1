"""Two apps (two replicas' engines and galleries) on ONE database, SQLite and PostgreSQL: what one changes reaches the
other's gallery through the change log within the poll interval, applied by the other's sync thread — no request to
it triggers anything; a replica the pruned log no longer covers reloads in full, in the background."""
from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, event, func, select

from server.faces.models import FaceTemplate, GalleryChange
from tests.fixtures.people import ANN, BOB, CAT, enroll, photos
from tests.fixtures.api import admin_headers, create_user

POLL = 0.1
SFACE = "sface-2021dec"


@pytest.fixture
def replicas(settings_factory, db_url):
    from server.main import create_app

    a = create_app(settings_factory(db_url, gallery_poll_seconds=POLL))
    b = create_app(settings_factory(db_url, gallery_poll_seconds=POLL))
    with TestClient(a) as ca, TestClient(b) as cb:
        yield ca, cb


def _templates(client) -> set[int]:
    _, _, template_ids = client.app.state.faces.gallery.arrays(SFACE)
    return set(template_ids.tolist())


def _wait(predicate, timeout: float = 5.0) -> float:
    """Seconds until predicate() held (checked every 10 ms, no request made); fails after timeout."""
    t0 = time.perf_counter()
    while not predicate():
        assert time.perf_counter() - t0 < timeout, "the other replica's gallery did not follow"
        time.sleep(0.01)
    return time.perf_counter() - t0


def _identify(client, headers, image: bytes) -> dict:
    r = client.post("/api/v1/faces/identify", headers=headers, files={"image": ("p.jpg", image, "image/jpeg")})
    assert r.status_code == 200, r.text
    return r.json()


def _one_person_seen_by_both(a, b, person, code: str):
    """A user enrolled on A (one photo) and in B's gallery by B's poller, which is then stopped: B's steps are taken
    by hand from here. Returns (A's admin headers, B's, the user, B's FaceRuntime)."""
    admin_a, admin_b = admin_headers(a), admin_headers(b)
    rt_b = b.app.state.faces
    user = create_user(a, admin_a, code=code)
    enroll(a, admin_a, user["id"], photos(person, 0))
    _wait(lambda: rt_b.gallery.users(SFACE) == 1)
    rt_b.sync.stop()
    return admin_a, admin_b, user, rt_b


def test_changes_on_one_replica_reach_the_other_within_the_poll_interval(replicas):
    a, b = replicas
    admin_a, admin_b = admin_headers(a), admin_headers(b)
    gb = b.app.state.faces.gallery
    ann = create_user(a, admin_a, code="ANN")
    out = enroll(a, admin_a, ann["id"], photos(ANN, 0, 1))
    ann_templates = {t["id"] for t in out["templates"]}

    # enrolled on A: in B's gallery by B's own poller, no request to B involved
    seen = _wait(lambda: ann_templates <= _templates(b))
    assert seen < POLL + 1.0, seen
    assert b.app.state.faces.sync.stats["reloads"] == 0  # incremental: the change log, not a reload
    assert _identify(b, admin_b, photos(ANN, 2)[0])["user_id"] == ann["id"]

    # deactivated on A: gone from B (neither recognized nor a candidate)
    assert a.patch(f"/api/v1/users/{ann['id']}", json={"is_active": False}, headers=admin_a).status_code == 200
    _wait(lambda: gb.users(SFACE) == 0)
    assert _identify(b, admin_b, photos(ANN, 2)[0])["candidates"] == []
    assert a.patch(f"/api/v1/users/{ann['id']}", json={"is_active": True}, headers=admin_a).status_code == 200
    _wait(lambda: _templates(b) == ann_templates)

    # templates replaced on A (erased, enrolled again from other photos): B holds exactly the new ones
    assert a.delete(f"/api/v1/users/{ann['id']}/faces", headers=admin_a).status_code == 204
    new = {t["id"] for t in enroll(a, admin_a, ann["id"], photos(ANN, 2))["templates"]}
    # content and version both: a poll that read the version before the enrollment committed and the templates after
    # holds the new templates one version early, and the next poll brings the version up (see the test below)
    _wait(lambda: _templates(b) == new and gb.version == a.app.state.faces.gallery.version)
    assert gb.users(SFACE) == 1 and gb.size(SFACE) == 1
    assert b.app.state.faces.sync.stats["reloads"] == 0


def test_a_poll_that_reads_templates_newer_than_its_version_is_ahead_never_behind(replicas):
    """The poller reads the version, then the log, then the users' templates, each a statement of its own. A change
    committed in between (here: an enrollment on A, made while B's poll is about to read the templates) is in the
    templates B reads but past the version B records: B's gallery then holds that change one version early, never
    misses it, and its next poll re-reads the user and records the version. (CI once caught this interleaving with a
    version assertion that did not wait for it.)"""
    a, b = replicas
    admin_a, admin_b, ann, rt_b = _one_person_seen_by_both(a, b, ANN, "ANN")

    assert a.delete(f"/api/v1/users/{ann['id']}/faces", headers=admin_a).status_code == 204
    erased_at = a.app.state.faces.gallery.version
    enrolled: set[int] = set()

    def enroll_on_a_first(conn, cursor, statement, parameters, context, executemany):
        if not enrolled and "face_templates" in statement and "JOIN users" in statement:
            enrolled.update(t["id"] for t in enroll(a, admin_a, ann["id"], photos(ANN, 1))["templates"])

    event.listen(b.app.state.db.engine, "before_cursor_execute", enroll_on_a_first)
    try:
        assert rt_b.sync.poll_once() == "applied"
    finally:
        event.remove(b.app.state.db.engine, "before_cursor_execute", enroll_on_a_first)
    assert enrolled and a.app.state.faces.gallery.version == erased_at + 1
    assert _templates(b) == enrolled  # the enrollment is there already...
    assert rt_b.gallery.version == erased_at  # ...a version early
    assert _identify(b, admin_b, photos(ANN, 2)[0])["user_id"] == ann["id"]

    assert rt_b.sync.poll_once() == "applied"  # the next step re-reads the user: same templates, version caught up
    assert _templates(b) == enrolled and rt_b.gallery.version == a.app.state.faces.gallery.version
    assert rt_b.sync.poll_once() == "current"
    assert rt_b.sync.stats["reloads"] == 0
    rt_b.sync.start()


def test_a_request_never_syncs_and_a_replica_behind_the_pruned_log_reloads(replicas, db_url):
    a, b = replicas
    admin_a, admin_b, _, rt_b = _one_person_seen_by_both(a, b, BOB, "BOB")
    # B's poller paused: only a request could bring B up to date now, and none may
    held = rt_b.gallery.version
    cat = create_user(a, admin_a, code="CAT")
    enroll(a, admin_a, cat["id"], photos(CAT, 0))
    t0 = time.perf_counter()
    got = _identify(b, admin_b, photos(CAT, 1)[0])
    assert got["decision"] == "unknown"  # B answered from what it holds, without waiting for a sync
    assert rt_b.gallery.version == held and rt_b.gallery.users(SFACE) == 1
    assert time.perf_counter() - t0 < 5

    with a.app.state.db.session() as s:  # the log is pruned past B's version (as GALLERY_LOG_KEEP_SECONDS does)
        s.execute(delete(GalleryChange))
    assert rt_b.sync.poll_once() == "reloaded"  # the log no longer covers B: a full load, built aside, swapped in
    assert rt_b.gallery.users(SFACE) == 2 and rt_b.gallery.version == a.app.state.faces.gallery.version
    assert rt_b.sync.poll_once() == "current"
    assert _identify(b, admin_b, photos(CAT, 1)[0])["user_id"] == cat["id"]
    rt_b.sync.start()


def test_the_poller_prunes_old_log_rows(replicas):
    a, _ = replicas
    admin = admin_headers(a)
    dan = create_user(a, admin, code="DAN")
    enroll(a, admin, dan["id"], photos(ANN, 0))
    sync_a = a.app.state.faces.sync
    with a.app.state.db.session() as s:
        logged = s.scalar(select(func.count()).select_from(GalleryChange))
        assert logged >= 1 and s.scalar(select(func.count()).select_from(FaceTemplate)) == 1
    assert sync_a.prune() == 0  # younger than GALLERY_LOG_KEEP_SECONDS
    sync_a.keep_seconds = 0
    time.sleep(0.01)
    assert sync_a.prune() == logged

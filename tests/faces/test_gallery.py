"""The in-memory gallery against a real database: 1:N per identity, decisions, version sync, copy-on-write."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from sqlalchemy import select

from server.errors import ModelMismatch
from server.faces.gallery import Gallery
from server.faces.matching import Candidate, decide, decide_frames
from server.faces.sync import bump_version
from server.faces.models import FaceTemplate
from tests.fixtures.photos import add_template, make_users

DIM = 8


def unit(*values) -> np.ndarray:
    v = np.zeros(DIM, np.float32)
    v[: len(values)] = values
    return (v / np.linalg.norm(v)).astype(np.float32)


@pytest.fixture
def people(db):
    """Three users; user 0 has two templates. Returns their ids."""
    with db.session() as s:
        ids = make_users(s, 3)
        add_template(s, ids[0], unit(1, 0))
        add_template(s, ids[0], unit(1, 1))
        add_template(s, ids[1], unit(0, 1))
        add_template(s, ids[2], unit(0, 0, 1))
        add_template(s, ids[2], unit(0, 0, 1), model_id="other-model")
        bump_version(s)
    return ids


def test_load_and_search_best_per_identity(db, people):
    g = Gallery()
    with db.session() as s:
        assert g.load(s, "m1") == 4
        assert g.version == 1
    assert g.size("m1") == 4 and g.users("m1") == 3
    cands = g.search(unit(1, 0.9), "m1", top_k=5)
    assert [c.user_id for c in cands] == [people[0], people[1], people[2]]  # one entry per user
    assert cands[0].score == pytest.approx(float(unit(1, 1) @ unit(1, 0.9)), abs=1e-6)  # max over the templates
    assert g.search(unit(1, 0.9), "m1", top_k=1)[0].user_id == people[0]


def test_decide_threshold_and_margin():
    c = [Candidate(1, 0.80, 10), Candidate(2, 0.50, 20)]
    assert decide(c, 0.6, 0.05).user_id == 1
    assert decide(c, 0.85, 0.05).reason == "below_threshold"
    close = [Candidate(1, 0.80, 10), Candidate(2, 0.78, 20)]
    d = decide(close, 0.6, 0.05)
    assert not d.recognized and d.reason == "ambiguous" and d.runner_up == pytest.approx(0.78)
    assert decide([Candidate(1, 0.9, 1)], 0.6, 0.05).recognized  # no runner-up at all
    assert decide([], 0.6, 0.05).reason == "empty_gallery"


def test_multi_frame_needs_all_frames_to_agree():
    a = [Candidate(1, 0.9, 1), Candidate(2, 0.2, 2)]
    b = [Candidate(2, 0.9, 2), Candidate(1, 0.2, 1)]
    weak = [Candidate(1, 0.55, 1), Candidate(2, 0.2, 2)]
    assert decide_frames([a, a], 0.6, 0.05).user_id == 1
    assert decide_frames([a, b], 0.6, 0.05).reason == "frames_disagree"
    assert decide_frames([a, weak], 0.6, 0.05).reason == "below_threshold"


def test_models_never_mix(db, people):
    g = Gallery()
    with db.session() as s:
        g.load(s, "m1")
        g.load(s, "other-model")
    assert g.size("other-model") == 1
    with pytest.raises(ModelMismatch):
        g.search(unit(1), "not-loaded", top_k=3)
    with pytest.raises(ModelMismatch):
        g.search(np.ones(DIM * 2, np.float32), "m1")


def test_a_published_view_never_changes_under_a_reader(db, people):
    g = Gallery()
    with db.session() as s:
        g.load(s, "m1")
    matrix, uids, tids, n = g._store("m1").view  # what a search running now holds
    rows = matrix[:n].copy()
    g.add("m1", 999, 12345, unit(0, 0, 0, 1))
    assert n == 4 and g.size("m1") == 5 and np.array_equal(matrix[:n], rows)  # appended past the reader's rows
    assert g.search(unit(0, 0, 0, 1), "m1", 1)[0] == Candidate(999, pytest.approx(1.0), 12345)
    g.add("m1", 999, 12345, unit(0, 0, 0, 1))  # the same template again (the poller brought it in first): once
    assert g.size("m1") == 5 and g.users("m1") == 4
    assert g.remove_user(people[0]) == 2
    assert people[0] not in [c.user_id for c in g.search(unit(1, 0), "m1", 10)]
    assert g.size("m1") == 3 and g.users("m1") == 3 and np.array_equal(matrix[:n], rows)


def test_appends_removals_and_compaction_match_brute_force():
    """Thousands of adds and removals in random order (growth, dead rows, compactions): every search answers what a
    brute-force search over the templates that should be there answers."""
    rng = np.random.default_rng(3)
    g = Gallery()
    g.load_arrays("m", np.zeros((0, DIM), np.float32), [])
    want: dict[int, tuple[int, np.ndarray]] = {}  # template id -> (user, vector)
    next_tid = 0
    for step in range(6000):
        if want and rng.random() < 0.35:
            user = int(rng.choice([u for u, _ in want.values()]))
            g.remove_user(user)
            want = {t: uv for t, uv in want.items() if uv[0] != user}
        else:
            user = int(rng.integers(0, 400))
            v = rng.normal(size=DIM).astype(np.float32)
            v /= np.linalg.norm(v)
            g.add("m", user, next_tid, v)
            want[next_tid] = (user, v)
            next_tid += 1
        if step % 500 == 0 or step == 5999:
            assert g.size("m") == len(want) and g.users("m") == len({u for u, _ in want.values()})
            q = rng.normal(size=DIM).astype(np.float32)
            q /= np.linalg.norm(q)
            best: dict[int, float] = {}
            for u, v in want.values():
                best[u] = max(best.get(u, -2.0), float(v @ q))
            expected = sorted(best.items(), key=lambda kv: -kv[1])[:5]
            got = g.search(q, "m", 5)
            assert [c.user_id for c in got] == [u for u, _ in expected]
            assert np.allclose([c.score for c in got], [sc for _, sc in expected], atol=1e-5)
    store = g._store("m")
    assert store.n < next_tid and store.dead <= max(1024, store.n // 4)  # dead rows were compacted away


def test_memory_is_the_matrix_plus_two_ids_a_template():
    n, dim = 10_000, 128
    g = Gallery()
    g.load_arrays("m", np.ones((n, dim), np.float32), np.arange(n) // 2)
    assert g.nbytes("m") <= n * (dim * 4 + 16) + (n // 2 + 1) * 4


def test_concurrent_reads_during_writes(db, people):
    g = Gallery()
    with db.session() as s:
        g.load(s, "m1")
    errors = []

    def reader():
        try:
            for _ in range(300):
                assert g.search(unit(1, 0), "m1", 3)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(200):
        g.add("m1", 10_000 + i, 10_000 + i, unit(0, 1, i))
    for t in threads:
        t.join()
    assert not errors and g.size("m1") == 204


@pytest.mark.parametrize("per_user", [1, 4])
def test_search_of_a_large_gallery_matches_brute_force(per_user):
    """100k templates: the product runs in one slice per core (PARALLEL_SEARCH_ROWS); the answer must be exactly the
    brute-force one, for one template per user (scores used as they are) and for several (max per user). Its speed is
    measured by scripts/bench_faces.py, not here."""
    from server.faces import gallery as G

    rng = np.random.default_rng(per_user)
    m = rng.normal(size=(100_000, 128)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    users = np.arange(100_000) // per_user
    g = Gallery()
    g.load_arrays("bench", m, users)
    for probe in (1234, 99_999, 0):
        q = m[probe] * 0.6 + m[(probe + 7) % 100_000] * 0.4
        q /= np.linalg.norm(q)
        res = g.search(q, "bench", 5)
        brute = m @ q
        best = {}
        for row in np.argsort(-brute)[:200]:
            best.setdefault(int(users[row]), (float(brute[row]), int(row)))
        want = sorted(best.items(), key=lambda kv: -kv[1][0])[:5]
        assert [c.user_id for c in res] == [u for u, _ in want]
        assert [c.template_id for c in res] == [r for _, (_, r) in want]
        assert np.allclose([c.score for c in res], [sc for _, (sc, _) in want], atol=1e-5)
    assert len(m) >= G.PARALLEL_SEARCH_ROWS  # the sliced path really ran


def test_template_rows_roundtrip_float32(db, people):
    with db.session() as s:
        row = s.scalars(select(FaceTemplate).where(FaceTemplate.user_id == people[1])).first()
        vec = np.frombuffer(row.embedding, np.float32)
    assert vec.shape == (row.dim,) and np.allclose(vec, unit(0, 1))


def test_an_update_read_before_a_change_of_this_process_is_not_applied(db, people):
    """The poller read a user's rows, then this process deactivated the user on its own commit: the poller's rows
    predate that and must not bring the user back (it reads again instead)."""
    g = Gallery()
    with db.session() as s:
        g.load(s, "m1")
        stale = s.execute(select(FaceTemplate.id, FaceTemplate.user_id, FaceTemplate.dim, FaceTemplate.embedding)
                          .where(FaceTemplate.user_id == people[0], FaceTemplate.model_id == "m1")).all()
    epoch = g.epoch  # the poller starts reading
    g.remove_user(people[0])  # this process's own commit lands meanwhile
    assert g.resync_users("m1", [people[0]], stale, 5, epoch=epoch) is False
    assert g.users("m1") == 2 and g.version == 1  # not brought back, version not advanced
    with db.session() as s:
        assert g.load(s, "m1", epoch=epoch) == -1 and g.users("m1") == 2  # a full reload read before it: dropped too
    assert g.resync_users("m1", [people[0]], stale, 5, epoch=g.epoch) is True and g.users("m1") == 3

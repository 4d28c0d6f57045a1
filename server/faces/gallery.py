"""The in-memory index: per model_id the templates of ACTIVE users in a compact Store (server/faces/store.py: one
contiguous float32 matrix plus int64 ids, appended in place, dead rows marked, compacted); 1:N is one matrix-vector
product. Readers never lock; writers hold the gallery's lock; a full load builds a new store off the lock and swaps
it in.

What keeps the index in step with the database (the version row, the change log, after-commit updates, the replica's
poller) is server/faces/sync.py; the decision taken on a search's candidates is server/faces/matching.py; who builds
and loads the index at startup is server/faces/runtime.py.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.errors import ModelMismatch
from server.faces.matching import Candidate
from server.faces.models import FaceTemplate
from server.faces.store import DEAD, Store
from server.faces.sync import read_version
from server.users.models import User

log = logging.getLogger("faceclock.faces.gallery")

LOAD_CHUNK = 10_000  # rows read at a time by a full load (never all rows' bytes at once)


# A gallery this big is searched in one slice per core: the product is memory-bound (100k x 128 float32 = 51 MB
# read per search), and BLAS itself runs one thread (server/__init__.py). Measured on 2 cores at 100k templates:
# ~9 ms in one slice, ~4.5 ms in two.
PARALLEL_SEARCH_ROWS = 20_000


def _scores(matrix: np.ndarray, vec: np.ndarray, pool) -> np.ndarray:
    """matrix @ vec; `pool()` gives the executor of the extra slices (only asked for when the matrix is large)."""
    n = matrix.shape[0]
    parts = min(os.cpu_count() or 1, n // (PARALLEL_SEARCH_ROWS // 2))
    if parts < 2 or n < PARALLEL_SEARCH_ROWS:
        return matrix @ vec
    out = np.empty(n, np.float32)
    bounds = np.linspace(0, n, parts + 1).astype(int)
    slices = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
    executor = pool()
    futures = [executor.submit(np.dot, matrix[sl], vec, out[sl]) for sl in slices[1:]]
    np.dot(matrix[slices[0]], vec, out[slices[0]])  # numpy releases the GIL: the slices run at once
    for f in futures:
        f.result()
    return out


def _as_vector(embedding: np.ndarray, dim: int) -> np.ndarray:
    v = np.asarray(embedding, dtype=np.float32).reshape(-1)
    if v.shape[0] != dim:
        raise ModelMismatch(f"embedding has {v.shape[0]} dimensions, the gallery {dim}")
    return v


def active_templates(model_id: str, user_ids: Sequence[int] | None = None):
    """SELECT (id, user_id, dim, embedding) of the templates of model_id whose user is active."""
    q = (select(FaceTemplate.id, FaceTemplate.user_id, FaceTemplate.dim, FaceTemplate.embedding)
         .join(User, User.id == FaceTemplate.user_id)
         .where(FaceTemplate.model_id == model_id, User.is_active.is_(True)))
    return q if user_ids is None else q.where(FaceTemplate.user_id.in_(list(user_ids)))


def _release_freed_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's malloc_trim) after a full load: the pages of rows read
    (~550-byte bytes objects, 10,000 at a time) are free but scattered in the heap, and would stay in the RSS (~19 MB
    at 100,000 templates here). Elsewhere: nothing."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _rows_to_arrays(rows, dim: int, model_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows (id, user_id, dim, embedding) -> (matrix, user ids, template ids)."""
    if any(r[2] != dim for r in rows):
        raise ModelMismatch(f"templates of {model_id} have several dimensions: {sorted({r[2] for r in rows} | {dim})}")
    matrix = np.frombuffer(b"".join(r[3] for r in rows), dtype=np.float32).reshape(len(rows), dim)
    return (matrix, np.fromiter((r[1] for r in rows), np.int64, len(rows)),
            np.fromiter((r[0] for r in rows), np.int64, len(rows)))


_PG_TEMPLATES = "SELECT id, user_id, dim, embedding FROM face_templates WHERE model_id = %s"


def _pages(session: Session, model_id: str) -> Iterator[list]:
    """Every template of model_id (active users or not) as pages of (id, user_id, dim, embedding) rows, LOAD_CHUNK at
    a time: never all rows' bytes at once. PostgreSQL: a server-side cursor in binary format on the session's
    connection (SQLAlchemy's rows and bytea's text format cost 0.9-1.8 s for 100,000 templates here, this 0.3 s).
    Others: keyset pages by template id."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        with conn.connection.dbapi_connection.cursor(name="faceclock_gallery_load", binary=True) as cur:
            cur.execute(_PG_TEMPLATES, (model_id,))
            while rows := cur.fetchmany(LOAD_CHUNK):
                yield rows
        return
    query = select(FaceTemplate.id, FaceTemplate.user_id, FaceTemplate.dim, FaceTemplate.embedding).where(
        FaceTemplate.model_id == model_id)
    last = -1
    while rows := session.execute(query.where(FaceTemplate.id > last).order_by(FaceTemplate.id)
                                  .limit(LOAD_CHUNK)).all():
        yield rows
        last = rows[-1][0]


class Gallery:
    def __init__(self):
        self._stores: dict[str, Store] = {}
        self._lock = threading.Lock()
        self.version: int | None = None  # DB version the stores reflect
        # Bumped by every change this process applies on its own commits (add, replace_user, remove_user): the
        # poller's update read from the database before such a change is stale for it, and is not applied.
        self.epoch = 0
        self.last_search_ms: float | None = None
        self.reenrollment: dict | None = None  # model-change report made at startup (FaceRuntime.load_gallery)
        self._pool: ThreadPoolExecutor | None = None  # the extra slices of a large search
        self._pool_lock = threading.Lock()

    def _search_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 1) - 1),
                                                    thread_name_prefix="gallery-search")
        return self._pool

    def close(self) -> None:
        """Stop the search threads (app shutdown)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    # -- loading -------------------------------------------------------------------------
    def load(self, session: Session, model_id: str, dim: int | None = None, *, epoch: int | None = None) -> int:
        """(Re)load every active user's template of model_id from the database, streamed in chunks into a new store,
        then swapped in. Returns the template count; -1 (nothing swapped in) when `epoch` is given and this process
        changed the gallery itself meanwhile (the poller then tries again)."""
        version = read_version(session)
        count = session.scalar(select(func.count()).where(FaceTemplate.model_id == model_id)) or 0
        # The templates are read without joining users (a join planned on stale statistics, e.g. right after a bulk
        # import, took 2 s instead of 0.04 s for 10,000 templates here); the inactive users, few, are dropped here.
        inactive = np.fromiter(session.scalars(select(User.id).where(User.is_active.is_(False))), np.int64)
        store: Store | None = None
        for rows in _pages(session, model_id):
            if store is None:
                store = Store(model_id, rows[0][2], count + count // 8)
            matrix, uids, tids = _rows_to_arrays(rows, store.dim, model_id)
            if len(inactive):
                keep = ~np.isin(uids, inactive)
                matrix, uids, tids = matrix[keep], uids[keep], tids[keep]
            store.append(matrix, uids, tids)
        if store is None:
            old = self._stores.get(model_id)
            store = Store(model_id, dim or (old.dim if old else 0))
        store.max_per_user = int(store.counts.max()) if len(store.counts) else 0
        with self._lock:
            if epoch is not None and epoch != self.epoch:
                return -1
            old, self._stores[model_id] = self._stores.get(model_id), store
            self.version = version
        del old
        _release_freed_memory()
        log.info("gallery %s: %d templates of %d users (version %d)", model_id, len(store), store.live_users, version)
        return len(store)

    def load_arrays(self, model_id: str, matrix: np.ndarray, user_ids: Sequence[int],
                    template_ids: Sequence[int] | None = None) -> None:
        """Install templates directly (benchmarks, tests)."""
        matrix = np.asarray(matrix, np.float32)
        tids = np.arange(len(user_ids)) if template_ids is None else np.asarray(template_ids)
        store = Store(model_id, matrix.shape[1], len(user_ids))
        store.append(matrix, np.asarray(user_ids, np.int64), np.asarray(tids, np.int64))
        with self._lock:
            self._stores[model_id] = store

    def note_bump(self, old: int, new: int) -> None:
        """After our own bump: adopt the new version only if we were up to date before it."""
        with self._lock:
            if self.version == old:
                self.version = new

    # -- updates ---------------------------------------------------------------------------
    def add(self, model_id: str, user_id: int, template_id: int, embedding: np.ndarray) -> None:
        vec = np.asarray(embedding, np.float32).reshape(1, -1)
        with self._lock:
            store = self._stores.get(model_id)
            if store is None:
                store = self._stores[model_id] = Store(model_id, vec.shape[1])
            vec = _as_vector(vec, store.dim)[None, :]
            self.epoch += 1
            if not store.has_template(user_id, template_id):  # the poller may have brought it in already
                store.append(vec, np.array([user_id]), np.array([template_id]))

    def replace_user(self, user_id: int, rows_by_model: dict[str, list[tuple[int, np.ndarray]]]) -> None:
        """Set user_id's templates to exactly `rows_by_model` ({model_id: [(template_id, embedding)]}) in every
        loaded model (idempotent: used when a user is reactivated)."""
        with self._lock:
            self.epoch += 1
            for model_id, store in self._stores.items():
                store.remove_users([user_id])
                rows = rows_by_model.get(model_id) or []
                if rows:
                    store.append(np.vstack([np.asarray(e, np.float32).reshape(1, -1) for _, e in rows]),
                                 np.full(len(rows), user_id, np.int64), np.array([t for t, _ in rows], np.int64))

    def remove_user(self, user_id: int) -> int:
        with self._lock:
            self.epoch += 1
            return sum(store.remove_users([user_id]) for store in self._stores.values())

    def resync_users(self, model_id: str, user_ids: Iterable[int], rows, version: int | None = None, *,
                     epoch: int | None = None) -> bool:
        """The poller's update: the templates of `user_ids` become exactly `rows` (id, user_id, dim, embedding: their
        active templates of model_id, as read from the database), and the gallery's version `version`. Not applied
        (False) when `epoch` is given and this process changed the gallery since (the rows may predate that)."""
        users = list(user_ids)
        with self._lock:
            if epoch is not None and epoch != self.epoch:
                return False
            store = self._stores.get(model_id)
            if store is not None:
                store.remove_users(users)
                if rows:
                    store.append(*_rows_to_arrays(rows, store.dim, model_id))
            if version is not None and (self.version is None or version > self.version):
                self.version = version
        return True

    def clear(self) -> None:
        with self._lock:
            self._stores.clear()
            self.version = None

    # -- queries ---------------------------------------------------------------------------
    def model_ids(self) -> list[str]:
        return sorted(self._stores)

    def size(self, model_id: str | None = None) -> int:
        stores = self._stores
        return sum(len(s) for m, s in stores.items() if model_id in (None, m))

    def users(self, model_id: str) -> int:
        store = self._stores.get(model_id)
        return 0 if store is None else store.live_users

    def nbytes(self, model_id: str | None = None) -> int:
        return sum(s.nbytes() for m, s in self._stores.items() if model_id in (None, m))

    def arrays(self, model_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of one model's live rows: (matrix, user_ids, template_ids)."""
        return self._store(model_id).arrays()

    def _store(self, model_id: str) -> Store:
        store = self._stores.get(model_id)
        if store is None:
            loaded = ", ".join(self._stores) or "none"
            raise ModelMismatch(f"no gallery for model {model_id} (loaded: {loaded})", model_id=model_id)
        return store

    def search(self, embedding: np.ndarray, model_id: str, top_k: int = 5) -> list[Candidate]:
        """Best score per identity (max over that user's templates), highest first."""
        store = self._store(model_id)
        vec = _as_vector(embedding, store.dim)
        matrix, uids, tids, n = store.view
        users, most = store.live_users, max(1, store.max_per_user)
        if n == 0 or users == 0:
            return []
        t0 = time.perf_counter()
        scores = _scores(matrix[:n], vec, self._search_pool)  # one matrix-vector product
        ids = uids[:n]
        dead = ids == DEAD
        if dead.any():
            scores[dead] = -np.inf
        # A user's score is its best template's. Walking the rows from the best down, each user first shows up with
        # its best template, and k users need at most k x (most templates of one user) rows: only those are sorted.
        k = min(max(1, top_k), users)
        need = k * most
        rows = np.argpartition(scores, -need)[-need:] if need < n else np.arange(n)
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        out: list[Candidate] = []
        seen: set[int] = set()
        for row in rows:
            user = int(ids[row])
            if user == DEAD or user in seen:
                continue
            seen.add(user)
            out.append(Candidate(user, float(scores[row]), int(tids[row])))
            if len(out) == k:
                break
        self.last_search_ms = (time.perf_counter() - t0) * 1000
        return out

"""One model's templates in memory, compact: ONE contiguous float32 matrix plus int64 user and template ids (about
dim x 4 + 16 bytes a template) in preallocated arrays that grow by doubling (pages never written are not resident).

Mutated under the owning Gallery's lock only (server/faces/gallery.py). Readers never lock: they take `view` =
(matrix, user_ids, template_ids, n) in one read. A writer never changes a published row: it appends past the
published count and then publishes the new count, and it removes a template by marking its row dead (user id
DEAD), which a search skips; when dead rows pass a quarter of the store it is compacted into new arrays, then those
are published (readers holding the old ones finish on them).
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from server.errors import ModelMismatch

DEAD = -1  # user id of a removed row
MIN_CAPACITY = 1024


class Store:
    """One model's templates: rows [0, n) of preallocated arrays. Mutated under the Gallery's lock only; readers use
    `view` = (matrix, user_ids, template_ids, n), replaced in one assignment."""

    def __init__(self, model_id: str, dim: int, capacity: int = MIN_CAPACITY):
        self.model_id, self.dim = model_id, dim
        capacity = max(MIN_CAPACITY, int(capacity))
        self._matrix = np.empty((capacity, dim), np.float32)
        self._uids = np.empty(capacity, np.int64)
        self._tids = np.empty(capacity, np.int64)
        self.n = 0
        self.dead = 0
        self.counts = np.zeros(0, np.int32)  # live templates per user id (index = user id)
        self.live_users = 0
        self.max_per_user = 0  # an upper bound of the most templates one user has (exact after a load/compaction)
        self.view = (self._matrix, self._uids, self._tids, 0)

    def __len__(self) -> int:
        return self.n - self.dead

    @property
    def capacity(self) -> int:
        return self._matrix.shape[0]

    def nbytes(self) -> int:
        """Bytes the rows in use take (matrix + ids) and the per-user counts."""
        return self.n * (self.dim * 4 + 16) + self.counts.nbytes

    def _publish(self) -> None:
        self.view = (self._matrix, self._uids, self._tids, self.n)

    def _reserve(self, extra: int) -> None:
        need = self.n + extra
        if need <= self.capacity:
            return
        cap = max(need, 2 * self.capacity)
        m, u, t = np.empty((cap, self.dim), np.float32), np.empty(cap, np.int64), np.empty(cap, np.int64)
        m[:self.n], u[:self.n], t[:self.n] = self._matrix[:self.n], self._uids[:self.n], self._tids[:self.n]
        self._matrix, self._uids, self._tids = m, u, t  # readers keep the old arrays until they publish

    def _count(self, user_ids: np.ndarray, delta: int) -> None:
        if not len(user_ids):
            return
        top = int(user_ids.max())
        if top >= len(self.counts):
            grown = np.zeros(max(top + 1, 2 * len(self.counts)), np.int32)
            grown[:len(self.counts)] = self.counts
            self.counts = grown
        users, per = np.unique(user_ids, return_counts=True)
        before = self.counts[users]
        after = before + delta * per
        self.counts[users] = after
        self.live_users += int(np.count_nonzero((before == 0) & (after > 0))
                               - np.count_nonzero((before > 0) & (after == 0)))
        if delta > 0:
            self.max_per_user = max(self.max_per_user, int(after.max()))

    def append(self, matrix: np.ndarray, user_ids: np.ndarray, template_ids: np.ndarray) -> None:
        k = len(user_ids)
        if not k:
            return
        if matrix.shape[1] != self.dim:
            raise ModelMismatch(f"embedding has {matrix.shape[1]} dimensions, the gallery {self.dim}")
        self._reserve(k)
        lo = self.n
        self._matrix[lo:lo + k] = matrix
        self._uids[lo:lo + k] = user_ids
        self._tids[lo:lo + k] = template_ids
        self.n = lo + k  # rows written before they are published
        self._count(np.asarray(user_ids, np.int64), +1)
        self._publish()

    def has_template(self, user_id: int, template_id: int) -> bool:
        if user_id >= len(self.counts) or self.counts[user_id] == 0:
            return False
        n = self.n
        return bool(np.any((self._tids[:n] == template_id) & (self._uids[:n] == user_id)))

    def remove_users(self, user_ids: Iterable[int]) -> int:
        users = np.fromiter(user_ids, np.int64)
        users = users[(users >= 0) & (users < len(self.counts))]
        if not len(users) or not self.counts[users].any():
            return 0
        n = self.n
        rows = np.flatnonzero(np.isin(self._uids[:n], users))
        if not len(rows):
            return 0
        self._count(self._uids[rows], -1)
        self._uids[rows] = DEAD  # in place: a search running now may or may not still see these rows
        self.dead += len(rows)
        if self.dead > max(MIN_CAPACITY, self.n // 4):
            self.compact()
        return len(rows)

    def compact(self) -> None:
        n = self.n
        keep = self._uids[:n] != DEAD
        live = int(keep.sum())
        cap = max(MIN_CAPACITY, live + live // 4)
        m, u, t = np.empty((cap, self.dim), np.float32), np.empty(cap, np.int64), np.empty(cap, np.int64)
        m[:live], u[:live], t[:live] = self._matrix[:n][keep], self._uids[:n][keep], self._tids[:n][keep]
        self._matrix, self._uids, self._tids, self.n, self.dead = m, u, t, live, 0
        self.max_per_user = int(self.counts.max()) if len(self.counts) else 0
        self._publish()

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of the live rows: (matrix, user_ids, template_ids)."""
        matrix, uids, tids, n = self.view
        keep = uids[:n] != DEAD
        return matrix[:n][keep].copy(), uids[:n][keep].copy(), tids[:n][keep].copy()

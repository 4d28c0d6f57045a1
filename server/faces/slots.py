"""The inference slots with a priority lane: kiosk checks, face logins and single enrollments first, batches after.

Detection and embedding hold one of FACE_THREADS slots (one per core by default). Two lanes share them:

* interactive (the default: kiosk checks, face login, verify/identify, one person's enrollment) takes any free slot,
  and is served first whenever a slot frees up;
* batch (POST /api/v1/faces/batch, scripts/enroll_folder.py) starts a photo only when no interactive photo is
  waiting or being analysed, and holds at most ENROLL_BATCH_THREADS slots at a time (default FACE_THREADS - 1, at
  least 1).

So a kiosk check that arrives during an HR import never queues behind the import's photos: with the default it
finds a slot free at once (the batch leaves one), and with ENROLL_BATCH_THREADS = FACE_THREADS it waits at most
for the batch photo that finishes first; while it is analysed no new batch photo starts, so it shares the cores
(OpenCV runs each inference on every core) with at most the batch photos already under way. Under a steady
interactive load the import slows down, never the kiosks: that is the rule. The batch photos run on their own
thread pool (FaceRuntime.batch_pool()), so they never sit in front of a kiosk's frames in the shared photo pool.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class InferenceSlots:
    """`total` slots; the batch lane may hold at most `batch_max` of them, and only while no interactive waiter."""

    def __init__(self, total: int, batch_max: int | None = None):
        self.total = max(1, int(total))
        self.batch_max = max(1, min(self.total, int(batch_max if batch_max else max(1, self.total - 1))))
        self._cv = threading.Condition()
        self._busy = 0
        self._batch_busy = 0
        self._interactive_waiting = 0
        self._interactive_busy = 0
        self.peak_batch = 0  # the most slots the batch lane held at once (tests, /metrics-style diagnostics)

    def acquire(self, batch: bool = False) -> None:
        with self._cv:
            if batch:
                while (self._busy >= self.total or self._batch_busy >= self.batch_max
                       or self._interactive_waiting or self._interactive_busy):
                    self._cv.wait()
                self._batch_busy += 1
                self.peak_batch = max(self.peak_batch, self._batch_busy)
            else:
                self._interactive_waiting += 1
                try:
                    while self._busy >= self.total:
                        self._cv.wait()
                finally:
                    self._interactive_waiting -= 1
                self._interactive_busy += 1
            self._busy += 1

    def release(self, batch: bool = False) -> None:
        with self._cv:
            self._busy -= 1
            if batch:
                self._batch_busy -= 1
            else:
                self._interactive_busy -= 1
            self._cv.notify_all()

    @contextmanager
    def slot(self, batch: bool = False) -> Iterator[None]:
        self.acquire(batch)
        try:
            yield
        finally:
            self.release(batch)

    def stats(self) -> dict:
        with self._cv:
            return {"total": self.total, "batch_max": self.batch_max, "busy": self._busy,
                    "batch_busy": self._batch_busy, "interactive_busy": self._interactive_busy,
                    "interactive_waiting": self._interactive_waiting}

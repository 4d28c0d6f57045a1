"""The face runtime of one app: the engine, its gallery, the inference slots and the photo pool, built by the
lifespan and handed to the routes by dependency (server/faces/deps.py: EngineDep, FaceRuntimeDep).

Startup (server/main.py's lifespan) does, in order:

    rt = FaceRuntime(settings)
    rt.load_engine()        # step face_engine: the weights (server/faces/loader.py); missing -> /ready 503
    rt.load_gallery(db)     # step gallery: the active users' templates, the model-change report, sync bound to db
    ...
    rt.close()              # shutdown

Scripts and tests that hold an engine already build one with ``FaceRuntime(settings, engine=...)``.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING

from server.config import Settings
from server.errors import ModelWeightsMissing
from server.faces import loader, model_change, sync
from server.faces.gallery import Gallery
from server.faces.slots import InferenceSlots

if TYPE_CHECKING:
    from server.faces.engine import FaceEngine

log = logging.getLogger("faceclock.faces.runtime")


class FaceRuntime:
    def __init__(self, settings: Settings, engine: FaceEngine | None = None, gallery: Gallery | None = None):
        self.settings = settings
        self.engine = engine
        self.gallery = gallery if gallery is not None else Gallery()
        self.sync: sync.GallerySync | None = None  # the replica's poller, started by load_gallery
        self.slots = max(1, int(settings.inference_slots or 1))
        self.lanes = InferenceSlots(self.slots, settings.enroll_batch_threads)  # kiosks first (server/faces/slots.py)
        self._pool: ThreadPoolExecutor | None = None
        self._batch_pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    # -- startup ---------------------------------------------------------------------------
    def load_engine(self) -> FaceEngine:
        """Step face_engine (raises ModelWeightsMissing when the weights are not provisioned)."""
        self.engine = loader.get_engine(self.settings)
        return self.engine

    def load_gallery(self, db, *, poll: bool = True) -> Gallery:
        """Step gallery (after the engine): bind the gallery to db's sessions (server/faces/sync.py), load the active
        users' templates of the engine's model, then, after a FACE_MODEL change, log a WARNING naming how many users
        have templates of other models only (they must re-enroll) and, with KEEP_ENROLLMENT_IMAGES=true, start
        re-embedding their kept photos in a background thread that commits user by user (the gallery learns each
        user's new templates as they commit). /ready does not wait for that. Then (poll=True) the gallery sync thread
        starts: every GALLERY_POLL_SECONDS it applies what other workers and replicas changed (sync.GallerySync)."""
        engine = self.require_engine()
        sync.install(db, self.gallery)
        with db.session() as session:
            sync.ensure_state_row(session)
            session.commit()
            self.gallery.load(session, engine.model_id, engine.dim)
            report = model_change.warn_at_startup(session, engine.model_id, self.settings)
        self.gallery.reenrollment = {k: v for k, v in report.items() if k != "users"}
        if report["with_kept_images"] and self.settings.keep_enrollment_images:
            model_change.start_background_reembed(db, self)
        if poll:
            self.sync = sync.GallerySync(db, self.gallery, engine.model_id, engine.dim,
                                         poll_seconds=self.settings.gallery_poll_seconds,
                                         keep_seconds=self.settings.gallery_log_keep_seconds)
            self.sync.start()
        return self.gallery

    def close(self) -> None:
        if self.sync is not None:
            self.sync.stop()
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        batch, self._batch_pool = self._batch_pool, None
        if batch is not None:
            batch.shutdown(wait=False, cancel_futures=True)
        self.gallery.close()

    # -- what the services use ---------------------------------------------------------------
    def require_engine(self) -> FaceEngine:
        """The engine, or 503 model_weights_missing when it could not be loaded."""
        if self.engine is None:
            raise ModelWeightsMissing()
        return self.engine

    @property
    def model_id(self) -> str:
        return self.require_engine().model_id

    @contextmanager
    def inference_slot(self, *, batch: bool = False) -> Iterator[None]:
        """Hold one of the inference slots (FACE_THREADS, default the cores) while decoding, detecting and embedding;
        blocks when all are busy. `batch`: the batch lane (server/faces/slots.py: a batch photo starts only when no
        interactive photo is waiting or being analysed, and a batch holds at most ENROLL_BATCH_THREADS slots)."""
        with self.lanes.slot(batch):
            yield

    def photos_pool(self) -> ThreadPoolExecutor:
        """The threads that analyse the other photos of one request while the request's thread does the first."""
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="face-photos")
        return self._pool

    def batch_pool(self) -> ThreadPoolExecutor:
        """The batch lane's own threads (as many as the slots a batch may hold): a batch's photos never sit in front
        of a kiosk's frames in photos_pool()."""
        if self._batch_pool is None:
            with self._pool_lock:
                if self._batch_pool is None:
                    self._batch_pool = ThreadPoolExecutor(max_workers=self.lanes.batch_max,
                                                          thread_name_prefix="face-batch")
        return self._batch_pool

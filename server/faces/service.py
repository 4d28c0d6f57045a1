"""Face rules: intake -> detect -> quality gate -> embed -> match. No FastAPI here.

Other domains call, with the app's FaceRuntime `rt` (server/faces/runtime.py; routes get it from EngineDep):
  analyze_all(rt, images, purpose) / analyze_each(rt, images, purpose) -> the photos of one request, side by side
  analyze_batch(rt, images, purpose) -> the photos of a batch (HR import), on the batch lane of the inference slots
  embed_for_enrollment(rt, images) -> list[FaceSample]
  find_duplicate(rt, samples, exclude_user_id=None, session=None) -> Candidate | None   (at duplicate_threshold())
  store_templates(session, user_id, samples, images=None, settings=...) -> list[FaceTemplate]
  insert_templates(...) + templates_stored(session, rows) -> the same in two steps: many people, one version bump
  erase_user_templates(session, user_id) -> int
  match_one_to_one(rt, session, user_id, samples) -> OneToOne       (the 1:1 operating point, engine.threshold)
  match_one_to_many(rt, samples, session=None, top_k=5) -> Decision (the 1:N point for the gallery's size: .point)
  same_person(rt, first, later) -> bool                              (1:1 consistency of two frames)
  identify_point(rt) -> OperatingPoint                               (the 1:N point in force, for /status)
  record_attempt(session, purpose, ..., point=None) -> FaceAttempt
Images are the raw uploaded bytes (already bounded by read_limited in the router). Writes to face_templates go
through store_templates / erase_user_templates: they bump the gallery version and update the session's gallery on
commit (server/faces/sync.py).
"""
from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from collections.abc import Sequence

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from server.config import Settings
from server.errors import AppError, ImageTooLarge, ModelMismatch
from server.faces import sync
from server.faces.engine import DetectedFace
from server.faces.images import DRAFT_SIDE, decode_image
from server.faces.matching import Candidate, Decision, decide_frames
from server.faces.models import FaceAttempt, FaceTemplate
from server.faces.operating import for_gallery
from server.faces.quality import check_quality
from server.users.models import User

if TYPE_CHECKING:
    from server.faces.runtime import FaceRuntime

log = logging.getLogger("faceclock.faces.service")


@dataclass(frozen=True)
class FaceSample:
    embedding: np.ndarray  # (dim,) float32, unit norm
    face: DetectedFace
    quality: dict
    model_id: str


@dataclass(frozen=True)
class OneToOne:
    user_id: int
    matched: bool  # every frame passed the threshold
    score: float | None  # the weakest frame's best score against the user's templates
    scores: list[float] = field(default_factory=list)  # per frame
    threshold: float = 0.0
    model_id: str = ""
    reason: str = ""  # matched | below_threshold | no_templates


# ----------------------------------------------------------------------------- analysis

def analyze(rt: FaceRuntime, image_bytes: bytes, purpose: str, *, batch: bool = False) -> FaceSample:
    """Decode, detect, quality-gate and embed one photo. Raises the 413/422 AppErrors (503 without an engine).
    `batch`: in the batch lane of the inference slots (server/faces/slots.py), after every interactive photo."""
    return analyze_image(rt, image_bytes, purpose, batch=batch)[0]


def analyze_image(rt: FaceRuntime, image_bytes: bytes, purpose: str, *,
                  batch: bool = False) -> tuple[FaceSample, np.ndarray]:
    """analyze(), and the decoded image (BGR) its landmarks are in: for callers that measure more on the same
    pixels (the liveness check) without decoding the photo again."""
    s = rt.settings
    if len(image_bytes) > s.upload_max_bytes:
        raise ImageTooLarge(limit_bytes=s.upload_max_bytes)
    eng = rt.require_engine()
    # Decoding holds an inference slot too: the decoded copies of a big photo are what costs memory, so at most
    # FACE_THREADS photos are decoded at a time (the raw uploads waiting are bounded by the body limits).
    with rt.inference_slot(batch=batch):
        image = decode_image(image_bytes, s.image_max_pixels, min_side=s.min_face_size, draft_side=DRAFT_SIDE)
        faces = eng.detect(image)
        face, quality = check_quality(image, faces, purpose, s)
        embedding = eng.embed(image, face)
    return FaceSample(embedding, face, quality, eng.model_id), image


def analyze_each(rt: FaceRuntime, images: Sequence[bytes], purpose: str) -> list[FaceSample | AppError]:
    """analyze() of the photos of one request (kiosk or login frames, a verify pair, enrollment photos), side by side:
    they share the inference slots, so on an idle server one photo decodes and detects while another embeds. In
    order, each photo's sample or the AppError (413/422) it raised; any other error propagates."""
    rt.require_engine()

    def one(data: bytes) -> FaceSample | AppError:
        try:
            return analyze(rt, data, purpose)
        except AppError as exc:
            return exc

    return side_by_side(rt, one, images)


def side_by_side(rt: FaceRuntime, fn, items: Sequence) -> list:
    """[fn(item) for item in items], the first in this thread and the others on the runtime's photo pool (one
    request's photos: they share the inference slots). An exception propagates from the first that raised, in order."""
    rest = [rt.photos_pool().submit(fn, item) for item in items[1:]]
    first = [fn(items[0])] if items else []
    return first + [f.result() for f in rest]


def analyze_batch(rt: FaceRuntime, images: Sequence[bytes], purpose: str) -> list[FaceSample | AppError]:
    """analyze_each() for the photos of a batch (many people): on the batch lane's own threads, as many at once as
    ENROLL_BATCH_THREADS lets a batch hold, each after any kiosk or login photo waiting. In order."""
    rt.require_engine()

    def one(data: bytes) -> FaceSample | AppError:
        try:
            return analyze(rt, data, purpose, batch=True)
        except AppError as exc:
            return exc

    pool = rt.batch_pool()
    return [f.result() for f in [pool.submit(one, data) for data in images]]


def analyze_all(rt: FaceRuntime, images: Sequence[bytes], purpose: str) -> list[FaceSample]:
    """analyze_each(); the first photo (in order) that fails raises its error, with its `image_index`."""
    out = analyze_each(rt, images, purpose)
    for i, item in enumerate(out):
        if isinstance(item, AppError):
            item.details.setdefault("image_index", i)
            raise item
    return out


def embed_for_enrollment(rt: FaceRuntime, images: Sequence[bytes]) -> list[FaceSample]:
    """One sample per enrollment photo (strictest gate). The first failing photo raises, with its index."""
    return analyze_all(rt, images, "enroll")


def _check_model(samples: Sequence[FaceSample], model_id: str) -> None:
    for s in samples:
        if s.model_id != model_id:
            raise ModelMismatch(f"sample made by {s.model_id}, expected {model_id}",
                                model_id=s.model_id, expected=model_id)


# ----------------------------------------------------------------------------- 1:1 and 1:N

def verify(rt: FaceRuntime, image1: bytes, image2: bytes) -> dict:
    eng = rt.require_engine()
    a, b = analyze_all(rt, [image1, image2], "verify")
    similarity = float(a.embedding @ b.embedding)
    return {"similarity": round(similarity, 4), "threshold": eng.threshold,
            "same": similarity >= eng.threshold, "model_id": eng.model_id,
            "quality": [a.quality, b.quality]}


def user_templates(session: Session, user_id: int, model_id: str) -> np.ndarray:
    rows = session.execute(select(FaceTemplate.dim, FaceTemplate.embedding)
                           .where(FaceTemplate.user_id == user_id, FaceTemplate.model_id == model_id)).all()
    if not rows:
        return np.zeros((0, 0), np.float32)
    return np.vstack([np.frombuffer(r.embedding, np.float32).reshape(1, r.dim) for r in rows])


def match_one_to_one(rt: FaceRuntime, session: Session, user_id: int, samples: Sequence[FaceSample]) -> OneToOne:
    """Do these frames show user_id? Every frame must pass the model's threshold.

    Raises ModelMismatch if the user only has templates of another model (must re-enroll).
    """
    eng = rt.require_engine()
    _check_model(samples, eng.model_id)
    matrix = user_templates(session, user_id, eng.model_id)
    if matrix.shape[0] == 0:
        other = session.scalar(select(func.count()).select_from(FaceTemplate).where(FaceTemplate.user_id == user_id))
        if other:
            raise ModelMismatch(f"user {user_id} is enrolled with another face model: re-enrollment needed",
                                user_id=user_id, model_id=eng.model_id)
        return OneToOne(user_id, False, None, [], eng.threshold, eng.model_id, "no_templates")
    scores = [float(np.max(matrix @ s.embedding)) for s in samples]
    matched = bool(scores) and all(x >= eng.threshold for x in scores)
    return OneToOne(user_id, matched, min(scores) if scores else None, scores, eng.threshold, eng.model_id,
                    "matched" if matched else "below_threshold")


def _searchable(rt: FaceRuntime, session: Session | None):
    """The gallery as it is: a request never waits for a sync (server/faces/sync.py's GallerySync thread keeps it up
    to date). Only a gallery never loaded for the engine's model (no startup step ran: scripts) is loaded here."""
    engine, gallery = rt.require_engine(), rt.gallery
    if session is not None and engine.model_id not in gallery.model_ids():
        gallery.load(session, engine.model_id, engine.dim)
    return gallery


def match_one_to_many(rt: FaceRuntime, samples: Sequence[FaceSample], *, session: Session | None = None,
                      top_k: int = 5) -> Decision:
    """Who is this? Every frame must give the same identity, above the 1:N operating point for the gallery's
    current size (operating.for_gallery: FPIR <= IDENTIFY_FPIR, never below the 1:1 point) AND ahead of the
    runner-up by the margin. The decision carries the point it was taken at."""
    eng = rt.require_engine()
    _check_model(samples, eng.model_id)
    gallery = _searchable(rt, session)
    point = for_gallery(eng, gallery.users(eng.model_id), gallery.size(eng.model_id))
    per_frame = [gallery.search(x.embedding, eng.model_id, max(top_k, 2)) for x in samples]
    d = decide_frames(per_frame, point.threshold, point.margin)
    return dataclasses.replace(d, candidates=list(d.candidates[:top_k]), point=point)


def identify_point(rt: FaceRuntime):
    """The 1:N operating point in force now for the engine's model (for /status)."""
    eng, g = rt.require_engine(), rt.gallery
    return for_gallery(eng, g.users(eng.model_id), g.size(eng.model_id))


def same_person(rt: FaceRuntime, first: FaceSample, later: FaceSample) -> bool:
    """1:1 consistency of two frames of one attempt: does `later` show the person of `first`? At the 1:1 operating
    point (FMR <= MATCH_FMR), so a swap of faces between frames is caught as surely as a wrong 1:1 login."""
    eng = rt.require_engine()
    _check_model([first, later], eng.model_id)
    return float(first.embedding @ later.embedding) >= eng.threshold


def identify(rt: FaceRuntime, image: bytes, top_k: int = 5, *, session: Session | None = None) -> dict:
    eng = rt.require_engine()
    sample = analyze(rt, image, "identify")
    d = match_one_to_many(rt, [sample], session=session, top_k=top_k)
    return {
        "model_id": eng.model_id, "threshold": d.threshold, "margin": d.margin,
        "operating_point": d.point.as_dict(),
        "decision": "recognized" if d.recognized else "unknown", "reason": d.reason,
        "user_id": d.user_id, "score": d.score, "runner_up": d.runner_up,
        "candidates": [{"user_id": c.user_id, "score": round(c.score, 4), "template_id": c.template_id}
                       for c in d.candidates],
        "quality": sample.quality,
    }


def duplicate_threshold(rt: FaceRuntime) -> float:
    """DUPLICATE_THRESHOLD, else the 1:N operating point at the gallery's size: a search of the whole gallery, so a
    new employee is wrongly called someone's duplicate at most IDENTIFY_FPIR of the time (never below the 1:1 point)."""
    engine, g = rt.require_engine(), rt.gallery
    if engine.duplicate_threshold is not None:
        return engine.duplicate_threshold
    return for_gallery(engine, g.users(engine.model_id), g.size(engine.model_id)).threshold


def find_duplicate(rt: FaceRuntime, samples: Sequence[FaceSample], exclude_user_id: int | None = None, *,
                   session: Session | None = None) -> Candidate | None:
    """Best match of another user at or above the (stricter) duplicate threshold, else None."""
    eng = rt.require_engine()
    _check_model(samples, eng.model_id)
    gallery = _searchable(rt, session)
    limit = duplicate_threshold(rt)
    best: Candidate | None = None
    for sample in samples:
        for cand in gallery.search(sample.embedding, eng.model_id, top_k=3):
            if cand.user_id == exclude_user_id or cand.score < limit:
                continue
            if best is None or cand.score > best.score:
                best = cand
    return best


# ----------------------------------------------------------------------------- templates

def _save_image(user_id: int, data: bytes, settings: Settings) -> str:
    folder = Path(settings.images_dir) / "enrollment" / str(user_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.img"
    path.write_bytes(data)
    return str(path)


def store_templates(session: Session, user_id: int, samples: Sequence[FaceSample],
                    images: Sequence[bytes] | None = None, *, settings: Settings,
                    image_paths: Sequence[str | None] | None = None) -> list[FaceTemplate]:
    """Insert templates, bump the gallery version; the session's gallery is updated after commit (only for an active
    user: the gallery holds active users only).

    The photos are kept (for re-embedding when FACE_MODEL changes) only with KEEP_ENROLLMENT_IMAGES; `image_paths`
    instead names photos already kept (re-embedding them for a new model).
    """
    rows = insert_templates(session, user_id, samples, images, settings=settings, image_paths=image_paths)
    active = bool(session.scalar(select(User.is_active).where(User.id == user_id)))
    sync.templates_added(session, rows, active=active)
    return rows


def insert_templates(session: Session, user_id: int, samples: Sequence[FaceSample],
                     images: Sequence[bytes] | None = None, *, settings: Settings,
                     image_paths: Sequence[str | None] | None = None) -> list[FaceTemplate]:
    """The template rows of store_templates, flushed, WITHOUT the version bump: the caller then calls
    templates_stored() once for all the rows of its transaction (a batch of many people: one bump, one change-log
    version, replicas resync once)."""
    rows = []
    for i, sample in enumerate(samples):
        if image_paths is not None:
            path = image_paths[i]
        else:
            path = _save_image(user_id, images[i], settings) if (settings.keep_enrollment_images and images) else None
        emb = np.ascontiguousarray(sample.embedding, np.float32)
        rows.append(FaceTemplate(user_id=user_id, model_id=sample.model_id, dim=int(emb.shape[0]),
                                 embedding=emb.tobytes(), quality=dict(sample.quality), image_path=path))
    session.add_all(rows)
    session.flush()
    return rows


def templates_stored(session: Session, rows: Sequence[FaceTemplate]) -> int:
    """One gallery version bump (and change-log entry) for templates of ACTIVE users inserted in this transaction by
    insert_templates; the session's gallery learns them on commit. Returns the new version."""
    sync.templates_added(session, rows, active=True)
    return sync.read_version(session)


def erase_user_templates(session: Session, user_id: int) -> int:
    """Delete all templates (and kept photos) of a user; the gallery forgets them after commit."""
    paths = session.scalars(select(FaceTemplate.image_path).where(FaceTemplate.user_id == user_id,
                                                                  FaceTemplate.image_path.is_not(None))).all()
    count = session.execute(delete(FaceTemplate).where(FaceTemplate.user_id == user_id)).rowcount or 0
    sync.user_removed(session, user_id)

    def unlink() -> None:
        for p in paths:
            Path(p).unlink(missing_ok=True)

    sync.after_commit(session, unlink)
    return int(count)


# ----------------------------------------------------------------------------- audit

def record_attempt(session: Session, purpose: str, *, model_id: str, decision: str,
                   best_user_id: int | None = None, best_score: float | None = None,
                   runner_up_score: float | None = None, threshold: float | None = None,
                   latency_ms: float | None = None, device_id: int | None = None,
                   client: str | None = None, point: Any | None = None) -> FaceAttempt:
    """Write one face_attempts row (decision: recognized | unknown | rejected:<code> | enrolled ...). `point`: the
    OperatingPoint (or its as_dict()) of a 1:N decision: its threshold, gallery size N and expected FPIR are
    recorded."""
    p = point.as_dict() if hasattr(point, "as_dict") else (point or {})
    row = FaceAttempt(purpose=purpose, model_id=model_id, decision=decision[:32], best_user_id=best_user_id,
                      best_score=best_score, runner_up_score=runner_up_score,
                      threshold=p.get("threshold", threshold), gallery_size=p.get("gallery_size"),
                      expected_fpir=p.get("expected_fpir"),
                      latency_ms=latency_ms, device_id=device_id, client=(client or None) and client[:128])
    session.add(row)
    session.flush()
    return row


def record_decision(session: Session, purpose: str, decision: Decision, model_id: str, started: float,
                    **kw: Any) -> FaceAttempt:
    """record_attempt for a 1:N Decision; `started` is a time.perf_counter() value."""
    return record_attempt(session, purpose, model_id=model_id,
                          decision="recognized" if decision.recognized else "unknown",
                          best_user_id=decision.candidates[0].user_id if decision.candidates else None,
                          best_score=decision.score, runner_up_score=decision.runner_up,
                          threshold=decision.threshold, point=decision.point,
                          latency_ms=(time.perf_counter() - started) * 1000, **kw)

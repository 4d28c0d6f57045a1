"""Batch enrollment (HR imports): many people in one call, one answer per person. No FastAPI here; the route is
POST /api/v1/faces/batch (server/faces/router.py), and scripts/enroll_folder.py calls enroll_batch() in-process.

    enroll_batch(session, settings, rt, *, actor, people, consent, ...) -> BatchOutcome

The rules, per person, are those of one person's enrollment (server/faces/enrollment.py): consent, 1-5 photos that
all pass the enrollment quality gate, no duplicate of another person (now also of another person of the same batch),
managers only for employees of their site, an active user. What changes:

* per-person results: `enrolled`, `already_enrolled` (every photo is already one of that person's templates: a
  retried batch), or `refused` with the stable code of the reason (unknown_user, forbidden, user_deactivated,
  no_face, multiple_faces, face_too_small, face_blurry, face_too_dark, face_low_confidence, invalid_image,
  image_too_large, duplicate_face) and, for photos, `failures: [{index, code, message}]`;
* each person is all or nothing (a savepoint each): a refused person leaves no template and no consent change, only
  its decision record (face_attempts), as a refused single enrollment does;
* the batch is one transaction: the people enrolled are committed together, with ONE gallery version bump for the
  whole batch (replicas resync once). An unexpected error (a disk that cannot store a kept photo, a database
  failure) rolls the whole batch back: nothing of it is written, and the answer is a 5xx;
* inference of all the batch's photos runs side by side on the batch lane of the inference slots
  (server/faces/slots.py: kiosks first, at most ENROLL_BATCH_THREADS slots), before any write.

Retrying a batch is safe: a photo whose embedding is already one of the person's templates (cosine >= SAME_PHOTO,
which only the same photo reaches) is not stored again, so a batch whose answer was lost can be sent again as is.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Sequence

import numpy as np
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from server.config import Settings
from server.errors import AppError, Forbidden, ValidationFailed
from server.faces import service as faces
from server.faces.enrollment import MAX_IMAGES, check_request, record_enrolled
from server.faces.models import FaceTemplate
from server.faces.runtime import FaceRuntime
from server.users.models import User
from server.users.policy import can_act_on

# The same photo through the same model gives the same embedding (up to float noise across machines); two different
# photos of one person score far lower (LFW: same-person pairs rarely pass 0.9).
SAME_PHOTO = 0.999


class BatchTooLarge(AppError):
    status_code, code = 413, "batch_too_large"
    message = "Too many people in one batch"


class InvalidManifest(ValidationFailed):
    code, message = "invalid_manifest", "The manifest does not match the photos sent"


@dataclass
class BatchPerson:
    """One person of a batch: who (employee_code or user_id) and their photos' bytes (an AppError in place of a photo
    that could not be read, e.g. image_too_large)."""

    photos: list[bytes | AppError]
    employee_code: str | None = None
    user_id: int | None = None
    names: list[str] | None = None  # the photos' file names, for the answer


@dataclass
class PersonResult:
    index: int
    employee_code: str | None
    user_id: int | None
    status: str = "refused"  # enrolled | already_enrolled | refused
    code: str | None = None
    message: str | None = None
    details: dict = field(default_factory=dict)
    failures: list[dict] | None = None
    templates: list[FaceTemplate] = field(default_factory=list)
    skipped_photos: list[int] = field(default_factory=list)  # photos already stored (a retried batch)

    def refuse(self, code: str, message: str, **details) -> PersonResult:
        self.status, self.code, self.message = "refused", code, message
        self.details.update(details)
        return self


@dataclass
class BatchOutcome:
    people: list[PersonResult]
    model_id: str
    gallery_version: int | None  # the version after the batch (None: nothing enrolled, version unchanged)
    seconds: float

    def counts(self) -> dict:
        c = Counter(p.status for p in self.people)
        return {"enrolled": c["enrolled"], "already_enrolled": c["already_enrolled"], "refused": c["refused"],
                "refused_by_code": dict(Counter(p.code for p in self.people if p.status == "refused").most_common())}


def check_limits(settings: Settings, people: Sequence[BatchPerson]) -> None:
    if not people:
        raise InvalidManifest("The batch names nobody", field="manifest")
    if len(people) > settings.enroll_batch_max_people:
        raise BatchTooLarge(f"{len(people)} people in one batch; at most {settings.enroll_batch_max_people} "
                            f"(ENROLL_BATCH_MAX_PEOPLE)", people=len(people),
                            max_people=settings.enroll_batch_max_people)
    for i, p in enumerate(people):
        if (p.employee_code is None) == (p.user_id is None):
            raise InvalidManifest(f"Person {i + 1}: give employee_code or user_id (one of them)", field="manifest",
                                  person_index=i)
        if not 1 <= len(p.photos) <= MAX_IMAGES:
            raise InvalidManifest(f"Person {i + 1}: send 1 to {MAX_IMAGES} photos", field="manifest",
                                  person_index=i)


def _resolve(session: Session, actor: User, people: Sequence[BatchPerson],
             results: list[PersonResult]) -> list[User | None]:
    codes = {p.employee_code for p in people if p.employee_code is not None}
    ids = {p.user_id for p in people if p.user_id is not None}
    found = list(session.scalars(select(User).where(User.employee_code.in_(codes)))) if codes else []
    found += list(session.scalars(select(User).where(User.id.in_(ids)))) if ids else []
    by_code = {u.employee_code: u for u in found}
    by_id = {u.id: u for u in found}
    users: list[User | None] = []
    seen: dict[int, int] = {}
    for i, p in enumerate(people):
        user = by_code.get(p.employee_code) if p.employee_code is not None else by_id.get(p.user_id)
        if user is not None and user.id in seen:
            raise InvalidManifest(f"Persons {seen[user.id] + 1} and {i + 1} are the same user: one entry per "
                                  f"person and batch", field="manifest", person_index=i, user_id=user.id)
        r = results[i]
        if user is None:
            r.refuse("unknown_user", "No user with this employee code" if p.employee_code is not None
                     else "No user with this id")
        elif not can_act_on(actor, user):
            r.user_id = user.id
            r.refuse(Forbidden.code, "Not allowed to act on this user")
        elif not user.is_active:
            r.user_id = user.id
            r.refuse("user_deactivated", "User is deactivated")
        else:
            r.user_id, r.employee_code = user.id, user.employee_code
            seen[user.id] = i
            users.append(user)
            continue
        users.append(None)
    return users


_KEPT_FILES = "batch_kept_files"


def _delete_files_on_rollback(session: Session) -> list[str]:
    """The list to put kept photos (KEEP_ENROLLMENT_IMAGES) in as they are written: should the session's transaction
    roll back instead of committing, they are deleted, so nothing of a failed batch stays, on disk either."""
    if _KEPT_FILES not in session.info:
        event.listen(session, "after_soft_rollback", _rolled_back)
        event.listen(session, "after_commit", _committed)
    return session.info.setdefault(_KEPT_FILES, [])


def _rolled_back(session: Session, previous) -> None:
    if previous.nested:
        return
    for p in session.info.get(_KEPT_FILES) or []:
        Path(p).unlink(missing_ok=True)
    session.info[_KEPT_FILES] = []


def _committed(session: Session) -> None:
    if not session.in_nested_transaction():  # after_commit fires on a savepoint's release too
        session.info[_KEPT_FILES] = []


def enroll_batch(session: Session, settings: Settings, rt: FaceRuntime, *, actor: User, people: Sequence[BatchPerson],
                 consent: bool, allow_duplicate: bool = False, client: str | None = None,
                 consent_text_version: str | None = None, consent_lang: str | None = None) -> BatchOutcome:
    """See the module doc. Flushes, never commits (the caller's transaction: the request's, or the script's)."""
    started = time.perf_counter()
    engine = rt.require_engine()
    check_request(settings, actor, consent=consent, consent_text_version=consent_text_version,
                  allow_duplicate=allow_duplicate)
    check_limits(settings, people)
    results = [PersonResult(i, p.employee_code, p.user_id) for i, p in enumerate(people)]
    users = _resolve(session, actor, people, results)

    # 1. every readable photo of every person we may enroll, side by side on the batch lane; no write yet
    flat = [(i, j) for i, (p, u) in enumerate(zip(people, users)) if u is not None
            for j, data in enumerate(p.photos) if not isinstance(data, AppError)]
    analyzed = faces.analyze_batch(rt, [people[i].photos[j] for i, j in flat], "enroll")
    per_person: dict[int, list] = {}
    for (i, j), item in zip(flat, analyzed):
        per_person.setdefault(i, {})[j] = item
    model_id = engine.model_id
    threshold = faces.duplicate_threshold(rt)
    accepted: list[tuple[int, np.ndarray]] = []  # (user_id, templates) enrolled earlier in this batch
    stored_rows: list[FaceTemplate] = []
    kept_paths = _delete_files_on_rollback(session) if settings.keep_enrollment_images else []

    def attempt(decision: str, **kw) -> None:
        faces.record_attempt(session, "enroll", model_id=model_id, decision=decision, threshold=threshold,
                             client=client, latency_ms=(time.perf_counter() - started) * 1000, **kw)

    # 2. per person, in the manifest's order: the decision, then its writes in a savepoint
    for i, (person, user) in enumerate(zip(people, users)):
        r = results[i]
        if user is None:
            continue
        got = per_person.get(i, {})
        items = [person.photos[j] if isinstance(person.photos[j], AppError) else got[j]
                 for j in range(len(person.photos))]
        failures = [{"index": j, "code": x.code, "message": x.message} for j, x in enumerate(items)
                    if isinstance(x, AppError)]
        if failures:
            first = failures[0]
            r.refuse(first["code"], f"Photo {first['index'] + 1} of {len(items)}: {first['message']}; nothing was "
                                    f"stored", image_index=first["index"])
            r.failures = failures
            attempt(f"rejected:{first['code']}")
            continue
        samples: list[faces.FaceSample] = items
        existing = faces.user_templates(session, user.id, model_id)
        new: list[int] = []
        for j, s in enumerate(samples):  # already one of the person's templates, or a photo sent twice
            known = ([existing] if existing.size else []) + [samples[k].embedding[None, :] for k in new]
            if known and float(np.max(np.vstack(known) @ s.embedding)) >= SAME_PHOTO:
                r.skipped_photos.append(j)
            else:
                new.append(j)
        if not new:
            r.status = "already_enrolled"
            continue
        duplicate = _duplicate(session, rt, user.id, [samples[j] for j in new], accepted, threshold)
        if duplicate is not None and not allow_duplicate:
            other, score, index = duplicate
            r.refuse("duplicate_face", f"This face is already enrolled for user {other}", user_id=other,
                     score=round(score, 4), image_index=new[index])
            r.user_id = user.id
            attempt("rejected:duplicate_face", best_user_id=other, best_score=score)
            continue
        try:
            with session.begin_nested():
                rows = faces.insert_templates(session, user.id, [samples[j] for j in new],
                                              [person.photos[j] for j in new], settings=settings)
                kept_paths.extend(row.image_path for row in rows if row.image_path)
                attempt("enrolled", best_user_id=duplicate[0] if duplicate else user.id,
                        best_score=duplicate[1] if duplicate else None)
                record_enrolled(session, settings, actor=actor, user=user, rows=rows, model_id=model_id,
                                consent_lang=consent_lang, duplicate_of=duplicate[0] if duplicate else None,
                                batch=True)
        except AppError as exc:  # a refusal raised while writing: this person only, rolled back to its savepoint
            r.refuse(exc.code, exc.message, **exc.details)
            continue
        r.status, r.templates = "enrolled", rows
        stored_rows.extend(rows)
        accepted.append((user.id, np.vstack([samples[j].embedding for j in new])))

    version = None
    if stored_rows:
        version = faces.templates_stored(session, stored_rows)  # one bump for the whole batch
    return BatchOutcome(results, model_id, version, time.perf_counter() - started)


def _duplicate(session: Session, rt: FaceRuntime, user_id: int, samples: Sequence,
               accepted: list[tuple[int, np.ndarray]], threshold: float) -> tuple[int, float, int] | None:
    """(other user, score, index of the photo) of the best match of another person at or above the duplicate
    threshold: in the gallery, or among the people enrolled earlier in this batch (not in the gallery yet)."""
    best: tuple[int, float, int] | None = None
    for index, sample in enumerate(samples):
        cand = faces.find_duplicate(rt, [sample], exclude_user_id=user_id, session=session)
        if cand is not None and (best is None or cand.score > best[1]):
            best = (cand.user_id, float(cand.score), index)
        for other, matrix in accepted:
            score = float(np.max(matrix @ sample.embedding))
            if score >= threshold and (best is None or score > best[1]):
                best = (other, score, index)
    return best

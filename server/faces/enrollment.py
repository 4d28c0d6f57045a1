"""Enrollment and erasure of a user's face templates: the rules around the face service (consent, all or nothing,
duplicates, audit, decision records). Face analysis itself is server/faces/service.py; no FastAPI here. It is faces'
work on users' rows (the consent fields), so it lives in faces, above users: users does not import faces.

Public:
  consent_text(settings, lang) -> (version, lang, text)   the text people consent to (CONSENT_TEXT_VERSION)
  enroll(session, settings, engine, *, actor, user, images, consent, allow_duplicate, client) -> list[FaceTemplate]
  erase_biometrics(session, settings, *, actor, user, reason) -> int   (templates removed)
  list_templates(session, user_id) -> list[FaceTemplate]
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit.service import record as audit
from server.clock import now
from server.config import Settings
from server.database import keep_on_failure
from server.errors import (
    AppError,
    Conflict,
    DuplicateFace,
    Forbidden,
    ValidationFailed,
)
from server.faces import service as faces
from server.faces.images import PHOTOS_PER_REQUEST
from server.faces.runtime import FaceRuntime
from server.faces.models import FaceTemplate
from server.users.models import User
from server.users.policy import is_admin

MAX_IMAGES = PHOTOS_PER_REQUEST["enroll"]
# <version>.<lang>.txt, shipped with the users domain (GET /users/consent-text); CONSENT_TEXT_DIR overrides it
CONSENT_DIR = Path(__file__).resolve().parents[1] / "users" / "consent"


class ConsentRequired(AppError):
    status_code, code = 422, "consent_required"
    message = "Enrollment needs the person's consent: send consent=true"


class ConsentTextMissing(AppError):
    status_code, code = 404, "consent_text_missing"
    message = "There is no consent text for this CONSENT_TEXT_VERSION"


class ConsentTextChanged(AppError):
    status_code, code = 409, "consent_text_changed"
    message = "The consent text shown is not the current one: show the current text again"



def consent_text(settings: Settings, lang: str | None) -> tuple[str, str, str]:
    """(version, language, text) of the consent text of CONSENT_TEXT_VERSION in `lang`, English when there is none
    in that language. Files: <version>.<lang>.txt in CONSENT_TEXT_DIR (default: server/users/consent/)."""
    folder = Path(settings.consent_text_dir) if settings.consent_text_dir else CONSENT_DIR
    version = settings.consent_text_version
    for candidate in dict.fromkeys(filter(None, (lang, "en"))):
        path = folder / f"{version}.{candidate}.txt"
        if path.is_file():
            return version, candidate, path.read_text(encoding="utf-8").strip()
    raise ConsentTextMissing(version=version)


def list_templates(session: Session, user_id: int) -> list[FaceTemplate]:
    return list(session.scalars(select(FaceTemplate).where(FaceTemplate.user_id == user_id)
                                .order_by(FaceTemplate.id)).all())


def _analyze_all(rt: FaceRuntime, images: Sequence[bytes]) -> list:
    """Every photo through the enrollment quality gate. If any fails: its error (with image_index and the list of
    all failures as `failures: [{index, code, message}]`) is raised and nothing is kept."""
    samples, failures, first = [], [], None
    for i, item in enumerate(faces.analyze_each(rt, images, "enroll")):
        if isinstance(item, AppError):
            failures.append({"index": i, "code": item.code, "message": item.message})
            first = first or (i, item)
        else:
            samples.append(item)
    if first is not None:
        index, exc = first
        exc.details = {**{k: v for k, v in exc.details.items() if k != "image_index"},
                       "image_index": index, "failures": failures}
        # people count photos from 1; image_index and failures[].index stay 0-based (positions in `images`)
        exc.message = f"Photo {index + 1} of {len(images)}: {exc.message}; nothing was stored"
        raise exc
    return samples


def enroll(session: Session, settings: Settings, rt: FaceRuntime, *, actor: User, user: User, images: Sequence[bytes],
           consent: bool, allow_duplicate: bool = False, client: str | None = None, device_id: int | None = None,
           consent_text_version: str | None = None, consent_lang: str | None = None) -> list[FaceTemplate]:
    """All or nothing: consent, 1-5 photos that all pass the quality gate, no duplicate of another user (unless an
    admin allows it). A refusal leaves its decision record (keep_on_failure: it stays although the request fails).
    `consent_text_version` (the version of the text the person was shown) must be the current one when given;
    it and `consent_lang` (the language it was shown in) are kept in the audit entry."""
    engine = rt.require_engine()
    check_request(settings, actor, consent=consent, consent_text_version=consent_text_version,
                  allow_duplicate=allow_duplicate)
    if not 1 <= len(images) <= MAX_IMAGES:
        raise ValidationFailed(f"Send 1 to {MAX_IMAGES} photos", field="images", count=len(images))
    if not user.is_active:
        raise Conflict("User is deactivated", field="user")
    started = time.perf_counter()

    def attempt(decision: str, *, refused: bool = False, **kw) -> None:
        latency_ms = (time.perf_counter() - started) * 1000

        def write(s: Session) -> None:
            faces.record_attempt(s, "enroll", model_id=engine.model_id, decision=decision,
                                 threshold=faces.duplicate_threshold(rt), client=client, device_id=device_id,
                                 latency_ms=latency_ms, **kw)

        if refused:
            keep_on_failure(session, write)
        else:
            write(session)

    try:
        samples = _analyze_all(rt, images)
    except AppError as exc:
        attempt(f"rejected:{exc.code}", refused=True)
        raise
    duplicate = faces.find_duplicate(rt, samples, exclude_user_id=user.id, session=session)
    if duplicate is not None and not allow_duplicate:
        attempt("rejected:duplicate_face", refused=True, best_user_id=duplicate.user_id, best_score=duplicate.score)
        raise DuplicateFace(f"This face is already enrolled for user {duplicate.user_id}",
                            user_id=duplicate.user_id, score=round(duplicate.score, 4))
    rows = faces.store_templates(session, user.id, samples, images, settings=settings)
    attempt("enrolled", best_user_id=duplicate.user_id if duplicate else user.id,
            best_score=duplicate.score if duplicate else None)
    record_enrolled(session, settings, actor=actor, user=user, rows=rows, model_id=engine.model_id,
                    consent_lang=consent_lang, duplicate_of=duplicate.user_id if duplicate else None)
    return rows


def check_request(settings: Settings, actor: User, *, consent: bool, consent_text_version: str | None,
                  allow_duplicate: bool) -> None:
    """What every enrollment request needs, one person or a batch: consent, to the current text when its version is
    given, and an admin when a duplicate face is allowed."""
    if not consent:
        raise ConsentRequired()
    if consent_text_version is not None and consent_text_version != settings.consent_text_version:
        raise ConsentTextChanged(shown=consent_text_version, current=settings.consent_text_version)
    if allow_duplicate and not is_admin(actor):
        raise Forbidden("Only admins may enroll a duplicate face")


def record_enrolled(session: Session, settings: Settings, *, actor: User, user: User, rows: Sequence[FaceTemplate],
                    model_id: str, consent_lang: str | None, duplicate_of: int | None, batch: bool = False) -> None:
    """After a person's templates are written: their consent (the current text's version) and the audit entry."""
    user.consent_at = now()
    user.consent_version = settings.consent_text_version
    user.biometrics_erased_at = None
    user.updated_at = now()
    audit(session, actor_user_id=actor.id, action="faces.enroll", entity="user", entity_id=user.id,
          after={"templates": [r.id for r in rows], "model_id": model_id,
                 "consent_version": user.consent_version, **({"batch": True} if batch else {}),
                 **({"consent_lang": consent_lang} if consent_lang else {}),
                 **({"duplicate_of": duplicate_of} if duplicate_of is not None else {})})


def erase_biometrics(session: Session, settings: Settings, *, actor: User, user: User,
                     reason: str | None = None) -> int:
    """Deletes every template of `user` (all models) and its stored photos; the in-memory gallery forgets the user
    when the transaction commits (commit right after calling this). Audited as faces.erase."""
    count = faces.erase_user_templates(session, user.id)
    folder = Path(settings.images_dir) / "enrollment" / str(user.id)
    if folder.exists():  # photos kept by KEEP_ENROLLMENT_IMAGES, including any orphaned by a crash
        from sqlalchemy import event

        event.listen(session, "after_commit", lambda _s: shutil.rmtree(folder, ignore_errors=True), once=True)
    user.biometrics_erased_at = now()
    user.updated_at = now()
    audit(session, actor_user_id=actor.id, action="faces.erase", entity="user", entity_id=user.id,
          before={"templates": count}, reason=reason)
    return count

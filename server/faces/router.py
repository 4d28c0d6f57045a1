"""Face endpoints: 1:1 verify and 1:N identify for integrators, batch enrollment for HR imports.
HTTP only: the rules are in service.py."""
from __future__ import annotations

import time

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from pydantic import ValidationError
from sqlalchemy.orm import Session

from server.auth.deps import SIGNED_IN, AdminDep, ManagerDep
from server.deps import SessionDep, SettingsDep, client_id
from server.errors import (
    PHOTO_ERRORS,
    AppError,
    Forbidden,
    ImageTooLarge,
    ModelWeightsMissing,
    ValidationFailed,
    responses,
)
from server.faces import batch as batch_enrollment
from server.faces import model_change, service
from server.faces.deps import EngineDep
from server.faces.enrollment import ConsentRequired, ConsentTextChanged
from server.faces.images import read_limited
from server.faces.schemas import (
    BatchEnrollmentOut,
    BatchManifest,
    IdentifyOut,
    ReembedOut,
    ReenrollmentOut,
    TemplateOut,
    VerifyOut,
)
from server.faces.uploads import Photos

router = APIRouter(prefix="/api/v1/faces", tags=["faces"])
PhotoPair = Annotated[list[bytes], Depends(Photos("verify", "image1", "image2"))]
OnePhoto = Annotated[list[bytes], Depends(Photos("identify", "image"))]

_ADMIN = (SIGNED_IN, (Forbidden, "admins only"), ModelWeightsMissing)
_ERRORS = responses(_ADMIN, PHOTO_ERRORS, ValidationFailed)


def _record(session: Session, purpose: str, model_id: str, decision: str, started: float, request: Request,
            **kw) -> None:
    service.record_attempt(session, purpose, model_id=model_id, decision=decision,
                           latency_ms=(time.perf_counter() - started) * 1000, client=client_id(request), **kw)


@router.post("/verify", response_model=VerifyOut, responses=_ERRORS,
             summary="1:1 — do two photos show the same person? (admin)")
def verify(request: Request, _admin: AdminDep, session: SessionDep, photos: PhotoPair, rt: EngineDep):
    started = time.perf_counter()
    result = service.verify(rt, *photos)
    _record(session, "verify", result["model_id"], "same" if result["same"] else "different", started, request,
            best_score=result["similarity"], threshold=result["threshold"])
    return result


@router.post("/identify", response_model=IdentifyOut, responses=_ERRORS,
             summary="1:N — who is this? Top-k enrolled users and the decision (admin)")
def identify(request: Request, _admin: AdminDep, session: SessionDep, photo: OnePhoto, rt: EngineDep,
             top_k: int = Form(5, ge=1, le=50)):
    started = time.perf_counter()
    result = service.identify(rt, photo[0], top_k, session=session)
    best = result["candidates"][0]["user_id"] if result["candidates"] else None
    _record(session, "identify", result["model_id"], result["decision"], started, request,
            best_user_id=best, best_score=result["score"], runner_up_score=result["runner_up"],
            point=result["operating_point"])
    return result


@router.get("/reenrollment", response_model=ReenrollmentOut,
            responses=responses(_ADMIN),
            summary="After a FACE_MODEL change: users whose templates are all of other models (admin)")
def reenrollment(_admin: AdminDep, session: SessionDep, rt: EngineDep):
    return model_change.reenrollment_report(session, rt.model_id)


@router.post("/reembed", response_model=ReembedOut,
             responses=responses(_ADMIN, (model_change.ReembedRunning, "another request or process is re-embedding")),
             summary="Re-embed kept enrollment photos into the current model, user by user (admin)")
def reembed(admin: AdminDep, session: SessionDep, rt: EngineDep,
            limit: int = Query(100, ge=1, le=10_000, description="at most this many users")):
    return model_change.reembed_kept_images(session, rt, limit=limit, actor_user_id=admin.id)


_BATCH_ERRORS = responses(SIGNED_IN, (Forbidden, "not an admin or manager; allow_duplicate by a manager"),
                          (batch_enrollment.BatchTooLarge, "more people than ENROLL_BATCH_MAX_PEOPLE"),
                          (ImageTooLarge, "body over ENROLL_BATCH_MAX_BYTES"),
                          (batch_enrollment.InvalidManifest, "manifest not valid JSON, or not matching the photos"),
                          ConsentRequired, (ConsentTextChanged, "consent_text_version is not the current one"),
                          ValidationFailed, ModelWeightsMissing)


def _manifest(text: str) -> BatchManifest:
    try:
        return BatchManifest.model_validate_json(text)
    except ValidationError as exc:
        fields = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        raise batch_enrollment.InvalidManifest("The manifest is not valid: " + fields[0]["msg"], field="manifest",
                                               fields=fields) from None


def _people(manifest: BatchManifest, photos: list[UploadFile], max_bytes: int) -> list[batch_enrollment.BatchPerson]:
    """The manifest's people with their photos' bytes; every photo sent must be named exactly once. A photo over
    UPLOAD_MAX_BYTES refuses its person only (image_too_large), never the batch."""
    by_name: dict[str, UploadFile] = {}
    for upload in photos:
        name = upload.filename or ""
        if not name or name in by_name:
            raise batch_enrollment.InvalidManifest(f"Every photo needs its own file name ({name!r} is "
                                                   f"{'missing' if not name else 'sent twice'})",
                                                   field="photos", photo=name)
        by_name[name] = upload
    used: set[str] = set()
    people = []
    for i, entry in enumerate(manifest.people):
        data: list[bytes | AppError] = []
        for name in entry.photos:
            if name not in by_name:
                raise batch_enrollment.InvalidManifest(f"Person {i + 1} names the photo {name!r}, which was not sent",
                                                       field="manifest", person_index=i, photo=name)
            if name in used:
                raise batch_enrollment.InvalidManifest(f"The photo {name!r} is named twice", field="manifest",
                                                       person_index=i, photo=name)
            used.add(name)
            try:
                data.append(read_limited(by_name[name], max_bytes))
            except AppError as exc:
                data.append(exc)
        people.append(batch_enrollment.BatchPerson(data, entry.employee_code, entry.user_id, list(entry.photos)))
    unused = sorted(set(by_name) - used)
    if unused:
        raise batch_enrollment.InvalidManifest(f"{len(unused)} photo(s) sent but named by nobody: "
                                               f"{', '.join(unused[:5])}", field="photos", photos=unused[:20])
    return people


@router.post("/batch", response_model=BatchEnrollmentOut, responses=_BATCH_ERRORS,
             summary="Enroll many people at once (HR import): one result per person, one commit, one gallery "
                     "version bump (admin; manager: employees of its site)")
def enroll_batch(request: Request, actor: ManagerDep, session: SessionDep, settings: SettingsDep, rt: EngineDep,
                 manifest: str = Form(..., max_length=1 << 20,
                                      description='JSON: {"people": [{"employee_code": "E001" (or "user_id": 12), '
                                                  '"photos": ["e001-a.jpg", ...]}, ...]}; 1-5 photos per person'),
                 photos: list[UploadFile] = File(..., description="the photos, each named (file name) by the "
                                                                  "manifest exactly once"),
                 consent: bool = Form(False, description="every person of the batch consented (required)"),
                 allow_duplicate: bool = Form(False, description="admins: enroll faces that match someone else"),
                 consent_text_version: str | None = Form(None, max_length=32,
                                                         description="Version of the consent text shown"),
                 consent_lang: str | None = Form(None, pattern=r"^[a-z]{2}$",
                                                 description="Language the consent text was shown in")):
    if not consent:
        raise ConsentRequired()
    parsed = _manifest(manifest)
    if len(parsed.people) > settings.enroll_batch_max_people:  # before reading any photo
        raise batch_enrollment.BatchTooLarge(
            f"{len(parsed.people)} people in one batch; at most {settings.enroll_batch_max_people} "
            f"(ENROLL_BATCH_MAX_PEOPLE)", people=len(parsed.people), max_people=settings.enroll_batch_max_people)
    people = _people(parsed, photos, settings.upload_max_bytes)
    out = batch_enrollment.enroll_batch(session, settings, rt, actor=actor, people=people, consent=consent,
                                        allow_duplicate=allow_duplicate, client=client_id(request),
                                        consent_text_version=consent_text_version, consent_lang=consent_lang)
    return {"model_id": out.model_id, **out.counts(), "gallery_version": out.gallery_version,
            "seconds": round(out.seconds, 3),
            "people": [{"index": r.index, "employee_code": r.employee_code, "user_id": r.user_id,
                        "status": r.status, "code": r.code, "message": r.message, "details": r.details,
                        "failures": None if r.failures is None else [
                            {**f, "photo": (people[r.index].names or [None] * 5)[f["index"]]} for f in r.failures],
                        "templates": [TemplateOut.model_validate(t) for t in r.templates],
                        "skipped_photos": r.skipped_photos} for r in out.people]}

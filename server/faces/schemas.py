"""Request/response models of the face endpoints (and of enrollment, POST /users/{id}/faces)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    model_id: str
    quality: dict
    created_at: datetime


class EnrollmentOut(BaseModel):
    user_id: int
    templates: list[TemplateOut]
    consent_at: datetime | None
    consent_version: str | None


class FaceQuality(BaseModel):
    score: float | None = None
    size: int
    confidence: float
    sharpness: float
    brightness: float
    box: list[int]
    faces: int


class VerifyOut(BaseModel):
    similarity: float = Field(description="cosine similarity of the two faces' embeddings")
    threshold: float = Field(description="the model's calibrated match threshold")
    same: bool = Field(description="similarity >= threshold")
    model_id: str
    quality: list[FaceQuality]


class CandidateOut(BaseModel):
    user_id: int
    score: float
    template_id: int


class OperatingPointOut(BaseModel):
    """The rule a decision was taken at (server/faces/operating.py)."""

    kind: str = Field(description="1:1 | 1:N")
    threshold: float = Field(description="cosine similarity the best identity had to reach")
    target: str = Field(description="the error rate the threshold is set for, e.g. FPIR<=0.005")
    expected_fmr: float | None = Field(description="false match rate per comparison at the threshold (measured curve)")
    expected_fpir: float | None = Field(None, description="1:N: comparisons x expected_fmr, an upper bound")
    gallery_size: int | None = Field(None, description="1:N: people in the gallery (N)")
    comparisons: int | None = Field(None, description="1:N: templates a probe was compared with")
    margin: float | None = Field(None, description="1:N: lead the best identity needed over the runner-up")
    calibrated: bool = Field(description="false: the model has no measured curve (deepface card models)")
    source: str = Field(description="what the curve was measured on")


class IdentifyOut(BaseModel):
    model_id: str
    operating_point: OperatingPointOut
    decision: str = Field(description="recognized | unknown")
    reason: str = Field(description="recognized | below_threshold | ambiguous | empty_gallery")
    user_id: int | None
    score: float | None
    runner_up: float | None = Field(description="best score of any other identity")
    threshold: float
    margin: float
    candidates: list[CandidateOut]
    quality: FaceQuality


class ReenrollUser(BaseModel):
    user_id: int
    employee_code: str
    full_name: str
    is_active: bool
    model_ids: list[str] = Field(description="the models their templates were made by (none is the current one)")
    templates: int
    kept_images: int = Field(description="templates whose enrollment photo is kept (KEEP_ENROLLMENT_IMAGES)")
    can_reembed: bool = Field(description="POST /api/v1/faces/reembed can make current-model templates for them")


class ReenrollmentOut(BaseModel):
    model_id: str = Field(description="the current FACE_MODEL's model_id")
    count: int = Field(description="users with templates of other models only: they cannot be recognized")
    active: int
    with_kept_images: int
    users: list[ReenrollUser]


class ReembedFailure(BaseModel):
    user_id: int
    template_id: int = Field(description="the old template whose kept photo failed")
    code: str = Field(description="a quality code (no_face, multiple_faces, ...), invalid_image or image_missing")
    message: str


class ReembedOut(BaseModel):
    model_id: str
    users_reembedded: int = Field(description="users who got at least one template of the current model")
    templates_created: int
    failed: list[ReembedFailure]
    remaining: int = Field(description="users with kept photos not processed in this call (limit): call again")
    users_to_reenroll: list[int] = Field(description="users still without a template of the current model")
    seconds: float


class BatchManifestPerson(BaseModel):
    """One person of a batch: employee_code or user_id, and the file names of their photos in the request."""

    model_config = {"extra": "forbid"}

    employee_code: str | None = Field(None, min_length=1, max_length=64)
    user_id: int | None = Field(None, ge=1, le=2**31 - 1)
    photos: list[str] = Field(min_length=1, max_length=5, description="file names of the `photos` parts")


class BatchManifest(BaseModel):
    """The `manifest` field of POST /api/v1/faces/batch (JSON)."""

    model_config = {"extra": "forbid"}

    people: list[BatchManifestPerson] = Field(min_length=1)


class BatchPhotoFailure(BaseModel):
    index: int = Field(description="0-based position of the photo in the person's `photos`")
    photo: str | None = Field(None, description="its file name")
    code: str
    message: str


class BatchPersonOut(BaseModel):
    index: int = Field(description="0-based position of the person in the manifest")
    employee_code: str | None
    user_id: int | None
    status: Literal["enrolled", "already_enrolled", "refused"]
    code: str | None = Field(None, description="why refused: unknown_user | forbidden | user_deactivated | no_face | "
                                               "multiple_faces | face_too_small | face_blurry | face_too_dark | "
                                               "face_low_confidence | invalid_image | image_too_large | "
                                               "duplicate_face")
    message: str | None = None
    details: dict = Field(default_factory=dict, description="duplicate_face: user_id, score, image_index")
    failures: list[BatchPhotoFailure] | None = None
    templates: list[TemplateOut] = Field(default_factory=list, description="the templates stored now")
    skipped_photos: list[int] = Field(default_factory=list,
                                      description="photos already among the person's templates (a retried batch)")


class BatchEnrollmentOut(BaseModel):
    model_id: str
    enrolled: int
    already_enrolled: int
    refused: int
    refused_by_code: dict[str, int]
    gallery_version: int | None = Field(description="the gallery version after the batch (one bump per batch); "
                                                    "null when nothing was enrolled")
    seconds: float = Field(description="time the server spent on the batch")
    people: list[BatchPersonOut]

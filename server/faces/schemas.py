"""Request/response models of the admin face endpoints."""
from __future__ import annotations

from pydantic import BaseModel, Field


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

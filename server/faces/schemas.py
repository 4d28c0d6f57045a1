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


class IdentifyOut(BaseModel):
    model_id: str
    decision: str = Field(description="recognized | unknown")
    reason: str = Field(description="recognized | below_threshold | ambiguous | empty_gallery")
    user_id: int | None
    score: float | None
    runner_up: float | None = Field(description="best score of any other identity")
    threshold: float
    margin: float
    candidates: list[CandidateOut]
    quality: FaceQuality

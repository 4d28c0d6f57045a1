from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from server.kit.pages import Page


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_user_id: int | None
    action: str
    entity: str
    entity_id: str | None
    before: dict | None
    after: dict | None
    reason: str | None


class AuditPage(Page[AuditEntryOut]):
    pass


class FaceAttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    purpose: str
    device_id: int | None
    client: str | None
    model_id: str
    best_user_id: int | None
    best_score: float | None
    runner_up_score: float | None
    threshold: float | None
    gallery_size: int | None = Field(None, description="1:N decisions: people in the gallery (N) at the decision")
    expected_fpir: float | None = Field(None, description="1:N decisions: FPIR expected at the threshold in force")
    decision: str
    latency_ms: float | None


class FaceAttemptPage(Page[FaceAttemptOut]):
    pass

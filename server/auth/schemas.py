from __future__ import annotations

from pydantic import BaseModel, Field

from server.users.schemas import UserOut


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")


class FaceLoginResponse(TokenResponse):
    user: UserOut
    score: float = Field(description="Cosine similarity of the best match")
    model_id: str


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=4096)

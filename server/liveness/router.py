"""Liveness challenges (docs/liveness.md).

POST /api/v1/kiosk/challenge              X-Device-Key → 201 {challenge_id, action, expires_in}
POST /api/v1/auth/face-login/challenge    anyone → 201 {challenge_id, action, expires_in}, bound to the client
A challenge is answered once: POST /api/v1/kiosk/check or POST /api/v1/auth/face-login with `challenge_id` and 2-5
frames (the first looking at the camera, the others while turning as `action` says).
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from server.auth.deps import DeviceDep
from server.deps import SessionDep, SettingsDep, client_id
from server.errors import InvalidDeviceKey, responses
from server.liveness import service

router = APIRouter(tags=["liveness"])


class ChallengeOut(BaseModel):
    challenge_id: str
    action: str = Field(description="turn_left: the person turns to their own left (in the unmirrored camera frame "
                                    "the nose moves toward the image's right edge); turn_right: the opposite",
                        json_schema_extra={"enum": ["turn_left", "turn_right"]})
    expires_in: int = Field(description="seconds (LIVENESS_CHALLENGE_SECONDS)")


@router.post("/api/v1/kiosk/challenge", status_code=201, response_model=ChallengeOut, tags=["kiosk"],
             responses=responses(InvalidDeviceKey),
             summary="A head-turn challenge for this kiosk: single use, expiring")
def kiosk_challenge(device: DeviceDep, session: SessionDep, settings: SettingsDep):
    return service.issue(session, settings, purpose="kiosk", device_id=device.id).as_dict()


@router.post("/api/v1/auth/face-login/challenge", status_code=201, response_model=ChallengeOut, tags=["auth"],
             summary="A head-turn challenge for face login from this client: single use, expiring")
def face_login_challenge(request: Request, session: SessionDep, settings: SettingsDep):
    return service.issue(session, settings, purpose="login", client=client_id(request)).as_dict()

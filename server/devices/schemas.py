from __future__ import annotations

from datetime import datetime

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from server.liveness.service import device_mode
from server.users.schemas import _no_nul


class DeviceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    site: str | None = Field(default=None, max_length=100)

    _check_nul = field_validator("*", mode="before")(classmethod(lambda cls, v: _no_nul(v)))


LivenessMode = Literal["off", "challenge"]


class DeviceChange(BaseModel):
    """PATCH /devices/{id}: only the fields sent change. `liveness: null` returns the kiosk to the server's
    LIVENESS setting."""
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    site: str | None = Field(default=None, max_length=100)
    liveness: LivenessMode | None = None

    _check_nul = field_validator("name", "site", mode="before")(classmethod(lambda cls, v: _no_nul(v)))


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    site: str | None
    key_prefix: str
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None
    liveness: LivenessMode = Field("off", description="the liveness mode in force: challenge = every kiosk check "
                                                      "answers a head-turn challenge (docs/liveness.md)")
    liveness_override: LivenessMode | None = Field(None, description="the kiosk's own setting; null = the "
                                                                     "server's LIVENESS")

    @classmethod
    def of(cls, device, settings) -> DeviceOut:
        out = cls.model_validate(device)
        return out.model_copy(update={"liveness": device_mode(device, settings),
                                      "liveness_override": device.liveness_mode})


class DeviceCreated(DeviceOut):
    api_key: str = Field(description="Shown only in this response; store it on the kiosk. Sent as X-Device-Key.")
    kiosk_url: str = Field(description="The kiosk page with this key in its fragment (/kiosk#key=...): opened on "
                                       "the tablet, the page saves the key and removes it from the address. Built "
                                       "from the address this request was sent to.")
    qr_svg: str = Field(description="kiosk_url as a QR code: a standalone SVG document (scan it with the tablet)")

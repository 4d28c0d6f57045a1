from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from server.users.schemas import _no_nul


class DeviceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    site: str | None = Field(default=None, max_length=100)

    _check_nul = field_validator("*", mode="before")(classmethod(lambda cls, v: _no_nul(v)))


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    site: str | None
    key_prefix: str
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None


class DeviceCreated(DeviceOut):
    api_key: str = Field(description="Shown only in this response; store it on the kiosk. Sent as X-Device-Key.")
    kiosk_url: str = Field(description="The kiosk page with this key in its fragment (/kiosk#key=...): opened on "
                                       "the tablet, the page saves the key and removes it from the address. Built "
                                       "from the address this request was sent to.")
    qr_svg: str = Field(description="kiosk_url as a QR code: a standalone SVG document (scan it with the tablet)")

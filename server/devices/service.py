"""Kiosk devices: API keys are random (256 bits), shown once, stored as SHA-256 (a slow hash adds nothing to a
full-entropy key and would cost every kiosk request)."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit.service import record as audit
from server.clock import as_utc, now
from server.devices.models import Device
from server.errors import InvalidDeviceKey
from server.kit.rows import get_or_404

KEY_PREFIX = "fck_"
LAST_SEEN_RESOLUTION = timedelta(seconds=60)  # last_seen_at is written at most once a minute per device


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def create_device(session: Session, *, name: str, site: str | None, actor_user_id: int | None) -> tuple[Device, str]:
    """Returns the device and its API key in clear (the only time it exists in clear)."""
    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
    device = Device(name=name, site=site, key_prefix=api_key[: len(KEY_PREFIX) + 6], key_hash=hash_key(api_key),
                    created_at=now())
    session.add(device)
    session.flush()
    audit(session, actor_user_id=actor_user_id, action="devices.create", entity="device", entity_id=device.id,
          after={"name": name, "site": site, "key_prefix": device.key_prefix})
    return device, api_key


def list_devices(session: Session, *, include_revoked: bool = True) -> list[Device]:
    q = select(Device).order_by(Device.id)
    if not include_revoked:
        q = q.where(Device.revoked_at.is_(None))
    return list(session.scalars(q).all())


def get_device(session: Session, device_id: int) -> Device:
    return get_or_404(session, Device, device_id)


def change_device(session: Session, device_id: int, changes: dict, *, actor_user_id: int | None) -> Device:
    """Renames a kiosk, moves it to another site or sets its liveness mode (None = the server's LIVENESS); audited."""
    device = get_device(session, device_id)
    columns = {"name": "name", "site": "site", "liveness": "liveness_mode"}
    before = {k: getattr(device, c) for k, c in columns.items() if k in changes}
    for key, value in changes.items():
        if key == "name" and value is None:
            continue  # a kiosk always has a name
        setattr(device, columns[key], value.strip() if key == "name" else value)
    after = {k: getattr(device, c) for k, c in columns.items() if k in changes}
    if after != before:
        audit(session, actor_user_id=actor_user_id, action="devices.change", entity="device", entity_id=device.id,
              before=before, after=after)
    session.flush()
    return device


def revoke_device(session: Session, device_id: int, *, actor_user_id: int | None) -> Device:
    """Revoked keys stop working at the next request (every request looks the key up)."""
    device = get_device(session, device_id)
    if device.revoked_at is None:
        device.revoked_at = now()
        audit(session, actor_user_id=actor_user_id, action="devices.revoke", entity="device", entity_id=device.id,
              before={"name": device.name, "site": device.site})
    session.flush()
    return device


def authenticate_device(session: Session, api_key: str | None, *, touch: bool = True) -> Device:
    """The active device holding `api_key`, or InvalidDeviceKey. Touches last_seen_at (at most once a minute)."""
    if not api_key or len(api_key) > 200:
        raise InvalidDeviceKey()
    device = session.scalar(select(Device).where(Device.key_hash == hash_key(api_key)))
    if device is None or device.revoked_at is not None:
        raise InvalidDeviceKey()
    t = now()
    if touch and (device.last_seen_at is None or t - as_utc(device.last_seen_at) >= LAST_SEEN_RESOLUTION):
        device.last_seen_at = t
        session.flush()
    return device

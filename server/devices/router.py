"""Kiosk devices (admin): create (the key is shown once), list, revoke; plus the device's own identity."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy.orm import Session

from server.auth.deps import require_admin, require_device
from server.deps import get_session
from server.devices import service
from server.devices.models import Device
from server.devices.schemas import DeviceCreate, DeviceCreated, DeviceOut
from server.bounds import PathId
from server.users.models import User

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])


@router.post("", status_code=201, response_model=DeviceCreated, summary="Register a kiosk; its API key is shown once")
def create_device(body: DeviceCreate, admin: User = Depends(require_admin), session: Session = Depends(get_session)):
    device, api_key = service.create_device(session, name=body.name.strip(), site=body.site, actor_user_id=admin.id)
    return DeviceCreated(**DeviceOut.model_validate(device).model_dump(), api_key=api_key)


@router.get("", response_model=list[DeviceOut], summary="List kiosks (revoked ones included)")
def list_devices(include_revoked: bool = True, _: User = Depends(require_admin),
                 session: Session = Depends(get_session)):
    return service.list_devices(session, include_revoked=include_revoked)


@router.get("/me", response_model=DeviceOut, summary="The kiosk of the X-Device-Key header (checks a key)")
def device_me(device: Device = Depends(require_device)):
    return device


@router.delete("/{device_id}", status_code=204, summary="Revoke a kiosk's key (stops working at once)")
def revoke_device(device_id: PathId, admin: User = Depends(require_admin),
                  session: Session = Depends(get_session)):
    service.revoke_device(session, device_id, actor_user_id=admin.id)
    return Response(status_code=204)

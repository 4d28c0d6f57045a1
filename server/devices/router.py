"""Kiosk devices (admin): create (the key is shown once), list, revoke; plus the device's own identity."""
from __future__ import annotations

from fastapi import APIRouter, Response

from server.auth.deps import AdminDep, DeviceDep
from server.deps import SessionDep
from server.devices import service
from server.devices.schemas import DeviceCreate, DeviceCreated, DeviceOut
from server.bounds import PathId

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])


@router.post("", status_code=201, response_model=DeviceCreated, summary="Register a kiosk; its API key is shown once")
def create_device(body: DeviceCreate, admin: AdminDep, session: SessionDep):
    device, api_key = service.create_device(session, name=body.name.strip(), site=body.site, actor_user_id=admin.id)
    return DeviceCreated(**DeviceOut.model_validate(device).model_dump(), api_key=api_key)


@router.get("", response_model=list[DeviceOut], summary="List kiosks (revoked ones included)")
def list_devices(_: AdminDep, session: SessionDep, include_revoked: bool = True):
    return service.list_devices(session, include_revoked=include_revoked)


@router.get("/me", response_model=DeviceOut, summary="The kiosk of the X-Device-Key header (checks a key)")
def device_me(device: DeviceDep):
    return device


@router.delete("/{device_id}", status_code=204, summary="Revoke a kiosk's key (stops working at once)")
def revoke_device(device_id: PathId, admin: AdminDep, session: SessionDep):
    service.revoke_device(session, device_id, actor_user_id=admin.id)
    return Response(status_code=204)

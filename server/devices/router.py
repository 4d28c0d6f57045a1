"""Kiosk devices (admin): create (the key is shown once), list, change, revoke; plus the device's own identity."""
from __future__ import annotations

import io
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from server.auth.deps import SIGNED_IN, AdminDep, DeviceDep
from server.deps import SessionDep, SettingsDep
from server.errors import Forbidden, InvalidDeviceKey, NotFound, ValidationFailed, responses
from server.devices import service
from server.devices.schemas import DeviceChange, DeviceCreate, DeviceCreated, DeviceOut
from server.bounds import PathId

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])
_ADMIN = (SIGNED_IN, (Forbidden, "admins only"))


def kiosk_link(base_url: str, api_key: str) -> tuple[str, str]:
    """The kiosk page's address carrying the key in its fragment, and that address as an SVG QR code."""
    import segno

    url = f"{base_url.rstrip('/')}/kiosk#key={quote(api_key, safe='')}"
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, border=2, xmldecl=False, title="faceclock kiosk key")
    return url, out.getvalue().decode("utf-8")


@router.post("", status_code=201, response_model=DeviceCreated, responses=responses(_ADMIN, ValidationFailed),
             summary="Register a kiosk; its API key is shown once (with a QR code of the kiosk page carrying it)")
def create_device(body: DeviceCreate, request: Request, admin: AdminDep, session: SessionDep, settings: SettingsDep):
    device, api_key = service.create_device(session, name=body.name.strip(), site=body.site, actor_user_id=admin.id)
    url, svg = kiosk_link(str(request.base_url), api_key)
    return DeviceCreated(**DeviceOut.of(device, settings).model_dump(), api_key=api_key, kiosk_url=url, qr_svg=svg)


@router.get("", response_model=list[DeviceOut], responses=responses(_ADMIN),
            summary="List kiosks (revoked ones included)")
def list_devices(_: AdminDep, session: SessionDep, settings: SettingsDep, include_revoked: bool = True):
    return [DeviceOut.of(d, settings) for d in service.list_devices(session, include_revoked=include_revoked)]


@router.get("/me", response_model=DeviceOut, responses=responses(InvalidDeviceKey),
            summary="The kiosk of the X-Device-Key header (checks a key)")
def device_me(device: DeviceDep, settings: SettingsDep):
    return DeviceOut.of(device, settings)


@router.patch("/{device_id}", response_model=DeviceOut, responses=responses(_ADMIN, NotFound, ValidationFailed),
              summary="Change a kiosk: name, site, liveness (off | challenge | null = the server's LIVENESS)")
def change_device(device_id: PathId, body: DeviceChange, admin: AdminDep, session: SessionDep, settings: SettingsDep):
    device = service.change_device(session, device_id, body.model_dump(exclude_unset=True), actor_user_id=admin.id)
    return DeviceOut.of(device, settings)


@router.delete("/{device_id}", status_code=204, responses=responses(_ADMIN, NotFound),
               summary="Revoke a kiosk's key (stops working at once)")
def revoke_device(device_id: PathId, admin: AdminDep, session: SessionDep):
    service.revoke_device(session, device_id, actor_user_id=admin.id)
    return Response(status_code=204)

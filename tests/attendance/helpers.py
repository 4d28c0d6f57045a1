"""Shared set-up for attendance, kiosk and report tests: a movable clock, a kiosk, users on shifts and a fake face
identifier (the frame bytes name the person: b"user:12", b"unknown", or an engine quality code such as b"face_blurry").
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, UTC

from server import clock
from server.attendance import kiosk
from server.errors import AppError, FaceBlurry, FaceNotFound, MultipleFaces
from tests.auth.helpers import admin_headers, create_user

QUALITY = {b"face_blurry": FaceBlurry, b"no_face": FaceNotFound, b"multiple_faces": MultipleFaces}


class Clock:
    """server.clock.now() under test control."""

    def __init__(self, start: datetime):
        self.t = start
        clock.set_clock(lambda: self.t)

    def set(self, t: datetime) -> None:
        self.t = t

    def advance(self, **kw) -> datetime:
        self.t = self.t + timedelta(**kw)
        return self.t


def fake_identify(frames: list[bytes]) -> kiosk.Recognition:
    data = frames[0]
    if data in QUALITY:
        raise QUALITY[data]()
    if data.startswith(b"user:"):
        return kiosk.Recognition("recognized", int(data[5:]), 0.9)
    return kiosk.Recognition("unknown", None, 0.1)


def install_fake_faces(app, identify=fake_identify) -> None:
    """The kiosk check's face decision replaced for this app (the frame bytes name the person)."""
    from server.attendance.router import kiosk_identifier

    app.dependency_overrides[kiosk_identifier] = lambda: identify


@dataclass
class World:
    client: object
    _admin: dict
    device_key: str
    shifts: dict = field(default_factory=dict)
    _admin_at: datetime | None = None

    @property
    def admin(self) -> dict:
        """Admin bearer headers, logged in again when the test clock has moved past the token's life."""
        t = clock.now()
        if self._admin_at is None or not (timedelta(0) <= t - self._admin_at < timedelta(minutes=10)):
            self._admin = admin_headers(self.client)
            self._admin_at = t
        return self._admin

    def shift_id(self, name: str) -> int:
        if name not in self.shifts:
            rows = self.client.get("/api/v1/shifts", headers=self.admin).json()
            self.shifts.update({s["name"]: s["id"] for s in rows})
        return self.shifts[name]

    def new_shift(self, **spec) -> int:
        r = self.client.post("/api/v1/shifts", json=spec, headers=self.admin)
        assert r.status_code == 201, r.text
        self.shifts[spec["name"]] = r.json()["id"]
        return r.json()["id"]

    def employee(self, code: str, shift: str | None = None, valid_from: str = "2026-01-01", **kw) -> dict:
        user = create_user(self.client, self.admin, code=code, **kw)
        if shift is not None:
            r = self.client.put(f"/api/v1/users/{user['id']}/shift",
                                json={"shift_id": self.shift_id(shift), "valid_from": valid_from}, headers=self.admin)
            assert r.status_code == 200, r.text
        return user

    def check(self, user_or_frame, *, request_id: str | None = None, captured_at: str | None = None,
              key: str | None = None):
        frame = user_or_frame if isinstance(user_or_frame, bytes) else f"user:{user_or_frame['id']}".encode()
        data = {"request_id": request_id or str(uuid.uuid4())}
        if captured_at is not None:
            data["captured_at"] = captured_at
        return self.client.post("/api/v1/kiosk/check", data=data, files={"image": ("f.jpg", frame, "image/jpeg")},
                                headers={"X-Device-Key": key or self.device_key})


    def punch(self, user, at: str, kind: str | None = None, reason: str = "forgot to punch", expect: int = 201):
        """A manual punch (manager's correction) at `at` (ISO 8601 with offset)."""
        body = {"user_id": user["id"], "at": at, "reason": reason}
        if kind is not None:
            body["kind"] = kind
        r = self.client.post("/api/v1/attendance/punches", json=body, headers=self.admin)
        assert r.status_code == expect, r.text
        return r.json()

    def day(self, user, day: str) -> dict | None:
        """The recorded work day of `user` on `day` (with its punches), None without a row."""
        r = self.client.get(f"/api/v1/attendance/days?user_id={user['id']}&from={day}&to={day}"
                            "&include_punches=true", headers=self.admin)
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        return items[0] if items else None

    def close(self) -> dict:
        """Runs the close-the-day job at the test clock's time."""
        from server.attendance import jobs

        st = self.client.app.state
        return jobs.close_days(st.db, st.settings, now=clock.now())


def make_world(client) -> World:
    admin = admin_headers(client)
    r = client.post("/api/v1/devices", json={"name": "Front door", "site": "north"}, headers=admin)
    assert r.status_code == 201, r.text
    return World(client, admin, r.json()["api_key"], _admin_at=clock.now())


def madrid_shift(name: str = "Madrid day", start: str = "09:00", end: str = "17:00", **kw) -> dict:
    spec = {"name": name, "timezone": "Europe/Madrid", "start_time": start, "end_time": end,
            "weekdays": [0, 1, 2, 3, 4, 5, 6], "grace_in_minutes": 5, "grace_out_minutes": 5, "break_minutes": 60}
    spec.update(kw)
    return spec


def error_code(r) -> str:
    return r.json()["error"]["code"]


__all__ = ["AppError", "Clock", "World", "make_world", "install_fake_faces", "madrid_shift", "error_code", "UTC"]

"""POST /api/v1/kiosk/check: one face attempt of a kiosk → at most one punch, idempotent by (device, request_id).

Idempotency rests on the UNIQUE(device_id, request_id) constraint of `kiosk_requests`, never on a read-then-write:

1. A stored answer for (device, request_id) is returned as is (fast path for retries; an optimisation only). When
   retention has deleted it (older than RETENTION_DAYS and MAX_OFFLINE_HOURS), the punch made by that request, if
   any, is answered again (`punch_answer`): a replay never reaches the punches' own unique constraint.
2. The face is analysed outside any transaction (the device check's transaction is committed first, so no row lock is
   held during inference).
3. One transaction INSERTs the kiosk_requests row first. A concurrent request with the same key blocks on the unique
   index (PostgreSQL) or the write lock (SQLite) until the first commits, then fails with IntegrityError; it rolls back
   and returns the winner's stored answer. The winner records the punch (itself UNIQUE(device_id, request_id)),
   recomputes the work day, writes the final answer into its row and commits: nobody ever sees a half-done answer.

Stored answers: 200 recognized / unknown, 422 quality, captured_at and liveness refusals, 409/410 for a challenge
used or expired. Transient failures (5xx, engine not ready) are not stored, so the kiosk's retry gets a real answer
later.

Liveness (docs/liveness.md): with a `challenge_id` (POST /api/v1/kiosk/challenge) the challenge is spent (committed)
before the analysis, the first of the 2-5 frames is identified 1:N and the others must show that person turning as
asked (server/liveness/flows.py), else 422 liveness_failed with its reason and no punch. A replayed offline attempt
sends the action its kiosk drew (`offline_action`) instead: verified the same way, its punch is marked
`liveness: offline`. A device whose mode is `challenge` (LIVENESS, or its own setting) refuses anything else with
422 liveness_required.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.attendance.models import KioskRequest, Punch
from server.attendance.service import add_punch, fallback_zone
from server.clock import as_utc
from server.clock import now as clock_now
from server.config import Settings
from server.errors import AppError, ValidationFailed
from server.faces import service as faces
from server.faces.images import PHOTOS_PER_REQUEST
from server.faces.runtime import FaceRuntime
from server.liveness import flows as liveness_flows
from server.liveness import service as liveness
from server.liveness.errors import LivenessFailed, LivenessRequired
from server.shifts.models import Shift
from server.users.models import User

MAX_FRAMES = PHOTOS_PER_REQUEST["kiosk"]


class CapturedAtInvalid(AppError):
    status_code = 422
    code = "invalid_captured_at"
    message = "captured_at must be an ISO 8601 date-time with a UTC offset, e.g. 2026-11-25T09:00:00+01:00"


class CapturedAtTooOld(AppError):
    status_code = 422
    code = "captured_at_too_old"
    message = "captured_at is older than the offline window (MAX_OFFLINE_HOURS)"


class CapturedAtInFuture(AppError):
    status_code = 422
    code = "captured_at_in_future"
    message = "captured_at is in the future beyond the allowed clock skew"


class RetryLater(AppError):
    status_code = 503
    code = "retry"
    message = "A concurrent request with the same request_id failed: retry"


@dataclass
class Recognition:
    decision: str  # "recognized" | "unknown"
    user_id: int | None = None
    score: float | None = None


# identify(frames) → Recognition; raises AppError (422 quality codes, 503 when the engine is not ready).
# identify(frames, action) answers a liveness challenge too (422 liveness_failed).
Identify = Callable[..., Recognition]


@dataclass(frozen=True)
class LivenessAsk:
    action: str  # turn_left | turn_right
    mark: str  # the punch's liveness: challenge | offline


def liveness_ask(session: Session, settings: Settings, device, *, challenge_id: str | None, offline_action: str | None,
                 captured_at: str | None, frames: int) -> LivenessAsk | None:
    """What this check must prove: a server challenge (spent here), an offline kiosk's own action, or nothing.
    Raises the liveness errors (422 liveness_required, 409 challenge_used, 410 challenge_expired)."""
    offline = liveness.parse_offline_action(offline_action)
    if challenge_id is not None and str(challenge_id).strip():
        liveness.check_frame_count(frames)
        return LivenessAsk(liveness.spend(session, challenge_id, purpose="kiosk", device_id=device.id), "challenge")
    if offline is not None:
        if captured_at is None or not str(captured_at).strip():
            raise LivenessRequired("offline_action is for a replayed offline attempt: send its captured_at",
                                            field="offline_action")
        liveness.check_frame_count(frames)
        return LivenessAsk(offline, "offline")
    if liveness.device_mode(device, settings) == "challenge":
        raise LivenessRequired()
    if frames > MAX_FRAMES:
        raise ValidationFailed(f"At most {MAX_FRAMES} frames without a challenge", field="images")
    return None


@dataclass
class Answer:
    status_code: int
    body: dict
    replayed: bool = False


def parse_request_id(value: str | None) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError):
        raise ValidationFailed("request_id must be a UUID chosen by the kiosk", field="request_id") from None


def parse_captured_at(value: str | None, settings: Settings, now: datetime) -> datetime:
    """The instant of the punch: now, or the kiosk's captured_at within [now - MAX_OFFLINE_HOURS, now + skew]
    (a time inside the skew allowance is taken as now: a punch never lies in the future)."""
    if value is None or not str(value).strip():
        return now
    try:
        at = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise CapturedAtInvalid() from None
    if at.tzinfo is None:
        raise CapturedAtInvalid(f"captured_at {str(value).strip()!r} has no UTC offset: add one, e.g. "
                                f"{at.isoformat()}+01:00 or {at.isoformat()}Z")
    try:
        at = as_utc(at)
    except OverflowError:  # 9999-12-31T23:59:59-14:00 or 0001-01-01T00:00:00+14:00: beyond datetime's range in UTC
        if at.year == datetime.max.year:
            raise CapturedAtInFuture(max_skew_seconds=settings.clock_skew_seconds) from None
        raise CapturedAtTooOld(max_offline_hours=settings.max_offline_hours) from None
    if at > now + timedelta(seconds=settings.clock_skew_seconds):
        raise CapturedAtInFuture(max_skew_seconds=settings.clock_skew_seconds)
    if at < now - timedelta(hours=settings.max_offline_hours):
        raise CapturedAtTooOld(max_offline_hours=settings.max_offline_hours)
    return min(at, now)


def stored_answer(session: Session, device_id: int, request_id: str) -> Answer | None:
    row = session.scalar(select(KioskRequest).where(KioskRequest.device_id == device_id,
                                                    KioskRequest.request_id == request_id))
    return None if row is None else Answer(row.status_code, row.response, replayed=True)


def punch_answer(session: Session, settings: Settings, device_id: int, request_id: str) -> Answer | None:
    """The answer to a replay whose stored answer the retention job has deleted while its punch (never deleted,
    UNIQUE(device_id, request_id) too) remains: recognized with that punch, as originally."""
    punch = session.scalar(select(Punch).where(Punch.device_id == device_id, Punch.request_id == request_id))
    if punch is None:
        return None
    user = session.get(User, punch.user_id)
    return Answer(200, recognized_body(session, punch, user, settings, duplicate=False, request_id=request_id),
                  replayed=True)


def _zone_of(session: Session, punch: Punch, user: User, settings: Settings) -> str:
    if punch.shift_id is not None:
        shift = session.get(Shift, punch.shift_id)
        if shift is not None:
            return shift.timezone
    return fallback_zone(user, settings)


def punch_json(session: Session, punch: Punch, user: User, settings: Settings) -> dict:
    from zoneinfo import ZoneInfo

    at = as_utc(punch.at)
    return {"id": punch.id, "kind": punch.kind, "at": at.isoformat(),
            "local_time": at.astimezone(ZoneInfo(_zone_of(session, punch, user, settings))).isoformat(),
            "work_date": punch.work_date.isoformat(), "status": punch.status, "liveness": punch.liveness}


def recognized_body(session: Session, punch: Punch, user: User, settings: Settings, *, duplicate: bool,
                    request_id: str) -> dict:
    return {"decision": "recognized", "request_id": request_id, "duplicate": duplicate,
            "user": {"id": user.id, "full_name": user.full_name},
            "punch": punch_json(session, punch, user, settings)}


def _claim(session: Session, device_id: int, request_id: str, status_code: int, body: dict,
           created_at: datetime) -> KioskRequest | None:
    """INSERTs the answer row of (device, request_id); None when another request already holds the key."""
    row = KioskRequest(device_id=device_id, request_id=request_id, status_code=status_code, response=body,
                       created_at=created_at)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return None
    return row


def _replay_after_conflict(session: Session, device_id: int, request_id: str) -> Answer:
    answer = stored_answer(session, device_id, request_id)
    if answer is None:  # the winner rolled back after our insert failed: extremely rare; the kiosk retries
        raise RetryLater()
    return answer


def _store_simple(session: Session, device_id: int, request_id: str, status_code: int, body: dict) -> Answer:
    row = _claim(session, device_id, request_id, status_code, body, clock_now())
    if row is None:
        return _replay_after_conflict(session, device_id, request_id)
    session.commit()
    return Answer(status_code, body)


def check(session: Session, settings: Settings, device, *, request_id: str | None, captured_at: str | None,
          frames: list[bytes], identify: Identify, challenge_id: str | None = None,
          offline_action: str | None = None) -> Answer:
    """The whole kiosk check (see the module doc). Commits its own transactions."""
    request_id = parse_request_id(request_id)
    replay = stored_answer(session, device.id, request_id) or punch_answer(session, settings, device.id, request_id)
    if replay is not None:
        return replay
    if not frames:
        raise ValidationFailed("Send the picture as `image` or up to 3 `images` frames", field="images")
    try:
        ask = liveness_ask(session, settings, device, challenge_id=challenge_id, offline_action=offline_action,
                           captured_at=captured_at, frames=len(frames))
    except AppError as exc:
        if exc.status_code not in (409, 410, 422) or exc.code == "validation_error":
            raise
        session.rollback()
        return _store_simple(session, device.id, request_id, exc.status_code, exc.body())
    session.commit()  # the challenge is spent; end the device-check transaction: no lock is held during analysis

    started = clock_now()
    try:
        at = parse_captured_at(captured_at, settings, started)
        recognition = identify(frames) if ask is None else identify(frames, ask.action)
    except AppError as exc:
        if exc.status_code != 422:
            raise
        return _store_simple(session, device.id, request_id, 422, exc.body())

    user = session.get(User, recognition.user_id) if recognition.decision == "recognized" else None
    if user is None or not user.is_active:
        return _store_simple(session, device.id, request_id, 200, {"decision": "unknown", "request_id": request_id})

    row = _claim(session, device.id, request_id, 200, {"decision": "pending"}, started)
    if row is None:
        return _replay_after_conflict(session, device.id, request_id)
    user = session.get(User, user.id)  # reloaded after a possible rollback
    new = add_punch(session, settings, user=user, at=at, source="kiosk", device_id=device.id,
                    request_id=request_id, score=recognition.score, debounce=True)
    if ask is not None and not new.duplicate:
        new.punch.liveness = ask.mark
    body = recognized_body(session, new.punch, user, settings, duplicate=new.duplicate, request_id=request_id)
    row.response = body
    row.punch_id = new.punch.id
    session.flush()
    session.commit()
    return Answer(200, body)


def face_identifier(db, rt: FaceRuntime, device) -> Identify:
    """identify(frames) backed by the app's face runtime (server/faces): quality gate per frame, then a 1:N decision
    that needs the threshold, the margin over the runner-up and agreement of every frame. Each attempt leaves a
    decision record (face_attempts, purpose "kiosk") in its own short transaction of `db`, whatever happens next."""
    import time

    def record(**kw) -> None:
        with db.session() as s:
            faces.record_attempt(s, "kiosk", model_id=rt.model_id, device_id=device.id, **kw)

    def identify(frames: list[bytes], action: str | None = None) -> Recognition:
        engine = rt.require_engine()  # 503 when the weights are missing (not stored: the retry gets a real answer)
        started = time.perf_counter()
        try:
            if action is not None:  # a challenge: the decoded frames and their finer landmarks are kept
                analyzed = liveness_flows.analyze_frames(rt, frames, "kiosk")
            else:
                samples = faces.analyze_all(rt, frames, "kiosk")
        except AppError as exc:
            record(decision=f"rejected:{exc.code}", latency_ms=(time.perf_counter() - started) * 1000)
            raise
        if action is not None:
            return _identify_live(db, rt, device, analyzed, action, started)
        with db.session() as s:
            decision = faces.match_one_to_many(rt, samples, session=s)
            faces.record_decision(s, "kiosk", decision, engine.model_id, started, device_id=device.id)
        if decision.recognized:
            return Recognition("recognized", decision.user_id, decision.score)
        return Recognition("unknown", None, decision.score)

    return identify


def _identify_live(db, rt: FaceRuntime, device, frames: list, action: str, started: float) -> Recognition:
    """A challenge's frames (liveness.flows.Frame): the first identified 1:N, the others judged
    (server/liveness/flows.py); the decision record holds the measures. Not live → LivenessFailed (422, stored,
    no punch)."""
    with db.session() as s:
        decision = liveness_flows.identify_first(rt, [f.sample for f in frames], s)
        verdict = liveness_flows.judge(rt, frames, decision.user_id, action, s) if decision.recognized else None
        attempt = faces.record_decision(s, "kiosk", decision, rt.model_id, started, device_id=device.id)
        if verdict is not None:
            attempt.liveness = verdict.measures()
            if not verdict.live:
                attempt.decision = f"liveness:{verdict.reason}"
        s.flush()
    if verdict is not None and not verdict.live:
        raise LivenessFailed(reason=verdict.reason, action=action)
    if decision.recognized:
        return Recognition("recognized", decision.user_id, decision.score)
    return Recognition("unknown", None, decision.score)

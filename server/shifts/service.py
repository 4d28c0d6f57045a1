"""Shifts and shift assignments: the rules. No FastAPI here."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.audit.service import record as audit
from server.clock import now as clock_now
from server.errors import Conflict, ValidationFailed
from server.kit.rows import flush_or_conflict, get_or_404
from server.shifts.models import Shift, ShiftAssignment
from server.shifts.rules import ShiftRule, in_dates, local_date
from server.users.models import User

# A shift edit recomputes the work days of its users from this many days back (in the shift's zone) on; older days
# keep the figures they were computed with. An assignment change recomputes its whole range instead.
SHIFT_EDIT_RECOMPUTE_DAYS = 31
RULE_FIELDS = ("timezone", "start_time", "end_time", "weekdays", "grace_in_minutes", "grace_out_minutes",
               "break_minutes", "half_day_below_minutes", "absent_below_minutes")
SHIFT_FIELDS = ("name", "timezone", "start_time", "end_time", "weekdays", "grace_in_minutes", "grace_out_minutes",
                "break_minutes", "half_day_below_minutes", "absent_below_minutes", "is_active")


class AssignmentOverlap(Conflict):
    code = "assignment_overlap"
    message = "The user already has a shift assigned for part of that period"


class ShiftArchived(Conflict):
    code = "shift_archived"
    message = "The shift is archived and cannot be assigned"


class ShiftNameTaken(Conflict):
    code = "shift_name_taken"
    message = "A shift with that name already exists"


def snapshot(shift: Shift) -> dict:
    out = {}
    for f in SHIFT_FIELDS:
        v = getattr(shift, f)
        out[f] = v.isoformat() if hasattr(v, "isoformat") else v
    return out


def _check_break(shift: Shift) -> None:
    """The break is shorter than the shift; thresholds are at most the shift's length, absent ≤ half_day."""
    length = ShiftRule(shift.timezone, shift.start_time, shift.end_time).nominal_length
    if timedelta(minutes=shift.break_minutes or 0) >= length:
        raise ValidationFailed("break_minutes must be shorter than the shift")
    for field in ("half_day_below_minutes", "absent_below_minutes"):
        value = getattr(shift, field)
        if value is not None and timedelta(minutes=value) > length:
            raise ValidationFailed(f"{field} is longer than the shift", field=field)
    half, absent = shift.half_day_below_minutes, shift.absent_below_minutes
    if half is not None and absent is not None and absent > half:
        raise ValidationFailed("absent_below_minutes is above half_day_below_minutes", field="absent_below_minutes")


def _flush_unique_name(session: Session) -> None:
    flush_or_conflict(session, ShiftNameTaken())


def list_shifts(session: Session, *, include_inactive: bool = False) -> list[Shift]:
    q = select(Shift).order_by(Shift.id)
    if not include_inactive:
        q = q.where(Shift.is_active.is_(True))
    return list(session.scalars(q).all())


def get_shift(session: Session, shift_id: int) -> Shift:
    return get_or_404(session, Shift, shift_id)


def create_shift(session: Session, *, actor: User, data: dict) -> Shift:
    if session.scalar(select(Shift.id).where(Shift.name == data["name"])) is not None:
        raise ShiftNameTaken()
    shift = Shift(is_active=True, **data)
    _check_break(shift)
    session.add(shift)
    _flush_unique_name(session)
    audit(session, actor_user_id=actor.id, action="shifts.create", entity="shift", entity_id=shift.id,
          after=snapshot(shift))
    return shift


Ranges = dict[int, list[tuple[date, date | None]]]  # user id -> the date ranges whose work days a change moves


def update_shift(session: Session, *, actor: User, shift: Shift, changes: dict) -> tuple[Shift, Ranges]:
    """Applies `changes`. Returns the shift and, when a field that decides work days changed (zone, times, weekdays,
    graces, break), the ranges of its users' days to rework: from SHIFT_EDIT_RECOMPUTE_DAYS ago on (the caller,
    attendance.flows.update_shift, reworks them)."""
    before = snapshot(shift)
    if "name" in changes and changes["name"] != shift.name:
        if session.scalar(select(Shift.id).where(Shift.name == changes["name"], Shift.id != shift.id)) is not None:
            raise ShiftNameTaken()
    for k, v in changes.items():
        setattr(shift, k, v)
    _check_break(shift)
    _flush_unique_name(session)
    after = snapshot(shift)
    if after != before:
        audit(session, actor_user_id=actor.id, action="shifts.update", entity="shift", entity_id=shift.id,
              before=before, after=after)
    moved = any(before[f] != after[f] for f in RULE_FIELDS)
    return shift, (_edit_ranges(session, shift) if moved else {})


def _edit_ranges(session: Session, shift: Shift) -> Ranges:
    today = local_date(clock_now(), shift.timezone)
    since = today - timedelta(days=SHIFT_EDIT_RECOMPUTE_DAYS)
    ranges: Ranges = {}
    for a in assignments_between(session, since, today + timedelta(days=1)):
        if a.shift_id == shift.id:
            ranges.setdefault(a.user_id, []).append((max(a.valid_from, since), a.valid_to))
    return ranges


def archive_shift(session: Session, *, actor: User, shift: Shift) -> Shift:
    """DELETE archives: the row stays (punches and assignment history point at it), it can no longer be assigned."""
    if shift.is_active:
        before = snapshot(shift)
        shift.is_active = False
        session.flush()
        audit(session, actor_user_id=actor.id, action="shifts.archive", entity="shift", entity_id=shift.id,
              before=before, after=snapshot(shift))
    return shift


# ------------------------------------------------------------------ assignments

def lock_user(session: Session, user_id: int) -> None:
    """Serialises writers of one user's attendance (row lock on PostgreSQL; SQLite serialises writes anyway)."""
    session.execute(select(User.id).where(User.id == user_id).with_for_update())


def history(session: Session, user_id: int) -> list[ShiftAssignment]:
    q = select(ShiftAssignment).where(ShiftAssignment.user_id == user_id).order_by(ShiftAssignment.valid_from)
    return list(session.scalars(q).all())


def _overlaps(a: ShiftAssignment, start: date, end: date | None) -> bool:
    a_end = a.valid_to or date.max
    return a.valid_from <= (end or date.max) and start <= a_end


def assign_shift(session: Session, *, actor: User, user: User, shift_id: int, valid_from: date,
                 valid_to: date | None) -> tuple[ShiftAssignment, list[ShiftAssignment], tuple[date, date | None]]:
    """Adds an assignment. An open-ended assignment that started earlier is ended the day before `valid_from`
    (the usual "from this date on, this shift"); any other overlap is refused with 409 assignment_overlap.
    Returns the new assignment, those it ended, and the range of the user's days it moves (valid_from .. valid_to,
    open-ended when it ended one): attendance.flows.assign_shift reworks them, so a retroactive assignment corrects
    the past."""
    shift = get_shift(session, shift_id)
    if not shift.is_active:
        raise ShiftArchived()
    if valid_to is not None and valid_to < valid_from:
        raise ValidationFailed("valid_to is before valid_from")
    lock_user(session, user.id)
    ended: list[ShiftAssignment] = []
    for a in history(session, user.id):
        if not _overlaps(a, valid_from, valid_to):
            continue
        if a.valid_to is None and a.valid_from < valid_from:
            ended.append(a)
            continue
        raise AssignmentOverlap(existing={"id": a.id, "shift_id": a.shift_id, "valid_from": a.valid_from.isoformat(),
                                          "valid_to": a.valid_to.isoformat() if a.valid_to else None})
    for a in ended:
        before = {"valid_to": None}
        a.valid_to = valid_from - timedelta(days=1)
        audit(session, actor_user_id=actor.id, action="shifts.assignment_end", entity="shift_assignment",
              entity_id=a.id, before=before, after={"valid_to": a.valid_to.isoformat()})
    new = ShiftAssignment(user_id=user.id, shift_id=shift.id, valid_from=valid_from, valid_to=valid_to)
    session.add(new)
    session.flush()
    audit(session, actor_user_id=actor.id, action="shifts.assign", entity="shift_assignment", entity_id=new.id,
          after={"user_id": user.id, "shift_id": shift.id, "valid_from": valid_from.isoformat(),
                 "valid_to": valid_to.isoformat() if valid_to else None})
    # an ended open-ended assignment no longer covers the days after valid_to either
    return new, ended, (valid_from, None if ended else valid_to)


def assignments_between(session: Session, start: date, end: date, user_ids=None) -> list[ShiftAssignment]:
    """Assignments overlapping [start, end], with their shift loaded."""
    q = select(ShiftAssignment).where(ShiftAssignment.valid_from <= end,
                                      or_(ShiftAssignment.valid_to.is_(None), ShiftAssignment.valid_to >= start))
    if user_ids is not None:
        q = q.where(ShiftAssignment.user_id.in_(list(user_ids)))
    return list(session.scalars(q.order_by(ShiftAssignment.user_id, ShiftAssignment.valid_from)).all())


def assignment_on(assignments, d: date):
    """The assignment of `assignments` (one user's, not overlapping) whose range holds `d`; None if none does."""
    return next((a for a in assignments if in_dates(d, a.valid_from, a.valid_to)), None)


def rule_on(session: Session, user_id: int, d: date) -> ShiftRule | None:
    """The shift rule of `user_id` on work date `d`, None without an assignment."""
    a = session.scalar(select(ShiftAssignment).where(
        ShiftAssignment.user_id == user_id, ShiftAssignment.valid_from <= d,
        or_(ShiftAssignment.valid_to.is_(None), ShiftAssignment.valid_to >= d)))
    if a is None:
        return None
    return ShiftRule.from_model(session.get(Shift, a.shift_id))


def shift_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Shift.id, Shift.name)).all())
